"""Every route of every HTTP function, fed hostile input (hypothesis): path ids, query parameters, headers
and bodies. Whatever comes in, the answer is never a 5xx, and neither the body nor the logs hold a
traceback. Routes come from each function's OpenAPI document (generated from its route table), plus the
event-only functions' paths, which answer 404 over plain HTTP."""

from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.api_schema import route_tables
from tests.support.hostile import (
    FUNCTIONS, FUZZ, assert_no_traceback, bodies, header_values, hostile_environment, path_parts, text,
)

TABLES = route_tables()
METHODS = ("get", "post", "put", "patch", "delete")


def routes() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(function, method, path template, query parameter names) for every route there is."""
    found = []
    for function in FUNCTIONS:
        paths = TABLES[function].openapi()["paths"] if function in TABLES else {"/": {"post": {}}}
        for path, operations in {**paths, "/openapi.json": {"get": {}}, "/nowhere/..": {"get": {}}}.items():
            for method in METHODS if path != "/healthz" else ("get",):
                parameters = [p["name"] for p in (operations.get(method) or {}).get("parameters", [])
                              if p.get("in") == "query"]
                found.append((function, method, path, tuple(parameters)))
    return found


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    with hostile_environment(tmp_path_factory.mktemp("fuzz-routes"), programs=True) as env:
        yield env


def test_every_function_has_routes_here():
    assert {function for function, *_ in routes()} == set(FUNCTIONS)


@pytest.mark.parametrize("function,method,template,parameters", routes(),
                         ids=[f"{f}-{m}-{p}" for f, m, p, _ in routes()])
@given(data=st.data())
@FUZZ
def test_no_route_answers_hostile_input_with_a_5xx_or_a_traceback(environment, capsys, function, method, template,
                                                                  parameters, data):
    apps, admin, _ = environment
    path = template
    while "{" in path:
        name = path[path.index("{"):path.index("}") + 1]
        path = path.replace(name, quote(data.draw(path_parts(), label=name), safe=""), 1)
    known = data.draw(st.dictionaries(st.sampled_from(parameters), text()), label="its parameters") if parameters else {}
    query = [*known.items(), *data.draw(st.lists(st.tuples(text(), text()), max_size=2), label="other parameters")]
    headers = {**admin, "Content-Type": "application/json"}
    if data.draw(st.booleans(), label="If-Match"):
        headers["If-Match"] = data.draw(header_values(), label="If-Match value")
    body = data.draw(bodies(), label="body") if method in ("post", "put", "patch") else None
    target = path + ("?" + urlencode(query, encoding="utf-8", errors="surrogatepass") if query else "")
    response = getattr(apps[function], method)(target, data=body, headers=headers)
    answer = response.get_data(as_text=True)
    logged = capsys.readouterr()
    assert response.status_code < 500, f"{method.upper()} {target[:300]} -> {response.status_code}: {answer[:500]}"
    assert_no_traceback(answer, logged.out, logged.err)


EXPLORER_PAGES = ["/programs", "/programs/export", "/programs/{id}", "/merchants", "/merchants/{id}", "/changes",
                  "/graph", "/signin", "/signout", "/assets/{id}", "/"]
EXPLORER_PARAMETERS = ["q", "category", "network", "source", "country", "status", "kind", "commission_type",
                       "payout_method", "flat_currency", "epc_currency", "min_commission_percent", "min_commission_flat",
                       "min_cookie_days", "min_epc", "epc_window", "sort", "limit", "page", "cursor", "format", "excel",
                       "since", "field", "change", "program_id", "merchant", "next", "refused"]


@pytest.fixture(scope="module")
def signed_in_explorer(environment):
    """The web function's client with a session: its pages are answered, not redirected to the sign-in."""
    import re

    from affiliate_matrix.auth import create_token

    apps, _, rt = environment
    csrf = re.search(r'name="csrf" value="([^"]+)"', apps["web"].get("/signin").get_data(as_text=True)).group(1)
    signed = apps["web"].post("/signin", data={"token": create_token(rt.secrets, "read"), "csrf": csrf})
    assert signed.status_code == 303 and apps["web"].get("/programs").status_code == 200
    return apps["web"]


@pytest.mark.parametrize("template", EXPLORER_PAGES)
@given(data=st.data())
@FUZZ
def test_no_page_of_the_explorer_answers_hostile_input_with_a_5xx_or_a_traceback(signed_in_explorer, capsys, template,
                                                                                data):
    """The web function has no route table (its pages are not in an OpenAPI document), so the test above sends it
    only its unknown paths: its pages get their own hostile paths, parameters, forms and Referers here."""
    path = template.replace("{id}", quote(data.draw(path_parts(), label="id"), safe=""))
    query = data.draw(st.lists(st.tuples(st.sampled_from(EXPLORER_PARAMETERS), text()), max_size=4), label="query")
    target = path + ("?" + urlencode(query, encoding="utf-8", errors="surrogatepass") if query else "")
    method = data.draw(st.sampled_from(["get", "head", "post"]), label="method")
    referer = data.draw(st.sampled_from(["", "http://localhost/programs?q=a", "http://localhost//evil.example",
                                         "http://localhost/\\evil", "http://evil.example/programs"]), label="Referer")
    form = data.draw(bodies(), label="form") if method == "post" else None
    response = getattr(signed_in_explorer, method)(target, data=form, headers={
        "Referer": referer, "Content-Type": "application/x-www-form-urlencoded"})
    answer = response.get_data(as_text=True)
    logged = capsys.readouterr()
    assert response.status_code < 500, f"{method.upper()} {target[:300]} -> {response.status_code}: {answer[:500]}"
    assert_no_traceback(answer, logged.out, logged.err)
