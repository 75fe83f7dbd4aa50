"""CEL conditions: the documented context, checks at `amx rules add` time, and evaluation.

The context every condition sees (absent parts are present with empty values, so a condition
never fails on a missing key):

    event    id, type, source, subject, time (RFC 3339), data (the event's own payload, any shape)
    program  id, name, merchant_domain, status, kind, categories, networks, countries,
             commission_percent_max, commission_flat_max, cookie_days, quality_score, epc_7d
    delta    id, change (created|updated|removed), fields (names of changed fields), source, at,
             commission_percent_old, commission_percent_new, cookie_days_old, cookie_days_new
    stats    programs, active, discovered, closed_suspected (counts in the index)
    key      path, status, expires_in_days, failures
    budget   campaign_id, day, allocated, spent, deviation, tolerance, direction, strategy
    now      the evaluation time (RFC 3339); use timestamp(now)

Checks: the syntax (the CEL library's parser), names and field paths against the context above,
comprehensions nested at most two deep, and a trial run on a large sample context that must
give a bool within a time limit.
"""

import difflib
import re
import time
from typing import Any

ANY = "any"
CONTEXT: dict[str, Any] = {
    "event": {"id": str, "type": str, "source": str, "subject": str, "time": str, "data": ANY},
    "program": {"id": str, "name": str, "merchant_domain": str, "status": str, "kind": str, "categories": list,
                "networks": list, "countries": list, "commission_percent_max": float, "commission_flat_max": float,
                "cookie_days": int, "quality_score": float, "epc_7d": float},
    "delta": {"id": str, "change": str, "fields": list, "source": str, "at": str, "commission_percent_old": float,
              "commission_percent_new": float, "cookie_days_old": int, "cookie_days_new": int},
    "stats": {"programs": int, "active": int, "discovered": int, "closed_suspected": int},
    "key": {"path": str, "status": str, "expires_in_days": int, "failures": int},
    "budget": {"campaign_id": str, "day": str, "allocated": float, "spent": float, "deviation": float,
               "tolerance": float, "direction": str, "strategy": str},
    "now": str,
}
MAX_NESTING = 2
MAX_TRIAL_MS = 5.0
MACROS = {"all", "exists", "exists_one", "map", "filter"}
FUNCTIONS = {"size", "has", "int", "uint", "double", "string", "bytes", "bool", "timestamp", "duration", "type",
             "dyn", "matches", "max", "min", "abs"}
_TOKEN = re.compile(r"""
    (?P<string>[rRbB]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<number>\d+\.?\d*(?:[eE][+-]?\d+)?[uU]?|0x[0-9a-fA-F]+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\.|\(|\)|\[|\]|\{|\}|,|[^\sA-Za-z0-9_])
""", re.X)


class ConditionError(ValueError):
    """A condition that cannot be a rule's condition; the message points at the problem."""


def check(text: str) -> None:
    import cel

    try:
        program = cel.compile(text)
    except ValueError as exc:
        raise ConditionError(f"condition: {str(exc).removeprefix('Failed to parse expression ')}") from None
    locals_ = check_names(text)
    unknown = set(program.variables()) - set(CONTEXT) - locals_
    if unknown:
        name = sorted(unknown)[0]
        raise ConditionError(f"condition: unknown name {name!r}{_hint(name, CONTEXT)}; the context has "
                             f"{', '.join(CONTEXT)}")
    trial(program)


def check_names(text: str) -> set[str]:
    """Field paths against the context, and comprehension depth; returns the comprehension variables."""
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]
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


def _hint(name: str, options) -> str:
    guess = difflib.get_close_matches(name, list(options) if isinstance(options, dict) else [], n=1)
    return f" (did you mean {guess[0]!r}?)" if guess else ""


