"""Routes declared once: the OpenAPI document is written from the route table, and the dispatcher
checks what comes in and what goes out against the same models. A small table of our own shows it
(its handlers are plain functions: the dispatcher is what is under test); the functions' own tables
are checked for coverage by the schemathesis tests."""

import json

import flask
import pytest
from pydantic import BaseModel, ConfigDict, Field
from structlog.testing import capture_logs
from werkzeug.test import EnvironBuilder

from affiliate_matrix.handlers import serve
from affiliate_matrix.handlers.routes import Api, Route, whole
from affiliate_matrix.runtime import after_answer
from tests.support.api_schema import route_tables
from tests.support.processes import ROOT


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thing_id: str = Field(pattern=r"^t_[0-9]+$")
    size: whole(1, 5) = 2


class Thing(BaseModel):
    id: str = Field(pattern=r"^t_[0-9]+$")  # a collection's address takes its document's id as it is typed
    size: int


def table(answer=lambda call: {"id": call.params.thing_id, "size": call.params.size}) -> Api:
    return Api("things", [Route("GET", "/things/{thing_id}", answer, Thing, Params, role=None)])


def ask(api: Api, path: str, method: str = "GET"):
    request = EnvironBuilder(path=path.split("?")[0], query_string=path.partition("?")[2], method=method).get_request()
    body, status, headers = serve(None, request, lambda r: api.route(None, r), with_flags=False)
    return status, body, headers


