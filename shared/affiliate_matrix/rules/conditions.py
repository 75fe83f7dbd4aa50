r"""CEL conditions: the documented context, checks at `amx rules add` time, and evaluation.

The context every condition sees (the parts its trigger does not fill are present with empty values; in those it
fills, a value the program, delta or event does not have is absent, never an invented 0 or "": has(program.epc_7d)
tests for it, and a condition that needs one it lacks to decide is not evaluated on it (NoValue), neither holding nor
failing):

    event    id, type, source, subject, time (RFC 3339), data (the event's own payload, any shape)
    program  id, name, merchant_domain, status, kind, categories, networks, countries, worldwide,
             commission_percent_max, commission_flat_max, commission_flat_currency, cookie_days,
             quality_score, epc_7d, epc_currency, epc_90d, epc_90d_currency
             (countries are the countries the program takes: every ISO 3166 code when it names none, which
             a source says so when it restricts none, so "US" in program.countries holds for it; worldwide is
             true then, for a rule about programs open to every country)
             (cookie_days here and in delta is the cookie's length: a lifetime cookie as 3651, longer than
             any stated one, so cookie_days >= 30 holds for it)
             (commission_flat_max, epc_7d and epc_90d are amounts in the currency named beside them, both
             absent when there is none: there are no exchange rates, so a condition using an amount must test its
             currency too, e.g. program.epc_currency == "USD" && program.epc_7d > 1.0; see AMOUNTS)
    delta    id, change (created|updated|removed), fields (names of changed fields), source, at,
             commission_percent_old, commission_percent_new, cookie_days_old, cookie_days_new
             (each absent where the delta does not say it: a new program's old values, a delta not changing it)
    stats    programs, active, discovered, closed_suspected (counts in the index)
    key      path, status, expires_in_days (key.expiring's alone), failures
    budget   campaign_id, day, allocated, spent, deviation, tolerance, direction, strategy (those the event carries:
             budget.allocated day and strategy, budget.pacing no deviation where nothing was allocated)
    now      the event's time, a schedule rule's tick (RFC 3339), never the wall clock; use timestamp(now)

Checks, once, when a rule is written (POST/PUT /rules, `amx rules add`), never when a stored rule is
loaded: the syntax (the CEL library's parser), names and field paths against the context above, a string
compared with a field of a fixed set of values that is none of them, or a list compared with == to one value
(check_values), an amount used only beside a test of its currency (AMOUNTS), comprehensions nested at most two deep, a
static cost bound, and a trial run on a sample context that must give a bool. Nothing here reads a
clock, so the verdict is the same on an idle machine and a busy one.

The cost bound (the CEL library offers no cost estimate of its own): every operation counts 1; an
operation inside a comprehension counts once per element the comprehension can visit (nested, the
product); using a list counts its length (`in`, `+`, `==` walk it); a regular expression counts its
length times its counted repetitions (`a{100}` is a hundred `a`s to the matcher, which compiles the
pattern on every call), and each Unicode class in it (\w, \d, \p{..}, \b and their negations)
UNICODE_CLASS_STEPS more: compiled, one is a large automaton (\w about 1 ms, a letter nanoseconds),
so a condition holds a few; [A-Za-z0-9_] and the like cost what their text does. Any character ('.',
a negated set, \S) is such an automaton too, smaller (tens of µs): ANY_CHARACTER_STEPS more. Lists count at most
LIST_BOUNDS, lists whose size nothing bounds (anything in event.data, a comprehension's own results)
UNBOUNDED_LIST. A condition over COST_LIMIT is refused: the interpreter takes about 0.05-0.15 µs per
step (measured on the sample context with nothing cut short), so the limit keeps a rule's worst case
near a millisecond, while ordinary rules cost tens of steps. One bound needs the event, so it is judged on each
before the condition runs (Condition.execute, EVENT_COPY_LIMIT).
"""

import difflib
import functools
import re
import typing
from typing import Any

from affiliate_matrix.models import Category, Program

