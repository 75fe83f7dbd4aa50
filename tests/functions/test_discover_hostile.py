"""The discover function fed hostile search-provider answers through its real entry point (POST /discover on its
HTTP stack, a provider a real local HTTP server): one bad result costs only itself, and a run stays bounded."""

import json

import pytest

from tests.support.apps import function_client
from tests.support.loopback import Loopback


# A doubtful find's review item, as the discovery run writes it.
PAWSOME = {"url": "https://pawsome.example/partners", "domain": "pawsome.example", "confidence": 0.5,
           "evidence": ["partner wording in the title or heading: 'Partners'"], "name": "Pawsome", "query": "q",
           "provider": "searxng", "raw_key": "raw/discovery/x.html", "terms": {}, "at": "2026-11-22T06:00:00+00:00"}


def site(page_at, host: str = "127.0.0.1") -> Loopback:
    """A real local site answering each path with the page `page_at(path)`, 404 where that is None."""
    def answer(request):
        page = page_at(request.path)
        status, body = (404, b"") if page is None else (200, page)
        return status, {"Content-Type": "text/html"}, body
    return Loopback(answer, host)


def one_page_site(page: bytes) -> Loopback:
    """A real local site answering `page` at every path but robots.txt (404)."""
    return site(lambda path: None if path == "/robots.txt" else page)


@pytest.fixture
def provider():
    """A SearXNG instance (on loopback: the providers' URLs are the operator's, not held to the address guard)
    answering every query with `provider.results` (or the bytes of `provider.raw`)."""
    def answer(request):
        body = server.raw if server.raw is not None else json.dumps({"results": server.results}).encode()
        return 200, {"Content-Type": "application/json"}, body

    with Loopback(answer) as server:
        server.results, server.raw = [], None
        yield server


@pytest.fixture
def discover_app(env, provider, monkeypatch):
    monkeypatch.setenv("AMX_DISCOVERY_PROVIDERS", "searxng")
    monkeypatch.setenv("AMX_SEARXNG_URL", provider.url)
    return function_client("discover")


def test_an_answer_of_thousands_of_results_is_read_as_the_page_a_query_asks_for(env, provider, discover_app):
    """A provider answering 2,000 results to a query (40,000 fit its 2 MB cap) had every one taken as a candidate and
    fetched, one after another: 40,000 pages for each of a niche's five dorks. A query takes the results of one page
    (SearXNG's at most 100, Brave's 20, Google's 10), in the provider's order. The report says the answers were cut
    (partial_answers), once, with how many queries: only the log said so."""
    provider.results = [{"url": f"http://10.{i // 256}.{i % 256}.1/", "title": "t"} for i in range(2_000)]
    reply = discover_app.post("/discover", json={"niches": ["pets"]}, headers=env["admin"])
    assert reply.status_code == 200, reply.json
    report = reply.json
    assert report["queries"] == 5 and report["results"] == 5 * 100 and report["candidates"] == 100
    assert report["partial_answers"] == ["searxng: an answer held more results than the 100 a query takes; its first "
                                         "100 kept, the rest not looked at (5 queries)"], report["partial_answers"]
    schemas = discover_app.get("/openapi.json").json["components"]["schemas"]
    assert schemas["DiscoveryReport"]["properties"]["partial_answers"]["type"] == "array"
    # what a run out of time left unread is declared and answered, as its sites not judged are
    assert schemas["DiscoveryReport"]["properties"]["leads_not_read"]["type"] == "array"
    assert "leads_not_read" in schemas["DiscoveryReport"]["required"] and report["leads_not_read"] == []
    assert len(report["failures"]) == 100  # each a private address, refused by the guard: a failure for itself
    assert all("non-public" in reason for _, reason in report["failures"])


def test_post_discover_searches_in_dutch_portuguese_and_italian_and_refuses_a_language_without_dorks(
        env, provider, discover_app):
    """nl, pt and it had no dork templates: POST /discover in them answered 400 after the request was taken, and a
    code with no templates passed the request's check. Each is searched in its words now; another is refused by the
    request's check, naming the supported languages."""
    reply = discover_app.post("/discover", json={"niches": ["pets"], "languages": ["nl", "pt", "it"]},
                              headers=env["admin"])
    assert reply.status_code == 200, reply.json
    assert reply.json["queries"] == 9
    refused = discover_app.post("/discover", json={"niches": ["pets"], "languages": ["xx"]}, headers=env["admin"])
    assert refused.status_code == 400
    assert refused.json["error"]["message"] == "languages.0 must be one of 'en', 'de', 'fr', 'es', 'nl', 'pt' or 'it'"


