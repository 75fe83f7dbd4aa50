"""Routes declared once. An API is a table of `Route`s (method, path, handler, the pydantic models of
its parameters, body and answer); `Api.route` is the one dispatcher (matching, 404/405, the token's
role, parameters and body checked against their models with a 400 naming what is wrong, the answer
checked against its model unless the route says its tests check it) and `Api.openapi` writes the OpenAPI
document from the same table (handlers/openapi.py), so the document and the behaviour cannot differ. Errors map
to statuses in `handlers.serve`."""

import json
import re
import types
from collections.abc import Callable, Mapping
from functools import cache, cached_property
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from pydantic_core import PydanticCustomError

from affiliate_matrix.auth import authorize  # with the function, before the fork (handlers/__init__.py says why)
from affiliate_matrix.errors import DamagedData, InvalidInput, MethodNotAllowed, NotFoundError
from affiliate_matrix.handlers import body_of, json_response, names_sent, no_parameters, query_of
from affiliate_matrix.handlers.shapes import Shape, is_list  # noqa: F401 (Shape: the APIs' models import it from here)
from affiliate_matrix.wording import ending_in_z, error_said, quoted, unknown_beside

_PATH_NAMES = r"\{(\w+)\}"  # the parameters a route's path names (compiled by re on first use)


MAX_DIGITS = 30  # the longest number a query string's parameter is read as (_digits)


def _digits(text: str, point: bool = False) -> bool:
    """A number as a person writes it: ASCII digits alone (a decimal point too where `point`), at most 30. int() and
    float() also take " 5", "1_0", "５" and "5\n", and str.isdigit() alone '²', which nobody means as a figure.
    (No regular expression: one compiled at import is paid by every start.)"""
    return len(text) <= MAX_DIGITS and text.isascii() and (text.replace(".", "", 1) if point else text).isdigit()


def refuse(message: str) -> PydanticCustomError:
    """An error for a validator to raise whose message is shown as it is (it names the parameter)."""
    return PydanticCustomError("amx", "{message}", {"message": message})


def _got(value: str) -> str:
    """What a number refused was, quoted; one past the 30 characters a number is read to, counted too: its first 40
    alone read as a number of 40 digits, said to be no number of at least 0."""
    return quoted(value) + (f" ({len(value)} characters; at most {MAX_DIGITS})" if len(value) > MAX_DIGITS else "")


def whole(low: int, high: int):
    """A whole number in [low, high], in ASCII digits."""
    def check(value, info):
        if isinstance(value, str) and not (_digits(value) and low <= int(value) <= high):
            raise refuse(f"{info.field_name} must be a whole number from {low} to {high}, got {_got(value)}")
        return value
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(check)]


def decimal(low: int):
    """A number of at least low, in ASCII digits with an optional decimal point (2, 2.5, .5): the same rule as whole."""
    def check(value, info):
        if isinstance(value, str) and not (_digits(value, point=True) and float(value) >= low):
            raise refuse(f"{info.field_name} must be a number of at least {low} in digits, as 2.5, got {_got(value)}")
        return value
    return Annotated[float, Field(ge=low, allow_inf_nan=False), BeforeValidator(check)]


def problem(exc: ValidationError, query: bool = False) -> InvalidInput:
    """The first error of a validation as a 400's message naming the parameter or field. `query`: a query string's
    (or a command's options), named as the person wrote it, `kind`, not by its place among repeats (`kind.0`), with
    the value they gave (it is in the URL already)."""
    first = exc.errors(include_url=False)[0]
    parts = [part for part in first["loc"] if not (query and isinstance(part, int))]
    loc = ".".join(map(str, parts))[:200]  # a key may be hostile
    if first["type"] == "amx":
        return InvalidInput(first["ctx"]["message"])
    if first["type"] == "literal_error":  # a body's input is not repeated: it might be a secret sent in the wrong field
        given = f", got {str(first['input'])[:40]!r}" if query else ""
        return InvalidInput(f"{loc} must be one of {first['ctx']['expected']}{given}")
    if first["type"] == "bool_parsing" and query:  # a flag in a URL (excel=maybe): pydantic's words named neither
        return InvalidInput(f"{loc} must be true or false, got {str(first['input'])[:40]!r}")
    if first["type"] == "extra_forbidden":
        return InvalidInput(f"unknown field(s): {loc}")
    if first["type"] == "too_long":  # a list past its bound: pydantic's words count "after validation"
        return InvalidInput(f"{loc}: at most {first['ctx']['max_length']} at once, got {first['ctx']['actual_length']}")
    said = f"{loc}: {error_said(first)}" if loc else error_said(first)
    return InvalidInput(said + unknown_beside(exc.errors(include_url=False)))


