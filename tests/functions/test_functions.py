"""The function entry points through functions-framework's own HTTP stack (create_app + test_client)."""

import json
from datetime import UTC, datetime

import pytest
from functions_framework import create_app
from structlog.testing import capture_logs

from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.events import RAW_BATCH_STORED, Event
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.events import deliver, signed_event
from tests.support.processes import ROOT


# what GET /changes says of a `since` it cannot read, before the value given
SINCE_FORMS = ("since must be an ISO 8601 date (2026-12-01, from its midnight UTC) or a time with its zone "
               "(2026-12-01T12:00:00Z), ")


def client(name):
    return create_app("handle", str(ROOT / "functions" / name / "main.py")).test_client()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    return tmp_path


@pytest.fixture
def auth(data_dir):
    from affiliate_matrix.auth import create_token

    return {"Authorization": f"Bearer {create_token(Runtime('test', Settings(data_dir=data_dir)).secrets, 'read')}"}


def test_scrape_then_index_functions_fill_the_index_and_skip_redeliveries(data_dir):
    rt = Runtime("test", Settings(data_dir=data_dir))
    with recorded_sites("affiliateprograms") as urls:
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                                 rate_limit_per_s=50))
        tick = Event.make("dev.knative.sources.ping", "/cron/scrape-ap", {"connection_id": "ap"}, key="2026-11-21T03:00")
        scrape_app = client("scrape")
        assert deliver(scrape_app, tick, "scrape").status_code == 204
        assert deliver(scrape_app, tick, "scrape").status_code == 204  # a redelivery: skipped
    batches = list(rt.store.list("batches/"))
    assert len(batches) == 1  # the redelivered tick did not scrape again
    index_app = client("index")
    stored = Event.make(RAW_BATCH_STORED, "/scrape/ap", {"batch_key": batches[0]}, key=batches[0])
    assert deliver(index_app, stored, "index").status_code == 204
    assert rt.index.search("programs", SearchQuery()).total == 6


def test_an_event_for_an_unknown_connection_is_acknowledged_not_retried(data_dir):
    event = Event.make("dev.knative.sources.ping", "/cron/x", {"connection_id": "nope"})
    assert deliver(client("scrape"), event, "scrape").status_code == 204


def test_an_event_without_a_batch_key_is_refused_naming_it(data_dir):
    # 400, not 204: Knative does not retry it, and its Broker parks it as a dead letter for a person
    reply = deliver(client("index"), Event.make(RAW_BATCH_STORED, "/x", {"wrong": 1}), "index")
    assert reply.status_code == 400 and "batch_key" in reply.get_json()["error"]["message"]


@pytest.mark.parametrize("query,status,fragment", [
    ("limit=0", 400, "limit must be"),
    ("limit=100000", 400, "limit must be"),
    ("sort=price", 400, "sort must be one of"),
    ("cursor=%27%3B--", 400, "cursor is malformed"),
    # past its bound, in the route's words (pydantic's: "q: String should have at most 500 characters")
    ("q=" + "a" * 501, 400, "q is 501 characters, past the 500 searched: search for fewer words"),
    ("cursor=" + "a" * 2001, 400, "cursor is longer than any next_cursor (2,001 characters; one is at most 2,000): "
                                  "pass back next_cursor exactly as it was given"),
    ("q=%22%29%20OR%201%3D1", 400, "query syntax ('OR')"),
    ("q=hosting%20-bluehost", 400, "query syntax ('-')"),  # it found Bluehost alone: no index reads a web search's -
    ("q=name%3A*", 400, "query syntax ('*')"),
    ("q=Web%20hosting%3A%20best%20plans", 200, ""),  # a colon in a title is punctuation (it was a 400, 'g:')
    ("q=x%27%20--%20drop", 400, "query syntax ('--')"),
    ("q=%3Cscript%3E", 400, "query syntax ('<')"),
    ("q=" + "+".join(["word"] * 21), 400, "q has 21 words; a search takes at most 20"),  # the 21st was dropped
    ("q=" + "+".join(["word"] * 20), 200, ""),
    ("q=AT%26T%20%2B%20Toys%20%22R%22%20Us%20(C%2B%2B)", 200, ""),
    ("bogus=1", 400, "unknown parameter(s): bogus"),
    # a blank value or a code in other letters than the index's found no program, silently, as if none matched
    ("network=", 400, "network has a blank value: give one, or leave network out"),
    ("network=awin&network=%20", 400, "network has a blank value"),
    ("source=", 400, "source has a blank value"),
    # a control character (NUL, C0 or C1, a bidi control) was dropped as indexing drops it: c%00j searched cj
    ("network=c%00j", 400, "network holds U+0000, a control character"),
    ("network=awin&network=c%C2%85j", 400, "network holds U+0085, a control character"),
    ("network=c%E2%80%AEj", 400, "network holds U+202E, a control character"),
    ("source=aw%00in", 400, "source holds U+0000, a control character"),
    ("q=ac%C2%85me", 400, "q holds U+0085, a control character"),
    ("q=ac%E2%81%A6me", 400, "q holds U+2066, a control character"),
    ("q=ac%E2%80%A8me", 400, "q holds U+2028, a control character"),  # a line separator, a line break as LF is
    ("q=ac%7Fme", 400, "q holds U+007F, a control character"),
    ("network=%EF%BC%A3%EF%BC%AA", 200, ""),  # full-width ＣＪ is still cj
    ("payout_method=", 400, "payout_method must be one of"),
    ("country=de", 200, ""),  # DE as typed (codes.typed_country); it was a 400 not naming the fix
    # named as given, not in capitals cut at 20, with what is taken
    ("country=uk", 400, "country 'uk' is not a country code (ISO 3166 alpha-2, as DE) or worldwide"),
    ("country=WORLDWIDE", 400, "country 'WORLDWIDE' is not a country code"),  # worldwide is no code: as it is
    ("country=", 400, "country '' is not a country code"),
    ("country=UK", 400, "country 'UK' is not a country code"),
    ("country=Open+to+every+country", 400, "country 'Open to every country' is not a country code"),
    ("country=" + "x" * 41, 400, f"country '{'x' * 39}…' is not a country code"),  # a long one cut, said so
    ("country=DE&country=worldwide", 200, ""),
    ("flat_currency=usd", 200, ""),  # USD as typed (codes.typed_currency); it was a 400 not naming the fix
    ("flat_currency=usx", 400, "flat_currency 'usx' is not a currency code (ISO 4217, as EUR)"),
    ("epc_currency=", 400, "epc_currency '' is not a currency code"),
    ("flat_currency=USD&epc_currency=EUR&min_epc=1", 200, ""),
    # a filter with a closed set of values took a misspelt one and found nothing, as if no program matched
    # named as written in the URL (kind, not kind.0, its place among repeats), with the value given
    ("kind=ofer", 400, "kind must be one of 'program' or 'offer', got 'ofer'"),
    ("kind=program&kind=ofer", 400, "kind must be one of 'program' or 'offer', got 'ofer'"),
    ("kind=offer&kind=program", 200, ""),
    ("commission_type=percentage", 400, "commission_type must be one of 'percent' or 'flat', got 'percentage'"),
    ("payout_method=PayPal", 400, "payout_method must be one of 'paypal', 'check'"),
    ("payout_method=bank_transfer", 200, ""),
    # a number is written in ASCII digits, as limit always was: min_cookie_days took ' 5' as 5 and '1_0' as 10
    ("min_cookie_days=%205", 400, "min_cookie_days must be a number of at least 0 in digits, as 2.5, got ' 5'"),
    ("min_cookie_days=1_0", 400, "min_cookie_days must be a number of at least 0 in digits"),
    ("min_commission_percent=%EF%BC%95", 400, "min_commission_percent must be a number of at least 0 in digits"),
    ("min_commission_percent=1e2", 400, "min_commission_percent must be a number"),
    ("min_commission_percent=-1", 400, "min_commission_percent must be a number of at least 0"),
    ("min_commission_percent=12.5&min_cookie_days=30", 200, ""),
    ("min_commission_percent=.5", 200, ""),
    # a number past the 30 characters read: its first 40 alone, said to be no number of at least 0, read as one
    ("min_cookie_days=" + "1" * 53, 400, f"min_cookie_days must be a number of at least 0 in digits, as 2.5, got "
                                         f"'{'1' * 39}…' (53 characters; at most 30)"),
    ("limit=" + "1" * 31, 400, f"limit must be a whole number from 1 to 100, got '{'1' * 31}' (31 characters; at "
                               "most 30)"),
    ("limit=5%0A", 400, "limit must be a whole number from 1 to 100"),  # '5\n' was 5: $ matched before the newline
])
def test_programs_api_answers_bad_parameters_with_clear_4xx(data_dir, auth, query, status, fragment):
    response = client("programs").get(f"/programs?{query}", headers=auth)
    assert response.status_code == status
    if fragment:
        body = response.get_json()
        assert fragment in body["error"]["message"] and body["error"]["request_id"] == response.headers["X-Request-Id"]


