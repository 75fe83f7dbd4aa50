"""The programs API's OpenAPI 3.1 document. Program and DeltaChange schemas come from the
pydantic models themselves, so the document cannot drift from what the API returns."""

from functools import cache

from affiliate_matrix.program_index import FILTERS, MINIMUMS, SORTS


def _schemas() -> dict:
    from affiliate_matrix.models import DeltaChange, Program

    schemas = {}
    for model in (Program, DeltaChange):
        schema = model.model_json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _nullable(kind: str) -> dict:
    return {"type": [kind, "null"]}


STRINGS = {"type": "array", "items": {"type": "string"}}
SUMMARY = {
    "type": "object",
    "required": ["id", "name", "kind", "status", "merchant_key"],
    "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "merchant": _nullable("string"),
        "description": _nullable("string"), "merchant_key": {"type": "string"},
        "merchant_domain": _nullable("string"), "kind": {"type": "string"}, "status": {"type": "string"},
        "categories": STRINGS, "networks": STRINGS, "countries": STRINGS, "commission_types": STRINGS,
        "commission_percent_max": _nullable("number"), "commission_flat_max": _nullable("number"),
        "cookie_days": _nullable("integer"), "payout_methods": STRINGS, "quality_score": {"type": "number"},
        "epc_7d": _nullable("number"), "first_seen_at": {"type": "string", "format": "date-time"},
        "last_seen_at": {"type": "string", "format": "date-time"},
        "last_changed_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
MERCHANT_SUMMARY = {"type": "object", "required": ["merchant_key", "programs", "networks"], "properties": {
    "merchant_key": {"type": "string"}, "merchant": {"type": "string"}, "domain": {"type": ["string", "null"]},
    "programs": {"type": "integer"}, "networks": {"type": "array", "items": {"type": "string"}}}}
MERCHANT_VIEW = {"type": "object", "required": ["merchant_key", "rows", "conflicts"], "properties": {
    "merchant_key": {"type": "string"}, "merchant": {"type": "string"}, "domain": {"type": ["string", "null"]},
    "conflicts": {"type": "object", "description": "program id → field → what each source said"},
    "rows": {"type": "array", "items": {"type": "object", "required": ["program_id", "source", "best"], "properties": {
        "program_id": {"type": "string"}, "kind": {"type": "string"}, "name": {"type": "string"},
        "source": {"type": "string"}, "url": {"type": "string"}, "seen_at": {"type": "string"},
        "commission": {"type": "array"}, "commission_text": {"type": ["string", "null"]},
        "cookie_days": {"type": ["integer", "null"]}, "payout": {"type": ["object", "null"]},
        "network": {"type": ["string", "null"]}, "join_url": {"type": ["string", "null"]},
        "countries": {"type": "array"}, "epc_7d": {"type": ["object", "null"]},
        "approval_rate": {"type": ["number", "null"]}, "last_verified_at": {"type": ["string", "null"]},
        "restrictions": {"type": "array"},
        "best": {"type": "array", "items": {"type": "string", "enum": ["commission_percent", "commission_flat",
                                                                      "cookie_days"]}}}}}}}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "request_id"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "request_id": {"type": "string"}}}}}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


NOT_FOUND = _error("No such route or program.")
# A path the web framework cannot route at all (control characters) gets werkzeug's own HTML 404.
NOT_FOUND["content"]["text/html"] = {"schema": {"type": "string"}}
ERRORS = {"400": _error("A parameter is wrong; the message names it."), "401": _error("No valid bearer token."),
          "404": NOT_FOUND, "503": _error("A backend is unavailable; retry.")}
CURSOR = {"name": "cursor", "in": "query", "schema": {"type": "string", "maxLength": 2000},
          "description": "next_cursor from the previous page, passed back unchanged."}
LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}


def _ok(schema: dict, description: str) -> dict:
    return {"200": {"description": description, "headers": {"ETag": {"schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": schema}}},
            "304": {"description": "Not modified since the ETag sent in If-None-Match."}, **ERRORS}