ANY = "any"
CONTEXT: dict[str, Any] = {
    "event": {"id": str, "type": str, "source": str, "subject": str, "time": str, "data": ANY},
    "program": {"id": str, "name": str, "merchant_domain": str, "status": str, "kind": str, "categories": list,
                "networks": list, "countries": list, "worldwide": bool, "commission_percent_max": float,
                "commission_flat_max": float, "commission_flat_currency": str, "cookie_days": int,
                "quality_score": float, "epc_7d": float, "epc_currency": str, "epc_90d": float,
                "epc_90d_currency": str},
    "delta": {"id": str, "change": str, "fields": list, "source": str, "at": str, "commission_percent_old": float,
              "commission_percent_new": float, "cookie_days_old": int, "cookie_days_new": int},
    "stats": {"programs": int, "active": int, "discovered": int, "closed_suspected": int},
    "key": {"path": str, "status": str, "expires_in_days": int, "failures": int},
    "budget": {"campaign_id": str, "day": str, "allocated": float, "spent": float, "deviation": float,
               "tolerance": float, "direction": str, "strategy": str},
    "now": str,
}


def filled_by(trigger: str) -> set[str]:
    """The context parts a trigger (`Trigger.key`) fills (engine.context_values); the others hold empty values."""
    if trigger.startswith("schedule:"):
        return {"stats", "now"}
    own = {"program.delta": {"program", "delta"}}.get(trigger) or \
        ({"key"} if trigger.startswith("key.") else {"budget"} if trigger.startswith("budget.") else set())
    return {"event", "stats", "now"} | own


# An amount of money in the context, and the field naming its currency. There are no exchange rates, so a bare
# `program.epc_7d > 1.0` held for ¥5 a click: a condition that uses an amount must use its currency too.
AMOUNTS = {"program.commission_flat_max": "program.commission_flat_currency", "program.epc_7d": "program.epc_currency",
           "program.epc_90d": "program.epc_90d_currency"}
MAX_NESTING = 2
COST_LIMIT = 10_000
UNBOUNDED_LIST = 1_000
LIST_BOUNDS = {  # the most elements each list in the context can hold
    "program.categories": len(typing.get_args(Category)),  # the fixed taxonomy
    "program.networks": 100,
    "program.countries": 250,  # ISO 3166-1 has 249 codes
    "delta.fields": len(Program.model_fields),  # names of changed fields
}
MACROS = {"all", "exists", "exists_one", "map", "filter"}
FUNCTIONS = {"size", "has", "int", "uint", "double", "string", "bytes", "bool", "timestamp", "duration", "type",
             "dyn", "matches", "max", "min", "abs"}
# Read with re.X; compiled by re on first use, as are the other patterns here
_TOKEN = r"""
    (?P<string>[rRbB]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<number>\d+\.?\d*(?:[eE][+-]?\d+)?[uU]?|0x[0-9a-fA-F]+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\.|\(|\)|\[|\]|\{|\}|,|[^\sA-Za-z0-9_])
"""


class ConditionError(ValueError):
    """A condition that cannot be a rule's condition; the message points at the problem."""


def check_trigger(text: str, trigger: str) -> None:
    """A condition reads only the parts its trigger fills: the others are empty for it (a schedule has no delta,
    a key event no program), so a test on them would hold never, or always, whatever happened."""
    import cel

    empty = sorted(set(cel.compile(text).variables()) & set(CONTEXT) - filled_by(trigger) - check_names(text))
    if empty:
        kind = "a schedule" if trigger.startswith("schedule:") else f"a {trigger} event"
        raise ConditionError(f"condition: uses {', '.join(empty)}, which {kind} does not fill: it would read empty "
                             f"values whatever happened ({kind} fills "
                             f"{', '.join(p for p in CONTEXT if p in filled_by(trigger))})")


def check(text: str) -> None:
    import cel

    try:
        program = cel.compile(text)
    except ValueError as exc:
        raise ConditionError(f"condition: {parse_error(str(exc))}") from None
    locals_ = check_names(text)
    check_amounts(text)
    unknown = set(program.variables()) - set(CONTEXT) - locals_
    if unknown:
        name = sorted(unknown)[0]
        raise ConditionError(f"condition: unknown name {name!r}{_hint(name, CONTEXT)}; the context has "
                             f"{', '.join(CONTEXT)}")
    steps = cost(text)
    if steps > COST_LIMIT:
        raise ConditionError(f"condition: may take {steps:,} steps, over the limit of {COST_LIMIT:,} ({_why(text)})")
    check_values(text)
    trial(program)


_RECURSION = r"Syntax error: OtherError\(ParseError \{.*msg: \"Recursion limit of (\d+) exceeded\".*\}\)"
_SHOWN = 60  # characters of the condition's line shown on each side of the caret