def test_a_request_id_ending_in_a_newline_is_replaced_not_echoed_into_a_header(data_dir, auth):
    """The caller's X-Request-Id was checked with re.match and a pattern ending in "$", which also matches before a
    final newline: "abc" and a line break was taken, put on every log line and echoed in the answer's X-Request-Id,
    which Werkzeug refuses (a newline in a header), so the request answered 500. It gets an id of its own now, as
    any other id not of the shape is given."""
    response = client("programs").get("/programs?limit=x", headers=auth,
                                      environ_overrides={"HTTP_X_REQUEST_ID": "abc\n"})  # as a server may pass it
    assert response.status_code == 400
    request_id = response.headers["X-Request-Id"]
    assert request_id != "abc\n" and response.get_json()["error"]["request_id"] == request_id
    assert client("programs").get("/programs?limit=x", headers={**auth, "X-Request-Id": "abc"}).headers[
        "X-Request-Id"] == "abc"  # a sane one is still the caller's


@pytest.mark.parametrize("sent", ["a\x1bb", "a\x85b", "caf\xe9", "a\xe2\x80\x8bb", "a b", "x" * 129, "a\r"],
                         ids=["escape", "next-line", "latin-1", "utf-8-zero-width", "space", "129", "return"])
def test_a_request_id_of_any_other_character_than_a_tokens_is_replaced_in_the_logs_and_the_header(data_dir, auth,
                                                                                                      sent):
    """X-Request-Id is the caller's only as a token of at most 128 letters, digits, '.', '_', ':' and '-'
    (observability.bind_request): a control character, a byte past ASCII (WSGI passes a header's bytes as latin-1),
    a space or a longer one is replaced by an id of the function's own, on its log lines and in its answer's header."""
    from structlog.testing import capture_logs

    from affiliate_matrix.observability import context_processors

    programs = client("programs")
    with capture_logs(processors=context_processors()) as lines:
        response = programs.get("/programs?limit=x", headers=auth, environ_overrides={"HTTP_X_REQUEST_ID": sent})
    request_id = response.headers["X-Request-Id"]
    assert response.status_code == 400 and request_id != sent and request_id.isascii() and request_id.isalnum()
    assert {line.get("request_id") for line in lines} == {request_id}


@pytest.mark.parametrize("function,path", [("programs", "/programs/{token}"), ("connections", "/connections/{token}"),
                                           ("triggers", "/rules/{token}"), ("web", "/programs/{token}"),
                                           ("programs", "/{session}/programs")])
def test_a_token_pasted_into_a_path_is_logged_without_its_secret(data_dir, auth, capsys, function, path):
    """Every request's line logs its path (request.done), read by whoever reads the logs: a token pasted into the
    address bar or a script's URL (an admin's, into a read token's reach) was logged whole, where the query log keeps
    a token typed into the search words without its secret."""
    token, session = auth["Authorization"].removeprefix("Bearer "), "amxs_0123456789ab-0123456789ab_" + "S" * 43
    pasted = token if "{token}" in path else session
    capsys.readouterr()
    client(function).get(path.format(token=token, session=session), headers=auth)
    logged = capsys.readouterr().err
    assert "request.done" in logged and pasted[:-43] in logged  # its id, which names it to whoever revokes it
    assert pasted[-43:] not in logged  # amx_<12 hex digits>_<its secret, 43 characters>


@pytest.mark.parametrize("path,fragment", [
    ("/programs/export?kind=ofer", "kind must be one of 'program' or 'offer', got 'ofer'"),
    ("/programs/export?payout_method=paypall", "payout_method must be one of"),
    ("/programs/export?min_cookie_days=1_0", "min_cookie_days must be a number of at least 0 in digits"),
    ("/merchants?limit=%EF%BC%95", "limit must be a whole number"),
    ("/changes?limit=5%0A", "limit must be a whole number"),
    ("/changes?change=create", "change must be one of 'created', 'updated' or 'removed', got 'create'"),
    # a program id in other words than its pattern's ("String should match pattern '^p_[0-9a-f]{16}$'")
    ("/changes?program_id=nope", "program_id must be a program's id, p_ and 16 hex digits as amx search and the API "
                                 "list them, not 'nope'"),
    ("/programs/p_123", "program_id must be a program's id, p_ and 16 hex digits"),
    # nor a merchant key as its pattern's ("String should match pattern '^[^\\W_](?:[^\\W_]|[.-])*$'")
    ("/merchants/Blue%20Host", "the merchant key 'blue host' is no merchant's: a key is a merchant's domain "
                               "(bluehost.com), or its name's words joined by '-'"),
])
def test_every_programs_route_refuses_a_value_it_cannot_match(data_dir, auth, path, fragment):
    response = client("programs").get(path, headers=auth)
    assert response.status_code == 400 and fragment in response.get_json()["error"]["message"]


def test_programs_api_pages_with_cursor_and_reads_one_program(data_dir, auth):
    rt = Runtime("test", Settings(data_dir=data_dir))
    from affiliate_matrix.program_index import PROGRAMS_INDEX

    rt.index.ensure_index(PROGRAMS_INDEX)
    from tests.support.factories import make_program
    from affiliate_matrix.program_index import to_document

    programs = [make_program(f"Shop {i}", f"https://shop{i}.com") for i in range(7)]
    rt.index.bulk_upsert("programs", [to_document(p) for p in programs], refresh=True)
    app = client("programs")
    seen, url = [], "/programs?limit=3&sort=name"
    while url:
        body = app.get(url, headers=auth).get_json()
        seen += [item["id"] for item in body["items"]]
        url = f"/programs?limit=3&sort=name&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert sorted(seen) == sorted(p.id for p in programs) and len(seen) == 7
    one = app.get(f"/programs/{programs[0].id}", headers=auth)
    assert one.status_code == 200 and one.get_json()["name"] == "Shop 0"
    missing = app.get("/programs/p_ffffffffffffffff", headers=auth)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["message"] == "no program p_ffffffffffffffff in the index"  # as the web says
    assert app.get("/nowhere", headers=auth).status_code == 404
    pages = [app.get(f"/programs?limit=3&sort=name&page={n}", headers=auth).get_json()["items"] for n in (1, 2, 3)]
    assert [i["id"] for page in pages for i in page] == seen
    assert app.post("/programs").status_code == 405


def test_changes_feed_filters_and_validates(data_dir, auth):
    from datetime import UTC, datetime, timedelta

    from affiliate_matrix.deltas import DELTAS_INDEX, to_document
    from affiliate_matrix.models import DeltaChange, FieldChange

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(DELTAS_INDEX)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    deltas = [DeltaChange(id=f"d_{i}", program_id=f"p_{i % 2:016x}", change="updated", at=now - timedelta(days=i),
                          source="t", fields=[FieldChange(field="commission" if i % 3 == 0 else "cookie_days", old=1, new=2)])
              for i in range(6)]
    # each recorded when it was observed: `since` and the order are the recorded time's (test_change_feed.py)
    rt.index.bulk_upsert("deltas", [to_document(d, recorded_at=d.at) for d in deltas], refresh=True)
    app = client("programs")
    body = app.get("/changes?since=2026-11-18T00:00:00Z", headers=auth).get_json()
    assert [d["id"] for d in body["items"]] == ["d_0", "d_1", "d_2", "d_3"]  # newest first
    body = app.get("/changes?field=commission", headers=auth).get_json()
    assert [d["id"] for d in body["items"]] == ["d_0", "d_3"]
    body = app.get(f"/changes?program_id=p_{'0' * 16}&limit=2", headers=auth).get_json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    # its cursor under another filter: the 400 told the feed's reader to keep "the same q, filters and sort", none of
    # which the feed has; it names what is kept, whatever the route's parameters (a limit may change)
    answer = app.get(f"/changes?program_id=p_{'0' * 15}1&cursor={body['next_cursor']}", headers=auth)
    assert answer.status_code == 400 and answer.get_json()["error"]["message"] == (
        "cursor belongs to a different query: keep the other parameters (limit aside) as they were on the page that "
        "gave it")
    assert app.get(f"/changes?program_id=p_{'0' * 16}&limit=5&cursor={body['next_cursor']}",
                   headers=auth).status_code == 200
    answer = app.get(f"/changes?cursor={'a' * 2001}", headers=auth)  # past any cursor: in the feed's words too
    assert answer.status_code == 400 and answer.get_json()["error"]["message"].startswith(
        "cursor is longer than any next_cursor (2,001 characters"), answer.get_json()
    # `since=yesterday` and a time without its zone were refused in pydantic's words ("Input should have timezone
    # info"); a number was read as seconds, milliseconds, seconds. Each is refused naming the forms `since` takes.
    for since in ("yesterday", "2026-11-18T00:00:00", "1763424000", "1763424000000", "20261118"):
        answer = app.get(f"/changes?since={since}", headers=auth)
        assert answer.status_code == 400, since
        assert answer.get_json()["error"]["message"] == SINCE_FORMS + f"not {since!r}"
    # a time with an offset written into a URL as it is (+00:00: the answers' times end in Z, but a client's own may
    # not): its + arrived as a space, and the 400 showed a space the caller never typed, saying nothing of why
    answer = app.get("/changes?since=2026-11-18T00:00:00+00:00", headers=auth)
    assert answer.get_json()["error"]["message"] == SINCE_FORMS + (
        "not '2026-11-18T00:00:00 00:00': a + in a query string is read as a space, so send the zone's + as %2B "
        "(+00:00 as %2B00:00), or the time in UTC with Z")
    assert app.get("/changes?since=2026-11-18T00:00:00%2B00:00", headers=auth).status_code == 200



