"""HTTP preconditions (RFC 9110 section 13), the one reader of If-Match and If-None-Match every API uses.

A header is `*` or a list of entity tags (`"x"`, `W/"x"`, separated by commas; empty elements allowed, section
5.6.1). If-Match holds when the resource exists and the header is `*`, or one listed tag equals the current one by
strong comparison (a weak tag never matches: section 8.8.3.2). If-None-Match on a GET or HEAD is false (304) when
the resource exists and the header is `*`, or one listed tag equals the current one by weak comparison. A value of
another form is a 400 naming its header. Current ETags are given here as their opaque text, without the quotes."""

from typing import NamedTuple

from affiliate_matrix.errors import InvalidInput, PreconditionRequired

_OWS = " \t"


class EntityTags(NamedTuple):
    """A parsed If-Match or If-None-Match: `any` for `*`, else the listed tags as (weak, opaque text)."""
    any: bool
    tags: tuple[tuple[bool, str], ...]

    def strongly_matches(self, current: str) -> bool:
        """If-Match's comparison: `*`, or a strong tag listed equal to `current`."""
        return self.any or any(not weak and opaque == current for weak, opaque in self.tags)

    def weakly_matches(self, current: str) -> bool:
        """If-None-Match's comparison of tags (`*` is the caller's: it holds only when the resource exists)."""
        return any(opaque == current for _, opaque in self.tags)


def entity_tags(value: str, header: str) -> EntityTags:
    """`*` or a list of entity tags; InvalidInput naming `header` for any other text."""
    text = value.strip(_OWS)
    if text == "*":
        return EntityTags(True, ())
    tags: list[tuple[bool, str]] = []
    at, end = 0, len(text)
    while at < end:
        if text[at] in _OWS or text[at] == ",":  # whitespace and empty list elements
            at += 1
            continue
        weak = text.startswith("W/", at)
        start = at + 2 if weak else at
        close = text.find('"', start + 1) if start < end and text[start] == '"' else -1
        if close < 0:
            raise _malformed(header, text)
        opaque = text[start + 1:close]
        if any(c == "\x7f" or c < "!" or c > "\xff" for c in opaque):  # etagc: %x21 / %x23-7E / obs-text
            raise _malformed(header, text)
        tags.append((weak, opaque))
        at = close + 1
        while at < end and text[at] in _OWS:
            at += 1
        if at < end and text[at] != ",":
            raise _malformed(header, text)
    return EntityTags(False, tuple(tags))  # none when the list is empty (5.6.1: it may be)


def _malformed(header: str, text: str) -> InvalidInput:
    return InvalidInput(f"{header}: {text[:80]!r} is not * or a list of entity tags (\"etag\" or W/\"etag\", "
                        "separated by commas)")


def if_match(request, what: str) -> EntityTags:
    """The If-Match a conditional write needs: 428 without one, 400 when it is malformed."""
    value = request.headers.get("If-Match")
    condition = None if value is None else entity_tags(value, "If-Match")
    if condition is None or condition == EntityTags(False, ()):  # none, or an empty list (5.6.1 allows one)
        raise PreconditionRequired(f"send If-Match with the ETag of the {what} you read (or * for whatever is current)")
    return condition


def if_none_match(request) -> EntityTags | None:
    """A GET's If-None-Match, None when there is none; 400 when it is malformed."""
    value = request.headers.get("If-None-Match")
    return None if value is None else entity_tags(value, "If-None-Match")