def parse_error(message: str) -> str:
    """The parser's first error (those after it follow from it) with its line and caret, the line cut to the part
    around the caret: the parser quotes the whole condition, then each error with its line whole and a caret line as
    long, 3,600 characters for 600 brackets."""
    first = message.partition(": ERROR: ")[2].split("\nERROR: ")[0]
    if not first:
        return message.removeprefix("Failed to parse expression ")
    where, *shown = first.split("\n")
    where = re.sub(_RECURSION, lambda m: f"nested more than {m.group(1)} deep", where)
    if len(shown) != 2:
        return where
    line, caret = (row.removeprefix("| ") for row in shown)
    at = len(caret) - 1
    start = max(0, at - _SHOWN)
    end = at + _SHOWN
    before, after = ("…" if start else ""), ("…" if end < len(line) else "")
    return (f"{where}\n| {before}{line[start:end]}{after}\n| {'.' * len(before)}{caret[start:]}")


def check_names(text: str) -> set[str]:
    """Field paths against the context, and comprehension depth; returns the comprehension variables."""
    tokens = [(m.lastgroup, m.group()) for m in re.finditer(_TOKEN, text, re.X)]
    locals_, depth, open_macros = set(), 0, []
    for i, (kind, value) in enumerate(tokens):
        if value == "(":
            depth += 1
            if i >= 2 and tokens[i - 1][1] in MACROS and tokens[i - 2][1] == ".":
                open_macros.append(depth)
                if len(open_macros) > MAX_NESTING:
                    raise ConditionError(f"condition: comprehensions nested more than {MAX_NESTING} deep "
                                         f"(at .{tokens[i - 1][1]}(…)); that can run too long")
                if i + 1 < len(tokens) and tokens[i + 1][0] == "ident":
                    if tokens[i + 1][1] in CONTEXT:
                        raise ConditionError(f"condition: the comprehension variable {tokens[i + 1][1]!r} hides the "
                                             f"context's {tokens[i + 1][1]}; give it another name")
                    locals_.add(tokens[i + 1][1])
        elif value == ")":
            if open_macros and open_macros[-1] == depth:
                open_macros.pop()
            depth -= 1
    for i, (kind, value) in enumerate(tokens):
        if kind != "ident" or (i > 0 and tokens[i - 1][1] == ".") or value not in CONTEXT:
            continue
        path, j = [value], i + 1
        while j + 1 < len(tokens) and tokens[j][1] == "." and tokens[j + 1][0] == "ident":
            if j + 2 < len(tokens) and tokens[j + 2][1] == "(":
                break  # a method call such as .exists( or .startsWith(
            path.append(tokens[j + 1][1])
            j += 2
        schema = CONTEXT[value]
        for depth_, name in enumerate(path[1:], 1):
            if schema is ANY:
                break
            if not isinstance(schema, dict) or name not in schema:
                where = ".".join(path[:depth_])
                fields = ", ".join(schema) if isinstance(schema, dict) else f"nothing (it is a {schema.__name__})"
                raise ConditionError(f"condition: {where} has no field {name!r}{_hint(name, schema)}; "
                                     f"it has {fields}")
            schema = schema[name]
    return locals_


def check_amounts(text: str) -> None:
    """An amount (AMOUNTS) is used only in a condition that also uses the field naming its currency. A field is
    used by name, program.epc_7d or program["epc_7d"]; the part of the context holding amounts read any other way
    (as a whole: [program], dyn(program), program[k], a walk over its keys) is refused, as its amounts would be
    compared unseen."""
    used = reads(text)
    holders = {amount.split(".")[0] for amount in AMOUNTS}
    whole = sorted(used & holders)
    if whole:
        raise ConditionError(f"condition: {whole[0]} is read as a whole; read its fields by name "
                             f'({whole[0]}.epc_7d or {whole[0]}["epc_7d"]), so that an amount is seen beside its '
                             "currency")
    for amount, currency in AMOUNTS.items():
        if amount in used and currency not in used:
            raise ConditionError(f"condition: {amount} is an amount in {currency}, and there are no exchange rates "
                                 f"(a bare {amount} > 1.0 holds for ¥5); test its currency too, e.g. "
                                 f'{currency} == "USD" && {amount} > 1.0')


