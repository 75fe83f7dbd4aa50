"""Serve recorded sites over real HTTP, one loopback port per site, for the demo and the tests.

  python infra/recorded-sources/server.py --site affiliateprograms=shared/.../recorded [--site ...]
  --site name=DIR@127.0.0.7 binds another loopback address, so sites can differ by host too.

Prints one JSON line {"affiliateprograms": "http://127.0.0.1:PORT", ...} once every site is
listening. `/path/` serves `path/index.html`; files carry an ETag and If-None-Match gets 304,
as real sites do, so conditional GETs are exercised. A `.gz` file is served as application/gzip, as it is kept.

A recorded API adds `routes.json` beside its files: a list of
  {"method": "GET", "path": "/v1/things", "query": {"page": "2"}, "file": "things-2.json",
   "status": 200, "headers": {...}, "auth": {"Authorization": "Bearer test-token"}}
The first route whose method, path, query and "json" body (each a subset of the request's) match
answers; "times": N limits a route to its first N uses (a 429 before the real answer); a route
with "auth" answers 401 when the request lacks those exact headers, as the real API would.
A body may name another site's address as {{site:NAME}} (search results pointing at recorded
merchant sites). Standard library only.
"""

import argparse
import hashlib
import json
import mimetypes
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


def handler_for(root: Path, urls: dict[str, str]):
    root = root.resolve()

    def render(body: bytes) -> bytes:
        if b"{{site:" not in body:
            return body
        for name, url in urls.items():
            body = body.replace(b"{{site:" + name.encode() + b"}}", url.encode())
        return body

    routes = json.loads((root / "routes.json").read_text()) if (root / "routes.json").is_file() else None
    uses = [0] * len(routes or [])
    uses_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "recorded-sources/1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            if not self.route("POST", body if isinstance(body, dict) else {}):
                self.reply(404, b'{"error": "no recorded route"}', "application/json")

        def route(self, method: str, body: dict | None = None) -> bool:
            """Answer from routes.json when the site has one; False when no route matches."""
            if routes is None:
                return False
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            for index, r in enumerate(routes):
                if r.get("method", "GET") != method or r["path"] != url.path:
                    continue
                if any(query.get(k) != v for k, v in r.get("query", {}).items()):
                    continue
                if any((body or {}).get(k) != v for k, v in r.get("json", {}).items()):
                    continue
                with uses_lock:
                    if "times" in r and uses[index] >= r["times"]:
                        continue
                    uses[index] += 1
                if any(self.headers.get(k) != v for k, v in r.get("auth", {}).items()):
                    self.reply(401, b'{"error": "invalid credentials"}', "application/json")
                    return True
                body = render((root / r["file"]).read_bytes()) if r.get("file") else b""
                self.send_response(r.get("status", 200))
                for k, v in {"Content-Type": "application/json; charset=utf-8", **r.get("headers", {})}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return True
            return False

        def do_GET(self):
            if self.route("GET"):
                return None
            path = unquote(urlsplit(self.path).path)
            target = (root / path.lstrip("/")).resolve()
            if target.is_dir():
                target = target / "index.html"
            if root not in target.parents or not target.is_file():
                return self.reply(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
            body = render(target.read_bytes())
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self.reply(304, b"", None, etag)
            content_type, coding = mimetypes.guess_type(target.name)
            # a file kept compressed (a sitemap.xml.gz) is served as it is, as web servers serve one: no Content-Encoding
            content_type = "application/gzip" if coding == "gzip" else content_type or "application/octet-stream"
            if content_type.startswith("text/"):
                content_type += "; charset=utf-8"
            self.reply(200, body, content_type, etag)

        def reply(self, status, body, content_type, etag=None):
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", action="append", required=True, metavar="NAME=DIR")
    args = parser.parse_args()
    urls = {}
    servers = []
    for spec in args.site:
        name, directory = spec.split("=", 1)
        directory, _, host = directory.partition("@")
        server = ThreadingHTTPServer((host or "127.0.0.1", 0), handler_for(Path(directory), urls))
        urls[name] = f"http://{host or '127.0.0.1'}:{server.server_address[1]}"
        servers.append(server)
    for server in servers:  # every address is known before the first request
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps(urls), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