# The payload keys the functions' events carry (program.delta, key.*, sync.failed, budget.*, raw.batch.stored).
SAMPLE_EVENT_DATA = {
    "id": "d_1", "program_id": "p_1", "change": "updated", "fields": [{"field": "commission"}] * 50, "source": "awin",
    "at": "2026-11-22T06:00:00+00:00", "path": "connections/awin", "days": 7, "expires_at": "2026-11-29T00:00:00+00:00",
    "rotation": "auto", "version": 2, "failed": ["awin"], "connections": ["awin"], "connection_id": "awin",
    "sync_id": "s_1", "errors": ["fetch https://example.com/: HTTP 503"] * 20, "campaign_id": "c1", "day": "2026-11-21",
    "allocated": 100.0, "spent": 130.0, "deviation": 0.3, "tolerance": 0.2, "direction": "over", "strategy": "optimal",
    "total_budget": "500.00", "currency": "USD", "campaigns": 3, "run": "budget/runs/2026-11-21.json",
    "batch_key": "batches/x.jsonl", "records": 10, "text": "x" * 1000,
}


def sample_context() -> dict:
    """A large, plausible context: trial runs on it catch type errors and conditions that run too long."""
    many = [f"item-{i}" for i in range(500)]
    return {
        "event": {"id": "e1", "type": "dev.affiliatematrix.program.delta", "source": "/index", "subject": "p_1",
                  "time": "2026-11-22T06:00:00+00:00", "data": SAMPLE_EVENT_DATA},
        "program": {"id": "p_1", "name": "Example", "merchant_domain": "example.com", "status": "active",
                    "kind": "program", "categories": many, "networks": many, "countries": many,
                    "commission_percent_max": 30.0, "commission_flat_max": 50.0, "cookie_days": 30,
                    "quality_score": 0.8, "epc_7d": 12.5},
        "delta": {"id": "d_1", "change": "updated", "fields": many, "source": "awin", "at": "2026-11-22T06:00:00+00:00",
                  "commission_percent_old": 20.0, "commission_percent_new": 30.0, "cookie_days_old": 30,
                  "cookie_days_new": 45},
        "stats": {"programs": 100000, "active": 90000, "discovered": 500, "closed_suspected": 20},
        "key": {"path": "connections/awin", "status": "active", "expires_in_days": 10, "failures": 0},
        "budget": {"campaign_id": "c1", "day": "2026-11-21", "allocated": 100.0, "spent": 130.0, "deviation": 0.3,
                   "tolerance": 0.2, "direction": "over", "strategy": "optimal"},
        "now": "2026-11-22T06:00:00+00:00",
    }


def trial(program) -> None:
    import cel

    context = cel.Context(variables=sample_context())
    started = time.perf_counter()
    try:
        result = program.execute(context)
    except KeyError as exc:
        raise ConditionError(f"condition: no key {exc} in the sample context; event.data has any shape, so guard "
                             f"its keys with has(event.data.name) or \"name\" in event.data") from None
    except Exception as exc:  # the library raises TypeError, RuntimeError … for bad expressions
        raise ConditionError(f"condition: fails on a sample context: {exc}") from None
    elapsed_ms = (time.perf_counter() - started) * 1000
    if elapsed_ms > MAX_TRIAL_MS:
        raise ConditionError(f"condition: runs too long ({elapsed_ms:.1f} ms on a sample context, "
                             f"limit {MAX_TRIAL_MS:g} ms)")
    if not isinstance(result, bool):
        raise ConditionError(f"condition: must give true or false, gives {type(result).__name__} ({result!r})")


def compile_condition(text: str):
    import cel

    return cel.compile(text)


def context_of(values: dict):
    """The CEL context for one trigger: every documented part present, the given values filled in."""
    import cel

    full = {name: ({k: _empty(t) for k, t in schema.items()} if isinstance(schema, dict) else _empty(schema))
            for name, schema in CONTEXT.items()}
    for name, value in values.items():
        full[name] = {**full[name], **value} if isinstance(full[name], dict) else value
    return cel.Context(variables=full)


def _empty(kind):
    return {str: "", int: 0, float: 0.0, list: [], ANY: {}}[kind]