@functools.lru_cache(maxsize=1024)
def reads(text: str) -> frozenset[str]:
    """The context's paths the condition reads by name: program.epc_7d (or program["epc_7d"]), event.data.x, a part
    read whole as its name alone (program)."""
    tokens = [(m.lastgroup, m.group()) for m in re.finditer(_TOKEN, text, re.X)]
    return frozenset(_path_from(tokens, i) for i, (kind, value) in enumerate(tokens)
                     if kind == "ident" and value in CONTEXT and (i == 0 or tokens[i - 1][1] != "."))


def closed_values() -> dict[str, tuple[frozenset, str]]:
    """The fields of the context whose values are a fixed set (a list's: each element's), with how to name them."""
    from affiliate_matrix.codes import CATEGORIES, CHANGES, COUNTRIES, KINDS, STATUSES
    from affiliate_matrix.deltas import TRACKED

    def listed(values) -> tuple[frozenset, str]:
        return frozenset(values), ", ".join(values)

    return {"program.categories": listed(CATEGORIES), "program.status": listed(STATUSES),
            "program.kind": listed(KINDS), "delta.change": listed(CHANGES), "delta.fields": listed(TRACKED),
            "program.countries": (COUNTRIES, "ISO 3166-1 codes in capitals, as US or DE")}


_PLAIN_STRING = r"""(["'])([^"'\\\n]*)\1"""  # a string literal with no escape, read as its text


def check_values(text: str) -> None:
    """A field of a fixed set of values (closed_values) compared with a string that is none of them (`"Pets" in
    program.categories`, `program.status == "Active"`, `"cookie" in delta.fields`), or a list compared with == or != to
    a single value (`program.categories == "pets"`), is refused: it holds never (or, with !=, always), and the rule was
    stored to stay silent. Read from the condition's tokens: a string compared by ==, != or `in`, either side, with the
    field or with a comprehension's variable over it (`delta.fields.exists(f, f == "commision")`)."""
    tokens = [(m.lastgroup, m.group()) for m in re.finditer(_TOKEN, text, re.X)]
    values = [value for _, value in tokens]
    closed = closed_values()
    pairs = _pairs(tokens)
    elements = {}  # a comprehension's variable over a list of closed_values, by where it is bound: its path
    for i in range(len(tokens) - 4):
        if values[i] == "." and values[i + 1] in MACROS and values[i + 2] == "(" and tokens[i + 3][0] == "ident" \
                and values[i + 4] == ",":
            start = i - 1
            while start >= 2 and values[start - 1] == "." and tokens[start - 2][0] == "ident":
                start -= 2
            if (path := _path_from(tokens, start)) in closed:
                for j in range(i + 5, pairs.get(i + 2, i + 2)):
                    if values[j] == values[i + 3] and values[j - 1] != ".":
                        elements[j] = path
    for i, (kind, value) in enumerate(tokens):
        if kind != "ident" or not (value in CONTEXT or i in elements) or (i > 0 and values[i - 1] == "."):
            continue
        path, end = (elements[i], i + 1) if i in elements else _path_and_end(tokens, i)
        schema = CONTEXT.get(path.split(".")[0])
        is_list = i not in elements and isinstance(schema, dict) and schema.get(path.partition(".")[2]) is list
        compared = []  # the literals the field is compared with, and whether by == or != (not by `in`)
        if values[end:end + 2] in (["=", "="], ["!", "="]) and end + 2 < len(tokens):
            compared.append((tokens[end + 2], True))
        if i >= 3 and values[i - 2:i] in (["=", "="], ["!", "="]):
            compared.append((tokens[i - 3], True))
        if i >= 2 and values[i - 1] == "in" and i not in elements:
            compared.append((tokens[i - 2], False))
        if values[end:end + 2] == ["in", "["]:
            j = end + 2
            while j < len(tokens) and values[j] not in ("]", "[", "(", ")"):
                if values[j] != ",":
                    compared.append((tokens[j], False))
                j += 1
        for (literal_kind, literal), equal in compared:
            if literal_kind not in ("string", "number"):
                continue
            if is_list and equal:
                raise ConditionError(f"condition: {path} is a list, so comparing it with == or != to {literal} holds "
                                     f"never (or always); test whether it holds the value: {literal} in {path}")
            plain = re.fullmatch(_PLAIN_STRING, literal)
            if path in closed and plain and plain.group(2) not in closed[path][0]:
                allowed, named = closed[path]
                said = plain.group(2)
                guess = next((v for v in allowed if v.lower() == said.lower()), None) or \
                    next(iter(difflib.get_close_matches(said, sorted(allowed), n=1)), None)
                hint = f" (did you mean {guess!r}?)" if guess else ""
                raise ConditionError(f"condition: {path} never holds {literal}{hint}, so the test never matches; "
                                     f"its values are {named}")


