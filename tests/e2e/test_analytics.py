"""Query analytics on a recorded query log: the report names the most frequent and slowest
shapes, the warm list and facet snapshots are written and used, mapping changes are proposed
(not applied); and the programs API records what it is asked, never the token."""

import json
from datetime import UTC, datetime

import pytest
from functions_framework import create_app
from werkzeug.datastructures import MultiDict

from affiliate_matrix.analytics import SNAPSHOTS_KEY, analyze
from affiliate_matrix.config import Settings
from affiliate_matrix.program_index import FACETS, PROGRAMS_INDEX, filtering, to_document
from affiliate_matrix.query_log import QUERIES_INDEX, WARM_KEY, flush_all
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.processes import ROOT
from tests.support.synthetic import programs
from tests.support.wait import wait_until

LOG = ROOT / "tests" / "data" / "query_log.jsonl"
SINCE = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def rt(tmp_path):
    runtime = Runtime("test", Settings(data_dir=tmp_path))
    runtime.index.ensure_index(PROGRAMS_INDEX)
    runtime.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in programs(300)], refresh=True)
    runtime.index.ensure_index(QUERIES_INDEX)
    rows = [json.loads(line) for line in LOG.read_text().splitlines()]
    runtime.index.bulk_upsert(QUERIES_INDEX.name, [{"id": f"q{i}", **row} for i, row in enumerate(rows)], refresh=True)
    return runtime


def test_the_report_names_the_frequent_and_slow_shapes_and_acts(rt):
    report = analyze(rt, since=SINCE)
    assert report.queries == 400
    assert report.frequent_shapes[0]["shape"] == "no-text category sort=relevance"
    assert report.slowest_shapes[0]["shape"] == "text min_cookie_days sort=epc"
    assert report.slowest_shapes[0]["p95_ms"] > 100 > report.frequent_shapes[0]["p95_ms"]
    assert report.top_queries[0]["query"] == "/programs?category=travel"
    warm = json.loads(rt.store.get(WARM_KEY).data)["queries"]
    assert warm[0] == "/programs?category=travel" and len(warm) == 5
    snapshots = json.loads(rt.store.get(SNAPSHOTS_KEY).data)
    assert set(snapshots["snapshots"]) == {"category=travel", "category=software&network=awin",
                                           "network=impact"}  # words and minimums are not snapshot
    assert snapshots["generation"] == rt.index.generation(PROGRAMS_INDEX.name)
    assert {p["field"] for p in report.proposals} >= {"categories"}
    text = report.text()
    assert "Most frequent shapes:" in text and "not applied" in text and "categories: eager_global_ordinals" in text


def test_the_reports_text_counts_one_query_and_one_snapshot_in_the_singular():
    """`amx analytics report` said "1 queries since …" and "Acted: 1 queries on the warm list, 1 facet snapshots."."""
    from affiliate_matrix.analytics import Report

    lines = Report(since=datetime(2026, 12, 1, tzinfo=UTC), queries=1, warmed=1, snapshots=1).text().splitlines()
    assert lines[0] == "1 query since 2026-12-01 00:00 UTC", lines
    assert "Acted: 1 query on the warm list, 1 facet snapshot." in lines, lines


def test_the_programs_api_uses_the_snapshot_and_warm_list_and_records_queries(rt, monkeypatch):
    from affiliate_matrix.auth import create_token
    from affiliate_matrix.handlers import programs as handler

    analyze(rt, since=SINCE)
    monkeypatch.setenv("AMX_DATA_DIR", str(rt.settings.data_dir))
    token = create_token(rt.secrets, "read")
    client = create_app("handle", str(ROOT / "functions" / "programs" / "main.py")).test_client()
    auth = {"Authorization": f"Bearer {token}"}
    direct = rt.index.search(PROGRAMS_INDEX.name, SearchQuery(**filtering({"category": ["travel"]}),
                                                              facets=FACETS, size=0))  # open ones only
    generation = rt.index.generation(PROGRAMS_INDEX.name)
    warmed = handler.etag_of(generation, "/programs", MultiDict([("q", "hosting")]))
    with client.get("/programs?category=travel", headers=auth) as response:  # closed as a server does: the warm-up starts then
        reply = response.json
    assert reply["facets"]["networks"] == [{"value": v, "count": n} for v, n in direct.facets["networks"]]
    # the warm list was replayed into the cache when the function first saw this generation
    wait_until(lambda: warmed in handler.answers, "the warm list to be replayed")
    flush_all()
    rows = rt.index.search(QUERIES_INDEX.name, SearchQuery(filters={"query": ["/programs?category=travel"]}, size=500))
    recorded = [h.doc for h in rows.hits if h.doc["at"] > "2026-11-22"]
    assert recorded and recorded[0]["shape"] == "no-text category sort=relevance" and recorded[0]["hits"] > 0
    assert token not in json.dumps(recorded)



