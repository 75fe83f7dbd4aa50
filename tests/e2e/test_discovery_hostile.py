"""Discovery results with awkward hosts, over real HTTP on loopback: an IDN (sent as punycode) and an IPv6
literal are fetched and judged; a malformed URL and a malformed redirect are failures for their URL, and
the run goes on. A page the record cannot keep as it is (a mailto: sign-up link, a URL over HttpUrl's 2,083
characters) costs only that link or that page, never the run's batch."""

import json
import socket

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.discovery.providers import Result
from affiliate_matrix.discovery.run import DiscoveryReport, seen_key, validate
from affiliate_matrix.polite import HostLimits
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.storage import StoredObject
from tests.support.clock import FakeTime
from tests.support.loopback import Loopback

PROGRAM = (b"<html><head><title>Partner program</title></head><body><h1>Join our affiliate program</h1>"
           b"<p>Earn 20% commission with a 30 day cookie.</p><a href='/signup'>Sign up as an affiliate</a></body></html>")


def site(host: str, redirect_to: str | None = None, page: bytes = PROGRAM) -> Loopback:
    """A site on `host` (a loopback address) without a robots.txt, answering `page` at every path, or a redirect
    to `redirect_to`."""
    def answer(request):
        if request.path == "/robots.txt":
            return 404, {}, b""
        if redirect_to:
            return 302, {"Location": redirect_to}, b""
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page
    return Loopback(answer, host)


@pytest.fixture
def punycode_resolves_to_loopback(monkeypatch):
    """No DNS server we control runs here: the IDN's punycode name answers 127.0.0.1, every other lookup is real."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return real("127.0.0.1" if host == "xn--bcher-kva.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_idn_and_ipv6_hosts_are_fetched_and_malformed_ones_are_failures_for_their_url(tmp_path,
                                                                                     punycode_resolves_to_loopback):
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    idn, ipv6, redirecting = site("127.0.0.1"), site("::1"), site("127.0.0.2", redirect_to="http:127.0.0.1:9")
    results = [Result(url, "t", "s", rank, "searxng", "q") for rank, url in enumerate([
        f"http://bücher.test:{idn.port}/partners",
        f"http://[::1]:{ipv6.port}/affiliates",
        f"http://127.0.0.2:{redirecting.port}/partners",
        "http://exa mple.test/partners", "http://[::1/partners", "http://xn--zz.test/", "http://ok.test:99999/"])]
    report = DiscoveryReport()
    try:
        validate(rt, results, report, **FakeTime().options(HostLimits()))  # each site's turn, not waited out
    finally:
        for server in (idn, ipv6, redirecting):
            server.close()
    assert "/partners" in [r.path for r in idn.requests] and "/affiliates" in [r.path for r in ipv6.requests]  # both fetched
    judged = report.discovered + report.review + report.rejected
    assert sorted(judged) == ["::1", "xn--bcher-kva.test"]
    failed = dict(report.failures)
    assert "a malformed URL, or a redirect to one" in failed[f"http://127.0.0.2:{redirecting.port}/partners"]
    assert "not a valid host name" in failed["http://exa mple.test/partners"]
    assert "not a valid URL" in failed["http://[::1/partners"]
    assert "not a valid URL" in failed["http://xn--zz.test/"] and "not a valid URL" in failed["http://ok.test:99999/"]
    assert rt.store.head(seen_key("::1")) and rt.store.head(seen_key("bücher.test"))  # keys: '_' for ':', punycode
    assert seen_key("::1").startswith("discovery/seen/__1=")  # ':' made '_', and a hash: "__1" is another host
    assert seen_key("bücher.test").endswith("xn--bcher-kva.test.json")


def test_sites_asking_for_long_waits_are_judged_after_the_others_not_before_them(tmp_path, monkeypatch):
    """A site's robots.txt may ask for up to 60 s between requests (Crawl-delay), waited and counted in the run's
    budget before its page: judged in the order found, 14 such sites ranked first spent a run's whole budget (810 s of
    the 900 s limit) and no other site was judged. Every site's robots.txt is read first, and the sites asking for the
    longest waits are judged last, with what is left of the budget."""
    from affiliate_matrix.crawl import time_budget
    from affiliate_matrix.polite import WaitBudget

    real = socket.getaddrinfo  # no DNS server we control runs here: every *.test name is this machine
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: real(
        "127.0.0.1" if host.endswith(".test") else host, *args, **kwargs))

    def answer(request):
        if request.path == "/robots.txt":
            slow = request.headers["host"].startswith("slow")
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nCrawl-delay: 60\n" if slow else b""
        return 200, {"Content-Type": "text/html; charset=utf-8"}, PROGRAM

    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    report, time = DiscoveryReport(), FakeTime()
    with Loopback(answer) as server:
        names = [f"slow{n}.test" for n in range(14)] + ["quick.test"]
        results = [Result(f"http://{name}:{server.port}/partners", "t", "s", rank, "searxng", "q")
                   for rank, name in enumerate(names)]
        validate(rt, results, report, wait_budget=WaitBudget(time_budget(900)), **time.options(HostLimits()))
    assert "quick.test" in report.discovered and report.out_of_time
    assert 0 < len(report.not_judged) < 14 and "quick.test" not in report.not_judged


def test_a_domain_with_a_low_line_is_keyed_by_the_name_the_fetch_sends():
    """An IDN with '_' failed the idna package's IDNA 2008 encoding and was keyed as written, each letter outside ASCII
    made '_': a_b.bücher.de and a_b.bächer.de were one key, the second site taken as judged with the first."""
    assert seen_key("a_b.bücher.de") == seen_key("A_B.xn--bcher-kva.de") == "discovery/seen/a_b.xn--bcher-kva.de.json"
    assert seen_key("a_b.bächer.de") != seen_key("a_b.bücher.de")


def test_a_mailto_sign_up_link_or_a_url_too_long_to_keep_costs_only_itself_not_the_run(tmp_path):
    """Both raised ValidationError out of the run after every page was judged and remembered as seen: the
    run's batch was never written, and its discovered domains were skipped by every later run."""
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    mailto = site("127.0.0.1", page=PROGRAM.replace(b"href='/signup'", b"href='mailto:affiliates@shop.test'"))
    plain, long_url = site("127.0.0.2"), site("127.0.0.3")
    too_long = f"http://127.0.0.3:{long_url.port}/partners/" + "a" * 2100
    results = [Result(url, "t", "s", rank, "searxng", "q") for rank, url in enumerate([
        f"http://127.0.0.1:{mailto.port}/partners", too_long, f"http://127.0.0.2:{plain.port}/partners"])]
    report = DiscoveryReport()
    try:
        validate(rt, results, report, **FakeTime().options(HostLimits()))  # each site's turn, not waited out
    finally:
        for server in (mailto, plain, long_url):
            server.close()
    assert sorted(report.discovered) == ["127.0.0.1", "127.0.0.2"]
    assert "at most 2083 characters" in dict(report.failures)[too_long[:500]]  # refused before it is fetched
    assert rt.store.head(seen_key("127.0.0.3")) is None  # not judged: a later run may try it again
    batch: StoredObject = rt.store.get(report.batch_key)
    records = [json.loads(line) for line in batch.data.splitlines()]
    assert sorted(r["record_key"] for r in records) == ["127.0.0.1", "127.0.0.2"]
    joins = {r["record_key"]: r["join_url"] for r in records}
    assert joins["127.0.0.1"] is None and joins["127.0.0.2"] == f"http://127.0.0.2:{plain.port}/signup"