_GROUPING = {"(", ")", ",", "]", "}", ":", "."}
_QUANTIFIER = r"\{(\d+)(?:,(\d*))?\}"
_UNICODE_CLASS = r"\\\\?[wWdDbBpP]"  # \w or, escaped in a CEL string, \\w (\s is cheap)
UNICODE_CLASS_STEPS = 2_000
_ANY_CHARACTER = r"(?<!\\)\.|\[\^|\\\\?S"  # '.', a negated set, \S: any of Unicode's characters
ANY_CHARACTER_STEPS = 200


def cost(text: str) -> int:
    """The most steps the condition can take (see the module's docstring for how they count)."""
    tokens = [(m.lastgroup, m.group()) for m in re.finditer(_TOKEN, text, re.X)]
    pairs = _pairs(tokens)
    repeats = _repeats(tokens, pairs, UNBOUNDED_LIST)
    total = 0
    for i, (kind, value) in enumerate(tokens):
        if value in _GROUPING:
            continue
        steps = 1
        if kind == "ident" and value == "matches" and i + 1 < len(tokens) and tokens[i + 1][1] == "(":
            steps = _regex_steps(tokens, i + 1, pairs)
        elif kind == "ident" and value == "in" and i + 1 < len(tokens):
            steps = _in_steps(tokens, i + 1)
        elif kind == "ident" and (i == 0 or tokens[i - 1][1] != "."):
            steps = LIST_BOUNDS.get(_path_from(tokens, i), 1)
        total += steps * repeats[i]
    return total


def _repeats(tokens, pairs, unbounded: int) -> list[int]:
    """How many times each token can run: once per element of each comprehension around it."""
    repeats = [1] * len(tokens)
    for i in range(len(tokens) - 2):
        if tokens[i][1] == "." and tokens[i + 1][1] in MACROS and tokens[i + 2][1] == "(":
            bound = _range_bound(tokens, i - 1, pairs, unbounded)
            for j in range(i + 3, pairs[i + 2]):
                repeats[j] *= bound
    return repeats


def _pairs(tokens) -> dict[int, int]:
    """Each bracket's index → its partner's (the CEL parser has already checked they balance)."""
    pairs, stack = {}, []
    for i, (_, value) in enumerate(tokens):
        if value in ("(", "[", "{"):
            stack.append(i)
        elif value in (")", "]", "}") and stack:
            j = stack.pop()
            pairs[i], pairs[j] = j, i
    return pairs


_KEY = r"""[rR]?(["'])([A-Za-z_][A-Za-z0-9_]*)\1"""  # a key written as a plain literal: "epc_7d"


def _path_from(tokens, i: int) -> str:
    """The dotted field path starting at tokens[i], up to (not into) a method call; a field read by index with a
    plain literal key (program["epc_7d"]) is the same path as program.epc_7d."""
    return _path_and_end(tokens, i)[0]


def _path_and_end(tokens, i: int) -> tuple[str, int]:
    """_path_from's path, and the index of the token after it."""
    path, j = [tokens[i][1]], i + 1
    while j + 1 < len(tokens):
        if tokens[j][1] == "." and tokens[j + 1][0] == "ident":
            if j + 2 < len(tokens) and tokens[j + 2][1] == "(":
                break
            path.append(tokens[j + 1][1])
            j += 2
        elif (tokens[j][1] == "[" and j + 2 < len(tokens) and tokens[j + 2][1] == "]"
              and (key := re.fullmatch(_KEY, tokens[j + 1][1]))):
            path.append(key.group(2))
            j += 3
        else:
            break
    return ".".join(path), j


def _range_bound(tokens, end: int, pairs, unbounded: int) -> int:
    """How many elements the expression ending at tokens[end] (what a comprehension walks) can hold."""
    if end < 0:
        return unbounded
    kind, value = tokens[end]
    if value == "]" and not _indexes(tokens, pairs[end] - 1):  # a literal list: its own elements
        return _elements(tokens, pairs[end], end, pairs)
    if value == ")" and pairs[end] >= 2 and tokens[pairs[end] - 1][1] in ("map", "filter") \
            and tokens[pairs[end] - 2][1] == ".":
        return _range_bound(tokens, pairs[end] - 3, pairs, unbounded)  # no longer than what it maps or filters
    if kind == "ident":
        start = end
        while start >= 2 and tokens[start - 1][1] == "." and tokens[start - 2][0] == "ident":
            start -= 2
        if start == 0 or tokens[start - 1][1] != ".":
            return LIST_BOUNDS.get(".".join(v for _, v in tokens[start:end + 1:2]), unbounded)
    return unbounded


