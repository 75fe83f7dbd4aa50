"""JSON from outside read one way, wherever it comes in: a request's body (handlers.body_of), an event's data, a file
a command takes in a body's place, a JSON Lines record of an import. Bytes other than UTF-8, a key given twice, an
integer past MAX_INT_DIGITS, a number past a double's range, nesting past MAX_DEPTH, a lone surrogate, NaN or Infinity
are refused in our words."""

import json
import math
from collections import Counter

from affiliate_matrix.errors import InvalidInput

MAX_DEPTH = 32  # nesting of JSON bodies and event data: no document of ours is nearly this deep
MAX_INT_DIGITS = 4_300  # Python's own limit on reading an integer (sys.get_int_max_str_digits()'s default)


def json_media_type(media_type: str) -> bool:
    """Whether a media type (a Content-Type, a CloudEvent's datacontenttype; its parameters aside) names JSON."""
    media_type = media_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def json_text(raw: bytes | str, what: str = "the body") -> str:
    """JSON's text from the bytes sent: UTF-8 without a byte order mark (RFC 8259). json.loads also reads bytes in
    UTF-16 or UTF-32, and UTF-8 after a BOM, where other readers (a proxy's filter, Knative's Go SDK) read no JSON."""
    if isinstance(raw, str):
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{what} is not UTF-8 (byte {exc.start}): JSON is sent in UTF-8") from None
    if text.startswith("\ufeff"):
        raise InvalidInput(f"{what} starts with a byte order mark: JSON is sent in UTF-8 without one")
    if "\0" in text:  # no JSON text holds one; UTF-16 or UTF-32 without a BOM is valid UTF-8 holding them
        raise InvalidInput(f"{what} is not UTF-8 (it holds NUL bytes: UTF-16 or UTF-32?): JSON is sent in UTF-8")
    return text


def json_document(raw: bytes | str, what: str = "the body") -> object:
    """JSON read as a body is (a request's, a file a command takes in its place): UTF-8 (json_text), a key given
    twice, a number past MAX_INT_DIGITS, nesting past MAX_DEPTH or a lone surrogate refused in our words
    (check_json)."""
    text = json_text(raw, what)
    try:
        document = json.loads(text, object_pairs_hook=_once_each, parse_int=_whole_number, parse_float=_finite_number)
    except RecursionError:
        raise InvalidInput(f"{what} is nested more than {MAX_DEPTH} levels deep") from None
    except InvalidInput as exc:
        raise InvalidInput(str(exc).replace("the body", what)) from None
    except ValueError as exc:
        raise InvalidInput(f"{what} is not JSON" + ("" if what == "the body" else f" ({exc})")) from None
    check_json(document, what)
    return document


def _whole_number(digits: str) -> int:
    """A JSON integer, refused in our words past MAX_INT_DIGITS: Python's ValueError for it was answered as a body
    that is not JSON (and its message told the client to call sys.set_int_max_str_digits())."""
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise InvalidInput(f"the body holds a number too long: {len(digits.lstrip('-')):,} digits, where a number "
                           f"has at most {MAX_INT_DIGITS:,}")
    return int(digits)


def _finite_number(text: str) -> float:
    """A JSON number with a fraction or an exponent, refused in our words past a double's range: Python reads 1e999 as
    infinity, which check_json then refused as a body holding 'Infinity, which is no JSON number', a word it never
    held."""
    value = float(text)
    if math.isinf(value):
        raise InvalidInput(f"the body holds the number {text[:40]}, past ±1.8e308, the range a number may have")
    return value


def _once_each(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are all different: parsers disagree on which of two same-named keys counts
    (Python's the last), so a proxy or a log that read the first would see another document than we store."""
    found = dict(pairs)
    if len(found) < len(pairs):
        twice = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        raise InvalidInput(f"the body gives the key {twice[:80]!r} twice")
    return found


def check_json(value, where: str) -> None:
    """Refuse decoded JSON nested deeper than MAX_DEPTH (before anything recurses into it), holding a
    string that is not Unicode text (a lone surrogate, "\ud800", which no backend can store) or NaN or Infinity
    (Python's parser takes them, JSON has them not: pydantic wrote one as null, so a document stored with one was
    damaged for its next read)."""
    level = [value]
    for _ in range(MAX_DEPTH + 1):
        for item in level:
            for text in (item, *item.keys()) if isinstance(item, dict) else (item,):
                if isinstance(text, str) and not _encodable(text):
                    raise InvalidInput(f"{where} holds a string that is not Unicode text (a lone surrogate)")
            if isinstance(item, float) and not math.isfinite(item):
                spelled = "NaN" if item != item else "Infinity" if item > 0 else "-Infinity"
                raise InvalidInput(f"{where} holds {spelled}, which is no JSON number: send a finite number")
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)]
        if not level:
            return
    raise InvalidInput(f"{where} is nested more than {MAX_DEPTH} levels deep")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