@pytest.mark.parametrize("domain", [".hidden", "..", ".", ""])
def test_a_domain_no_key_can_hold_is_refused_naming_it(domain):
    """A domain starting with '.' (a review decided by hand: `amx discover review --accept .x`) made a key part that the
    object store refuses (storage.check_key): a ValueError out of the store, not an error naming the domain."""
    from affiliate_matrix.errors import InvalidInput

    with pytest.raises(InvalidInput, match="is not a domain"):
        seen_key(domain)


@pytest.mark.parametrize("one, other", [("::1", "__1"), ("a:b.test", "a;b.test"), ("a b.test", "a_b.test"),
                                        ("x" * 200 + ".one", "x" * 200 + ".two")])
def test_two_hosts_never_share_a_key(one, other):
    """Each character a key cannot hold was '_' and a key was cut at 200 characters: "::1" and "__1", or two long
    hosts alike in their first 200 characters, were one key, and the site judged first hid the other for good."""
    from affiliate_matrix.storage import check_key

    assert seen_key(one) != seen_key(other) and check_key(seen_key(one)) and check_key(seen_key(other))
    assert len(seen_key("x" * 300 + ".test")) < 300  # a long host's key stays a key


def test_a_host_kept_under_its_key_before_hashes_is_still_known_and_its_review_decided(tmp_path):
    """An IPv6 literal (or a long host) was seen, or put on the review list, under its readable part alone: that
    object still counts for its own host, never for another host that shares that part."""
    from affiliate_matrix.discovery.run import decide, known_domains, review_key

    rt = Runtime("test", Settings(data_dir=tmp_path))
    item = {"url": "http://[::1]/partners", "domain": "::1", "name": "Loopback Partners", "confidence": 0.5,
            "evidence": ["commission"], "query": "q", "provider": "p", "raw_key": "raw/discovery/x.html",
            "at": "2026-12-01T00:00:00+00:00"}
    rt.store.put("discovery/seen/__1.json", json.dumps({**item, "outcome": "rejected"}).encode())
    assert known_domains(rt, ["::1", "__1"]) == {"::1"}  # "__1" shares the old key, not the host
    rt.store.delete("discovery/seen/__1.json")
    rt.store.put("discovery/review/__1.json", json.dumps(item).encode())
    assert decide(rt, "::1", accept=False) is None
    assert rt.store.head("discovery/review/__1.json") is None and rt.store.head(review_key("::1")) is None
    assert known_domains(rt, ["::1"]) == {"::1"}  # decided: seen under its new key