def _indexes(tokens, i: int) -> bool:
    """Whether a `[` after tokens[i] indexes (x[0]) rather than opens a literal list."""
    return i >= 0 and (tokens[i][1] in (")", "]") or (tokens[i][0] in ("ident", "string", "number")
                                                       and tokens[i][1] != "in"))


def _elements(tokens, start: int, end: int, pairs) -> int:
    """The items of the literal list between tokens[start] ([) and tokens[end] (])."""
    count, item, j = 0, False, start + 1
    while j < end:
        if tokens[j][1] == ",":
            count, item = count + item, False
        else:
            item = True
            j = pairs.get(j, j) if tokens[j][1] in ("(", "[", "{") else j
        j += 1
    return count + item


def _in_steps(tokens, i: int) -> int:
    """`x in <list>` walks the list: a literal's items count where they stand, a known list at its path;
    event.data is a map (one lookup); anything else may be any size."""
    if tokens[i][0] != "ident":
        return 1
    path = _path_from(tokens, i)
    return 1 if path in LIST_BOUNDS or path == "event.data" else UNBOUNDED_LIST


def _regex_steps(tokens, open_: int, pairs) -> int:
    """A pattern's length times its counted repetitions; the pattern must be a literal so it can be judged."""
    close = pairs[open_]
    kind, pattern = tokens[close - 1]
    if kind != "string" or tokens[close - 2][1] not in ("(", ","):
        raise ConditionError("condition: matches() needs a literal pattern (\"...\"), so its cost can be judged "
                             "when the rule is written")
    steps = len(pattern) + UNICODE_CLASS_STEPS * len(re.findall(_UNICODE_CLASS, pattern)) \
        + ANY_CHARACTER_STEPS * len(re.findall(_ANY_CHARACTER, pattern))
    for low, high in re.findall(_QUANTIFIER, pattern):
        steps *= max(int(low), int(high or 0), 1)
    return steps


def _why(text: str) -> str:
    known = [f"{path} up to {bound:,}" for path, bound in LIST_BOUNDS.items() if path in text]
    lists = ", ".join(known + [f"other lists up to {UNBOUNDED_LIST:,}"])
    why = [f"a comprehension repeats its body for each element and `in` walks its list: {lists}"]
    if "matches" in text:
        why.append("matches() costs its pattern's length times its counted repetitions")
        if re.search(_UNICODE_CLASS, text):
            why.append(f"each Unicode class in it (\\w, \\d, \\p{{..}}, \\b) {UNICODE_CLASS_STEPS:,} more, as the "
                       f"matcher compiles it on every call: [A-Za-z0-9_], [0-9] and the like cost a step")
    return "; ".join(why)


def _hint(name: str, options) -> str:
    guess = difflib.get_close_matches(name, list(options) if isinstance(options, dict) else [], n=1)
    return f" (did you mean {guess[0]!r}?)" if guess else ""


# The payload keys the functions' events carry (program.delta, key.*, sync.failed, budget.*, raw.batch.stored).
SAMPLE_EVENT_DATA = {
    "id": "d_1", "program_id": "p_1", "change": "updated", "fields": [{"field": "commission"}] * 50, "source": "awin",
    "at": "2026-11-22T06:00:00+00:00", "recorded_at": "2026-11-22T06:00:01Z", "path": "connections/awin", "days": 7,
    "expires_at": "2026-11-29T00:00:00+00:00",
    "rotation": "auto", "version": 2, "failed": ["awin"], "connections": ["awin"], "connection_id": "awin",
    "sync_id": "s_1", "errors": ["fetch https://example.com/: HTTP 503"] * 20, "campaign_id": "c1", "day": "2026-11-21",
    "allocated": 100.0, "spent": 130.0, "deviation": 0.3, "tolerance": 0.2, "direction": "over", "strategy": "optimal",
    "total_budget": "500.00", "currency": "USD", "campaigns": 3, "run": "budget/runs/2026-11-21.json",
    "batch_key": "batches/x.jsonl", "records": 10, "text": "x" * 1000,
}


