"""The OpenAPI 3.1 document of an API's route table (handlers/routes.py), and the models only the document
names (the /healthz answer, the error body): imported by the first GET /openapi.json, not by a start."""

import re
from typing import TYPE_CHECKING

from affiliate_matrix.handlers.shapes import Shape, is_list

if TYPE_CHECKING:
    from affiliate_matrix.handlers.routes import Api, Route

WORDS = {200: "The answer.", 201: "Created.", 202: "Accepted; follow Location.", 204: "Done; nothing to say.",
         304: "Not modified since the ETag sent in If-None-Match.",
         308: "Moved for good: the same request at Location (this API's own path) answers it.",
         400: "A parameter or field is wrong; the message names it.", 401: "No valid bearer token.",
         403: "This needs an admin token.", 404: "No such route or item.", 405: "Not for this method.",
         408: "The body stopped coming for a while: send the request again.",
         409: "It exists already, or is disabled.", 412: "The ETag in If-Match is stale: read again.",
         413: "The body is larger than {limit} bytes{why}, the most this route takes: it is not read further.",
         415: "The body is not declared as JSON.", 428: "If-Match is required.",
         500: "Stored data is damaged (damaged_data: the message names where), or a fault no route foresaw "
              "(internal_error: logged with the request id).",
         503: "A backend is unavailable; retry."}
_REFS = "#/components/schemas/{model}"


class Health(Shape):
    status: str
    function: str


def openapi(api: "Api") -> dict:
    """The OpenAPI 3.1 document of `api`: every path from its table, every schema from its models."""
    from pydantic import TypeAdapter

    entries = [(("Error", "answer"), "serialization", TypeAdapter(Error))]
    for route in api.routes:
        if route.params is not None:
            entries.append(((route.label, "params"), "validation", TypeAdapter(route.params_model)))
        if route.bodies is not None:
            entries.append(((route.label, "body"), "validation", route.bodies))
        if route.answers is not None:
            entries.append(((route.label, "answer"), "serialization", route.answers))
    generated, definitions = TypeAdapter.json_schemas(entries, ref_template=_REFS)
    schemas = {key: schema for (key, _), schema in generated.items()}
    components = dict(definitions.get("$defs", {}))
    paths: dict[str, dict] = {}
    seen: set[str] = set()  # the parameter models: their fields become parameters, not schemas
    for route in api.routes:
        operation: dict = {"operationId": re.sub(r"\W+", "_", route.label.lower()).strip("_"),
                           "responses": responses(route, schemas.get((route.label, "answer")))}
        if route.summary:
            operation["summary"] = route.summary
        if route.role is None:
            operation["security"] = []
        listed = []
        if route.params is not None:
            model = schemas[(route.label, "params")]
            name = model["$ref"].rsplit("/", 1)[1]
            listed, seen = declared(route, components[name]), {*seen, name}
        if route.if_match:
            listed.append({"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
                           "description": "The ETag of the document you read (a list of them, or * for whatever is "
                                          "current); compared strongly"})
        if listed:
            operation["parameters"] = listed
        if route.bodies is not None:
            operation["requestBody"] = {"required": not route.body_optional, "content": {"application/json": {
                "schema": schemas[(route.label, "body")]}}}
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    for name in seen:
        del components[name]
    return {"openapi": "3.1.0", "info": {"title": api.title, "version": "1.0.0"}, "security": [{"bearer": []}],
            "paths": paths, "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                                           "schemas": components}}


def declared(route: "Route", schema: dict) -> list[dict]:
    out = []
    for name, prop in schema.get("properties", {}).items():
        where = "path" if "{" + name + "}" in route.path else "query"
        entry = {"name": name, "in": where, "required": where == "path" or name in schema.get("required", ()),
                 "schema": absent_is_none(prop)}
        if is_list(route.params_model.model_fields[name].annotation):
            entry |= {"style": "form", "explode": True}
        if prop.get("description"):
            entry["description"] = prop["description"]
        out.append(entry)
    return out


def absent_is_none(schema: dict) -> dict:
    """A parameter's schema without pydantic's `null` branch: a query string cannot say null; leaving the
    parameter out does."""
    schema = {k: v for k, v in schema.items() if k not in ("title", "description") and
              not (k == "default" and v is None)}
    branches = [b for b in schema.pop("anyOf", ()) if b != {"type": "null"}]
    if len(branches) == 1:
        return {**schema, **branches[0]}
    return {**schema, "anyOf": branches} if branches else schema


def responses(route: "Route", answer: dict | None) -> dict:
    def json_body(status: int) -> dict:
        out = {"description": WORDS[status]}
        if answer is not None:
            out["content"] = {"application/json": {"schema": answer}}
        if route.headers:
            out["headers"] = {h: {"schema": {"type": "string"}} for h in route.headers}
        return out

    error = {"application/json": {"schema": {"$ref": _REFS.format(model="Error")}}}
    out = {str(route.status): json_body(route.status)}
    if route.media:
        out[str(route.status)]["content"] = {kind: {"schema": schema} for kind, schema in route.media.items()}
    if route.status == 204:
        out["204"].pop("content", None)
    common = (400, 404, 405, 500, 503) + ((401,) if route.role else ()) + ((403,) if route.role == "admin" else ()) + \
        ((408, 413, 415) if route.body is not None else ())
    for status in sorted({*route.statuses, *common}):
        if status == 304:
            out["304"] = {"description": WORDS[304]}
        elif status == 308:
            out["308"] = {"description": WORDS[308], "headers": {"Location": {"schema": {"type": "string"}}}}
        elif status < 300:
            out[str(status)] = json_body(status)
        else:  # a 413 names the route's own limit (Route.body_limit, which body_of holds the body to)
            why = f" ({route.body_limit_why})" if route.body_limit_why else ""
            out[str(status)] = {"description": WORDS[status].format(limit=route.body_limit, why=why),
                                "content": dict(error)}
    # A path the web framework cannot route at all (control characters) gets werkzeug's own HTML 404.
    out["404"]["content"] = {**error, "text/html": {"schema": {"type": "string"}}}
    return out


class ErrorDetail(Shape):
    code: str
    message: str
    request_id: str


class Error(Shape):
    error: ErrorDetail