@pytest.mark.parametrize("niches", [["   "], ["pets", "\t"]])
def test_a_blank_niche_is_refused_naming_it_not_searched_as_no_niche(env, provider, discover_app, niches):
    """A niche of spaces passed the request's check (1 to 100 characters) and each of its dorks was searched with no
    niche at all ('"affiliate program" '), spending the provider's quota on whatever that finds; a rule's discover
    action refused it when written. Both refuse it now, in the same words (dorks.niche_problem), naming which."""
    reply = discover_app.post("/discover", json={"niches": niches}, headers=env["admin"])
    assert reply.status_code == 400, reply.json
    assert reply.json["error"]["message"] == \
        f"niches.{len(niches) - 1}: it is blank: its dorks would search for no niche at all"


def test_a_niche_with_search_operators_is_refused_where_given_and_skipped_where_stored(env, provider, discover_app,
                                                                                      tmp_path, monkeypatch, capsys):
    """A niche went into every dork as written: `shoes site:evil.example` or `-inurl:affiliate` changed what each of
    its dorks asked the provider, and a quote broke the dork's own quoting. POST /discover refuses it naming the
    character and its place, asking nothing; one stored before (a cron's data, AMX_DISCOVERY_NICHES, a rule's
    action) is skipped and said (the log, the report, the activation), the run's other niches searched."""
    import json as json_module
    from urllib.parse import parse_qs

    from affiliate_matrix.config import Settings
    from affiliate_matrix.events import ACTION_PREFIX, Event
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import load_rule, save_rule
    from affiliate_matrix.runtime import Runtime
    from tests.support.events import deliver

    for niches, said in ((["pets", "shoes site:evil.example"], "niches.1: ':' at character 11 makes the word before "
                                                              "it a search operator"),
                         (["-inurl:affiliate"], "niches.0: '-' at character 1 excludes the word after it"),
                         (['pet "food'], "niches.0: '\"' at character 5 quotes a phrase")):
        reply = discover_app.post("/discover", json={"niches": niches}, headers=env["admin"])
        assert reply.status_code == 400 and reply.json["error"]["message"].startswith(said), reply.json
    assert provider.requests == []

    def asked() -> set[str]:
        queries = {q for r in provider.requests for q in r.query.get("q", []) + parse_qs(r.body.decode()).get("q", [])}
        provider.requests.clear()
        return queries

    capsys.readouterr()
    tick = Event.make("dev.knative.sources.ping", "/cron/discover", {"niches": ["pets", "shoes site:evil.example"]})
    assert deliver(discover_app, tick, "discover").status_code == 204
    queries = asked()
    assert queries and all(q.endswith(" pets") for q in queries)
    logged = capsys.readouterr().err
    assert "discover.niche_skipped" in logged and "shoes site:evil.example" in logged
    monkeypatch.setenv("AMX_DISCOVERY_NICHES", "-inurl:affiliate,cats")
    from_settings = deliver(function_client("discover"), Event.make("dev.knative.sources.ping", "/cron/discover", {}),
                            "discover")
    assert from_settings.status_code == 204, from_settings.data
    queries = asked()
    assert queries and all(q.endswith(" cats") for q in queries) and not any("-inurl" in q for q in queries)
    none_left = deliver(discover_app, Event.make("dev.knative.sources.ping", "/cron/discover", {"niches": ['"x"']}),
                        "discover")
    assert none_left.status_code == 400 and b"no niche to search" in none_left.data and asked() == set()

    rt = Runtime("test", Settings(data_dir=tmp_path))  # a rule stored before niches were held to words
    save_rule(rt.store, Rule.model_validate({"id": "r", "trigger": {"event": "key.expiring"}, "condition": "true",
                                             "action": {"type": "discover", "params": {"niche": "pets OR casinos"}}}))
    key = f"activations/2026-11-22/a_{'0' * 24}.json"
    rt.store.put(key, json_module.dumps({"id": f"a_{'0' * 24}", "rule_id": "r", "outcome": "dispatched"}).encode())
    action = Event.make(ACTION_PREFIX + "discover", "/triggers", {
        "rule_id": "r", "params": {"niche": "pets OR casinos"}, "inputs": {}, "activation_key": key})
    assert deliver(discover_app, action, "discover").status_code == 204
    activation = json_module.loads(rt.store.get(key).data)
    assert activation["outcome"] == "disabled" and "action.params.niche: 'OR' at character 6 is a search operator" in \
        activation["detail"], activation
    assert not load_rule(rt.store, "r")[0].enabled and asked() == set()