# A list's total: what its page numbers count in (page × limit is an offset among the matches), and known without
# reading every match, which checking each one's shape would take
TOTAL = ("The {what} of the index that match, those a page leaves out as damaged (errors) too: page by next_cursor "
         "until it is null, not until total items are read.")


def listing(body: dict, damaged: list[dict]):
    """A list's answer, with what it left out as damaged named in `errors` ({"key", "error"}) and counted in
    X-Damaged-Items: one bad document does not take its whole list down (documents.readable, of_shape)."""
    if not damaged:
        return body
    body = {**body, "errors": damaged}
    return body, 200, counted(body, {})


def counted(body: dict | None, headers: dict) -> dict:
    """The headers of a list's answer, with X-Damaged-Items where its body names what it left out (`errors`): for an
    answer kept in a cache, its body whole."""
    errors = (body or {}).get("errors")
    return {**headers, "X-Damaged-Items": str(len(errors))} if errors else headers


def of_shape(docs: list[dict], model: type[BaseModel], what: str, damaged: list[dict],
             made: Callable[[dict], dict] | None = None) -> list[dict]:
    """The documents of an index (a list's items; with `made`, the item each makes) that are of `model`'s shape. One
    that is not (written by hand, or by a version that checked less) is logged by its id, never its content, left out
    and added to `damaged`, as a stored document is (documents.readable): checked with the whole answer, it made the
    list a 500."""
    from affiliate_matrix.observability import log_damaged

    shaped = []
    for doc in docs:
        try:
            item = doc if made is None else made(doc)
            model.model_validate(item)
        except ValidationError as exc:
            problem_of = str(problem(exc))
        except DamagedData as exc:  # `made` of a stored program not of its shape (program_index.from_document)
            problem_of = exc.problem
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # `made` of a document it cannot read
            problem_of = f"its stored form cannot be read ({type(exc).__name__})"
        else:
            shaped.append(in_rfc3339(item, model))
            continue
        key = str(doc.get("id"))[:100]
        error = f"{what} {key} is damaged: {problem_of}"
        log_damaged(key, error)
        damaged.append({"key": key, "error": error})
    return shaped


def in_rfc3339(item, model: type[BaseModel]):
    """An item answered as the index stores it (a search's, an activation), its times written as the models' dumps
    write them, ending in Z: stored with isoformat (+00:00), a client comparing times as text saw one instant two ways.
    Only the model's own time fields are looked at (what is stored is unchanged; both forms are read). An item `made`
    as a model (a merchant's programs) is its own dump's business."""
    if not isinstance(item, dict):
        return item
    zoned = {name: zulu for name in _time_fields(model)
             if isinstance(value := item.get(name), str) and (zulu := ending_in_z(value)) != value}
    return {**item, **zoned} if zoned else item


@cache
def _time_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The names of a model's fields holding a time (a datetime, or one or None)."""
    from datetime import datetime
    from typing import get_args

    from pydantic import AwareDatetime

    times = {datetime, AwareDatetime}
    return tuple(name for name, field in model.model_fields.items()
                 if field.annotation in times or times & set(get_args(field.annotation)))


def strictly(model, body):
    """A request's JSON body checked as the types JSON gives its values (pydantic's strict mode, in JSON mode): "20"
    is no number, "true" or 1 no boolean, 5 no string; a client's wrong type is refused, naming the field, not taken
    as what it might have meant. What JSON has no type for is read from its string form, as documented: a date, a
    time, a decimal amount ("200.00"), a URL. `model`: a model or a TypeAdapter. Query strings are text, read laxly."""
    text = json.dumps(body)
    if isinstance(model, type):
        return model.model_validate_json(text, strict=True)
    return model.validate_json(text, strict=True)