@pytest.mark.slow
def test_the_sites_a_run_has_judged_are_listed_once_not_asked_for_one_by_one(s3_settings, tmp_path):
    """Each candidate's decision was asked for under each of its keys: up to two GETs a candidate, thousands for a run
    of many niches. Where a page of the listing holds them all, the decisions are listed once; only one under a key
    another host's may share is read, to see whose it is. The same hosts are judged as before, a hashed key's and a
    shared old key's alike."""
    from affiliate_matrix.discovery.run import known_domains, remember

    rt = Runtime("test", s3_settings.model_copy(update={"data_dir": tmp_path}))
    judged = [f"shop{n:03d}.com" for n in range(40)] + ["::1", "x" * 300 + ".test"]
    for domain in judged:
        remember(rt, domain, {"domain": domain, "outcome": "rejected"})
    before_hashes = {"domain": "a:b", "outcome": "rejected"}  # kept under its readable part, which "a_b" shares
    rt.store.put("discovery/seen/a_b.json", json.dumps(before_hashes).encode())
    calls = []
    rt.store.client.meta.events.register("before-call.s3", lambda model, **kwargs: calls.append(model.name))
    assert known_domains(rt, [*judged, "new.com", "a:b", "a_b"]) == {*judged, "a:b"}  # none in the index
    assert calls.count("ListObjectsV2") == 1 and calls.count("GetObject") == 2, calls  # a_b.json, for each of the two


@pytest.mark.slow
def test_what_a_run_asks_for_the_sites_it_judged_grows_with_its_candidates_not_with_all_ever_judged(s3_settings,
                                                                                                     tmp_path):
    """Every decision ever made (discovery/seen/, kept for good) was listed at each run, a request per 1,000: a store
    of a million was 1,000 requests for a run of ten candidates. A few candidates' keys are asked for, a HEAD each;
    for many, their listing is read for at most a page per 8 keys (what 8 HEADs at a time take), and the keys past
    what it reached are asked for. Here 2,500 other decisions stand for the million: three pages."""
    from affiliate_matrix.discovery.run import known_domains, remember
    from affiliate_matrix.documents import together

    rt = Runtime("test", s3_settings.model_copy(update={"data_dir": tmp_path}))
    list(together(lambda n: rt.store.put(f"discovery/seen/old{n:04d}.com.json", json.dumps(
        {"domain": f"old{n:04d}.com", "outcome": "rejected"}).encode()), range(2500)))
    early, more, late = ([f"{letter}{n}.com" for n in range(8)] for letter in "apz")  # "a…" sorts before "old…"
    judged = [*early[::2], *more[::2], *late[::2], "::1"]
    for domain in judged:
        remember(rt, domain, {"domain": domain, "outcome": "rejected"})
    calls = []
    rt.store.client.meta.events.register("before-call.s3", lambda model, **kwargs: calls.append(model.name))

    def asked(domains: list[str]) -> dict[str, int]:
        assert known_domains(rt, domains) == set(judged) & set(domains)  # none in the index
        counted = {call: calls.count(call) for call in set(calls)}
        calls.clear()
        return counted

    assert asked(["a0.com", "new.com", "::1"]) == {"HeadObject": 4}  # "::1" under its hashed key and its old one
    # 16 keys: two pages (a…, then old… to old1995), then a HEAD for each key past them (z…)
    assert asked([*early, *late]) == {"ListObjectsV2": 2, "HeadObject": 8}
    assert asked([*early, *more, *late]) == {"ListObjectsV2": 3}  # 24 keys: the three pages list them all