def test_one_address_under_many_spellings_is_one_candidate(env, provider, discover_app, monkeypatch):
    """A registrable domain is one candidate, and so was an address written as such (127.0.0.1), but the resolver
    reads an IPv4 address in many more spellings (2130706433, 0x7f.0.0.1, 0177.0.0.1, 127.1, ::ffff:127.0.0.1 in
    brackets), each of which was a candidate of its own: the same site fetched, judged and remembered once per
    spelling, up to a hundred times for one answer. An address is now its one canonical form."""
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    server = one_page_site(b"<html><head><title>Nothing here</title></head><body>hello</body></html>")
    try:
        port = server.port
        provider.results = [{"url": f"http://{host}:{port}/", "title": "t"} for host in (
            "127.0.0.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "0x7f000001", "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]")]
        reply = function_client("discover").post("/discover", json={"niches": ["pets"]}, headers=env["admin"])
    finally:
        server.close()
    assert reply.status_code == 200, reply.json
    assert reply.json["candidates"] == 1 and reply.json["rejected"] == ["127.0.0.1"]
    assert [r.path for r in server.requests if r.path != "/robots.txt"] == ["/"]


@pytest.mark.parametrize("body", [b"<html><body>Sign in to the proxy</body></html>", b"[1, 2, 3]", b'{"results": 5}',
                                  b"\xff\xfe not text", b"[" * 100_000])
def test_an_answer_that_is_no_json_object_is_the_providers_failure_not_a_query_with_no_results(env, provider,
                                                                                               discover_app, body):
    """A 200 whose body is not a JSON object (a proxy's sign-in page, a list, bytes) was read as an answer with no
    results: the query counted as answered against the day's quota, no provider error, and a misconfigured
    instance found nothing every day without a word; JSON nested past the parser's depth raised RecursionError out
    of the run (a 500). Each is now the provider's failure, as a 5xx is; with no other provider, the run asked nothing,
    and says so (a 503 naming the provider's failure)."""
    provider.raw = body
    reply = discover_app.post("/discover", json={"niches": ["pets"]}, headers=env["admin"])
    assert reply.status_code == 503, reply.json
    message = reply.json["error"]["message"]
    assert message.startswith("no search provider answered any of the run's 5 queries (searxng: "), message


def test_a_run_that_asked_nothing_fails_rather_than_answering_an_empty_report(env, provider, discover_app, tmp_path):
    """Every query unanswered (the one provider failing), POST /discover answered 200 with an empty report, a cron tick
    was done and a rule's discover action recorded "0 discovered, 0 to review": nothing said the run had searched
    nothing (only `amx discover run` exited 1). The request is a 503 naming why, the tick answered 5xx (delivered
    again, counted as failed), the action's outcome `failed` with the same words."""
    import json as json_module

    from affiliate_matrix.config import Settings
    from affiliate_matrix.events import ACTION_PREFIX, Event
    from affiliate_matrix.runtime import Runtime
    from tests.support.events import deliver

    provider.raw = b"<html><body>Sign in to the proxy</body></html>"
    why = "no search provider answered any of the run's 5 queries (searxng: "
    reply = discover_app.post("/discover", json={"niches": ["pets"]}, headers=env["admin"])
    assert reply.status_code == 503 and reply.json["error"]["message"].startswith(why), reply.json
    assert reply.headers["Retry-After"] == "60"
    tick = deliver(discover_app, Event.make("dev.knative.sources.ping", "/cron/discover", {"niches": ["pets"]}),
                   "discover")
    assert tick.status_code == 503, tick.data
    rt = Runtime("test", Settings(data_dir=tmp_path))  # the functions' data directory (env)
    key = f"activations/2026-11-22/a_{'0' * 24}.json"
    rt.store.put(key, json_module.dumps({"id": f"a_{'0' * 24}", "rule_id": "r", "outcome": "dispatched"}).encode())
    action = Event.make(ACTION_PREFIX + "discover", "/triggers", {"rule_id": "r", "params": {"niche": "cats"},
                                                                    "inputs": {}, "activation_key": key})
    assert deliver(discover_app, action, "discover").status_code == 204
    activation = json_module.loads(rt.store.get(key).data)
    assert activation["outcome"] == "failed" and activation["detail"].startswith(why), activation


def test_a_page_too_deeply_nested_to_parse_costs_only_its_candidate(env, provider, discover_app, monkeypatch):
    """A candidate's page nested too deep for the HTML parser is a ParseError (sources.Page refuses it rather than
    parse for minutes); raised by the judging, it went out of the run: a 500 to POST /discover, the other candidates'
    verdicts and the batch of discovered programs lost. It is now a failure for its URL."""
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    pages = {"/deep": b"<html><body>" + b"<div>" * 40_000 + b"x" + b"</div>" * 40_000 + b"</body></html>",
             "/fine": b"<html><head><title>Acme affiliate program</title></head><body>Join our affiliate program: 30%"
                      b" commission on every sale, 60 day cookie. <a href='/signup'>Become an affiliate</a></body></html>"}

    servers = [site(pages.get, host) for host in ("127.0.0.1", "127.0.0.2")]
    try:
        deep, fine = (server.url for server in servers)
        provider.results = [{"url": f"{deep}/deep", "title": "t"}, {"url": f"{fine}/fine", "title": "t"}]
        reply = function_client("discover").post("/discover", json={"niches": ["pets"]}, headers=env["admin"])
    finally:
        for server in servers:
            server.close()
    assert reply.status_code == 200, reply.json
    report = reply.json
    assert [url for url, _ in report["failures"]] == [f"{deep}/deep"]
    assert "nested too deep" in report["failures"][0][1]
    assert report["discovered"] + report["review"] + report["rejected"] == ["127.0.0.2"]


@pytest.mark.parametrize("damage", [b'{"domain": "tailwag.example", "na', b"[" * 100_000, b'{"domain": 5}'])
def test_a_damaged_review_item_is_named_and_the_others_are_listed_and_decided(tmp_path, monkeypatch, damage):
    """`amx discover review` read each review item with json.loads and indexed it as it came: one damaged item (a
    truncated file, a hand edit) raised out of the listing, a traceback, so no other doubtful find could be seen;
    --accept or --reject of it did the same. The damaged item is named and the others listed; deciding it is
    refused naming its key."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.errors import DamagedData
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.store.put("discovery/review/pawsome.example.json", json.dumps(PAWSOME).encode(), content_type="application/json")
    rt.store.put("discovery/review/tailwag.example.json", damage, content_type="application/json")
    listed = CliRunner().invoke(app, ["discover", "review"])
    assert listed.exit_code == 0, listed.output
    assert "pawsome.example" in listed.output and "discovery/review/tailwag.example.json" in listed.output
    decided = CliRunner().invoke(app, ["discover", "review", "--reject", "tailwag.example"])
    assert isinstance(decided.exception, DamagedData) and "discovery/review/tailwag.example.json" in str(decided.exception)
    assert rt.store.get("discovery/review/tailwag.example.json").data == damage  # left for a person to rescue


def test_a_result_url_no_record_can_keep_is_refused_before_it_is_fetched(env, provider, discover_app, monkeypatch):
    """A record keeps its URL as an http(s) URL of at most 2,083 characters; a result's URL of 10 KB was fetched,
    its page stored and only then found unkeepable, at every run (a failure is not remembered). It is refused as a
    failure for it before any request, as a javascript: or data: URL is."""
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    server = site(lambda path: None)
    try:
        long_url = f"{server.url}/{'a' * 10_000}"
        provider.results = [{"url": long_url, "title": "t"}]
        reply = function_client("discover").post("/discover", json={"niches": ["pets"]}, headers=env["admin"])
    finally:
        server.close()
    assert reply.status_code == 200, reply.json
    assert server.requests == [] and reply.json["candidates"] == 0
    failures = reply.json["failures"]  # one for each of the niche's five dorks that found it
    assert len(failures) == 5 and all(url == long_url[:500] and "a URL a record cannot keep" in reason
                                      for url, reason in failures)


DOUBTFUL = (b"<html><head><title>Partners</title></head><body>Earn a recurring commission on every payout, with a 30 "
            b"day cookie for our affiliates.</body></html>")  # partner wording, vocabulary, a cookie: doubtful (0.5)
CONFIDENT = (b"<html><head><title>Acme affiliate program</title></head><body><h1>Join our affiliate program</h1>"
             b"Earn 30% commission on every sale, 60 day cookie. <a href='/signup'>Become an affiliate</a></body></html>")


# A doubtful find was remembered as judged (discovery/seen/) before its review item was written, and confident finds
# before their batch for the index: a write that failed (the store unavailable) left the site judged with nothing to
# decide on or never indexed, skipped by every later run, for good. Now a failure leaves it unjudged for the next run.
@pytest.mark.parametrize("page, method, failing, found", [
    (DOUBTFUL, "put", "discovery/review/", "review"),
    (CONFIDENT, "put_content_addressed", "batches/discovery", "discovered"),
], ids=["doubtful", "confident"])
def test_a_find_whose_record_cannot_be_written_is_judged_again_not_lost(env, tmp_path, monkeypatch, page, method,
                                                                         failing, found):
    from affiliate_matrix.config import Settings
    from affiliate_matrix.discovery import DiscoveryReport
    from affiliate_matrix.discovery.providers import Result
    from affiliate_matrix.discovery.run import reviews, seen_key, validate
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.polite import HostLimits
    from affiliate_matrix.runtime import Runtime
    from tests.support.clock import FakeTime

    server = one_page_site(page)
    pacing = FakeTime().options(HostLimits())  # the site's turns kept, not waited out
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    put = getattr(rt.store, method)

    def refused(key, data, **options):
        if key.startswith(failing):
            raise BackendUnavailable("the object store is not answering")
        return put(key, data, **options)

    try:
        results = [Result(f"{server.url}/partners", "t", "s", 1, "searxng", "q")]
        monkeypatch.setattr(rt.store, method, refused)
        with pytest.raises(BackendUnavailable):
            validate(rt, results, DiscoveryReport(), **pacing)
        assert rt.store.head(seen_key("127.0.0.1")) is None  # not judged: the next run judges it again
        monkeypatch.setattr(rt.store, method, put)
        report = DiscoveryReport()
        validate(rt, results, report, **pacing)
    finally:
        server.close()
    assert getattr(report, found) == ["127.0.0.1"] and rt.store.head(seen_key("127.0.0.1")) is not None
    if found == "review":
        assert [r["domain"] for r in reviews(rt)] == ["127.0.0.1"]
    else:
        assert report.batch_key is not None


@pytest.mark.parametrize("failing", ["batches/discovery/", "indexing", "discovery/seen/", "discovery/review/"])
def test_an_acceptance_that_fails_midway_is_left_to_accept_again_and_a_retry_stores_one_batch(tmp_path, monkeypatch,
                                                                                                failing):
    """`amx discover review --accept` deleted the review item and marked the site judged before the CLI wrote the
    accepted program's batch, so a batch write that failed (the store unavailable) lost the acceptance for good. The
    batch is written first (and indexed, where the CLI indexes it itself), then the site marked, then the item deleted:
    a failure at any step leaves the item to accept again, and the retry stores the same batch (content-addressed:
    one object, one program)."""
    from typer.testing import CliRunner

    from affiliate_matrix import pipeline
    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.program_index import PROGRAMS_INDEX
    from affiliate_matrix.runtime import Runtime
    from affiliate_matrix.search import SearchQuery
    from affiliate_matrix.storage.local import LocalObjectStore

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.store.put("discovery/review/pawsome.example.json", json.dumps(PAWSOME).encode(), content_type="application/json")
    put, delete = LocalObjectStore.put, LocalObjectStore.delete

    def unavailable(real):
        def call(self, key, *args, **kwargs):
            if key.startswith(failing):
                raise BackendUnavailable("the store is unavailable")
            return real(self, key, *args, **kwargs)
        return call

    def not_indexed(*args):
        raise BackendUnavailable("the index is unavailable")

    monkeypatch.setattr(LocalObjectStore, "put", unavailable(put))
    monkeypatch.setattr(LocalObjectStore, "delete", unavailable(delete))
    with monkeypatch.context() as patched:
        if failing == "indexing":  # the CLI indexes in this process (the in-process bus keeps what failed)
            patched.setattr(pipeline, "index_batch", not_indexed)
        failed = CliRunner().invoke(app, ["discover", "review", "--accept", "pawsome.example"])
    assert failed.exit_code != 0
    assert rt.store.head("discovery/review/pawsome.example.json") is not None  # still to accept
    monkeypatch.setattr(LocalObjectStore, "put", put)
    monkeypatch.setattr(LocalObjectStore, "delete", delete)
    retried = CliRunner().invoke(app, ["discover", "review", "--accept", "pawsome.example"])
    assert retried.exit_code == 0, (retried.output, retried.exception)
    assert rt.store.head("discovery/review/pawsome.example.json") is None
    assert json.loads(rt.store.get("discovery/seen/pawsome.example.json").data)["outcome"] == "accepted"
    assert len(list(rt.store.list("batches/discovery/"))) == 1
    hits = rt.index.search(PROGRAMS_INDEX.name, SearchQuery(filters={"status": ["discovered"]}))
    assert [hit.doc["name"] for hit in hits.hits] == ["Pawsome"]