def _record(rt, *queries: str) -> None:
    """Queries the programs API answered (200), recorded as the Recorder writes them."""
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from affiliate_matrix.handlers.search_params import as_searched
    from affiliate_matrix.query_log import query_of, shape_of

    docs = []
    for n, query in enumerate(queries):
        args = MultiDict(parse_qsl(query, keep_blank_values=True))
        docs.append({"id": f"hostile{n}", "at": "2026-11-21T12:00:00+00:00", "path": "/programs",
                     "shape": shape_of(args), "query": query_of("/programs", args, as_searched), "filters": sorted(args),
                     "sort": "relevance", "has_text": False, "latency_ms": 1.0, "hits": 0, "status": 200})
    rt.index.bulk_upsert(QUERIES_INDEX.name, [{**d, "id": f"{d['id']}-{i}"} for i in range(60) for d in docs],
                         refresh=True)


def test_a_filter_value_holding_ampersand_and_equals_neither_stops_the_analysis_nor_shares_a_snapshot(rt):
    # category "travel&bogus=1" is one (valid, matching nothing) value; its snapshot key read as two filters,
    # one of them unknown, raised KeyError out of the analysis (the index function's hourly run)
    _record(rt, "category=travel%26bogus%3D1", "category=software%26network%3Dawin", "category=")
    report = analyze(rt, since=SINCE)
    assert report.snapshots >= 4


def test_a_search_gets_the_facets_of_its_own_filters_never_a_snapshot_of_others(rt, monkeypatch):
    from affiliate_matrix.auth import create_token

    _record(rt, "network=awin%26category%3Dsoftware", "network=")
    analyze(rt, since=SINCE)
    monkeypatch.setenv("AMX_DATA_DIR", str(rt.settings.data_dir))
    auth = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    client = create_app("handle", str(ROOT / "functions" / "programs" / "main.py")).test_client()
    # one network value holding '&' and '=' (no program has it), and an empty network value (likewise): each was
    # answered with the facets of another filter set's snapshot (awin and software; no filter at all). A network, as a
    # category is refused unless it is one of the taxonomy's, and a blank one is refused (no program has it)
    reply = client.get("/programs?network=awin%26category%3Dsoftware", headers=auth).json
    assert reply["total"] == 0
    assert all(buckets == [] for buckets in reply["facets"].values()), reply["facets"]
    blank = client.get("/programs?network=", headers=auth)  # no program has it: refused, never a snapshot's facets
    assert blank.status_code == 400 and "network" in blank.json["error"]["message"], blank.json


def test_a_proposal_names_the_field_a_filter_searches():
    """country= filters open_countries (the countries a program takes, or worldwide) since programs v10, but the
    proposals named countries, a field no common query searches: tuning it as proposed would change nothing."""
    from affiliate_matrix.analytics import proposals

    rows = [{"filters": ["country", "category"]}] * 3 + [{"filters": []}]
    assert {p["field"] for p in proposals(rows)} == {"open_countries", "categories"}


