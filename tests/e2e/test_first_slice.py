"""The spine's end-to-end slice over real HTTP: recorded pages → raw store → RawRecords →
Programs → search index, then the same through the CLI and a separately started function."""

import json
import os
import subprocess
from decimal import Decimal

import httpx
import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.pipeline import index_batch, scrape
from affiliate_matrix.program_index import from_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.processes import BIN, ROOT, free_port
from tests.support.slice import run_slice
from tests.support.wait import wait_until


@pytest.fixture(scope="module")
def site():
    with recorded_sites("affiliateprograms") as urls:
        yield urls["affiliateprograms"]


def program_named(rt, name):
    hits = rt.index.search("programs", SearchQuery(size=50)).hits
    return next(from_document(h.doc) for h in hits if h.doc["name"] == name)


def test_recorded_pages_become_indexed_programs(tmp_path, site):
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    report, indexed = run_slice(rt, site)

    assert report.records == 6  # Hostinger's page in another layout is read by the generic reader
    assert [(f.stage, f.url.endswith("/p/surfshark/")) for f in report.failures] == [("parse", True)]
    raw_pages = list(rt.store.list("raw/affiliateprograms/"))
    assert len(raw_pages) == 3 + 7  # every fetched page kept raw: 3 listings, 7 details
    (error_key,) = list(rt.store.list("errors/"))
    error = json.loads(rt.store.get(error_key).data)
    assert error["raw_key"] in raw_pages and "program-name" in error["error"]
    assert b"Surfshark" in rt.store.get(error["raw_key"]).data  # the page that failed is kept for replay

    assert [(r.created, r.errors) for r in indexed] == [(6, [])]
    semrush = program_named(rt, "Semrush")
    assert semrush.merchant_domain == "semrush.com" and semrush.merchant_key_source == "domain"
    # "$200 for every new subscription sale, $10 per trial": flat amounts of one currency are one range
    assert [(t.type, t.value_min, t.value_max, t.currency) for t in semrush.commission] == [
        ("flat", Decimal(10), Decimal(200), "USD")]
    assert semrush.cookie_days == 120
    assert [n.network for n in semrush.networks] == ["impact"]
    assert semrush.categories == ["marketing_tools", "software"]
    assert semrush.payout.methods == ["paypal", "wire"] and semrush.payout.frequency == "monthly"
    assert semrush.payout.minimum.amount == 50
    assert semrush.provenance["cookie_days"][0].raw_key in raw_pages
    canva = program_named(rt, "Canva Pro")
    assert [(t.value_min, t.value_max) for t in canva.commission] == [(None, Decimal(36))]
    tiny = program_named(rt, "Tiny Notes")  # a listing with missing fields: empty, not guessed
    assert (tiny.commission, tiny.cookie_days, tiny.merchant_key_source) == ([], None, "name")

    result = rt.index.search("programs", SearchQuery(text="hosting", filters={"networks": ["impact"]}))
    assert [h.doc["name"] for h in result.hits] == ["Bluehost"]


def test_indexing_the_same_batch_twice_changes_nothing(tmp_path, site):
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    report, _ = run_slice(rt, site)
    before = rt.index.search("programs", SearchQuery(size=50))
    again = index_batch(rt, report.batch_key)
    after = rt.index.search("programs", SearchQuery(size=50))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert [h.doc for h in before.hits] == [h.doc for h in after.hits]


def test_scraping_again_keeps_ids_and_first_seen(tmp_path, site):
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    first_report, _ = run_slice(rt, site)
    assert (first_report.pages, first_report.not_modified) == (10, 0)
    first = {p.id: p for p in map(from_document, (h.doc for h in rt.index.search("programs", SearchQuery(size=50)).hits))}
    again = scrape(rt, "ap")
    assert (again.pages, again.not_modified, again.records) == (10, 10, 6)  # every page a 304, parsed from the kept copy
    second = {p.id: p for p in map(from_document, (h.doc for h in rt.index.search("programs", SearchQuery(size=50)).hits))}
    assert set(first) == set(second)
    assert all(second[i].first_seen_at == first[i].first_seen_at for i in first)
    assert all(second[i].last_seen_at > first[i].last_seen_at for i in first)


def test_loopback_is_refused_unless_allowed(tmp_path, site):
    rt = Runtime("test", Settings(data_dir=tmp_path))
    report, _ = run_slice(rt, site)
    assert report.records == 0
    assert {f.stage for f in report.failures} == {"fetch"}
    assert "127.0.0.1 resolves to a non-public address (loopback)" in report.failures[0].reason


