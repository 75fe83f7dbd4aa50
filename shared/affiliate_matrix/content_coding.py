"""A response body's content coding undone within a byte cap.

httpx undoes a coding one network chunk at a time, each chunk whole however far it expands: 64 KB of
gzip is 64 MB of zeros, and "Content-Encoding: gzip, gzip" turns 2 KB on the wire into 1 GB, all held
before a cap on the decoded body could be checked. Here zlib's `max_length` stops each chunk at what is
left of the cap, so no more than the cap is ever produced. The codings are gzip (x-gzip too) and deflate, and requests
ask for those only (ACCEPT_ENCODING); a body in any other (br, zstd: a server ignoring what we asked) is read as it came,
within the cap, and named (`undone`), for the client to refuse: it is no text for a parser. A body coded more than
once is refused, as no server sends one. A gzip body is every member it holds, one after another (RFC 1952 2.2: a
server compressing a page piece by piece sends one a piece), as gzip(1), Python's gzip, Go and requests read it, all
within the one cap: zlib (and httpx) stop at the first member's end, and the rest of the page was dropped unsaid.
Zero bytes after a member are padding; anything else there is no gzip, and refused as such. A body that ends before
its stream does (a gzip member without its whole trailer: CRC and size) is refused as cut short, as zlib's flush
returned what it had and said nothing; a damaged trailer is zlib's own error (incorrect data or length check).
"""

import zlib

from affiliate_matrix.errors import UnsupportedMediaType

CODINGS = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
ACCEPT_ENCODING = ", ".join(CODINGS)  # sent with every request: what this module decodes, whatever httpx could
ALIASES = {"x-gzip": "gzip"}  # RFC 9110 8.4.1.3: a recipient takes x-gzip as gzip (older servers still send it)


def check_uncoded(coding: str | None, what: str) -> None:
    """UnsupportedMediaType (415) naming a request body's Content-Encoding (`coding`; None: not given) when it is in a
    coding: none is decoded here (this module decodes answers to our own requests only), and its bytes read as they
    came were JSON to no one. The functions' check (handlers.check_content_coding) and amx up's Broker's ingress."""
    coding = (coding or "").strip()
    if coding.lower() not in ("", "identity"):
        raise UnsupportedMediaType(f"{what} is sent with Content-Encoding {coding[:80]!r}, which is not decoded here: "
                                   "send it uncompressed, without a Content-Encoding")


class BodyTooLarge(ValueError):
    """The decoded body is past the cap."""


class Undecodable(ValueError):
    """The body is not what its Content-Encoding says, or is coded more than once."""


class NotAskedFor(Undecodable):
    """The body is in a coding not decoded here (`coding`): it came whole, as sent (the chunks handed out so far)."""

    def __init__(self, coding: str):
        super().__init__(f"its body is coded as {coding[:50]!r} (its Content-Encoding), which was not asked for "
                         f"(Accept-Encoding: {ACCEPT_ENCODING}) and is not decoded")
        self.coding = coding


class BoundedDecoder:
    """Feed it the raw chunks (`httpx.Response.iter_raw`), then `flush()`; at most `limit` bytes in all come out.
    Past them it raises BodyTooLarge, or, with `cut`, hands out the body's first `limit` bytes and sets `cut_short`
    (a robots.txt, of which only the opening is read). A body in a coding not decoded here is handed out as it came,
    then refused (NotAskedFor) by `flush()`, or once cut short: a caller keeping raw bodies has it to keep."""

    def __init__(self, content_encoding: str, limit: int, cut: bool = False):
        codings = [ALIASES.get(c, c) for c in (part.strip().lower() for part in content_encoding.split(","))
                   if c not in ("", "identity")]
        # a coding not decoded here: the body passes as it came, named for the client to refuse
        self.undone = next((c for c in codings if c not in CODINGS), None)
        if len(codings) > 1 and not self.undone:
            raise Undecodable(f"coded more than once ({content_encoding[:100]})")
        self.coding = None if self.undone or not codings else codings[0]
        self.left = self.limit = limit
        self._zlib = zlib.decompressobj(CODINGS[self.coding]) if self.coding else None
        self._first = True
        self.members = 1  # gzip members begun
        self.fed = False  # any coded byte came (a HEAD's or a 304's coded body is none, and not cut short)
        self.cut, self.cut_short = cut, False

    def decode(self, raw: bytes) -> bytes:
        if self._zlib is None:
            data = self._count(raw)
            if self.cut_short:
                self._refuse_undone()
            return data
        self.fed = self.fed or bool(raw)
        try:
            data = self._zlib.decompress(raw, self.left + 1)
            while self.coding == "gzip" and self._zlib.eof and len(data) <= self.left:  # a member ended: the next
                rest = self._zlib.unused_data.lstrip(b"\0")  # (past it, the bytes given after are its unused_data)
                if not rest:
                    break
                self.members += 1
                self._zlib = zlib.decompressobj(CODINGS["gzip"])
                data += self._zlib.decompress(rest, self.left + 1 - len(data))
            return self._count(data)
        except zlib.error as exc:
            if self._first and self.coding == "deflate":  # "deflate" is sent without its zlib header too (httpx's fallback)
                self._first, self._zlib = False, zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decode(raw)
            member = f"its member {self.members}: " if self.members > 1 else ""
            raise Undecodable(f"not valid {self.coding} ({member}{exc})") from None
        finally:
            self._first = False

    def flush(self) -> bytes:
        self._refuse_undone()
        if self._zlib is None:
            return b""
        try:
            data = self._count(self._zlib.flush())
        except zlib.error as exc:
            raise Undecodable(f"not valid {self.coding} ({exc})") from None
        if self.fed and not self._zlib.eof and not self.cut_short:
            member = f" in its member {self.members}" if self.members > 1 else ""
            raise Undecodable(f"cut short: the body ends before its {self.coding} stream does{member}")
        return data

    def _count(self, data: bytes) -> bytes:
        if self.cut and len(data) > self.left:
            data, self.cut_short = data[:self.left], True
        self.left -= len(data)
        if self.left < 0:
            raise BodyTooLarge("past the cap")
        return data

    def _refuse_undone(self) -> None:
        """NotAskedFor, where a body came in a coding not decoded here (a 304 or a HEAD says it of no body)."""
        if self.undone and self.left < self.limit:
            raise NotAskedFor(self.undone)
