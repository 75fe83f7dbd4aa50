"""Fetching pages from the web, safely.

Every request and every redirect hop is checked against the address it resolves to, so a
page cannot send us to loopback, link-local (cloud metadata) or private ranges; bodies are
capped after decompression. Politeness (robots.txt, per-host rate limits, backoff, conditional
GET) builds on this in the sources issue.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A page could not be fetched; the message says why in words."""


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    @property
    def text(self) -> str:
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            if part.strip().lower().startswith("charset="):
                charset = part.split("=", 1)[1].strip().strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def check_public(url: str, *, allow_loopback: bool = False) -> None:
    """Refuse URLs that are not http(s) or that resolve to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"refused {url!r}: only http(s) URLs with a host are fetched")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {parts.hostname!r}: {exc.strerror}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.is_loopback and allow_loopback:
            continue
        if not address.is_global or address.is_multicast:
            raise FetchError(f"refused {url!r}: {parts.hostname} resolves to non-public address {address}")


class Fetcher:
    def __init__(self, user_agent: str, *, allow_loopback: bool = False, timeout: float = 15.0,
                 max_bytes: int = MAX_BYTES):
        self.allow_loopback = allow_loopback
        self.max_bytes = max_bytes
        self.client = httpx.Client(headers={"User-Agent": user_agent}, timeout=timeout, follow_redirects=False)

    def get(self, url: str) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            check_public(url, allow_loopback=self.allow_loopback)
            try:
                with self.client.stream("GET", url) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    body = bytearray()
                    for chunk in response.iter_bytes():  # decoded bytes: the cap holds against compression bombs
                        body += chunk
                        if len(body) > self.max_bytes:
                            raise FetchError(f"{url}: body exceeds {self.max_bytes} bytes")
                    return Response(str(response.url), response.status_code,
                                    {k.lower(): v for k, v in response.headers.items()}, bytes(body))
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def close(self) -> None:
        self.client.close()