def test_a_snapshot_of_a_search_asking_the_three_month_epc_counts_its_currencies(rt, monkeypatch):
    # epc_window names which EPC the currency filter and facet read, and is no filter: a frequent epc_window=90d search
    # must be snapshot with the 3-month EPC's currencies, what the search itself counts (never the 7-day EPC's)
    from affiliate_matrix.auth import create_token
    from affiliate_matrix.models import Money
    from tests.support.factories import make_program

    awin = make_program("Pound Shoes", "https://poundshoes.com")
    awin.epc_90d = Money(amount="0.80", currency="GBP")
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(awin)], refresh=True)
    _record(rt, "epc_window=90d", "epc_window=90d&epc_currency=GBP")
    analyze(rt, since=SINCE)
    snapshots = json.loads(rt.store.get(SNAPSHOTS_KEY).data)["snapshots"]
    assert snapshots["epc_window=90d"]["epc_currency"] == [["GBP", 1]]
    assert snapshots["epc_currency=GBP&epc_window=90d"]["epc_currency"] == [["GBP", 1]]
    monkeypatch.setenv("AMX_DATA_DIR", str(rt.settings.data_dir))
    auth = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    client = create_app("handle", str(ROOT / "functions" / "programs" / "main.py")).test_client()
    reply = client.get("/programs?epc_window=90d&epc_currency=GBP", headers=auth).json
    assert reply["total"] == 1 and reply["facets"]["epc_currency"] == [{"value": "GBP", "count": 1}]


def test_one_network_typed_two_ways_is_one_query_and_one_snapshot(rt):
    # network=CJ, network=ＣＪ (full-width) and network=cj are one search (the API reads each as cj), but were logged
    # as three queries: each computed a snapshot of its own, and one typed otherwise than the analysis saw missed it
    from affiliate_matrix.handlers import programs as handler

    _record(rt, "network=CJ", "network=%EF%BC%A3%EF%BC%AA", "network=cj&category=travel",
            "network=CJ.com&category=travel")
    analyze(rt, since=SINCE)
    keys = {key for key in json.loads(rt.store.get(SNAPSHOTS_KEY).data)["snapshots"] if "network" in key}
    assert keys == {"network=cj", "category=travel&network=cj", "category=software&network=awin", "network=impact"}
    for typed in ("CJ", "ｃｊ", "cj.com"):
        assert handler.facet_snapshot(rt, MultiDict([("network", typed)])) is not None, typed


def test_the_programs_api_logs_a_network_typed_full_width_as_the_search_read_it(tmp_path):
    # The log's key is the HTTP layer's reading of each filter (search_params.as_searched), handed to the recorder
    from affiliate_matrix.handlers.programs import recorder

    runtime = Runtime("test", Settings(data_dir=tmp_path))
    recorder(runtime).record("/programs", MultiDict([("network", "ＣＪ"), ("category", "nonsense")]), 1.0, 0, 200)
    flush_all()
    runtime.index.refresh(QUERIES_INDEX.name)
    (logged,) = [hit.doc for hit in runtime.index.search(QUERIES_INDEX.name, SearchQuery(size=10)).hits]
    assert logged["query"] == "/programs?category=nonsense&network=cj"  # a value the search refused stays as typed


def test_a_token_pasted_into_the_search_box_is_logged_without_its_secret(rt, monkeypatch):
    # the query log is read in Dashboards and replayed by the warmer: a token typed as the words of a search (a paste
    # into the wrong box) was kept whole in it
    from affiliate_matrix.auth import create_token

    monkeypatch.setenv("AMX_DATA_DIR", str(rt.settings.data_dir))
    token = create_token(rt.secrets, "read")
    client = create_app("handle", str(ROOT / "functions" / "programs" / "main.py")).test_client()
    with client.get(f"/programs?q=see {token} here", headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status_code == 200  # closed as a server does: the query is recorded then
    flush_all()
    token_id, secret = token.split("_")[1], token.split("_", 2)[2]
    kept = f"/programs?q=see+amx_{token_id}_%E2%80%A6+here"

    def logged():  # a flush due by its clock may be writing it on the recorder's own thread
        return rt.index.search(QUERIES_INDEX.name, SearchQuery(filters={"query": [kept]}, size=10))

    wait_until(lambda: logged().total == 1, "the search to be logged")
    queries = rt.index.search(QUERIES_INDEX.name, SearchQuery(size=500)).hits
    assert secret not in json.dumps([hit.doc for hit in queries])