def test_a_route_added_to_a_table_appears_in_its_document_with_its_models():
    document = table().openapi()
    operation = document["paths"]["/things/{thing_id}"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["thing_id"]["in"] == "path" and parameters["thing_id"]["schema"]["pattern"] == "^t_[0-9]+$"
    assert parameters["size"]["in"] == "query" and parameters["size"]["schema"]["maximum"] == 5
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Thing"}
    assert set(document["components"]["schemas"]["Thing"]["properties"]) == {"id", "size"}
    assert operation["security"] == []  # role=None: no token


def test_the_dispatcher_refuses_what_the_document_refuses_naming_the_parameter():
    api = table()
    assert ask(api, "/things/t_1?size=5")[0] == 200
    for path, fragment in (("/things/t_1?size=6", "size must be a whole number from 1 to 5"),
                           ("/things/t_1?colour=red", "unknown parameter(s): colour"),
                           ("/things/x", "thing_id: String should match pattern")):
        status, body, _ = ask(api, path)
        assert status == 400 and fragment in body, (path, body)
    assert ask(api, "/nothing")[0] == 404
    status, _, headers = ask(api, "/things/t_1", "DELETE")
    assert status == 405 and headers["Allow"] == "GET, HEAD"


def test_a_path_parameter_its_model_does_not_declare_is_refused_when_the_table_is_built():
    with pytest.raises(TypeError, match="the path names thing_id"):
        Api("things", [Route("GET", "/things/{thing_id}", lambda call: {}, Thing, role=None)])


def test_a_params_model_named_by_a_function_is_built_and_checked_on_its_routes_first_use():
    built = []

    def params():
        built.append(Params)
        return Params

    api = Api("things", [Route("GET", "/things/{thing_id}", lambda call: {"id": call.params.thing_id, "size": 1},
                               Thing, params, role=None)])
    assert built == []  # the table alone does not build it
    assert ask(api, "/things/t_1")[0] == 200 and ask(api, "/things/x?size=9")[0] == 400
    assert built == [Params]  # once
    wrong = Api("things", [Route("GET", "/things/{thing_id}", lambda call: {}, Thing, lambda: Thing, role=None)])
    with capture_logs() as logs:  # never served: a fault no route foresaw (serve's 500), logged as that TypeError
        status, body, _ = ask(wrong, "/things/t_1")
    assert status == 500 and json.loads(body)["error"]["code"] == "internal_error"
    assert [(line["event"], line["error"]) for line in logs if line["log_level"] == "error"] == [
        ("request.failed", "TypeError")]
    with pytest.raises(TypeError, match="the path names thing_id"):  # nor documented
        wrong.openapi()


def test_an_unknown_parameter_close_to_a_known_one_is_named_with_it_and_a_route_of_path_parameters_takes_none():
    """`amx changes --program` is the API's program_id: ?program= was refused with every known name to search by eye,
    and a route whose only parameters are in its path said "known: none" where one with none says "this takes none"."""
    status, body, _ = ask(table(), "/things/t_1?sise=3&colour=red")
    message = json.loads(body)["error"]["message"]
    assert status == 400 and message == "unknown parameter(s): colour, sise; known: size (sise: did you mean size?)"

    class PathOnly(BaseModel):
        thing_id: str

    api = Api("things", [Route("GET", "/things/{thing_id}", lambda call: {"id": call.params.thing_id, "size": 1},
                               Thing, PathOnly, role=None)])
    status, body, _ = ask(api, "/things/t_1?from=x")
    assert status == 400 and json.loads(body)["error"]["message"] == "unknown parameter(s): from; this takes none"


def test_a_path_parameter_is_not_also_a_query_parameter():
    status, body, _ = ask(table(), "/things/t_1?thing_id=t_2")
    assert status == 400 and "unknown parameter(s): thing_id" in body


def test_an_answer_that_does_not_fit_its_model_is_never_sent():
    status, body, _ = ask(table(lambda call: {"id": call.params.thing_id}), "/things/t_1")  # no size
    assert status == 500 and "damaged_data" in body and "size" in body


def test_a_route_whose_tests_check_its_answer_sends_it_as_its_handler_made_it_and_builds_no_model():
    built = []

    def answer():  # the model named by a function, as the programs search's is: built only when asked for
        built.append(Thing)
        return Thing

    api = Api("things", [Route("GET", "/things/{thing_id}", lambda call: {"id": call.params.thing_id}, answer, Params,
                               role=None, checked=False)])
    status, body, _ = ask(api, "/things/t_1")  # no size: the tests' check would refuse it
    assert status == 200 and body == '{"id":"t_1"}' and built == []
    assert api.openapi()["components"]["schemas"]["Thing"]["required"] == ["id", "size"]  # still documented


def test_a_search_answer_that_drifts_from_its_documented_model_fails_the_tests_that_read_it():
    """The search route sends its answer unchecked (handlers/programs.py): the tests that read searches (as_documented)
    are what refuses an item with a field the document does not name, or without one it does."""
    from pydantic import ValidationError

    from affiliate_matrix.program_index import BESIDE, SUMMARY
    from tests.support.indexing import as_documented

    item = {name: [] if "list" in str(kind) else None for name, (_, kind, *_) in SUMMARY.items()}
    item |= {"id": "p_1", "name": "Shop", "merchant_key": "shop", "kind": "program", "status": "active",
             "quality_score": 0.5, "first_seen_at": "2026-12-01T00:00:00Z", "last_seen_at": "2026-12-01T00:00:00Z"}
    page = {"total": 1, "items": [item], "facets": {"status": [{"value": "active", "count": 1}]}, "next_cursor": None}
    assert as_documented(page) is page
    for drifted in ({**item, "flat_amounts": [1.0]}, {k: v for k, v in item.items() if k != "sources"},
                    {**item, "quality_score": "high"}):
        with pytest.raises(ValidationError):
            as_documented({**page, "items": [drifted]})
    with pytest.raises(ValidationError):
        as_documented({**page, "facets": {"status": [{"value": "active"}]}})
    assert "flat_amounts" in BESIDE  # held beside the summary, left out of an answer's items


def test_work_left_for_after_the_answer_runs_once_it_is_sent_and_a_failure_there_is_only_logged():
    done = []

    def answer(call):
        after_answer(lambda: done.append("first"))
        after_answer(lambda: 1 / 0)
        after_answer(lambda: done.append("after the failure"))
        return {"id": call.params.thing_id, "size": call.params.size}

    api = table(answer)
    app = flask.Flask(__name__)  # the framework the functions run in (functions_framework builds a Flask app)
    app.add_url_rule("/<path:path>", view_func=lambda path: serve(None, flask.request, lambda r: api.route(None, r),
                                                                  with_flags=False))
    with capture_logs() as logs:
        sent = app.test_client().get("/things/t_1")
        assert sent.status_code == 200 and done == []  # answered, not yet closed
        sent.close()  # what the WSGI server does once it has sent the answer
    assert done == ["first", "after the failure"]
    assert [(e["event"], e["error"]) for e in logs if e["log_level"] == "error"] == [
        ("request.after_answer_failed", "ZeroDivisionError")]


def test_outside_a_request_work_left_for_after_the_answer_runs_at_once():
    done = []
    after_answer(lambda: done.append("now"))
    assert done == ["now"]


def test_every_documented_api_matches_its_table_route_for_route():
    for function, api in route_tables().items():
        documented = {(method.upper(), path) for path, operations in api.openapi()["paths"].items()
                      for method in operations}
        assert documented == {(r.method, r.path) for r in api.routes}, function


def test_schemathesis_checks_every_api_with_a_document():
    tested = {path.name.removeprefix("test_").removesuffix("_api_schema.py")
              for path in (ROOT / "tests/functions").glob("test_*_api_schema.py")}
    covered = {"documents": {"triggers", "budget"}}  # one module tests the two document APIs
    assert set(route_tables()) <= {name for module in tested for name in covered.get(module, {module})}


def test_the_functions_with_json_routes_have_a_table():
    assert set(route_tables()) == {"programs", "connections", "triggers", "budget", "discover"}  # web serves HTML


def test_the_programs_document_lists_every_field_a_search_answers():
    from affiliate_matrix.handlers.programs import api
    from affiliate_matrix.program_index import BESIDE, MAX_PAGE_SIZE, PROGRAMS_INDEX, SORTS

    document = api().openapi()
    summary = document["components"]["schemas"]["ProgramSummary"]
    assert set(summary["properties"]) == set(PROGRAMS_INDEX.fields) - set(BESIDE)
    assert {"last_verified_at", "sources"} <= set(summary["properties"])
    search = {p["name"]: p["schema"] for p in document["paths"]["/programs"]["get"]["parameters"]}
    assert search["sort"]["enum"] == list(SORTS) and search["limit"]["maximum"] == MAX_PAGE_SIZE


def test_the_cli_lists_no_more_than_an_api_page_and_sorts_as_the_api_does(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.program_index import MAX_PAGE_SIZE, SORTS

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    too_many = CliRunner().invoke(app, ["search", "--limit", str(MAX_PAGE_SIZE + 1)])
    assert too_many.exit_code == 2 and "more than a page" in too_many.output
    for sort in SORTS:  # every sort of the API (the CLI once lacked epc and last_changed)
        assert CliRunner().invoke(app, ["search", "--sort", sort, "--limit", str(MAX_PAGE_SIZE)]).exit_code == 0, sort


def test_a_collections_listing_is_sent_as_made_and_its_models_are_built_only_when_documented_or_used(tmp_path,
                                                                                                    monkeypatch):
    """A GET of a whole collection (connections, rules, campaigns: the first request of their functions) sends its
    items unchecked, each the dump of a document its model has just read, and builds neither the listing's model nor
    the address of one document: building them cost that first request ~8 M instructions. The document still names
    both; the functions' tests check the listings they read against it (test_documents_api)."""
    import json

    from affiliate_matrix.auth import create_token
    from affiliate_matrix.config import Settings
    from affiliate_matrix.handlers import documents
    from affiliate_matrix.runtime import Runtime

    made = []
    create_model = documents.create_model
    monkeypatch.setattr(documents, "create_model", lambda name, **fields: made.append(name) or create_model(name,
                                                                                                          **fields))
    things = documents.Collection("thing", "/things", "things/", Thing)
    api = Api("things", things.routes())
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.store.put("things/t_1.json", b'{"id": "t_1", "size": 2}')
    request = EnvironBuilder(path="/things", headers={"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"})
    body, status, _ = serve(rt, request.get_request(), lambda r: api.route(rt, r), with_flags=False)
    assert status == 200 and json.loads(body) == {"items": [{"id": "t_1", "size": 2}]} and made == []
    document = api.openapi()
    assert document["components"]["schemas"]["ThingList"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/Thing"}
    assert document["paths"]["/things/{thing_id}"]["get"]["parameters"][0]["schema"]["pattern"] == "^t_[0-9]+$"
    assert {"ThingAddress", "ThingList"} <= set(made)


def sized_table() -> Api:
    return Api("things", [Route("POST", "/things", lambda call: call.body, Thing, body=Thing, role=None, body_limit=40),
                          Route("GET", "/things/{thing_id}", lambda call: None, Thing, Params, role=None)])


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_past_its_routes_limit_is_answered_413(chunked):
    """A body larger than its route takes was answered 400 invalid_request: it is 413 (Content Too Large) in the error
    shape, naming the limit, whether its Content-Length says so or it is read (chunked) no further than the limit."""
    api = sized_table()
    answers = []
    for sent in ({"id": "t_1", "size": 2}, {"id": "t_1", "size": 2, "pad": "x" * 40}):
        request = EnvironBuilder(path="/things", method="POST", json=sent).get_request()
        if chunked:  # no length declared: werkzeug reads the stream to its end (gunicorn says so of a chunked body)
            del request.environ["CONTENT_LENGTH"]
            request.environ["wsgi.input_terminated"] = True
        body, status, _ = serve(None, request, lambda r: api.route(None, r), with_flags=False)
        answers.append((status, json.loads(body)))
    assert answers == [(200, {"id": "t_1", "size": 2}), (413, {"error": {
        "code": "content_too_large", "message": "the body is larger than 40 bytes: send at most that",
        "request_id": answers[1][1]["error"]["request_id"]}})], answers


def test_a_body_missing_a_field_names_the_unknown_one_it_gave_in_its_place():
    """POST /discover {"niche": "pets"} was refused "niches: Field required", naming nothing of the niche it gave (a
    model's first error alone): the fields it has not are named after it, with the missing one an unknown one is close
    to. The CLI's rule files and the stored documents' writes say it alike (wording.unknown_beside)."""

    class Search(BaseModel):
        model_config = ConfigDict(extra="forbid")
        niches: list[str]

    api = Api("search", [Route("POST", "/search", lambda call: {}, None, body=Search, role=None)])
    said = []
    for sent in ({"niche": ["pets"]}, {"niches": ["pets"], "colour": 1}, {"zzz": 1}):
        request = EnvironBuilder(path="/search", method="POST", json=sent).get_request()
        body, status, _ = serve(None, request, lambda r: api.route(None, r), with_flags=False)
        said.append((status, json.loads(body)["error"]["message"]))
    assert said == [(400, "niches: Field required; unknown field(s): niche (niche: did you mean niches?)"),
                    (400, "unknown field(s): colour"),
                    (400, "niches: Field required; unknown field(s): zzz")], said


def test_every_route_taking_a_body_documents_its_limit_as_a_413():
    """No route's document named its body limit, nor the answer past it: each route taking a body lists 413 in the
    error shape, its description naming the route's own limit; a route taking none lists no 413."""
    document = sized_table().openapi()
    assert document["paths"]["/things"]["post"]["responses"]["413"] == {
        "description": "The body is larger than 40 bytes, the most this route takes: it is not read further.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    assert "413" not in document["paths"]["/things/{thing_id}"]["get"]["responses"]
    for table in route_tables().values():  # every function's
        document = table.openapi()
        for route in table.routes:
            responses = document["paths"][route.path][route.method.lower()]["responses"]
            assert ("413" in responses) is (route.body is not None), route.label
            if route.body is not None:
                assert f"larger than {route.body_limit} bytes" in responses["413"]["description"], route.label
