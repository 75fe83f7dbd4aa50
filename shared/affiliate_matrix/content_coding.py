"""A response body's content coding undone within a byte cap.

httpx undoes a coding one network chunk at a time, each chunk whole however far it expands: 64 KB of
gzip is 64 MB of zeros, and "Content-Encoding: gzip, gzip" turns 2 KB on the wire into 1 GB, all held
before a cap on the decoded body could be checked. Here zlib's `max_length` stops each chunk at what is
left of the cap, so no more than the cap is ever produced. The codings are httpx's own (gzip, deflate;
any other passes through as it does); a body coded more than once is refused, as no server sends one.
"""

import zlib

CODINGS = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class BodyTooLarge(ValueError):
    """The decoded body is past the cap."""


class Undecodable(ValueError):
    """The body is not what its Content-Encoding says, or is coded more than once."""


class BoundedDecoder:
    """Feed it the raw chunks (`httpx.Response.iter_raw`), then `flush()`; at most `limit` bytes in all come out.
    Past them it raises BodyTooLarge, or, with `cut`, hands out the body's first `limit` bytes and sets `cut_short`
    (a robots.txt, of which only the opening is read)."""

    def __init__(self, content_encoding: str, limit: int, cut: bool = False):
        codings = [c for c in (part.strip().lower() for part in content_encoding.split(",")) if c in CODINGS]
        if len(codings) > 1:
            raise Undecodable(f"coded more than once ({content_encoding[:100]})")
        self.coding = codings[0] if codings else None
        self.left = limit
        self._zlib = zlib.decompressobj(CODINGS[self.coding]) if self.coding else None
        self._first = True
        self.cut, self.cut_short = cut, False

    def decode(self, raw: bytes) -> bytes:
        if self._zlib is None:
            return self._count(raw)
        try:
            return self._count(self._zlib.decompress(raw, self.left + 1))
        except zlib.error as exc:
            if self._first and self.coding == "deflate":  # "deflate" is sent without its zlib header too (httpx's fallback)
                self._first, self._zlib = False, zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decode(raw)
            raise Undecodable(f"not valid {self.coding} ({exc})") from None
        finally:
            self._first = False

    def flush(self) -> bytes:
        try:
            return self._count(self._zlib.flush()) if self._zlib else b""
        except zlib.error as exc:
            raise Undecodable(f"not valid {self.coding} ({exc})") from None

    def _count(self, data: bytes) -> bytes:
        if self.cut and len(data) > self.left:
            data, self.cut_short = data[:self.left], True
        self.left -= len(data)
        if self.left < 0:
            raise BodyTooLarge("past the cap")
        return data