def sample_context() -> dict:
    """A plausible context with every list at its bound: a trial run on it catches type errors."""
    def many(path):
        return [f"item-{i}" for i in range(LIST_BOUNDS[path])]

    return {
        "event": {"id": "e1", "type": "dev.affiliatematrix.program.delta", "source": "/index", "subject": "p_1",
                  "time": "2026-11-22T06:00:00+00:00", "data": SAMPLE_EVENT_DATA},
        "program": {"id": "p_1", "name": "Example", "merchant_domain": "example.com", "status": "active",
                    "kind": "program", "categories": many("program.categories"),
                    "networks": many("program.networks"), "countries": many("program.countries"), "worldwide": False,
                    "commission_percent_max": 30.0, "commission_flat_max": 50.0, "commission_flat_currency": "USD",
                    "cookie_days": 30, "quality_score": 0.8, "epc_7d": 12.5, "epc_currency": "USD",
                    "epc_90d": 9.5, "epc_90d_currency": "USD"},
        "delta": {"id": "d_1", "change": "updated", "fields": many("delta.fields"), "source": "awin",
                  "at": "2026-11-22T06:00:00+00:00",
                  "commission_percent_old": 20.0, "commission_percent_new": 30.0, "cookie_days_old": 30,
                  "cookie_days_new": 45},
        "stats": {"programs": 100000, "active": 90000, "discovered": 500, "closed_suspected": 20},
        "key": {"path": "connections/awin", "status": "active", "expires_in_days": 10, "failures": 0},
        "budget": {"campaign_id": "c1", "day": "2026-11-21", "allocated": 100.0, "spent": 130.0, "deviation": 0.3,
                   "tolerance": 0.2, "direction": "over", "strategy": "optimal"},
        "now": "2026-11-22T06:00:00+00:00",
    }


def trial(program) -> None:
    """Run once on the sample context: catches wrong types and non-bool results. No clock: the cost is
    bounded above, and the verdict depends only on the expression."""
    import cel

    try:
        result = program.execute(cel.Context(variables=sample_context()))
    except KeyError as exc:
        raise ConditionError(f"condition: no key {exc} in the sample context; event.data has any shape, so guard "
                             f"its keys with has(event.data.name) or \"name\" in event.data") from None
    except Exception as exc:  # the library raises TypeError, RuntimeError … for bad expressions
        raise ConditionError(f"condition: fails on a sample context: {exc}") from None
    if not isinstance(result, bool):
        raise ConditionError(f"condition: must give true or false, gives {type(result).__name__} ({result!r})")


def check_numbers(value, where: str) -> None:
    """InvalidInput naming the first number in `value` (decoded JSON, which bounds no integer) that the CEL library
    cannot take into a context: an integer past a double's range, with which it refuses the whole context."""
    from affiliate_matrix.errors import InvalidInput

    stack = [value]
    while stack:  # no path built on the way (a 4 MB event holds a million numbers): only for the one found
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and _past_a_double(item):
            raise InvalidInput(f"{_path_to(value, item, where)[:200]}: a number too large for a condition "
                               "(past ±1.8e308)")


def _past_a_double(number: int) -> bool:
    try:
        float(number)
        return False
    except OverflowError:
        return True


def _path_to(value, found, where: str) -> str:
    """Where `found` (the very object) is in `value`, as event.data.extra.n[0]."""
    stack = [(where, value)]
    while stack:
        path, item = stack.pop()
        if item is found:
            return path
        if isinstance(item, dict):
            stack += [(f"{path}.{key}", child) for key, child in item.items()]
        elif isinstance(item, list):
            stack += [(f"{path}[{i}]", child) for i, child in enumerate(item)]
    return where


# The CEL library copies a variable whole each time the condition reads it, so reading event (event.data: up to
# MAX_EVENT_BYTES of any shape) inside a comprehension copies the event once per element: a condition of a few
# thousand steps on a small event took minutes, or every byte of memory (`.map(x, event.data.text + …)`), on one
# of 4 MB. The cost bound above cannot know the event; this one is judged on it, before it runs: the reads of
# event (counting comprehensions over event.data at its longest list) times the values and characters it holds.
EVENT_COPY_LIMIT = 50_000_000  # about half a second and 50 MB


class NoValue(Exception):
    """A condition that needs, to decide, a value its context does not have (Context.absent): the fields it reads
    that are absent. Not the rule's fault, nor a decision: it neither holds nor fails on that context."""

    def __init__(self, fields: list[str]):
        super().__init__(f"no value for {', '.join(fields)}")
        self.fields = fields


