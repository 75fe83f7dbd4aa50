"""Serve recorded sites over real HTTP, one loopback port per site, for the demo and the tests.

  python infra/recorded-sources/server.py --site affiliateprograms=shared/.../recorded [--site ...]

Prints one JSON line {"affiliateprograms": "http://127.0.0.1:PORT", ...} once every site is
listening. `/path/` serves `path/index.html`; files carry an ETag and If-None-Match gets 304,
as real sites do, so conditional GETs are exercised. Standard library only.
"""

import argparse
import hashlib
import json
import mimetypes
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


def handler_for(root: Path):
    root = root.resolve()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "recorded-sources/1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            path = unquote(urlsplit(self.path).path)
            target = (root / path.lstrip("/")).resolve()
            if target.is_dir():
                target = target / "index.html"
            if root not in target.parents or not target.is_file():
                return self.reply(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
            body = target.read_bytes()
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self.reply(304, b"", None, etag)
            content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
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
    for spec in args.site:
        name, directory = spec.split("=", 1)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(Path(directory)))
        urls[name] = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps(urls), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