def test_changes_feed_pages_back_by_its_previous_cursor(data_dir, auth):
    """previous_cursor (null on the first page) lists the newer changes before a page, passed back as `cursor` as
    next_cursor is: from the last page back to the first, each page as next_cursor gave it."""
    from datetime import UTC, datetime, timedelta

    from affiliate_matrix.deltas import DELTAS_INDEX, to_document
    from affiliate_matrix.models import DeltaChange, FieldChange

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(DELTAS_INDEX)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    rt.index.bulk_upsert("deltas", [to_document(DeltaChange(
        id=f"d_{i}", program_id=f"p_{0:016x}", change="updated", at=now - timedelta(days=i), source="t",
        fields=[FieldChange(field="cookie_days", old=1, new=2)]), recorded_at=now - timedelta(days=i // 2))
        for i in range(7)], refresh=True)
    app = client("programs")
    pages = [app.get("/changes?limit=2", headers=auth).get_json()]
    while pages[-1]["next_cursor"]:
        pages.append(app.get(f"/changes?limit=2&cursor={pages[-1]['next_cursor']}", headers=auth).get_json())
    assert [len(page["items"]) for page in pages] == [2, 2, 2, 1] and pages[0]["previous_cursor"] is None
    page = pages[-1]
    for before in reversed(pages[:-1]):
        page = app.get(f"/changes?limit=2&cursor={page['previous_cursor']}", headers=auth).get_json()
        assert [d["id"] for d in page["items"]] == [d["id"] for d in before["items"]]
    assert page["previous_cursor"] is None and page["next_cursor"] == pages[0]["next_cursor"]

@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer amx_0123456789ab_" + "x" * 43])
def test_requests_without_a_valid_token_get_401(data_dir, header):
    response = client("programs").get("/programs", headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client("programs").get("/healthz").status_code == 200  # liveness needs no token


def test_etag_gives_304_until_the_index_changes(data_dir, auth):
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert("programs", [to_document(make_program("Alpha", "https://alpha.com"))], refresh=True)
    app = client("programs")
    first = app.get("/programs?q=alpha", headers=auth)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and "max-age" in first.headers["Cache-Control"]
    assert app.get("/programs?q=alpha", headers={**auth, "If-None-Match": etag}).status_code == 304
    rt.index.bulk_upsert("programs", [to_document(make_program("Alpha Two", "https://alpha2.com"))], refresh=True)
    after = app.get("/programs?q=alpha", headers={**auth, "If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag  # the cache saw the new generation
    assert after.get_json()["total"] == 2


def test_merchant_routes(data_dir, auth):
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert("programs", [to_document(make_program("Shop One", "https://shop1.com",
                                                               commission_text="10%"))], refresh=True)
    app = client("programs")
    found = app.get("/merchants?q=shop", headers=auth).get_json()["items"]
    assert [m["merchant_key"] for m in found] == ["shop1.com"]
    view = app.get("/merchants/shop1.com", headers=auth).get_json()
    assert view["domain"] == "shop1.com" and view["rows"][0]["best"] == ["commission_percent"]
    assert view["rows"][0]["held"] == ["commission"]  # its one source's claim is the program's value; no cookie said
    assert app.get("/merchants/nope.com", headers=auth).status_code == 404
    named = app.get("/merchants/ShopOne", headers=auth)  # a name for a key: what a key is
    assert named.status_code == 404 and named.get_json()["error"]["message"] == (
        "no program for merchant 'shopone': a key is a merchant's domain (bluehost.com), or its name's words joined "
        "by '-' (acme-shop), as GET /merchants lists them")
    worded = app.get("/merchants/shop", headers=auth)  # words a merchant's name holds: the merchants they may mean
    assert worded.status_code == 404 and worded.get_json()["error"]["message"].endswith(
        "as GET /merchants lists them; the merchants its words match: shop1.com (Shop One: 1 matching program)")
    assert app.get("/merchants/Bad%20Key", headers=auth).status_code == 400
    assert app.get("/merchants/shop1.com").status_code == 401


def test_merchants_page_on_by_a_cursor_as_every_listing_does(data_dir, auth):
    """GET /merchants listed at most 100 merchants (limit) with no way past them: it pages by next_cursor as the other
    listings do, declared in its OpenAPI parameters and answer, a cursor of another search refused alike."""
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert("programs", [to_document(make_program(f"Shop {n}", f"https://shop{n}.com"))
                                      for n in range(7)], refresh=True)
    app = client("programs")
    whole = [m["merchant_key"] for m in app.get("/merchants?q=shop&limit=100", headers=auth).get_json()["items"]]
    paged, cursor = [], ""
    while True:
        page = app.get(f"/merchants?q=shop&limit=3{cursor}", headers=auth).get_json()
        paged += [m["merchant_key"] for m in page["items"]]
        assert page["more"] == (page["next_cursor"] is not None), page
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(whole) == 7 and paged == whole, (paged, whole)
    for query, said in ((f"q=shop+one{cursor}", "cursor belongs to a different query"),
                        ("q=shop&cursor=abc", "cursor is malformed: pass back next_cursor exactly as it was given")):
        refused = app.get(f"/merchants?{query}", headers=auth)
        assert refused.status_code == 400 and said in refused.get_json()["error"]["message"], refused.get_json()
    document = app.get("/openapi.json").get_json()
    route = document["paths"]["/merchants"]["get"]
    assert "cursor" in [p["name"] for p in route["parameters"]], route["parameters"]
    answer = route["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "next_cursor" in document["components"]["schemas"][answer]["properties"]


@pytest.mark.parametrize("key,character", [("shop1.com%E2%80%AE", "U+202E"), ("shop%E2%81%A61.com", "U+2066"),
                                           ("shop1.com%C2%85", "U+0085"), ("shop1.com%00", "U+0000")])
def test_a_merchant_key_holding_a_control_character_is_refused_naming_it(data_dir, auth, key, character):
    """The key was folded (search.unwritten) without its bidi controls: shop1.com and a right-to-left override was
    shop1.com's view, a link mangled answered as if whole. Refused now, as a search's parameters are."""
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert("programs", [to_document(make_program("Shop One", "https://shop1.com"))], refresh=True)
    answer = client("programs").get(f"/merchants/{key}", headers=auth)
    assert answer.status_code == 400, answer.text
    assert f"the merchant key holds {character}, a control character" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").exists()))
def test_every_function_loads_and_exposes_handle(name, data_dir):
    assert client(name) is not None


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").exists()))
def test_metrics_need_a_token_on_every_function(name, data_dir, auth):
    """/metrics names the rules, the event types and the error rates: it was served to anyone, the public programs
    and web functions' to the internet. A read token now, as Prometheus' scrape sends (authorization)."""
    app = client(name)
    refused = app.get("/metrics")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "amx_" not in refused.get_data(as_text=True)
    assert app.get("/metrics", headers={"Authorization": "Bearer amx_0123456789ab_" + "x" * 43}).status_code == 401
    shown = app.get("/metrics", headers=auth)
    assert shown.status_code == 200 and "amx_requests_total" in shown.get_data(as_text=True)


@pytest.mark.parametrize("name", ["programs", "triggers"])
def test_metrics_refuse_a_parameter_as_every_route_does(name, data_dir, auth):
    """/metrics?x=1 was answered 200, the parameter ignored, where every other route refuses one it does not take
    (400 naming it). Prometheus sends none unless its scrape config's `params` names some."""
    refused = client(name).get("/metrics?name[]=amx_requests_total&x=1", headers=auth)
    assert refused.status_code == 400, refused.get_data(as_text=True)
    assert refused.json["error"]["message"] == "unknown parameter(s): name[], x; this takes none"


@pytest.mark.parametrize("name", ["programs", "verify"])
def test_healthz_refuses_a_parameter_as_metrics_does(name, data_dir):
    """/healthz?x=1 was answered 200, the parameter ignored (it is answered before any route). Kubernetes' probes
    send none: one is refused, 400 naming it, without a token."""
    refused = client(name).get("/healthz?x=1")
    assert refused.status_code == 400, refused.get_data(as_text=True)
    assert refused.json["error"]["message"] == "unknown parameter(s): x; this takes none"
    assert client(name).get("/healthz").json["status"] == "ok"


@pytest.mark.parametrize("name", ["budget", "connections", "discover", "triggers"])
def test_the_readiness_probe_builds_no_route_table(name, data_dir):
    """/healthz is Knative's first request to every cold start: the table's models wait for a routed request."""
    import importlib

    handler = importlib.import_module(f"affiliate_matrix.handlers.{name}")
    handler.api.cache_clear()
    app = client(name)
    assert app.get("/healthz").status_code == 200
    assert handler.api.cache_info().currsize == 0
    assert app.get("/openapi.json").status_code == 200 and handler.api.cache_info().currsize == 1


def test_a_class_tick_requests_the_connections_whose_schedule_is_due(data_dir):
    from datetime import UTC, datetime

    from affiliate_matrix.events import SCRAPE_REQUESTED, SYNC_REQUESTED
    from affiliate_matrix.sync_requests import request_due

    rt = Runtime("test", Settings(data_dir=data_dir))
    seen = []
    for kind in (SCRAPE_REQUESTED, SYNC_REQUESTED):
        rt.bus.subscribe(kind, seen.append)
    for cid, source, schedule in (("ap", "affiliateprograms", "0 6 * * *"), ("fix", "affiliatefix", "0 3 * * *"),
                                  ("aw", "awin", "0 6 * * *"), ("off", "affiliationlist", "0 6 * * *")):
        save_connection(rt.store, Connection(id=cid, source=source, schedule=schedule, enabled=cid != "off"))
    tick = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
    assert [s.connection_id for s in request_due(rt, "directory", tick, 15)] == ["ap"]
    assert [s.connection_id for s in request_due(rt, "api", tick, 15)] == ["aw"]
    assert request_due(rt, "directory", datetime(2026, 11, 22, 6, 30, tzinfo=UTC), 15) == []
    assert [(e.type, e.data["connection_id"]) for e in seen] == [(SCRAPE_REQUESTED, "ap"), (SYNC_REQUESTED, "aw")]


def test_a_stored_schedule_the_cron_library_cannot_read_leaves_its_connection_waiting_not_the_tick(data_dir):
    """A schedule stored past the API's check (a restore, a hand edit) holding a number of over 4,300 digits made the
    cron library raise ValueError, not CronSimError: out of the tick, no connection after it requested."""
    from datetime import UTC, datetime

    from affiliate_matrix.sync_requests import request_due

    rt = Runtime("test", Settings(data_dir=data_dir))
    for cid, schedule in (("a-unreadable", "0 " + "6" * 5000 + " * * *"), ("ap", "0 6 * * *")):
        save_connection(rt.store, Connection(id=cid, source="affiliateprograms", schedule=schedule))
    tick = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
    assert [s.connection_id for s in request_due(rt, "directory", tick, 15)] == ["ap"]


def test_a_class_tick_delivered_again_after_a_failed_publish_requests_each_connection_once(data_dir):
    """One connection's publish failing failed the whole tick (a 503), and its redelivery requested again the
    connections it had already requested: a second record and a second event each, so a second sync (twice the
    provider calls, twice the quota). Now a scheduled sync's id is derived from the connection and the tick's time,
    written create-only: a delivery again finds it and requests again only the one whose publish had failed (or never
    came: see the tests below)."""
    from datetime import UTC, datetime

    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.events import SCRAPE_REQUESTED
    from affiliate_matrix.sync_requests import Sync, request_due, update_sync

    rt = Runtime("test", Settings(data_dir=data_dir))
    seen = []
    rt.bus.subscribe(SCRAPE_REQUESTED, lambda event: seen.append(event.data["connection_id"]))
    for cid in ("a1", "a2", "a3"):
        save_connection(rt.store, Connection(id=cid, source="affiliateprograms", schedule="0 6 * * *"))
    publish, refusals = rt.bus.publish, ["a2"]

    def broker_refusing_a2_once(event):
        if event.data["connection_id"] in refusals:
            refusals.remove(event.data["connection_id"])
            raise BackendUnavailable(f"broker did not accept event {event.id}: HTTP 503")
        publish(event)

    rt.bus.publish = broker_refusing_a2_once
    tick = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
    with pytest.raises(BackendUnavailable) as failed:
        request_due(rt, "directory", tick, 15)
    assert failed.value.cause.startswith("the event broker did not take the request of sync s_")
    assert seen == ["a1", "a3"]  # a3 requested all the same: the tick fails after trying every due connection

    def events():
        return sorted({(event.data["connection_id"], event.id) for event in rt.bus.published})

    for _ in range(2):  # Knative delivers the tick again, and once more
        assert [s.connection_id for s in request_due(rt, "directory", tick, 15)] == ["a1", "a2", "a3"]
    assert [cid for cid, _ in events()] == ["a1", "a2", "a3"]
    records = [Sync.model_validate_json(rt.store.get(key).data) for key in rt.store.list("syncs/")]
    assert sorted((r.connection_id, r.status, r.errors) for r in records) == [
        ("a1", "queued", []), ("a2", "queued", []), ("a3", "queued", [])]
    a1 = next(r.id for r in records if r.connection_id == "a1")
    update_sync(rt, a1, status="running", started_at=tick)
    update_sync(rt, a1, status="failed", finished_at=tick, errors=["provider down"])  # a run that failed: not again
    assert [s.status for s in request_due(rt, "directory", tick, 15)] == ["failed", "queued", "queued"]
    assert [cid for cid, _ in events()] == ["a1", "a2", "a3"]
    later = datetime(2026, 11, 23, 6, 5, tzinfo=UTC)  # the next day's tick is a sync of its own
    assert [s.connection_id for s in request_due(rt, "directory", later, 15)] == ["a1", "a2", "a3"]
    assert len(events()) == 6 and len(list(rt.store.list("syncs/"))) == 6


def test_a_class_tick_delivered_again_publishes_no_sync_it_published_before(data_dir):
    """A tick whose delivery failed for one connection (its publish refused: a 503) is delivered again with the same
    CloudEvent id, and that delivery published again every sync still queued, though the first had published them:
    each connection's request went to the Broker once more per delivery. A sync's record notes when its request was
    published, and a delivery again publishes only one never published (refused, or its process stopped before)."""
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.events import SCRAPE_REQUESTED
    from affiliate_matrix.sync_requests import load_sync, request_due

    rt = Runtime("test", Settings(data_dir=data_dir))
    for cid in ("a1", "a2", "a3"):
        save_connection(rt.store, Connection(id=cid, source="affiliateprograms", schedule="0 6 * * *"))
    published, refusals, publish = [], ["a2"], rt.bus.publish
    # the Broker: takes the event and holds it (nothing has run it yet, so each sync stays queued)
    rt.bus.subscribe(SCRAPE_REQUESTED, lambda event: published.append(event.data["connection_id"]))

    def broker(event):
        if event.data["connection_id"] in refusals:
            refusals.remove(event.data["connection_id"])
            raise BackendUnavailable(f"broker did not accept event {event.id}: HTTP 503")
        publish(event)

    rt.bus.publish = broker
    with pytest.raises(BackendUnavailable):
        request_due(rt, "directory", TICK, 15)
    assert published == ["a1", "a3"]
    for _ in range(2):  # delivered again, and once more
        again = request_due(rt, "directory", TICK, 15)
        assert [(s.connection_id, s.status) for s in again] == [("a1", "queued"), ("a2", "queued"), ("a3", "queued")]
    assert published == ["a1", "a3", "a2"]  # each once
    assert all(load_sync(rt, s.id).published_at is not None for s in again)


def test_a_class_tick_requests_every_due_connection_before_it_fails_for_the_ones_not_requested(data_dir):
    """The tick stopped at the first connection whose publish failed: the connections after it waited for the tick's
    redelivery (and were never synced for it once Knative gave up). Every due connection is requested; each failure
    is logged and its record says failed, and only then does the tick fail, with a failure a delivery again may cure
    rather than one it cannot (a damaged record), so that Knative delivers it again for the connections not
    requested."""
    from datetime import UTC, datetime

    from affiliate_matrix.errors import BackendUnavailable, DamagedData
    from affiliate_matrix.events import SCRAPE_REQUESTED
    from affiliate_matrix.sync_requests import Sync, request_due, sync_key

    rt = Runtime("test", Settings(data_dir=data_dir))
    seen = []
    rt.bus.subscribe(SCRAPE_REQUESTED, lambda event: seen.append(event.data["connection_id"]))
    for cid in ("a1", "a2", "a3", "a4"):
        save_connection(rt.store, Connection(id=cid, source="affiliateprograms", schedule="0 6 * * *"))
    publish, refusing = rt.bus.publish, {"a1", "a3"}

    def broker(event):
        if event.data["connection_id"] in refusing:
            raise BackendUnavailable(f"broker did not accept event {event.id}: HTTP 503")
        publish(event)

    rt.bus.publish = broker
    tick = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
    with capture_logs() as logs, pytest.raises(BackendUnavailable):
        request_due(rt, "directory", tick, 15)
    assert seen == ["a2", "a4"]
    assert [line["connection_id"] for line in logs if line["event"] == "sync.request_failed"] == ["a1", "a3"]
    records = {r.connection_id: r for r in (Sync.model_validate_json(rt.store.get(key).data)
                                            for key in rt.store.list("syncs/"))}
    assert {cid: r.status for cid, r in records.items()} == {"a1": "failed", "a2": "queued", "a3": "failed",
                                                             "a4": "queued"}
    refusing.discard("a1")
    rt.store.put(sync_key(records["a2"].id), b"{", content_type="application/json")  # a record damaged meanwhile
    with pytest.raises(BackendUnavailable):  # not the DamagedData met first: no delivery again would have come for a3
        request_due(rt, "directory", tick, 15)
    assert sorted(set(seen)) == ["a1", "a2", "a4"]
    refusing.clear()
    with pytest.raises(DamagedData):  # all it fails for now: no delivery again mends it, so the tick is not retried
        request_due(rt, "directory", tick, 15)
    assert sorted(set(seen)) == ["a1", "a2", "a3", "a4"]
    assert len({(event.data["connection_id"], event.id) for event in rt.bus.published}) == 4  # one sync each


class Killed(BaseException):
    """The process stopped: nothing after it runs (an Exception at a publish is recorded as a failed publish)."""


def killed(event):
    raise Killed


TICK = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)


def stopped_at_its_publish(rt, **connection):
    """A connection due at TICK (with the `connection` fields given) whose tick's process stopped right after writing
    its sync's record, before publishing it. rt.bus.publish is left killing; the real one is returned."""
    from affiliate_matrix.events import SCRAPE_REQUESTED
    from affiliate_matrix.sync_requests import request_due

    save_connection(rt.store, Connection(id="ap", source="affiliateprograms", schedule="0 6 * * *", **connection))
    rt.bus.subscribe(SCRAPE_REQUESTED, lambda event: None)  # the Broker: takes it (rt.bus.published), runs nothing
    publish, rt.bus.publish = rt.bus.publish, killed
    with pytest.raises(Killed):
        request_due(rt, "directory", TICK, 15)
    return publish


def test_a_tick_delivered_again_publishes_a_sync_left_queued_and_the_scrape_function_runs_it_once(data_dir,
                                                                                                 monkeypatch):
    """A process stopped between writing a scheduled sync's record and publishing its request left the record queued
    for good: the tick delivered again found it and requested nothing, so the connection was not synced for that tick.
    A record still queued whose request was never published is published again, once (its record notes it published);
    its event is the same one (its id derived from the sync's), so the scrape function, taking each event once, runs
    one sync however often the Broker delivers it."""
    from affiliate_matrix import pipeline
    from affiliate_matrix.sync_requests import Sync, load_sync, request_due

    rt, tick = Runtime("test", Settings(data_dir=data_dir)), TICK
    with recorded_sites("affiliateprograms") as urls:
        publish = stopped_at_its_publish(rt, base_url=urls["affiliateprograms"], rate_limit_per_s=50)
        (key,) = rt.store.list("syncs/")
        left = Sync.model_validate_json(rt.store.get(key).data)
        assert left.status == "queued"
        rt.bus.publish = publish
        for _ in range(2):  # the tick delivered again, twice, before the scrape function takes the event
            assert [s.id for s in request_due(rt, "directory", tick, 15)] == [left.id]
        (first,) = rt.bus.published  # published by the first delivery again, and noted so: not by the second
        assert (first.source, first.data) == ("/connections", {"connection_id": "ap", "sync_id": left.id})
        second = first.model_copy()  # the Broker delivering it twice all the same
        runs, scrape = [], pipeline.scrape
        monkeypatch.setattr(pipeline, "scrape", lambda rt_, connection_id, replay: runs.append(connection_id) or
                            scrape(rt_, connection_id))
        app = client("scrape")
        for event in (first, second):
            assert deliver(app, event, "scrape").status_code == 204
    assert runs == ["ap"] and len(list(rt.store.list("batches/"))) == 1
    assert (load_sync(rt, left.id).status, load_sync(rt, left.id).records) == ("succeeded", 6)
    assert [s.status for s in request_due(rt, "directory", tick, 15)] == ["succeeded"]  # run: not published again
    assert len(rt.bus.published) == 1


def test_a_sync_left_queued_whose_connection_was_marked_unhealthy_since_is_recorded_skipped_not_published(data_dir):
    """The record a stopped process left queued, its connection's credentials refused before the tick is delivered
    again: not published (its provider is not called with them), and no longer queued for good either."""
    from affiliate_matrix.connections import load_connection, update_connection
    from affiliate_matrix.sync_requests import Sync, request_due

    rt, tick = Runtime("test", Settings(data_dir=data_dir)), TICK
    publish = stopped_at_its_publish(rt)
    rt.bus.publish = publish
    refused = "credentials refused at 2026-11-22T06:06:00+00:00"
    update_connection(rt.store, "ap", lambda c: {"healthy": False, "health_reason": refused}, "its health")
    (skipped,) = request_due(rt, "directory", tick, 15)
    (key,) = rt.store.list("syncs/")
    assert Sync.model_validate_json(rt.store.get(key).data) == skipped
    assert (skipped.status, skipped.errors) == ("skipped", [f"skipped: {refused}; re-test it or re-add its key"])
    assert not rt.bus.published and load_connection(rt.store, "ap")[0].last_sync.status == "skipped"


def test_a_class_tick_records_an_unhealthy_connection_as_skipped_and_requests_nothing_for_it(data_dir):
    """A connection whose key was revoked, or whose credentials a provider refused, is not synced by the schedule:
    its sync is recorded as skipped, saying why and what to do. A refusal does not overwrite a revocation's mark,
    which a key added again clears."""
    from datetime import UTC, datetime

    from affiliate_matrix.connections import load_connection, mark_refused
    from affiliate_matrix.events import SYNC_REQUESTED
    from affiliate_matrix.sync_requests import request_due

    rt = Runtime("test", Settings(data_dir=data_dir))
    seen = []
    rt.bus.subscribe(SYNC_REQUESTED, seen.append)
    revoked = "credentials at connections/aw revoked at 2026-11-21T10:00:00+00:00"
    save_connection(rt.store, Connection(id="aw", source="awin", schedule="0 6 * * *", healthy=False,
                                         health_reason=revoked, credentials_path="connections/aw"))
    rt.secrets.write("connections/aw", {"api_token": "refused-1234"})  # a key refused, then revoked
    mark_refused(rt, load_connection(rt.store, "aw")[0], {"api_token": "refused-1234"},
                 datetime(2026, 11, 21, 11, tzinfo=UTC))
    assert load_connection(rt.store, "aw")[0].health_reason == revoked
    (skipped,) = request_due(rt, "api", datetime(2026, 11, 22, 6, 5, tzinfo=UTC), 15)
    assert skipped.status == "skipped" and seen == []
    (again,) = request_due(rt, "api", datetime(2026, 11, 22, 6, 5, tzinfo=UTC), 15)  # the tick delivered again
    assert again == skipped and len(list(rt.store.list("syncs/"))) == 1
    assert skipped.errors == [f"skipped: {revoked}; re-test it or re-add its key"]
    assert load_connection(rt.store, "aw")[0].last_sync.status == "skipped"


def test_a_stored_schedule_that_is_no_cron_skips_its_connection_not_the_tick(data_dir):
    """Written before the API checked schedules (or by hand): one such connection failed every tick of its class."""
    from datetime import UTC, datetime

    from affiliate_matrix.sync_requests import request_due

    rt = Runtime("test", Settings(data_dir=data_dir))
    for cid, schedule in (("bad", "99 99 99 99 99"), ("good", "0 6 * * *")):
        save_connection(rt.store, Connection(id=cid, source="affiliateprograms", schedule=schedule))
    with capture_logs() as logs:
        due = request_due(rt, "directory", datetime(2026, 11, 22, 6, 5, tzinfo=UTC), 15)
    assert [s.connection_id for s in due] == ["good"]
    assert {"event": "sync.schedule_invalid", "connection_id": "bad",
            "error": "its minute field '99' is wrong: a minute is 0 to 59"}.items() <= \
        next(line for line in logs if line["event"] == "sync.schedule_invalid").items()  # the product's words


def test_a_stored_connection_of_a_source_no_longer_known_skips_its_connection_not_the_tick(data_dir):
    """A connection stored while its plugin existed (since removed or renamed in an upgrade): its class could not be
    told, and the KeyError ended every tick of both classes, so no connection was synced on schedule."""
    from datetime import UTC, datetime

    from affiliate_matrix.sync_requests import request_due

    rt = Runtime("test", Settings(data_dir=data_dir))
    for cid, source in (("gone", "shareasale"), ("good", "affiliateprograms")):
        save_connection(rt.store, Connection(id=cid, source=source, schedule="0 6 * * *"))
    with capture_logs() as logs:
        due = request_due(rt, "directory", datetime(2026, 11, 22, 6, 5, tzinfo=UTC), 15)
    assert [s.connection_id for s in due] == ["good"]
    line = next(line for line in logs if line["event"] == "sync.source_unknown")
    assert line["connection_id"] == "gone" and "shareasale" in line["error"]


def test_a_sync_or_test_of_a_connection_whose_source_is_no_longer_known_is_a_400_naming_it(data_dir):
    """Its KeyError was a 500 with a traceback, for a person's request and for the scrape event alike (Knative
    redelivering it for nothing)."""
    from affiliate_matrix.auth import create_token

    rt = Runtime("test", Settings(data_dir=data_dir))
    save_connection(rt.store, Connection(id="gone", source="shareasale"))
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    app = client("connections")
    for path in ("/connections/gone/sync", "/connections/gone/test"):
        answer = app.post(path, headers=admin)
        assert answer.status_code == 400, (path, answer.get_data(as_text=True))
        assert answer.get_json()["error"]["message"].startswith("unknown source 'shareasale'; known: ")


def test_metrics_and_trace_context_through_a_function(data_dir, monkeypatch, auth):
    """/metrics counts what the function did; a traceparent that comes in goes out on the events it publishes."""
    from affiliate_matrix.budget.campaigns import Campaign, save_campaign
    from tests.support.receiver import Receiver

    broker = Receiver()
    monkeypatch.setenv("AMX_EVENTS", "http")
    monkeypatch.setenv("AMX_BROKER_URL", broker.url)
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "100.00")
    rt = Runtime("test", Settings(data_dir=data_dir))
    save_campaign(rt.store, Campaign(id="c1", name="c1", channel="email", currency="USD"), create=True)
    app = client("budget")

    def counted(line_start: str) -> float:
        lines = [l for l in app.get("/metrics", headers=auth).get_data(as_text=True).splitlines()
                 if l.startswith(line_start)]
        return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

    done = 'amx_events_total{function="budget",outcome="done",type="dev.knative.sources.ping"}'
    runs = 'amx_allocation_runs_total{strategy="optimal"}'
    before = counted(done), counted(runs)
    tick = Event.make("dev.knative.sources.ping", "/cron/budget", {}, key="2026-11-22-metrics")
    headers, body = signed_event(tick, "budget", binary=True)
    headers.pop("ce-traceparent", None)  # this test process' own trace; the HTTP header carries the one under test
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers["traceparent"] = f"00-{trace}-00f067aa0ba902b7-01"
    assert app.post("/", headers=headers, data=body).status_code == 204
    (allocated,) = broker.json_bodies()
    assert allocated["type"] == "dev.affiliatematrix.budget.allocated"
    version, trace_id, span_id, flags = allocated["traceparent"].split("-")
    assert trace_id == trace and span_id != "00f067aa0ba902b7" and flags == "01"  # same trace, the function's span
    assert app.get("/healthz").status_code == 200
    assert (counted(done), counted(runs)) == (before[0] + 1, before[1] + 1)  # /metrics counts the process' work
    assert counted('amx_requests_total{function="budget",status="200"}') >= 1
    fresh = app.get("/healthz", headers={"traceparent": "garbage"})
    assert fresh.headers["traceparent"].startswith("00-") and trace not in fresh.headers["traceparent"]
    broker.close()


def test_dead_letters_are_parked_whatever_their_id(data_dir):
    """The Broker's dead-letter sink: the event is kept for a person, under a safe key."""
    rt = Runtime("test", Settings(data_dir=data_dir))
    event = Event.make(PROGRAM_DELTA_TYPE, "/index", {"x": 1})
    event.id = "../../etc/passwd with spaces"
    reply = deliver(client("triggers"), event, "triggers", path="/dead-letters")
    assert reply.status_code == 204
    (key,) = list(rt.store.list("dead-letters/"))
    assert key.startswith(f"dead-letters/{PROGRAM_DELTA_TYPE}/")
    assert json.loads(rt.store.get(key).data)["event"]["id"] == "../../etc/passwd with spaces"


def test_a_dead_letter_that_does_not_fit_is_parked_as_it_came_and_logged_with_its_id_escaped(data_dir):
    """An event parked unfit (its id is no event's: a line feed, an invisible character) is kept as it came, and its
    id, never checked, was logged as sent: it is logged escaped (observability.escaped_for_log)."""
    from structlog.testing import capture_logs

    from affiliate_matrix.observability import context_processors

    rt = Runtime("test", Settings(data_dir=data_dir))
    event = {"specversion": "1.0", "id": "a\u200bb\nc", "source": "/index", "type": PROGRAM_DELTA_TYPE,
             "time": "2026-11-22T06:00:00Z", "data": {"x": 1}}
    triggers = client("triggers")
    with capture_logs(processors=context_processors()) as lines:
        reply = deliver(triggers, event, "triggers", path="/dead-letters")
    assert reply.status_code == 204, reply.get_data(as_text=True)
    (key,) = list(rt.store.list("dead-letters/unfit/"))
    assert json.loads(rt.store.get(key).data)["event"]["id"] == "a\u200bb\nc"
    (parked,) = [line for line in lines if line["event"] == "event.dead_lettered"]
    assert parked["event_id"] == "a\\u200bb\\nc" and parked["type"] == PROGRAM_DELTA_TYPE


def test_dead_letters_of_one_id_from_two_sources_are_both_parked(data_dir):
    """The dead-letter sink keyed a parked event by its id alone, but CloudEvents ids are unique per source only:
    a second source's event of the same id overwrote the first one's dead letter."""
    rt = Runtime("test", Settings(data_dir=data_dir))
    for source in ("/scrape/a", "/scrape/b"):
        event = Event.make(PROGRAM_DELTA_TYPE, source, {"x": 1})
        event.id = "same-id"
        assert deliver(client("triggers"), event, "triggers", path="/dead-letters").status_code == 204
    keys = list(rt.store.list("dead-letters/"))
    assert sorted(json.loads(rt.store.get(key).data)["event"]["source"] for key in keys) == ["/scrape/a", "/scrape/b"]


def test_dead_letters_of_one_id_with_two_bodies_are_both_parked(data_dir):
    """An id published again with another body is other work (handlers/events), but its dead letter was named by
    (source, id) alone: the second body's letter overwrote the first's, and a person saw one of two failed events.
    The same event parked again (another time) is still one letter."""
    rt = Runtime("test", Settings(data_dir=data_dir))
    for x in (1, 2, 2):
        event = Event.make(PROGRAM_DELTA_TYPE, "/index", {"x": x})
        event.id = "same-id"
        assert deliver(client("triggers"), event, "triggers", path="/dead-letters").status_code == 204
    keys = list(rt.store.list("dead-letters/"))
    assert sorted(json.loads(rt.store.get(key).data)["event"]["data"]["x"] for key in keys) == [1, 2]


def test_a_dead_letter_parked_again_is_another_object_than_the_one_before(data_dir, monkeypatch):
    """A letter parked again with the same event had the same bytes, so the same ETag: the retention job's delete of
    an old letter (If-Match on the ETag it listed, to delete only that object) deleted the one parked again after its
    listing too. Each park records when it was parked, so each is another object, with another ETag."""
    from datetime import UTC, datetime, timedelta

    import affiliate_matrix.events as events
    from tests.support.clock import ManualWallClock

    clock = ManualWallClock(datetime(2026, 11, 22, tzinfo=UTC))
    monkeypatch.setattr(events, "clock", clock)
    rt = Runtime("test", Settings(data_dir=data_dir))
    event = Event.make(PROGRAM_DELTA_TYPE, "/index", {"x": 1}, key="k")
    etags = []
    for _ in range(2):
        assert deliver(client("triggers"), event, "triggers", path="/dead-letters").status_code == 204
        (key,) = list(rt.store.list("dead-letters/"))
        etags.append(rt.store.head(key))
        clock.advance(timedelta(days=31))
    assert etags[0] != etags[1]
    assert json.loads(rt.store.get(key).data)["parked_at"] == "2026-12-23T00:00:00+00:00"


PROGRAM_DELTA_TYPE = "dev.affiliatematrix.program.delta"


def test_a_head_on_an_export_answers_its_headers_without_building_it(data_dir, auth, monkeypatch):
    """A HEAD (a link checker, a download manager asking the name and type) wrote the whole Parquet file to a
    spool first. It answers what a GET would (a refused query is still a 400) without building the file."""
    from affiliate_matrix import exchange
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert("programs", [to_document(make_program("Shop", "https://shop.com"))], refresh=True)
    written = []
    real = exchange.write_parquet
    monkeypatch.setattr(exchange, "write_parquet", lambda items, sink: written.append(1) or real(items, sink))
    app = client("programs")
    for fmt, media in (("parquet", "application/vnd.apache.parquet"), ("csv", "text/csv")):
        head = app.head(f"/programs/export?format={fmt}", headers=auth)
        assert head.status_code == 200 and head.headers["Content-Type"].startswith(media)
        assert f'filename="programs.{fmt}"' in head.headers["Content-Disposition"] and head.get_data() == b""
    assert written == []  # no file built
    assert app.head("/programs/export?format=xml", headers=auth).status_code == 400  # checked as a GET is
    assert app.head("/programs/export?format=parquet&q=%2C", headers=auth).status_code == 400
    assert app.head("/programs/export?format=parquet").status_code == 401
    got = app.get("/programs/export?format=parquet", headers=auth)
    assert got.status_code == 200 and got.get_data()[:4] == b"PAR1" and written == [1]


def test_an_export_refuses_a_flag_it_cannot_read_naming_the_values_it_takes(data_dir, auth):
    """`excel=maybe` was refused in pydantic's words, "excel: Input should be a valid boolean, unable to interpret
    input", where every other parameter's refusal says what it takes and what was given."""
    answer = client("programs").get("/programs/export?format=csv&excel=maybe", headers=auth)
    assert answer.status_code == 400 and answer.get_json()["error"]["message"] == (
        "excel must be true or false, got 'maybe'")
    assert client("programs").get("/programs/export?format=csv&excel=true", headers=auth).status_code == 200


def test_an_export_failing_once_sent_is_cut_logged_once_without_its_words(data_dir, auth, monkeypatch):
    """An export whose index failed after its 200 went out raised the fault itself out of the body: the server logged
    its traceback, the fault's words in it (a credential a URL quoted). The body raises StreamCut instead, which the
    server cuts the connection on, once the fault is logged as a route's is: its type and places, the request's id."""
    from structlog.testing import capture_logs

    from affiliate_matrix import exchange
    from affiliate_matrix.handlers import StreamCut
    from affiliate_matrix.observability import context_processors
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert("programs", [to_document(make_program("Shop", "https://shop.com"))], refresh=True)
    read = exchange.programs

    def failing_midway(*args, **kwargs):
        yield from read(*args, **kwargs)
        raise RuntimeError("no answer from https://ops:hunter2@search.example/programs")

    monkeypatch.setattr(exchange, "programs", failing_midway)
    app = client("programs")  # (a function's start configures its logs: before they are captured)
    with capture_logs(processors=context_processors()) as logs, pytest.raises(StreamCut) as cut:
        app.get("/programs/export?format=jsonl", headers={**auth, "X-Request-Id": "req-8"})
    assert "hunter2" not in str(cut.value) and "req-8" in str(cut.value) and cut.value.__suppress_context__
    [failed] = [line for line in logs if line["log_level"] == "error"]
    assert (failed["event"], failed["request_id"], failed["error"]) == ("request.cut", "req-8", "RuntimeError")
    assert failed["at"].startswith("functions/test_functions.py:") and "hunter2" not in json.dumps(logs)


def test_a_token_cut_short_is_named_as_such_not_as_a_missing_header(data_dir, auth):
    """A token pasted without its last characters was answered "send Authorization: Bearer <token>", though the
    header was sent: the caller looked for a missing header. It is named as a token of the wrong form, never echoed."""
    cut = auth["Authorization"][:-5]
    answer = client("programs").get("/programs", headers={"Authorization": cut})
    message = answer.get_json()["error"]["message"]
    assert answer.status_code == 401 and "cut short" in message and "send Authorization" not in message, message
    assert cut.split()[1] not in message and cut.split()[1][4:16] not in message
    for missing in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        answer = client("programs").get("/programs", headers=missing)
        assert "send Authorization" in answer.get_json()["error"]["message"], missing


@pytest.mark.parametrize("query, named", [("field=comission", "field"), ("field=commission_percent", "field"),
                                          ("program_id=bluehost.com", "program_id")])
def test_a_change_feed_filter_no_change_can_match_is_a_400_naming_it(data_dir, auth, query, named):
    """`/changes?field=comission` (a typo) answered an empty feed, read as "no commission changed"; so did a merchant
    key given as program_id. A field the feed never names, or a value that is no program id, is a 400 naming it."""
    answer = client("programs").get(f"/changes?{query}", headers=auth)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["message"].startswith(named), answer.get_json()


def test_the_change_feed_since_a_day_is_since_its_midnight_utc(data_dir, auth):
    """`/changes?since=2026-11-18` was a 400 ("Input should have timezone info"), though a day names no time to
    give a zone to, and the Changes page took it as that day's midnight UTC: the API reads it so too."""
    from datetime import timedelta

    from affiliate_matrix.deltas import DELTAS_INDEX, to_document
    from affiliate_matrix.models import DeltaChange, FieldChange

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(DELTAS_INDEX)
    midnight = datetime(2026, 11, 18, tzinfo=UTC)
    deltas = [DeltaChange(id=f"d_{i}", program_id=f"p_{i:016x}", change="updated", at=midnight + timedelta(hours=h),
                          source="t", fields=[FieldChange(field="cookie_days", old=1, new=2)])
              for i, h in enumerate((-1, 0, 5))]
    rt.index.bulk_upsert("deltas", [to_document(d, recorded_at=d.at) for d in deltas], refresh=True)
    app = client("programs")
    for since in ("2026-11-18", "2026-11-18T00:00:00Z"):
        answer = app.get(f"/changes?since={since}", headers=auth)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert [d["id"] for d in answer.get_json()["items"]] == ["d_2", "d_1"], since
    refused = app.get("/changes?since=2026-11-18T00:00:00", headers=auth).get_json()["error"]["message"]
    assert refused == SINCE_FORMS + "not '2026-11-18T00:00:00'"


@pytest.mark.parametrize("since", ["2026-11-18 00:00:00Z", "2026-W47-3", "2026-W47-3T00:00:00Z", "2026-322",
                                   "2026-322T00:00:00Z", "20261118T000000Z", "20261118", "2026-11-18t00:00:00Z", "",
                                   " 2026-11-18T00:00:00Z", "2026-11-18T00:00:00Z ", "2026-02-30T00:00:00Z"])
def test_a_since_the_index_would_refuse_is_a_400_naming_the_form(data_dir, auth, since):
    """`since=2026-11-18 00:00:00Z` (a space before the time), a week date (2026-W47-3T00:00:00Z) or a basic-form
    one (20261118T000000Z) was read by Python's own ISO reader and passed on normalised, though the index port and
    OpenSearch read that text as no date: the API takes a time by the port's one rule, and names the form it takes."""
    from urllib.parse import quote

    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.search import query_time

    answer = client("programs").get(f"/changes?since={quote(since)}", headers=auth)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    message = answer.get_json()["error"]["message"]
    assert message == SINCE_FORMS + f"not {since!r}", message
    with pytest.raises(InvalidInput):  # the port refuses it too: one rule
        query_time(since, "since")


@pytest.mark.parametrize("since", ["2026-11-18", "2026-11-18T00:00:00Z", "2026-11-18T02:00:00+02:00", "2026-11-18T00Z",
                                   "2026-11-17T19:00:00.000000-05:00"])
def test_a_since_the_index_takes_the_api_takes_as_the_same_instant(data_dir, auth, since):
    from datetime import timedelta
    from urllib.parse import quote

    from affiliate_matrix.deltas import DELTAS_INDEX, to_document
    from affiliate_matrix.models import DeltaChange, FieldChange
    from affiliate_matrix.search import query_time

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(DELTAS_INDEX)
    midnight = datetime(2026, 11, 18, tzinfo=UTC)
    deltas = [DeltaChange(id=f"d_{i}", program_id=f"p_{i:016x}", change="updated", at=at, source="t",
                          fields=[FieldChange(field="cookie_days", old=1, new=2)])
              for i, at in enumerate((midnight - timedelta(minutes=1), midnight))]
    rt.index.bulk_upsert("deltas", [to_document(d, recorded_at=d.at) for d in deltas], refresh=True)
    answer = client("programs").get(f"/changes?since={quote(since)}", headers=auth)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert [d["id"] for d in answer.get_json()["items"]] == ["d_1"], since
    assert query_time(since, "since") == midnight.isoformat()


def test_a_cursor_pages_a_search_whose_repeated_filter_is_given_in_the_other_order(data_dir, auth):
    """`status=active&status=discovered` and `status=discovered&status=active` are one search with one ETag (the
    parameters sorted), so the second was answered from the cache with the first's next_cursor, which was bound to the
    first's order of the values: paging on with it was a 400, "cursor belongs to a different query"."""
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=data_dir))
    rt.index.ensure_index(PROGRAMS_INDEX)
    programs = [make_program(f"Shop {i}", f"https://shop{i}.com") for i in range(3)]
    rt.index.bulk_upsert("programs", [to_document(p) for p in programs], refresh=True)
    app = client("programs")
    app.get("/programs?status=active&status=discovered&limit=1", headers=auth)
    seen, url = [], "/programs?status=discovered&status=active&limit=1"
    while url:
        answer = app.get(url, headers=auth)
        assert answer.status_code == 200, answer.get_json()
        seen += [item["id"] for item in answer.get_json()["items"]]
        cursor = answer.get_json()["next_cursor"]
        url = f"/programs?status=discovered&status=active&limit=1&cursor={cursor}" if cursor else None
    assert sorted(seen) == sorted(p.id for p in programs)


def test_a_scrape_run_again_for_one_event_announces_its_failure_once(data_dir, monkeypatch):
    """A scrape asked for by an event naming no sync (a connection's own PingSource) announced its failure under an id
    drawn from the clock: the event delivered again (its work failing after the announcement, or its claim taken over)
    published another sync.failed, which the rules took as another failure. The id now derives from the event."""
    import affiliate_matrix.pipeline as pipeline
    from affiliate_matrix.crawl import Failure
    from affiliate_matrix.events import SYNC_FAILED
    from affiliate_matrix.handlers.scrape import collect

    failed = pipeline.ScrapeReport("ap", "", "", 0, [Failure("https://ap.example/", "fetch", "HTTP 503")])
    monkeypatch.setattr(pipeline, "scrape", lambda rt, connection_id, replay: failed)
    rt = Runtime("scrape", Settings(data_dir=data_dir))
    tick = Event.make("dev.knative.sources.ping", "/cron/scrape-ap", {"connection_id": "ap"}, key="2026-11-21T03:00")
    other = Event.make("dev.knative.sources.ping", "/cron/scrape-ap", {"connection_id": "ap"}, key="2026-11-22T03:00")
    for event in (tick, tick, other):
        collect(rt, event)
    announced = [e for e in rt.bus.published if e.type == SYNC_FAILED]
    assert len(announced) == 3 and announced[0].id == announced[1].id != announced[2].id
    assert announced[0].data["errors"] == ["fetch https://ap.example/: HTTP 503"]


def test_the_programs_document_describes_every_filter_and_names_each_facet_with_its_filter(data_dir, auth):
    """A client generated from /openapi.json had network and source with no word between them (network=
    affiliateprograms found nothing, silently: it is a source), nor what kind, category, the minimums or the change
    feed's program_id, field and change take; and the facets as a bare map, whose keys (commission_flat_currencies)
    are not the parameters that filter by them (flat_currency)."""
    app = client("programs")
    document = app.get("/openapi.json").get_json()
    undescribed = [(path, p["name"]) for path in ("/programs", "/programs/export", "/changes")
                   for p in document["paths"][path]["get"]["parameters"]
                   if not p.get("description") and p["name"] not in ("limit", "format")]
    assert undescribed == []
    facets = document["components"]["schemas"]["ProgramPage"]["properties"]["facets"]["description"]
    answered = app.get("/programs", headers=auth).get_json()["facets"]
    assert answered and all(f"{name} (" in facets for name in answered), facets
    assert "commission_flat_currencies (flat_currency=)" in facets and "networks (network=)" in facets


def test_a_fault_no_route_foresaw_is_a_500_in_the_error_shape_logged_once_without_its_words_or_a_traceback(
        data_dir, monkeypatch, capsys):
    """A fault no branch of serve answers (a bug; here a route raising what it never raises on purpose) was left to
    Flask: a text/html 500 without the request's id, uncounted by /metrics, and Flask's traceback on stderr in lines of
    its own, unredacted (a credential in a URL the fault quoted was logged whole). It is answered as every error is,
    counted, and logged once, with the request's id, the fault's type and where it was raised."""
    from structlog.testing import capture_logs

    from affiliate_matrix.auth import create_token
    from affiliate_matrix.handlers import connections
    from affiliate_matrix.observability import context_processors

    def load_sync(rt, sync_id):
        raise RuntimeError("no answer from https://ops:hunter2@vault.example/v1/x?token=s3cr3t")

    monkeypatch.setattr(connections, "load_sync", load_sync)
    admin = {"Authorization": f"Bearer {create_token(Runtime('test', Settings(data_dir=data_dir)).secrets, 'admin')}"}
    app = client("connections")

    def crashes() -> float:
        found = [line for line in app.get("/metrics", headers=admin).get_data(as_text=True).splitlines()
                 if line.startswith('amx_requests_total{function="connections",status="500"}')]
        return float(found[0].rsplit(" ", 1)[1]) if found else 0.0

    before = crashes()
    capsys.readouterr()
    with capture_logs(processors=context_processors()) as logs:
        answer = app.get("/syncs/s_" + "0" * 32, headers={**admin, "X-Request-Id": "req-5"})
    printed = capsys.readouterr()
    assert answer.status_code == 500 and answer.headers["X-Request-Id"] == "req-5", answer.get_data(as_text=True)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.get_json() == {"error": {"code": "internal_error", "message": "an unexpected fault: it is logged "
                                           "with this request's id", "request_id": "req-5"}}
    [failed] = [line for line in logs if line["log_level"] == "error"]
    assert (failed["event"], failed["request_id"], failed["error"]) == ("request.failed", "req-5", "RuntimeError")
    assert failed["at"].startswith("functions/test_functions.py:")
    for text in (json.dumps(logs), printed.out, printed.err, answer.get_data(as_text=True)):
        assert "hunter2" not in text and "s3cr3t" not in text and "Traceback" not in text
    assert crashes() == before + 1


@pytest.mark.parametrize("path", ["/programs?q=x&colour%E2%80%AE=1&a%0Ab=2", "/healthz?colour%E2%80%AE=1&a%0Ab=2"])
def test_an_unknown_parameters_name_is_named_escaped(path, data_dir, auth):
    """An unknown parameter's name was named as sent: a right-to-left override in it turned the message around it in
    whatever showed it, a line feed broke it in two. Each is named escaped, as a log line holds it."""
    refused = client("programs").get(path, headers=auth)
    assert refused.status_code == 400, refused.get_data(as_text=True)
    assert refused.json["error"]["message"].startswith("unknown parameter(s): a\\nb, colour\\u202e; ")