class Condition:
    """A compiled condition, run only on a context whose event it can read within EVENT_COPY_LIMIT; one that needs a
    value the context does not have raises NoValue."""

    def __init__(self, text: str):
        import cel

        self.text, self.program = text, cel.compile(text)

    def execute(self, context: "Context"):
        reads = event_reads(self.text, context.longest)
        if reads > 1 and reads * context.event_size > EVENT_COPY_LIMIT:
            raise ConditionError(
                f"condition: reads event up to {reads:,} times (once per element of a comprehension, the event's "
                f"longest list holding {context.longest:,}) and its data holds {context.event_size:,} values and "
                f"characters, each read copying them: over the limit of {EVENT_COPY_LIMIT:,}, so it is not run on "
                "this event")
        try:
            return self.program.execute(context.variables)
        except KeyError as exc:  # the CEL library's error for a map key that is not there, naming the key
            lacking = self.lacking(context.absent, exc.args[0] if exc.args else None)
            if not lacking:  # a key event.data lacks (or a field read as a whole's): the rule's fault, as before
                raise
        # Run again with the absent fields valued (empty, as they were read before): if that raises, the condition
        # fails whatever the values (a key missing from event.data as well, a type error), the rule's fault as
        # before; if not, it raised only for want of the absent values.
        import cel

        self.program.execute(cel.Context(variables=context.valued))
        raise NoValue(lacking)

    def lacking(self, absent: frozenset[str], key) -> list[str]:
        """The absent fields the condition reads when the key found missing is one of them: all it reads by name,
        else (read otherwise, delta[name]) those of the parts it reads so named; [] when the key is none of them."""
        named = sorted(reads(self.text) & absent)
        if any(path.rpartition(".")[2] == key for path in named):
            return named
        return sorted(path for path in absent if path.rpartition(".")[2] == key
                      and path.partition(".")[0] in self.variables())

    def variables(self) -> list[str]:
        """The variables the condition reads (event, program, ...), as the compiled program names them."""
        return self.program.variables()


@functools.lru_cache(maxsize=1024)
def event_reads(text: str, longest: int) -> int:
    """How many times the condition can read event, a comprehension over event.data's lists `longest` elements."""
    tokens = [(m.lastgroup, m.group()) for m in re.finditer(_TOKEN, text, re.X)]
    repeats = _repeats(tokens, _pairs(tokens), max(longest, UNBOUNDED_LIST))
    return sum(repeats[i] for i, (kind, value) in enumerate(tokens)
               if kind == "ident" and value == "event" and (i == 0 or tokens[i - 1][1] != "."))


class Context(typing.NamedTuple):
    variables: Any  # cel.Context
    event_size: int  # values and characters in event.data
    longest: int  # elements in its longest list or map
    absent: frozenset[str] = frozenset()  # the fields of the parts given that have no value (program.epc_7d)
    valued: dict | None = None  # the variables with those fields empty (0, ""), for Condition.execute to tell apart


def compile_condition(text: str) -> Condition:
    return Condition(text)


def context_of(values: dict) -> Context:
    """The CEL context for one trigger: every documented part present, a part not given with empty values, a part
    given with its fields as given (one it has no value for absent, named in `absent`)."""
    import cel

    full = {name: ({k: _empty(t) for k, t in schema.items()} if isinstance(schema, dict) else _empty(schema))
            for name, schema in CONTEXT.items()}
    given = dict(full)
    absent = set()
    for name, value in values.items():
        if isinstance(full[name], dict):
            absent |= {f"{name}.{field}" for field in full[name] if field not in value}
            full[name], given[name] = {**full[name], **value}, value
        else:
            full[name] = given[name] = value
    return Context(cel.Context(variables=given), *_measure(full["event"]["data"]), frozenset(absent), full)


def _measure(value) -> tuple[int, int]:
    """(values and characters, the longest list or map's length) in decoded JSON."""
    size, longest, stack = 0, 0, [value]
    while stack:
        item = stack.pop()
        size += 1
        if isinstance(item, dict):
            longest = max(longest, len(item))
            size += sum(len(key) for key in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            longest = max(longest, len(item))
            stack.extend(item)
        elif isinstance(item, str):
            size += len(item)
    return size, longest


def _empty(kind):
    return {str: "", int: 0, float: 0.0, bool: False, list: [], ANY: {}}[kind]