def amx(*args, cwd, env=None):
    return subprocess.run([str(BIN / "amx"), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_demo_then_a_function_started_later_sees_its_data(tmp_path):
    demo = amx("demo", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "listings became" in demo.stdout
    port = free_port()
    process = subprocess.Popen([str(BIN / "amx-function"), "--source", str(ROOT / "functions/programs/main.py"),
                                "--target", "handle", "--host", "127.0.0.1", "--port", str(port)], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    token = amx("tokens", "create", "--role", "read", cwd=tmp_path).stdout.strip()
    assert token.startswith("amx_")
    try:
        body = wait_json(f"http://127.0.0.1:{port}/programs?q=hosting", process, {"Authorization": f"Bearer {token}"})
        assert {"Bluehost", "Hostinger", "HostFast"} <= {item["name"] for item in body["items"]}
        show = amx("show", next(item["id"] for item in body["items"] if item["name"] == "Bluehost"), cwd=tmp_path)
        assert show.returncode == 0 and "provenance" in show.stdout and "Cookie length" in show.stdout
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_json(url, process, headers):
    """The JSON `url` answers once the function `process` listens (an AssertionError if it exits first)."""
    def answer():
        if process.poll() is not None:
            raise AssertionError(f"function exited: {process.stderr.read()}")
        try:
            return httpx.get(url, headers=headers, timeout=2).json()
        except httpx.TransportError:
            return None

    return wait_until(answer, f"an answer from {url}", timeout=30)


@pytest.mark.parametrize("env,setting", [
    ({"AMX_SEARCH": "elastic"}, "AMX_SEARCH"),
    ({"AMX_SEARCH": "opensearch", "AMX_OPENSEARCH_URL": "http://127.0.0.1:9"}, "AMX_OPENSEARCH_URL"),
    ({"AMX_SERACH": "sqlite"}, "AMX_SERACH"),
])
def test_bad_configuration_is_one_line_naming_the_setting(tmp_path, env, setting):
    result = amx("search", "x", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert setting in result.stderr and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_function_with_bad_configuration_exits_with_one_clear_line(tmp_path):
    result = subprocess.run([str(BIN / "amx-function"), "--source", str(ROOT / "functions/programs/main.py"),
                             "--target", "handle", "--port", str(free_port())], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60,
                            env={**os.environ, "AMX_SEARCH": "opensearch", "AMX_OPENSEARCH_URL": "http://127.0.0.1:9"})
    assert result.returncode != 0
    assert "programs: configuration error: AMX_OPENSEARCH_URL: cannot reach OpenSearch" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_function_that_cannot_reach_opensearch_names_the_node_without_its_credentials(tmp_path):
    result = subprocess.run([str(BIN / "amx-function"), "--source", str(ROOT / "functions/programs/main.py"),
                             "--target", "handle", "--port", str(free_port())], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "AMX_SEARCH": "opensearch",
                                                        "AMX_OPENSEARCH_URL": "http://admin:hunter2@127.0.0.1:9"})
    assert result.returncode != 0
    assert "cannot reach OpenSearch at http://127.0.0.1:9" in result.stderr
    assert "hunter2" not in result.stderr and "admin" not in result.stderr


@pytest.mark.slow
def test_the_same_demo_runs_on_s3_and_opensearch_by_settings_alone(tmp_path, s3_settings, opensearch_node):
    env = {"AMX_OBJECT_STORE": "s3", "AMX_S3_ENDPOINT_URL": s3_settings.s3_endpoint_url,
           "AMX_S3_BUCKET": s3_settings.s3_bucket, "AMX_S3_ACCESS_KEY_ID": "test", "AMX_S3_SECRET_ACCESS_KEY": "test",
           "AMX_SEARCH": "opensearch", "AMX_OPENSEARCH_URL": opensearch_node.url, "AMX_INDEX_PREFIX": "demo"}
    demo = amx("demo", cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert not (tmp_path / ".amx").exists() or not any((tmp_path / ".amx").rglob("*.html"))
    s3 = Runtime("test", s3_settings).store
    assert len(list(s3.list("raw/affiliateprograms/"))) == 10
    def count(status: dict) -> int:
        return httpx.post(f"{opensearch_node.url}/demo-programs/_count",
                          json={"query": {"bool": status}}).json()["count"]

    # the programs its sources list, beside the two its discovery found (step 6)
    listed = count({"must_not": {"term": {"status": "discovered"}}})
    assert f"became {listed} programs" in " ".join(demo.stdout.split()) and listed > 6  # every source, not one
    assert count({"filter": {"term": {"status": "discovered"}}}) == 2


def test_a_commission_change_is_one_delta_in_the_feed_and_one_event(tmp_path):
    import shutil

    from affiliate_matrix.events import PROGRAM_DELTA
    from affiliate_matrix.sources import get_source

    site_dir = tmp_path / "site"
    shutil.copytree(get_source("affiliateprograms").recorded_dir(), site_dir)
    rt = Runtime("test", Settings(data_dir=tmp_path / "data", allow_loopback_fetch=True))
    events = []
    rt.bus.subscribe(PROGRAM_DELTA, events.append)
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site_dir}) as urls:
        run_slice(rt, urls["affiliateprograms"])
        assert {e.data["change"] for e in events} == {"created"} and len(events) == 6
        page = site_dir / "p/semrush/index.html"
        page.write_text(page.read_text().replace("$200 for every new subscription sale", "$250 for every new subscription sale"))
        events.clear()
        report = scrape(rt, "ap")
    (delta,) = [e.data for e in events]
    assert delta["change"] == "updated"
    assert {f["field"] for f in delta["fields"]} == {"commission", "commission_text"}
    commission = next(f for f in delta["fields"] if f["field"] == "commission")
    assert commission["old"][0]["value_max"] == "200" and commission["new"][0]["value_max"] == "250"

    feed = rt.index.search("deltas", SearchQuery(filters={"fields": ["commission"], "change": ["updated"]}))
    assert [h.doc["delta"]["id"] for h in feed.hits] == [delta["id"]]
    again = index_batch(rt, report.batch_key)  # a redelivered batch records nothing new
    assert again.deltas == [] and rt.index.search("deltas", SearchQuery()).total == 7


def test_documents_the_index_refuses_are_recorded_beside_the_batch(tmp_path, site, monkeypatch):
    import affiliate_matrix.pipeline as pipeline

    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    real = pipeline.to_document
    # Stub: a document the mapping refuses (as a mapping change would cause); no real source produces one.
    monkeypatch.setattr(pipeline, "to_document", lambda p: {**real(p), "unmapped": 1} if p.name == "Bluehost" else real(p))
    report, indexed = run_slice(rt, site)
    (result,) = indexed
    from affiliate_matrix.normalize import program_id

    assert result.created == 6 and [doc_id for doc_id, _ in result.errors] == [program_id("bluehost.com", "program")]
    (error_key,) = [k for k in rt.store.list("errors/index/")]
    recorded = json.loads(rt.store.get(error_key).data)
    assert recorded["batch_key"] == report.batch_key and "unmapped" in recorded["errors"][0]["reason"]
    assert rt.index.search("programs", SearchQuery()).total == 5
    assert all(d.program_id != recorded["errors"][0]["id"] for d in result.deltas)  # no delta for what did not land


def test_a_later_listing_without_a_domain_joins_the_indexed_program(tmp_path):
    from tests.support.factories import make_record

    rt = Runtime("test", Settings(data_dir=tmp_path))

    def index_records(*records):
        batch = "\n".join(r.model_dump_json() for r in records).encode()
        return index_batch(rt, rt.store.put_content_addressed("batches/test", batch, suffix=".jsonl"))

    first = index_records(make_record("Semrush", "https://www.semrush.com/", cookie_text="120 days"))
    assert first.created == 1
    later = index_records(make_record("SEMrsh Affiliate Program", None, cookie_text="120 days",
                                      commission_text="$200 per sale").model_copy(update={"source": "other_dir"}))
    assert (later.created, later.updated) == (0, 1)
    (program,) = [from_document(h.doc) for h in rt.index.search("programs", SearchQuery()).hits]
    assert program.merchant_key == "semrush.com" and program.commission[0].value_min == 200
    assert {program.name, *program.aliases} == {"Semrush", "SEMrsh Affiliate Program"}
    assert {c.source for c in program.provenance["name"]} == {"test", "other_dir"}
    unrelated = index_records(make_record("Bluehost", None))
    assert unrelated.created == 1 and rt.index.search("programs", SearchQuery()).total == 2


def test_replay_after_a_parser_fix_parses_stored_pages_without_the_network(tmp_path, monkeypatch):
    from affiliate_matrix.sources import Listing
    from affiliate_matrix.sources.affiliateprograms import AffiliateProgramsCom

    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    with recorded_sites("affiliateprograms") as urls:
        first, _ = run_slice(rt, urls["affiliateprograms"])
    assert first.records == 6 and len(list(rt.store.list("errors/affiliateprograms/"))) == 1
    # The site server is gone now: whatever happens next cannot fetch anything.
    original = AffiliateProgramsCom.parse_program

    def fixed(self, page):  # the parser fix: also read the data an app-shell page (Surfshark's) carries
        data = page.css_first("script#__NEXT_DATA__")
        if page.css_first("h1.program-name") is None and data is not None:
            program = json.loads(data.text())["props"]["pageProps"]["program"]
            yield Listing(record_key=program["slug"], name=program["name"], commission_text=program["commission"],
                          cookie_text=program["cookie"], merchant_url=program["website"])
            return
        yield from original(self, page)

    monkeypatch.setattr(AffiliateProgramsCom, "parse_program", fixed)
    replayed = scrape(rt, "ap", replay=True)
    assert (replayed.records, replayed.failures, replayed.not_modified) == (7, [], 0)
    assert list(rt.store.list("errors/affiliateprograms/")) == []  # the fixed page's error is cleared
    assert "Surfshark" in [h.doc["name"] for h in rt.index.search("programs", SearchQuery(size=10)).hits]


def test_a_replay_of_a_damaged_http_cache_fails_naming_it_and_keeps_it(tmp_path):
    """A replay finds the stored pages through the connection's HTTP cache: damaged, the replay parsed nothing, each
    page "no stored copy to replay", and wrote the cache back empty, so the damaged copy was lost and no later replay
    found a page."""
    from affiliate_matrix.errors import DamagedData

    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    with recorded_sites("affiliateprograms") as urls:
        run_slice(rt, urls["affiliateprograms"])
    rt.store.put("http-cache/ap.json", b'{"http://x/": {"etag"')
    with pytest.raises(DamagedData, match=r"http-cache/ap.json is damaged \(.*\): the replay finds the stored pages "
                                          r"through it: amx scrape ap fetches them again and writes it anew"):
        scrape(rt, "ap", replay=True)
    assert rt.store.get("http-cache/ap.json").data == b'{"http://x/": {"etag"'


def test_one_merchant_on_three_sources_side_by_side(tmp_path):
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.merchants import find_merchants, merchant_view
    from tests.support.factories import make_record

    rt = Runtime("test", Settings(data_dir=tmp_path))
    records = [
        make_record("Semrush", "https://www.semrush.com/", commission_text="$200 per sale", cookie_text="120 days")
        .model_copy(update={"source": "affiliateprograms"}),
        make_record("Semrush EU", "https://www.semrush.com/", commission_text="200 EUR", cookie_text="30 days",
                    network="awin", join_url="https://www.awin1.com/awclick.php?mid=1002").model_copy(update={"source": "awin"}),
        make_record("SEMrush", "https://semrush.com/", commission_text="$250 per sale", cookie_text="Lifetime")
        .model_copy(update={"source": "affiliationlist"}),
    ]
    records = [r.model_copy(update={"connection_id": r.source}) for r in records]
    for r in records:  # each read through a connection of its own, as scrape reads them (a deleted one's are left out)
        save_connection(rt.store, Connection(id=r.source, source=r.source))
    index_batch(rt, rt.store.put_content_addressed("batches/t", "\n".join(r.model_dump_json() for r in records).encode()))
    view = merchant_view(rt.index, "semrush.com")
    rows = {r["source"]: r for r in view["rows"]}
    assert set(rows) == {"affiliateprograms", "awin", "affiliationlist"} and len(view["rows"]) == 3
    assert rows["affiliationlist"]["best"] == ["commission_flat", "cookie_days"]  # $250 and a lifetime cookie
    assert rows["awin"]["best"] == ["commission_flat"]  # the only EUR amount: best in its currency
    assert rows["affiliateprograms"]["best"] == []
    assert rows["awin"]["network"] == "awin" and rows["awin"]["join_url"].startswith("https://www.awin1.com/")
    assert set(next(iter(view["conflicts"].values()))) == {"commission", "cookie_days"}
    assert [m["merchant_key"] for m in find_merchants(rt.index, "semrush")["items"]] == ["semrush.com"]