class Call(NamedTuple):  # immutable like a frozen dataclass, at a sixth of its cost to define (every start)
    """What a handler gets: the runtime, the request, its checked parameters, its JSON body and the caller's role."""
    rt: Any
    request: Any
    params: Any = None
    body: Any = None
    role: str | None = None  # None: a route that needs no token


class _RouteFields(NamedTuple):  # a NamedTuple: immutable, at a third of a frozen dataclass's cost to define
    method: str
    path: str                              # "/programs/{program_id}": each {name} is a field of `params`
    handler: Callable[[Call], Any]         # returns the answer, or (answer, status, headers)
    answer: Any = None                     # the JSON answer's type (or a function naming it, to import it
                                           # on first use); None: no JSON body
    params: Any = None                     # the model of the query and path parameters (or a function naming it)
    body: Any = None                       # the type the JSON body must fit (or a function naming it)
    status: int = 200
    role: str | None = "read"              # the token's role it needs; None: no token
    summary: str = ""
    statuses: tuple[int, ...] = ()         # what else it answers: 200 beside a 201, 304, 409, 412, 428
    headers: tuple[str, ...] = ()          # response headers of a success
    if_match: bool = False                 # a write that needs If-Match
    media: Mapping[str, dict] = types.MappingProxyType({})  # a non-JSON answer: media type -> schema
    body_limit: int = 64 * 1024            # the largest body taken, in bytes (body_of); larger: 413, documented
    body_limit_why: str = ""               # what a limit sized from another bound says of it, with its 413
    checked: bool = True                   # the answer checked against `answer` before it is sent; False: by the
                                           # tests alone (an answer our code shapes from what only our code writes)


class Route(_RouteFields):
    """One route of a table: its fields (_RouteFields), and the models it checks with, each built on first use."""

    @cached_property
    def pattern(self) -> re.Pattern:
        return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$")

    def match(self, path: str) -> dict[str, str] | None:
        """The path's segments by name when `path` is this route's, else None. A path without parameters is
        compared as it is, and the pattern is compiled only for a path that has the literal part before them."""
        literal, brace, _ = self.path.partition("{")
        if not brace:
            return {} if path == self.path else None
        found = self.pattern.match(path) if path.startswith(literal) else None
        return None if found is None else found.groupdict()

    @cached_property
    def params_model(self) -> type[BaseModel] | None:
        """The parameters' model, checked against the path: a table that could not be served as documented is
        refused when it is built (a model given as a function: when the route is first used, or documented)."""
        model = None if self.params is None else _named(self.params)
        missing = set(re.findall(_PATH_NAMES, self.path)) - set(model.model_fields if model else ())
        if missing:
            raise TypeError(f"{self.label}: the path names {', '.join(sorted(missing))}, its params model not")
        return model

    @cached_property
    def answers(self):
        from pydantic import TypeAdapter  # (pydantic loads it on first use; so do we)

        return None if self.answer is None else TypeAdapter(_named(self.answer))

    @cached_property
    def bodies(self):
        from pydantic import TypeAdapter

        return None if self.body is None else TypeAdapter(_named(self.body))

    @cached_property
    def body_optional(self) -> bool:
        """Whether the body may be left out: a model none of whose fields is required (an empty POST was refused as
        no JSON object, though {} was taken). Not a mapping of any fields (PATCH's): no body there changes nothing."""
        schema = {} if self.bodies is None else self.bodies.json_schema()
        return "properties" in schema and not schema.get("required")

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _named(kind):
    """A type, or the type a function returns: a model whose module is costly to import waits for its route."""
    return kind() if isinstance(kind, types.FunctionType) else kind


def _meant(unknown: set[str], known: set[str]) -> str:
    """The known names an unknown one is close to, as a refusal suggests them: `amx changes --program` is the API's
    program_id, and ?program= was refused with the whole list to search by eye."""
    from difflib import get_close_matches

    close = [f"{names_sent([name])}: did you mean {match[0]}?" for name in sorted(unknown)
             if len(name) <= 40 and (match := get_close_matches(name, sorted(known), 1, 0.7))]
    return f" ({'; '.join(close)})" if close else ""