@cache
def programs_openapi() -> dict:
    list_of = {"type": "array", "items": {"type": "string"}}
    search_parameters = [
        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500},
         "description": "Words to find (every word must match; one or two typos allowed by word length). "
                        "Query syntax (field:, *, ?, ~, =, --, <, >, ;) is refused with a 400."},
        *({"name": name, "in": "query", "schema": list_of, "style": "form", "explode": True} for name in FILTERS),
        *({"name": name, "in": "query", "schema": {"type": "number", "minimum": 0}} for name in MINIMUMS),
        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(SORTS), "default": "relevance"}},
        LIMIT, {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}, CURSOR,
    ]
    facet = {"type": "array", "items": {"type": "object", "required": ["value", "count"], "properties": {
        "value": {"type": ["string", "boolean"]}, "count": {"type": "integer"}}}}
    page = {"type": "object", "required": ["total", "items", "facets", "next_cursor"], "properties": {
        "total": {"type": "integer"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/ProgramSummary"}},
        "facets": {"type": "object", "additionalProperties": facet}, "next_cursor": _nullable("string")}}
    feed = {"type": "object", "required": ["total", "items", "next_cursor"], "properties": {
        "total": {"type": "integer"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/DeltaChange"}},
        "next_cursor": _nullable("string")}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Affiliate Matrix programs API", "version": "1.0.0"},
        "security": [{"bearer": []}],
        "paths": {
            "/programs": {"get": {"summary": "Search programs", "operationId": "searchPrograms",
                                  "parameters": search_parameters, "responses": _ok(page, "A page of programs.")}},
            "/programs/export": {"get": {
                "summary": "The index, or a search's result, streamed as a file", "operationId": "exportPrograms",
                "parameters": [{"name": "format", "in": "query",
                                "schema": {"type": "string", "enum": ["csv", "jsonl", "parquet"], "default": "jsonl"}},
                               *(p for p in search_parameters if p["name"] not in ("limit", "page", "cursor"))],
                "responses": {"200": {"description": "Every matching program, one row or line each.",
                                      "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
                                      "content": {"text/csv": {"schema": {"type": "string"}},
                                                  "application/x-ndjson": {"schema": {"type": "string"}},
                                                  "application/vnd.apache.parquet": {"schema": {"type": "string",
                                                                                                "format": "binary"}}}},
                              **ERRORS}}},
            "/programs/{program_id}": {"get": {
                "summary": "One program with per-field provenance", "operationId": "getProgram",
                "parameters": [{"name": "program_id", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": "^p_[0-9a-f]{16}$"}}],
                "responses": _ok({"$ref": "#/components/schemas/Program"}, "The program.")}},
            "/changes": {"get": {"summary": "What changed, newest first", "operationId": "listChanges", "parameters": [
                {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                {"name": "program_id", "in": "query", "schema": list_of, "style": "form", "explode": True},
                {"name": "field", "in": "query", "schema": list_of, "style": "form", "explode": True},
                {"name": "change", "in": "query", "schema": {"type": "array", "items": {
                    "type": "string", "enum": ["created", "updated", "removed"]}}, "style": "form", "explode": True},
                LIMIT, CURSOR], "responses": _ok(feed, "A page of changes.")}},
            "/merchants": {"get": {"summary": "Merchants whose programs match q", "operationId": "findMerchants",
                                   "parameters": [search_parameters[0], LIMIT], "responses": _ok(
                                       {"type": "object", "required": ["items"], "properties": {"items": {
                                           "type": "array", "items": {"$ref": "#/components/schemas/MerchantSummary"}}}},
                                       "Merchants.")}},
            "/merchants/{merchant_key}": {"get": {
                "summary": "One merchant's programs and offers side by side, per source", "operationId": "getMerchant",
                "parameters": [{"name": "merchant_key", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9.-]{0,252}$"}}],
                "responses": _ok({"$ref": "#/components/schemas/MerchantView"}, "The comparison.")}},
            "/healthz": {"get": {"summary": "Liveness", "operationId": "health", "security": [],
                                 "responses": {"200": {"description": "Alive.", "content": {"application/json": {
                                     "schema": {"type": "object"}}}}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**_schemas(), "ProgramSummary": SUMMARY, "Error": ERROR, "MerchantSummary": MERCHANT_SUMMARY,
                        "MerchantView": MERCHANT_VIEW},
        },
    }


@cache
def connections_openapi() -> dict:
    from affiliate_matrix.models import Connection
    from affiliate_matrix.sync_requests import Sync

    schemas = {}
    for name, model, mode in (("Connection", Connection, "serialization"), ("Sync", Sync, "serialization"),
                              ("ConnectionInput", Connection, "validation")):
        schema = model.model_json_schema(mode=mode, ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    for field in ("version", "last_sync"):
        schemas["ConnectionInput"]["properties"].pop(field, None)
    schemas["ConnectionInput"]["additionalProperties"] = False
    schemas["Error"] = ERROR

    def ref(name):
        return {"$ref": f"#/components/schemas/{name}"}

    def json_body(schema, description, headers=None):
        out = {"description": description, "content": {"application/json": {"schema": schema}}}
        if headers:
            out["headers"] = {h: {"schema": {"type": "string"}} for h in headers}
        return out

    def errors(*codes):
        words = {"400": "A field is wrong; the message names it.", "401": "No valid bearer token.",
                 "403": "Writes need an admin token.", "404": "No such connection, sync or route.",
                 "405": "Not for this method.", "409": "It exists already, or is disabled.",
                 "412": "The ETag in If-Match is stale: read again.", "428": "If-Match is required.",
                 "503": "A backend is unavailable; retry."}
        out = {code: _error(words[code]) for code in ("400", "401", "403", "404", "405", "503", *codes)}
        out["404"] = NOT_FOUND
        return out

    connection_id = {"name": "connection_id", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}}
    match = {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}
    body = {"required": True, "content": {"application/json": {"schema": ref("ConnectionInput")}}}
    merge = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Affiliate Matrix connections API", "version": "1.0.0"},
        "security": [{"bearer": []}],
        "paths": {
            "/connections": {
                "get": {"operationId": "listConnections", "responses": {
                    "200": json_body({"type": "object", "required": ["items"], "properties": {
                        "items": {"type": "array", "items": ref("Connection")}}}, "All connections."), **errors()}},
                "post": {"operationId": "createConnection", "requestBody": body, "responses": {
                    "201": json_body(ref("Connection"), "Created.", ["ETag", "Location"]), **errors("409")}}},
            "/connections/{connection_id}": {
                "parameters": [connection_id],
                "get": {"operationId": "getConnection", "responses": {
                    "200": json_body(ref("Connection"), "The connection.", ["ETag"]), **errors()}},
                "put": {"operationId": "replaceConnection", "parameters": [match], "requestBody": body, "responses": {
                    "200": json_body(ref("Connection"), "Replaced.", ["ETag"]), **errors("412", "428")}},
                "patch": {"operationId": "patchConnection", "parameters": [match], "requestBody": merge,
                          "description": "JSON Merge Patch (RFC 7396): null puts a field back to its default.",
                          "responses": {"200": json_body(ref("Connection"), "Patched.", ["ETag"]),
                                        **errors("412", "428")}},
                "delete": {"operationId": "deleteConnection", "parameters": [match], "responses": {
                    "204": {"description": "Deleted."}, **errors("412", "428")}}},
            "/connections/{connection_id}/test": {"parameters": [connection_id], "post": {
                "operationId": "testConnection", "responses": {"200": json_body({"type": "object", "properties": {
                    "ok": {"type": "boolean"}, "checks": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "ok": {"type": "boolean"}, "detail": {"type": "string"}}}}}},
                    "What was checked, in words."), **errors()}}},
            "/connections/{connection_id}/sync": {"parameters": [connection_id], "post": {
                "operationId": "syncConnection", "responses": {
                    "202": json_body(ref("Sync"), "Queued; follow Location.", ["Location"]), **errors("409")}}},
            "/syncs/{sync_id}": {"get": {"operationId": "getSync", "parameters": [
                {"name": "sync_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^s_[0-9a-f]{32}$"}}],
                "responses": {"200": json_body(ref("Sync"), "The sync's state.", None), **errors()}}},
            "/healthz": {"get": {"operationId": "health", "security": [], "responses": {"200": {
                "description": "Alive.", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
    }


# --- the document APIs (rules on triggers, campaigns on budget) ---------------------------------

def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str, headers: tuple = ()) -> dict:
    out = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = {h: {"schema": {"type": "string"}} for h in headers}
    return out


def _errors(*codes: str) -> dict:
    words = {"400": "A field is wrong; the message names it.", "401": "No valid bearer token.",
             "403": "Writes need an admin token.", "404": "No such document or route.", "405": "Not for this method.",
             "409": "It exists already.", "412": "The ETag in If-Match is stale: read again.",
             "428": "If-Match is required.", "503": "A backend is unavailable; retry."}
    out = {code: _error(words[code]) for code in ("400", "401", "403", "404", "405", "503", *codes)}
    out["404"] = NOT_FOUND
    return out


def _models(*entries) -> dict:
    schemas = {"Error": ERROR}
    for name, model, mode in entries:
        schema = model.model_json_schema(mode=mode, ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return schemas


def _documents(path: str, name: str, id_param: dict) -> dict:
    """Paths of a document collection served by handlers/documents.py."""
    match = {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}
    body = {"required": True, "content": {"application/json": {"schema": _ref(f"{name}Input")}}}
    return {
        path: {
            "get": {"operationId": f"list{name}s", "responses": {"200": _json({"type": "object", "required": ["items"],
                    "properties": {"items": {"type": "array", "items": _ref(name)}}}, f"Every {name.lower()}."),
                    **_errors()}},
            "post": {"operationId": f"create{name}", "requestBody": body, "responses": {
                "201": _json(_ref(name), "Created.", ("ETag", "Location")), **_errors("409")}}},
        f"{path}/{{{id_param['name']}}}": {
            "parameters": [id_param],
            "get": {"operationId": f"get{name}", "responses": {"200": _json(_ref(name), f"The {name.lower()}.",
                                                                            ("ETag",)), **_errors()}},
            "put": {"operationId": f"replace{name}", "parameters": [match], "requestBody": body, "responses": {
                "200": _json(_ref(name), "Replaced.", ("ETag",)), **_errors("412", "428")}},
            "delete": {"operationId": f"delete{name}", "parameters": [match], "responses": {
                "204": {"description": "Deleted."}, **_errors("412", "428")}}},
    }


HEALTH = {"/healthz": {"get": {"operationId": "health", "security": [], "responses": {"200": {
    "description": "Alive.", "content": {"application/json": {"schema": {"type": "object"}}}}}}}}


def _api(title: str, paths: dict, schemas: dict) -> dict:
    return {"openapi": "3.1.0", "info": {"title": title, "version": "1.0.0"}, "security": [{"bearer": []}],
            "paths": {**paths, **HEALTH},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas}}


@cache
def triggers_openapi() -> dict:
    from affiliate_matrix.rules.model import Rule

    rule_id = {"name": "rule_id", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}}
    event = {"type": "object", "required": ["type"], "additionalProperties": False, "properties": {
        "type": {"type": "string"}, "source": {"type": "string"}, "id": {"type": "string"},
        "subject": {"type": ["string", "null"]}, "time": {"type": "string", "format": "date-time"},
        "data": {"type": "object"}}}
    verdict = {"type": "object", "required": ["rule_id", "holds", "inputs"], "properties": {
        "rule_id": {"type": "string"}, "holds": {"type": ["boolean", "null"]}, "error": {"type": ["string", "null"]},
        "inputs": {"type": "object"}, "triggered_by_this_event": {"type": "boolean"},
        "would_dispatch": {"type": ["object", "null"]}}}
    activation = {"type": "object", "required": ["id", "rule_id", "decision", "outcome", "at"], "properties": {
        "id": {"type": "string"}, "rule_id": {"type": "string"}, "trigger": {"type": "string"},
        "event_id": {"type": "string"}, "decision": {"type": "string", "enum": ["fired", "cooldown", "error"]},
        "action": {"type": "string"}, "action_event_id": {"type": "string"}, "outcome": {"type": "string"},
        "detail": {"type": "string"}, "inputs": {"type": "object"}, "at": {"type": "string"}}}
    paths = {
        **_documents("/rules", "Rule", rule_id),
        "/rules/{rule_id}/test": {"parameters": [rule_id], "post": {
            "operationId": "testRule", "description": "Dry-run the rule against an event; nothing is dispatched.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": event}}},
            "responses": {"200": _json(verdict, "What the rule would decide."), **_errors()}}},
        "/activations": {"get": {"operationId": "listActivations", "parameters": [
            {"name": "rule_id", "in": "query", "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
            "responses": {"200": _json({"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": activation}}}, "Newest first."), **_errors()}}},
    }
    return _api("Affiliate Matrix rules API", paths, _models(("Rule", Rule, "serialization"),
                                                             ("RuleInput", Rule, "validation")))


@cache
def budget_openapi() -> dict:
    from affiliate_matrix.budget.campaigns import Campaign
    from affiliate_matrix.budget.run import AllocationRun

    campaign_id = {"name": "campaign_id", "in": "path", "required": True,
                   "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"}}
    schemas = _models(("Campaign", Campaign, "serialization"), ("CampaignInput", Campaign, "validation"),
                      ("AllocationRun", AllocationRun, "serialization"))
    schemas["CampaignInput"]["properties"].pop("created_at", None)
    schemas["CampaignInput"]["additionalProperties"] = False
    day = {"type": "object", "required": ["date", "spend", "revenue"], "properties": {
        "date": {"type": "string", "format": "date"}, "spend": {"type": "number", "minimum": 0},
        "clicks": {"type": "number", "minimum": 0}, "conversions": {"type": "number", "minimum": 0},
        "revenue": {"type": "number", "minimum": 0}, "currency": {"type": "string"}}}
    paths = {
        **_documents("/campaigns", "Campaign", campaign_id),
        "/campaigns/{campaign_id}/metrics": {"parameters": [campaign_id],
            "get": {"operationId": "getMetrics", "responses": {"200": _json({"type": "object", "required": ["days"],
                    "properties": {"campaign_id": {"type": "string"}, "currency": {"type": "string"},
                                   "days": {"type": "array", "items": day}}}, "The campaign's days."), **_errors()}},
            "post": {"operationId": "recordMetrics", "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"type": "object", "required": ["days"], "additionalProperties": False,
                                                "properties": {"days": {"type": "array", "items": day}}}}}},
                "responses": {"200": _json({"type": "object", "properties": {"campaign_id": {"type": "string"},
                                                                             "days_written": {"type": "integer"}}},
                                           "Recorded; a date already recorded was replaced."), **_errors()}}},
        "/allocations": {
            "get": {"operationId": "listAllocations", "responses": {"200": _json({"type": "object", "required": ["items"],
                    "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
                        "day": {"type": "string"}, "href": {"type": "string"}}}}}}, "Days with a run."), **_errors()}},
            "post": {"operationId": "runAllocation", "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object", "required": ["day"], "additionalProperties": False,
                           "properties": {"day": {"type": "string", "format": "date"}}}}}},
                "responses": {"201": _json(_ref("AllocationRun"), "Run now.", ("Location",)),
                              "200": _json(_ref("AllocationRun"), "That day already had its run.", ("Location",)),
                              **_errors()}}},
        "/allocations/{day}": {"get": {"operationId": "getAllocation", "parameters": [
            {"name": "day", "in": "path", "required": True, "schema": {"type": "string", "format": "date"}}],
            "responses": {"200": _json(_ref("AllocationRun"), "The run."), **_errors()}}},
    }
    return _api("Affiliate Matrix budget API", paths, schemas)