def parameters(model: type[BaseModel], args, path_values: dict) -> BaseModel:
    """The query string and path segments as `model`: unknown names refused, lists from repeated names."""
    known = set(model.model_fields) - set(path_values)  # a path segment is not also a query parameter
    unknown = set(args) - known
    if unknown:
        listed = f"known: {', '.join(sorted(known))}{_meant(unknown, known)}" if known else "this takes none"
        raise InvalidInput(f"unknown parameter(s): {names_sent(unknown)}; {listed}")
    fields = model.model_fields
    values = {name: (args.getlist(name) if is_list(f.annotation) else args.get(name))
              for name, f in fields.items() if name in args}
    # which of two counts differs between a proxy, a cache and us: a single value is given once
    twice = sorted(name for name in values if not is_list(fields[name].annotation) and len(args.getlist(name)) > 1)
    if twice:
        raise InvalidInput(f"{', '.join(twice)} is given more than once; give it once")
    try:
        return model.model_validate({**values, **path_values})
    except ValidationError as exc:
        raise problem(exc, query=True) from None


class Api:
    def __init__(self, title: str, routes: list[Route]):
        health = Route("GET", "/healthz", lambda call: None, answer=_health, role=None, summary="Liveness")
        document = Route("GET", "/openapi.json", lambda call: self.openapi(), answer=dict[str, Any], role=None,
                         summary="This document")
        self.title, self.routes = title, [*routes, health, document]
        for route in self.routes:
            if not isinstance(route.params, types.FunctionType):
                route.params_model  # checked now (Route.params_model)
        # a literal segment wins over a parameter: /programs/export before /programs/{program_id}
        self._ordered = sorted(self.routes, key=lambda r: r.path.count("{"))
        self._document = None

    def route(self, rt, request):
        """The one dispatcher: match, check the caller and the input, run the handler, check the answer."""
        method = "GET" if request.method == "HEAD" else request.method
        found = [(r, m) for r in self._ordered if (m := r.match(request.path)) is not None]
        if not found:
            raise NotFoundError(f"no route for {request.path[:200]}")
        chosen = next(((r, m) for r, m in found if r.method == method), None)
        if chosen is None:
            allowed = sorted({r.method for r, _ in found} | ({"HEAD"} if any(r.method == "GET" for r, _ in found)
                                                              else set()))
            raise MethodNotAllowed(request.method, tuple(allowed))
        route, match = chosen
        role = authorize(rt, request.headers.get("Authorization"), route.role) if route.role is not None else None
        if route.params is None:
            no_parameters(request)
        params = parameters(route.params_model, query_of(request), match) if route.params else None
        body = None
        if route.bodies is not None:
            body = body_of(request, route.body_limit, route.body_limit_why, route.body_optional)
            try:
                strictly(route.bodies, body)
            except ValidationError as exc:
                raise problem(exc) from None
        call = Call(rt, request, params, body, role)
        if listed := getattr(route.params_model, "ids_listed_by", None) if route.params else None:
            from affiliate_matrix.documents import listed_by

            with listed_by(*listed):  # an id of a collection's address no document has: with the route listing them
                return self.answer(route, route.handler(call))
        return self.answer(route, route.handler(call))

    def answer(self, route: Route, result):
        body, status, headers = result if isinstance(result, tuple) else (result, route.status, {})
        if isinstance(body, BaseModel):
            body = body.model_dump(mode="json")
        if not isinstance(body, (dict, list)):
            return body, status, headers  # no JSON: a stream, a 204, a 304
        try:
            if route.checked and route.answers is not None and status < 300:
                route.answers.validate_python(body)
        except ValidationError as exc:  # our bug, or stored data that no longer fits: never sent unchecked
            raise DamagedData(f"the answer of {route.label}", str(problem(exc)), "report it; the document "
                              "promises another shape") from None
        return json_response(body, status, headers)

    def openapi(self) -> dict:
        if self._document is None:
            from affiliate_matrix.handlers.openapi import openapi  # the writer and its models: this route only

            self._document = openapi(self)
        return self._document


def _health():
    """/healthz is answered by `serve` before any table; the model of its answer is for the document only."""
    from affiliate_matrix.handlers.openapi import Health

    return Health


def dispatcher(table: Callable[[], Api]) -> Callable:
    """`Api.route` of the table `table()` builds, built by the first request it serves: not by /healthz
    (Knative's readiness probe, the first request of every cold start), which `serve` answers first."""
    return lambda rt, request: table().route(rt, request)
