"""The crawl loop against a real local server (FaultServer): what a hostile directory page can make it hold."""

import re
import tracemalloc

import pytest

from affiliate_matrix.connections import Connection
from affiliate_matrix.crawl import MAX_QUEUED, BudgetSpent, Failure, Fetched, StoredPages, crawl, time_budget
from affiliate_matrix.fetch import Fetcher
from affiliate_matrix.polite import HostLimits, WaitBudget
from affiliate_matrix.sources import Listing, Source
from affiliate_matrix.storage.local import LocalObjectStore
from tests.support.clock import FakeTime
from tests.support.counting import CountingStore
from tests.support.fault_server import PAGE, FaultServer
from tests.support.loopback import Loopback

LINKS_PER_PAGE = 20_000  # what one 5 MB page of <a href> can hold is more: 100,000 and up


class Sprawling(Source):
    """A directory whose every page links LINKS_PER_PAGE more pages (a hostile or broken site)."""

    name, title = "sprawling", "Sprawling"
    start_paths = ("/page/0",)

    def parse(self, page):
        first = int(page.url.rsplit("/", 1)[1]) * LINKS_PER_PAGE + 1
        for number in range(first, first + LINKS_PER_PAGE):
            yield page.follow(f"/page/{number}")


def test_links_past_the_queue_limit_are_not_held(tmp_path):
    """A run fetches max_pages pages and holds at most MAX_QUEUED distinct URLs queued; before, every link of every
    page was queued anyway (10 pages here: 200,000 requests, ~30 MB, and a page of 5 MB holds 100,000 links)."""
    server = FaultServer()
    try:
        fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000)
        outcomes = crawl(Sprawling(server.url), Connection(id="sprawling", source="sprawling"), fetcher,
                         LocalObjectStore(tmp_path), max_pages=10)
        next(outcomes)  # the first page fetched and parsed: one page's links are made before measuring
        tracemalloc.start()
        try:
            rest = list(outcomes)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    finally:
        server.close()
    fetched = 1 + sum(isinstance(outcome, Fetched) for outcome in rest)
    assert rest[-1] == BudgetSpent(10, MAX_QUEUED - 10, out_of_time=False)  # its page limit
    assert fetched == 10 and len(server.hits) == 11  # robots.txt, and /page/0 to /page/9: the limit, in order
    assert sorted(server.hits) == sorted(["/robots.txt", *(f"/page/{n}" for n in range(10))])
    assert peak < 12 * 1024 * 1024, f"{peak} bytes held for a 10-page crawl"


class Redirected(Source):
    """A directory whose one page is behind a redirect (a moved page, http to https, a trailing slash added)."""

    name, title = "redirected", "Redirected"
    start_paths = ("/to-etag",)

    def parse(self, page):
        return []


def crawl_redirected(server, store, validators: dict, times: int) -> list[list]:
    """The outcomes of `times` live crawls of the redirected page, each with a new fetcher on the same cache."""
    runs = []
    for _ in range(times):
        fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000, validators=validators)
        connection = Connection(id="redirected", source="redirected")
        runs.append(list(crawl(Redirected(server.url), connection, fetcher, store)))
        fetcher.close()
    return runs


def test_a_page_behind_a_redirect_is_revalidated_and_parsed_from_its_kept_copy(tmp_path):
    """The page's validators were kept under the URL the redirect reached and looked up under the URL asked for:
    the second crawl sent If-None-Match to /etag, got its 304, found no kept copy for /to-etag and failed with
    "HTTP 304". The kept copy is the one of the URL the page came from."""
    server = FaultServer()
    store, validators = LocalObjectStore(tmp_path), {}
    try:
        first, second = crawl_redirected(server, store, validators, times=2)
    finally:
        server.close()
    assert [type(outcome) for outcome in first] == [Fetched] and not first[0].not_modified, first
    assert [type(outcome) for outcome in second] == [Fetched], second
    assert second[0].not_modified and second[0].raw_key == first[0].raw_key
    assert store.get(second[0].raw_key).data == store.get(first[0].raw_key).data != b""
    assert len(server.hits["/to-etag"]) == len(server.hits["/etag"]) == 2
    assert validators[f"{server.url}/to-etag"] == {"redirect": f"{server.url}/etag"}  # no validators to send
    assert not any(isinstance(outcome, Failure) for outcome in first + second)


def test_validators_with_no_kept_copy_are_forgotten(tmp_path):
    """A cache written before the fix above holds the redirected page's validators with no kept copy: each crawl
    sent them, got a 304 and failed, for ever. The 304 is a failure once, then the page is fetched whole."""
    server = FaultServer()
    store, validators = LocalObjectStore(tmp_path), {f"{server.url}/etag": {"etag": '"v1"', "last_modified": None}}
    try:
        runs = crawl_redirected(server, store, validators, times=3)
    finally:
        server.close()
    assert [(type(run[0]), len(run)) for run in runs] == [(Failure, 1), (Fetched, 1), (Fetched, 1)], runs
    assert "no kept copy" in runs[0][0].reason
    assert (runs[1][0].not_modified, runs[2][0].not_modified) == (False, True)


def test_replay_serves_a_redirected_page_from_the_copy_kept_under_the_url_reached(tmp_path):
    """`amx replay` asks StoredPages for the URL the crawl asked for (/to-etag), but the copy is kept under the URL
    its redirect reached (/etag): the replay failed with "no stored copy to replay". The crawl records the
    redirect, and the replay follows it, with no request to the site."""
    server = FaultServer()
    store, validators = LocalObjectStore(tmp_path), {}
    connection = Connection(id="redirected", source="redirected")
    try:
        fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000, validators=validators)
        live = list(crawl(Redirected(server.url), connection, fetcher, store))
        fetcher.close()
        hits = {path: len(times) for path, times in server.hits.items()}
        replayed = list(crawl(Redirected(server.url), connection, StoredPages(store, validators, "redirected"), store))
        assert {path: len(times) for path, times in server.hits.items()} == hits  # the replay asked the site nothing
    finally:
        server.close()
    assert [type(outcome) for outcome in live] == [Fetched], live
    assert [type(outcome) for outcome in replayed] == [Fetched], replayed
    assert replayed[0].raw_key == live[0].raw_key and replayed[0].url == f"{server.url}/to-etag"


@pytest.mark.parametrize("raw_key", ["raw/redirected/00/" + "0" * 64 + ".html", "../outside.html"])
def test_validators_whose_kept_copy_cannot_be_read_are_forgotten(tmp_path, raw_key):
    """Validators naming a kept copy that is gone (a store emptied, a copy deleted by hand) or a key that is none
    (a hand-edited cache): the 304 they earned raised NotFoundError (or ValueError) out of the crawl, ending it and
    every later one, since the cache kept them. The 304 is that page's failure once, then the page is fetched whole."""
    server = FaultServer()
    store = LocalObjectStore(tmp_path)
    validators = {f"{server.url}/etag": {"etag": '"v1"', "last_modified": None, "raw_key": raw_key}}
    try:
        runs = crawl_redirected(server, store, validators, times=3)
    finally:
        server.close()
    assert [(type(run[0]), len(run)) for run in runs] == [(Failure, 1), (Fetched, 1), (Fetched, 1)], runs
    assert "kept copy" in runs[0][0].reason and "fetched whole next time" in runs[0][0].reason
    assert (runs[1][0].not_modified, runs[2][0].not_modified) == (False, True)


def test_the_fetchers_spacing_is_its_hosts_crawl_delay_read_from_robots_txt():
    """The spacing a run's waits are counted at (polite.WaitBudget) is the fetcher's own, robots.txt read first."""
    server = FaultServer(robots=b"User-agent: *\nCrawl-delay: 60\n")
    try:
        fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=50,
                          **FakeTime().options(HostLimits()))
        spacing = fetcher.spacing(server.url)
        fetcher.close()
    finally:
        server.close()
    assert spacing == 60


DETAILS = 20


class Catalogue(Source):
    """A directory whose one listing page links `details` detail pages."""

    name, title = "catalogue", "Catalogue"
    start_paths = ("/",)
    details = DETAILS

    def parse(self, page):
        for number in range(self.details):
            yield page.follow(f"/page/{number}", "parse_detail")

    def parse_detail(self, page):
        return []


def crawl_catalogue(server, store, validators: dict, time: FakeTime, hosts: HostLimits, run: str,
                    catalogue: type[Catalogue] = Catalogue, max_pages: int = 500) -> list:
    """One run as the scrape function makes it: the waits it may ask for are a 900 s limit's. One fetch at a
    time: on the fake clock, a fetch in flight while another waits its minute would be past its 60 s deadline."""
    fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=50, concurrency=1,
                      validators=validators, wait_budget=WaitBudget(time_budget(900)), **time.options(hosts))
    connection = Connection(id="catalogue", source="catalogue", concurrency=1)
    outcomes = list(crawl(catalogue(server.url), connection, fetcher, store, max_pages, run=run))
    fetcher.close()
    return outcomes


def catalogue_runs(catalogue: type[Catalogue], runs: int, max_pages: int, tmp_path) -> list[list[str]]:
    """The paths each of `runs` daily runs fetched, in order, with no Crawl-delay: max_pages is their bound."""
    server, time, hosts = FaultServer(), FakeTime(), HostLimits()
    store, validators = LocalObjectStore(tmp_path), {}
    try:
        outcomes = [crawl_catalogue(server, store, validators, time, hosts, f"2026-12-{day:02}T06:00:00.000000+00:00",
                                    catalogue, max_pages) for day in range(1, runs + 1)]
    finally:
        server.close()
    assert not any(isinstance(outcome, Failure) for run in outcomes for outcome in run)
    return [[o.url.removeprefix(server.url) for o in run if isinstance(o, Fetched)] for run in outcomes]


def test_a_crawl_stops_at_its_page_budget_and_the_next_run_asks_for_the_pages_it_left_first(tmp_path):
    """Under Crawl-delay: 60 a crawl of 21 pages takes 21 minutes, and the function is killed at 15 before it stores
    anything; each run began again at the first page, so later pages were never reached. A run stops at its budget
    (13 pages: the listing and 12 details) saying how many it left, and the next asks for those 8 first, then the
    4 asked for longest ago. Time is faked: the waits asked for are the figure, none is waited."""
    server, time, hosts = FaultServer(robots=b"User-agent: *\nCrawl-delay: 60\n"), FakeTime(), HostLimits()
    store, validators = LocalObjectStore(tmp_path), {}
    try:
        first = crawl_catalogue(server, store, validators, time, hosts, "2026-12-01T06:00:00.000000+00:00")
        second = crawl_catalogue(server, store, validators, time, hosts, "2026-12-02T06:00:00.000000+00:00")
    finally:
        server.close()
    details = [[int(o.url.rsplit("/", 1)[1]) for o in run if isinstance(o, Fetched) and "/page/" in o.url]
               for run in (first, second)]
    assert first[-1] == BudgetSpent(13, 8, out_of_time=True) and second[-1] == BudgetSpent(13, 8, out_of_time=True)
    assert not any(isinstance(outcome, Failure) for outcome in first + second)
    assert sorted(details[0]) == list(range(12))
    assert sorted(details[1][:8]) == list(range(12, 20)) and sorted(details[1][8:]) == list(range(4))
    minute, moment = pytest.approx(60 * 1.02), pytest.approx(1 / 50 * 1.02)  # Crawl-delay, and the rate limit
    assert time.sleeps == [minute] * 13 + [moment] + [minute] * 13  # the second run's robots.txt, at the rate limit
    assert validators[f"{server.url}/page/0"]["fetched_in_run"] == "2026-12-02T06:00:00.000000+00:00"
    assert validators[f"{server.url}/page/4"]["fetched_in_run"] == "2026-12-01T06:00:00.000000+00:00"


class Trickling(Catalogue):
    """A directory whose 14 detail pages after the first two send their body a byte a second, past any limit."""

    def parse(self, page):
        yield from (page.follow(f"/page/{number}", "parse_detail") for number in range(2))
        yield from (page.follow(f"/slow-body?copy={copy}", "parse_detail") for copy in range(14))
        yield from (page.follow(f"/page/{number}", "parse_detail") for number in range(2, 4))


def test_slow_bodies_are_failures_naming_why_and_spend_the_runs_budget(tmp_path):
    """Bodies sent a byte at a time were read up to each request's 60 s, uncounted: 14 of them took a run 14 minutes
    past its waits, and the function was stopped at its limit with nothing stored. Each is a failure naming why, its
    time is spent from the run's 810 s, the last one's read is cut where the budget ends, and the run stops there
    saying so, keeping what it fetched (the clock is moved by the server, never slept)."""
    time, hosts = FakeTime(), HostLimits()
    server, store = FaultServer(time=time), LocalObjectStore(tmp_path)
    try:
        outcomes = crawl_catalogue(server, store, {}, time, hosts, "2026-12-01T06:00:00.000000+00:00", Trickling)
    finally:
        server.close()
    fetched = [o.url.removeprefix(server.url) for o in outcomes if isinstance(o, Fetched)]
    reasons = [o.reason for o in outcomes if isinstance(o, Failure)]
    assert fetched == ["/", "/page/0", "/page/1"]
    assert len(reasons) == 14 and all("body too slow: still sending after" in reason for reason in reasons)
    assert all("(the request's time limit)" in reason for reason in reasons[:13])
    assert "(all that was left of the run's time budget)" in reasons[13]
    assert outcomes[-1] == BudgetSpent(17, 2, out_of_time=True)


def test_the_budgets_time_limit_is_the_scrape_functions_as_deployed():
    """A budget reckoned on a longer limit than the function's would be killed again: the setting's default is the
    Knative timeout of the functions that crawl (scrape; sync, the same handler; verify)."""
    import yaml

    from affiliate_matrix.fetch_settings import FetchSettings
    from tests.support.processes import ROOT

    services = {doc["metadata"]["name"]: doc for doc in
                yaml.safe_load_all((ROOT / "manifests" / "base" / "services.yaml").read_text()) if doc}
    limits = {name: services[name]["spec"]["template"]["spec"]["timeoutSeconds"] for name in ("scrape", "sync", "verify")}
    default = FetchSettings.model_fields["crawl_time_limit_s"].default
    assert limits == {"scrape": default, "sync": default, "verify": default}


class LargeCatalogue(Catalogue):
    """A directory with more detail pages than a run fetches (AffiliatePrograms.com lists thousands)."""

    details = 25


def test_a_catalogue_larger_than_the_page_limit_is_reached_whole_over_runs(tmp_path):
    """Only the first max_pages URLs found were ever queued: the pages found after them were never fetched on any run,
    and the same ones were fetched again every run. The crawl holds more than it fetches (MAX_QUEUED), and each run
    asks for those no run has asked for first: 10 pages a run (the listing and 9 details) reach all 25 in 3 runs."""
    runs = catalogue_runs(LargeCatalogue, 3, 10, tmp_path)
    assert [run[0] for run in runs] == ["/"] * 3 and all(len(run) == 10 for run in runs)
    details = [[int(path.rsplit("/", 1)[1]) for path in run[1:]] for run in runs]
    assert details[:2] == [list(range(9)), list(range(9, 18))]
    assert details[2] == [*range(18, 25), 0, 1]  # then those asked for longest ago
    assert {number for run in details for number in run} == set(range(25))


SHELVES = 8


class Shelves(Catalogue):
    """A directory whose start page links SHELVES listing pages (categories), each linking two detail pages."""

    def parse(self, page):
        if page.url.endswith("/"):  # the start page
            for shelf in range(SHELVES):
                yield page.follow(f"/page/shelf-{shelf}")
        else:
            shelf = page.url.rsplit("-", 1)[1]
            for number in range(2):
                yield page.follow(f"/page/{shelf}-{number}", "parse_detail")


def test_listing_pages_beyond_a_runs_budget_are_reached_over_runs(tmp_path):
    """Listing pages were asked for in the order found, always before details: with more of them than a run's budget,
    the same first ones were fetched every run and the others (and their programs) never. They are ordered among
    themselves as details are, never asked for first, then asked for longest ago; the start page always first. The
    details a run has not asked for come before the listing pages it asked for before (their links are in the copies
    kept: the shelves' details are found there, not asked of the host), but every fourth page is the listing page
    asked for longest ago (REFRESH_EVERY)."""
    runs = catalogue_runs(Shelves, 4, 4, tmp_path)
    assert [run[0] for run in runs] == ["/"] * 4
    assert [run[1:] for run in runs] == [["/page/shelf-0", "/page/shelf-1", "/page/shelf-2"],
                                         ["/page/shelf-3", "/page/shelf-4", "/page/shelf-0"],
                                         ["/page/shelf-5", "/page/shelf-6", "/page/shelf-1"],
                                         ["/page/shelf-7", "/page/0-0", "/page/shelf-2"]]


class Backlog(Catalogue):
    """A directory whose start page links 3 listing pages, each linking 30 detail pages: a backlog of details no run
    has asked for that takes many runs to ask for."""

    def parse(self, page):
        if page.url.endswith("/"):
            for shelf in range(3):
                yield page.follow(f"/page/shelf-{shelf}")
        else:
            shelf = page.url.rsplit("-", 1)[1]
            for number in range(30):
                yield page.follow(f"/page/{shelf}-{number}", "parse_detail")


def test_listing_pages_are_asked_again_while_a_backlog_of_details_never_asked_waits(tmp_path):
    """Listing pages (where new programs appear) were asked again only once every page never asked had been: with 87
    details left at 7 a run, not for 13 runs. Every fourth page a run asks for is the listing page asked for longest
    ago, and the backlog still takes the rest of the run."""
    runs = catalogue_runs(Backlog, 3, 8, tmp_path)
    details = [f"/page/0-{number}" for number in range(14)]
    assert runs == [["/", "/page/shelf-0", "/page/shelf-1", "/page/shelf-2", *details[:4]],
                    ["/", *details[4:6], "/page/shelf-0", *details[6:9], "/page/shelf-1"],
                    ["/", *details[9:11], "/page/shelf-2", *details[11:14], "/page/shelf-0"]]


def gets(store: CountingStore) -> int:
    """How many objects the store was asked to read since last asked, forgetting what it was asked."""
    count = sum(operation == "get" for operation, _ in store.asked)
    store.asked = []
    return count


def test_a_listing_pages_links_are_kept_with_the_crawls_state_not_read_from_its_copy_each_run(tmp_path):
    """Each run read the kept copy of every listing page an earlier run had asked for (an object-store read, a round
    trip on S3, and a parse each), for its links. They are kept with the page's entry in the HTTP cache when it is
    parsed: a run that asks only the start page reads no object and still queues the 8 shelves and their 16 details.
    The copy stays the source of truth: links not in the cache are read from it, once, and kept."""
    server, time, hosts = FaultServer(), FakeTime(), HostLimits()
    store, validators = CountingStore(LocalObjectStore(tmp_path)), {}
    runs = iter(f"2026-12-{day:02}T06:00:00.000000+00:00" for day in range(1, 5))
    reads = []
    try:
        whole = crawl_catalogue(server, store, validators, time, hosts, next(runs), Shelves)
        for forget in (False, True, False):
            if forget:  # a cache written before links were kept, say
                for entry in validators.values():
                    entry.pop("links", None)
            gets(store)  # forgets what the runs before asked
            outcome = crawl_catalogue(server, store, validators, time, hosts, next(runs), Shelves, max_pages=1)
            assert outcome[-1] == BudgetSpent(1, SHELVES + 2 * SHELVES, out_of_time=False)
            reads.append(gets(store))
    finally:
        server.close()
    assert sum(isinstance(outcome, Fetched) for outcome in whole) == 1 + SHELVES + 2 * SHELVES
    assert reads == [0, SHELVES, 0]
    shelf = validators[f"{server.url}/page/shelf-3"]
    assert shelf["links"] == [[f"{server.url}/page/3-{number}", "parse_detail"] for number in range(2)]


def test_the_links_kept_follow_the_listing_pages_copy(tmp_path):
    """The links in the cache are those of the copy last kept: a shelf that links a third detail when asked again has
    three noted, and one whose new copy does not parse has none (its copy is read, and fails, as before)."""
    from affiliate_matrix.sources import ParseError

    class Changing(Shelves):
        per_shelf, broken = 2, False

        def parse(self, page):
            if not page.url.endswith("/") and self.broken:
                raise ParseError(f"{page.url}: no shelf")
            yield from super().parse(page)
            if not page.url.endswith("/"):
                shelf = page.url.rsplit("-", 1)[1]
                yield from (page.follow(f"/page/{shelf}-{n}", "parse_detail") for n in range(2, self.per_shelf))

    server, time, hosts = FaultServer(), FakeTime(), HostLimits()
    store, validators = CountingStore(LocalObjectStore(tmp_path)), {}
    runs = iter(f"2026-12-{day:02}T06:00:00.000000+00:00" for day in range(1, 5))
    shelf = f"{server.url}/page/shelf-3"
    try:
        crawl_catalogue(server, store, validators, time, hosts, next(runs), Changing)
        Changing.per_shelf = 3
        crawl_catalogue(server, store, validators, time, hosts, next(runs), Changing)
        noted = [url for url, _ in validators[shelf]["links"]]
        Changing.broken = True
        crawl_catalogue(server, store, validators, time, hosts, next(runs), Changing)
        gets(store)  # forgets what the runs before asked
        crawl_catalogue(server, store, validators, time, hosts, next(runs), Changing, max_pages=1)
    finally:
        server.close()
    assert noted == [f"{server.url}/page/3-{number}" for number in range(3)]
    assert not any("links" in entry for entry in validators.values())
    assert gets(store) == SHELVES


def test_links_past_the_cache_bound_are_read_from_the_copies(tmp_path, monkeypatch):
    """The cache is read and written whole each run, so the links kept in it are bounded (MAX_LINKS_KEPT): the shelves
    whose links would pass it keep none there, and their copies are read for them, as before."""
    from affiliate_matrix import crawl as crawling

    monkeypatch.setattr(crawling, "MAX_LINKS_KEPT", 5)
    server, time, hosts = FaultServer(), FakeTime(), HostLimits()
    store, validators = CountingStore(LocalObjectStore(tmp_path)), {}
    try:
        crawl_catalogue(server, store, validators, time, hosts, "2026-12-01T06:00:00.000000+00:00", Shelves)
        gets(store)  # forgets what the runs before asked
        outcome = crawl_catalogue(server, store, validators, time, hosts, "2026-12-02T06:00:00.000000+00:00", Shelves,
                                  max_pages=1)
    finally:
        server.close()
    assert outcome[-1] == BudgetSpent(1, SHELVES + 2 * SHELVES, out_of_time=False)
    assert sum(len(entry.get("links", ())) for entry in validators.values()) == 4  # two shelves' links
    assert gets(store) == SHELVES - 2


def test_links_dropped_with_an_entry_the_fetcher_renews_are_not_counted_against_the_bound(tmp_path, monkeypatch):
    """A listing page fetched whole renews its cache entry, dropping the links kept with it; they stayed counted until
    the run's end, so a run that fetched its shelves anew refused every shelf's links (4 counted as 8 or more, past
    5) and the next run read all 8 copies. The count is made again before it refuses: two shelves keep theirs."""
    from affiliate_matrix import crawl as crawling

    monkeypatch.setattr(crawling, "MAX_LINKS_KEPT", 5)
    server, time, hosts = FaultServer(), FakeTime(), HostLimits()
    store, validators = CountingStore(LocalObjectStore(tmp_path)), {}
    try:
        for day in (1, 2):  # the shelves answer 200 with no validators: fetched whole each run
            crawl_catalogue(server, store, validators, time, hosts, f"2026-12-0{day}T06:00:00.000000+00:00", Shelves)
        kept = sum(len(entry.get("links", ())) for entry in validators.values())
        gets(store)  # forgets what the runs before asked
        crawl_catalogue(server, store, validators, time, hosts, "2026-12-03T06:00:00.000000+00:00", Shelves,
                        max_pages=1)
    finally:
        server.close()
    assert kept == 4  # two shelves' links
    assert gets(store) == SHELVES - 2


class Vanishing(FaultServer):
    """The recorded directory's server, whose shelf-3 answers 404 while `gone`."""

    gone = False

    def answer(self, request):
        return (404, {}, b"") if self.gone and request.path == "/page/shelf-3" else super().answer(request)

def test_a_listing_page_gone_is_named_by_every_run_until_it_answers_again(tmp_path):
    """A listing page answering 404 was an "HTTP 404" of the run that asked for it, like any passing fault, and nothing
    in a run that did not (one stopped at its budget): who read a run's failures could not tell that a shelf had been
    gone for days. It is noted gone in the HTTP cache, since the run it first answered so, and every run that finds it
    names it, asked or not, until it answers again."""

    server, time, hosts = Vanishing(), FakeTime(), HostLimits()
    store, validators = LocalObjectStore(tmp_path), {}
    runs = iter(f"2026-12-{day:02}T06:00:00.000000+00:00" for day in range(1, 6))
    failures = []
    try:
        for gone, max_pages in ((False, 500), (True, 500), (True, 1), (True, 500), (False, 500)):
            server.gone = gone
            outcomes = crawl_catalogue(server, store, validators, time, hosts, next(runs), Shelves, max_pages)
            failures.append([(o.url.removeprefix(server.url), o.reason) for o in outcomes if isinstance(o, Failure)])
    finally:
        server.close()
    gone = "a listing page gone: answering HTTP 404 since the run of 2026-12-02T06:00:00.000000+00:00"
    dropped = f"{gone}; the 2 links only it listed dropped (asked again when a page lists them)"
    assert failures == [[], [("/page/shelf-3", dropped)], [("/page/shelf-3", f"{gone} (not asked this run)")],
                        [("/page/shelf-3", gone)], []]
    assert not any("gone" in entry for entry in validators.values())



def test_the_links_only_a_gone_listing_page_listed_are_dropped_not_asked_again_and_again(tmp_path):
    """A listing page answering 404 still gave the links kept from its last copy, so the detail pages only it had
    listed were queued and asked again by every run, for as long as it stayed gone. When it answers gone, the links
    no other page of the run lists are dropped (its run names how many), its cache entry keeps none, and a page gone
    gives none: shelf-3's first detail is not asked again, its second, which shelf-4 lists too, is; back, shelf-3
    lists it again."""

    class Shared(Shelves):
        def parse(self, page):
            yield from super().parse(page)
            if page.url.endswith("/page/shelf-4"):
                yield page.follow("/page/3-1", "parse_detail")

    server, time, hosts = Vanishing(), FakeTime(), HostLimits()
    store, validators = LocalObjectStore(tmp_path), {}
    runs = iter(f"2026-12-{day:02}T06:00:00.000000+00:00" for day in range(1, 6))
    asked, reasons, kept = [], [], []
    try:
        for gone in (False, True, True, False):
            server.gone = gone
            before = {path: len(hits) for path, hits in server.hits.items()}
            outcomes = crawl_catalogue(server, store, validators, time, hosts, next(runs), Shared)
            asked.append([path for path in ("/page/3-0", "/page/3-1")
                          if len(server.hits[path]) > before.get(path, 0)])
            reasons.append([o.why for o in outcomes if isinstance(o, Failure)])
            kept.append("links" in validators[f"{server.url}/page/shelf-3"])
    finally:
        server.close()
    assert asked == [["/page/3-0", "/page/3-1"], ["/page/3-1"], ["/page/3-1"], ["/page/3-0", "/page/3-1"]]
    gone = "a listing page gone: answering HTTP 404 since the run of 2026-12-02T06:00:00.000000+00:00"
    assert reasons == [[], [f"{gone}; the 1 link only it listed dropped (asked again when a page lists them)"],
                       [gone], []]
    assert kept == [True, False, False, True]


def test_a_link_a_gone_listing_page_dropped_is_asked_when_a_page_found_after_lists_it(tmp_path):
    """A link dropped with its gone listing page is taken back when a page parsed later in the run lists it, though
    its turn in the queue has passed: shelf-3's first detail, which the last detail page links, is asked after it."""

    class Linked(Shelves):
        def parse_detail(self, page):
            if page.url.endswith(f"/page/{SHELVES - 1}-1"):
                yield page.follow("/page/3-0", "parse_detail")

    server, time, hosts = Vanishing(), FakeTime(), HostLimits()
    store, validators = LocalObjectStore(tmp_path), {}
    try:
        crawl_catalogue(server, store, validators, time, hosts, "2026-12-01T06:00:00.000000+00:00", Linked)
        server.gone = True
        outcomes = crawl_catalogue(server, store, validators, time, hosts, "2026-12-02T06:00:00.000000+00:00", Linked)
    finally:
        server.close()
    fetched = [o.url.removeprefix(server.url) for o in outcomes if isinstance(o, Fetched)]
    assert fetched[-2:] == [f"/page/{SHELVES - 1}-1", "/page/3-0"] and "/page/3-1" not in fetched
    assert [o.why for o in outcomes if isinstance(o, Failure)] == [
        "a listing page gone: answering HTTP 404 since the run of 2026-12-02T06:00:00.000000+00:00; the 1 link only it "
        "listed dropped (asked again when a page lists them)"]

def test_an_http_cache_keeps_listing_links_and_refuses_malformed_ones(tmp_path):
    """The cache with links reads back whole; links not [url, callback] pairs make it damaged (fetched in full)."""
    import json

    from affiliate_matrix.config import Settings
    from affiliate_matrix.fetch import http_cache
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    cache = {"http://a.example/list": {"raw_key": "raw/a/x.html", "links": [["http://a.example/p/1", "parse_detail"]]}}
    rt.store.put("http-cache/a.json", json.dumps(cache).encode(), content_type="application/json")
    assert http_cache(rt, "http-cache/a.json") == cache
    for links in (["http://a.example/p/1"], [["http://a.example/p/1", 3]], "http://a.example/p/1"):
        damaged = {"http://a.example/list": {"raw_key": "raw/a/x.html", "links": links}}
        rt.store.put("http-cache/a.json", json.dumps(damaged).encode(), content_type="application/json")
        assert http_cache(rt, "http-cache/a.json") == {}


CHAIN = 12


class Chain(Catalogue):
    """A listing of CHAIN pages reached only by "next" links, page 1 to page 2 to page 3…, each listing one program."""

    start_paths = ("/page/list-1",)

    def parse(self, page):
        number = int(page.url.rsplit("-", 1)[1])
        yield page.follow(f"/page/{number}", "parse_detail")
        if number < CHAIN:
            yield page.follow(f"/page/list-{number + 1}")


def test_a_next_page_chain_longer_than_a_runs_budget_is_read_whole_over_runs(tmp_path):
    """Each run began at page 1 and asked for pages 2, 3… again to find the next: a chain longer than the budget was
    cut at the same place every run, its tail and its programs never reached. A listing page an earlier run asked for
    is read from its kept copy for its links, so each run asks for pages no run has asked for: 4 pages a run (page 1,
    and 3 more in the first run; 2 more and a listing page asked before, REFRESH_EVERY, in each after it) reach the 12
    pages and their 12 programs in 1 + ceil(20 / 2) = 11 runs, as few as can."""
    runs = catalogue_runs(Chain, 11, 4, tmp_path)
    assert all(run[0] == "/page/list-1" for run in runs)
    rest = {f"/page/list-{n}" for n in range(2, CHAIN + 1)} | {f"/page/{n}" for n in range(1, CHAIN + 1)}
    asked = runs[0][1:] + [path for run in runs[1:] for path in run[1:3]]
    assert set(asked) == rest, f"{sorted(rest - set(asked))} not reached; some pages asked twice"
    assert all(run[3].startswith("/page/list-") and run[3] in asked[:3 + 2 * n] for n, run in enumerate(runs[1:]))


def test_a_replay_parses_the_pages_it_kept_first(tmp_path):
    """A replay (no run) asks StoredPages, which has only the pages the runs fetched: with more queued than it asks
    for, asking for the never-fetched pages first (as a live run does) would fill it with "no stored copy" failures
    and parse none of the pages kept. It asks for the pages it kept a copy of first, as found."""
    server, time, hosts = FaultServer(), FakeTime(), HostLimits()
    store, validators = LocalObjectStore(tmp_path), {}
    connection = Connection(id="catalogue", source="catalogue")
    try:
        live = crawl_catalogue(server, store, validators, time, hosts, "2026-12-01T06:00:00.000000+00:00",
                               LargeCatalogue, 10)
        replayed = list(crawl(LargeCatalogue(server.url), connection, StoredPages(store, validators, "catalogue"),
                              store, 10))
    finally:
        server.close()
    kept = [outcome.url for outcome in live if isinstance(outcome, Fetched)]
    assert sorted(outcome.url for outcome in replayed if isinstance(outcome, Fetched)) == sorted(kept)
    assert len(kept) == 10
    assert not any(isinstance(outcome, Failure) for outcome in replayed)


class HugeCatalogue(Catalogue):
    """More detail pages than a run's page limit (500)."""

    details = 520


def test_a_replay_parses_every_page_kept_not_a_runs_page_limit(tmp_path):
    """A replay (`amx replay`, after a parser fix) went through the crawl with a live run's page limit: a directory
    whose runs had kept 521 pages had 500 parsed again and the rest left as the old parser read them, unsaid. A
    replay asks no host: it reads every page kept (here kept as runs keep them, in the store and the HTTP cache)."""
    import json

    from affiliate_matrix.config import Settings
    from affiliate_matrix.pipeline import crawl_with_cache
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    site = "http://catalogue.example"
    validators = {}
    for path in ["/", *(f"/page/{number}" for number in range(HugeCatalogue.details))]:
        raw_key = rt.store.put_content_addressed("raw/catalogue", f"<html>{path}</html>".encode(), suffix=".html",
                                                 content_type="text/html")
        validators[site + path] = {"raw_key": raw_key, "content_type": "text/html"}
    rt.store.put("http-cache/catalogue.json", json.dumps(validators).encode(), content_type="application/json")
    connection = Connection(id="catalogue", source="catalogue")
    replayed = list(crawl_with_cache(rt, connection, HugeCatalogue(site), replay=True))
    assert sum(isinstance(outcome, Fetched) for outcome in replayed) == 521
    assert not any(isinstance(outcome, (Failure, BudgetSpent)) for outcome in replayed)


def test_a_replay_reads_only_the_sources_raw_copies_as_kept(tmp_path):
    """The HTTP cache names each page's kept copy: one edited to name another object of the store (a connection, a key's
    record), or a copy written over since (whoever may write raw/), is that page's failure, never parsed as the page."""
    import json

    from affiliate_matrix.config import Settings
    from affiliate_matrix.pipeline import crawl_with_cache
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    site, validators = "http://catalogue.example", {}
    for path in ["/", *(f"/page/{number}" for number in range(Catalogue.details))]:
        raw_key = rt.store.put_content_addressed("raw/catalogue", f"<html>{path}</html>".encode(), suffix=".html",
                                                 content_type="text/html")
        validators[site + path] = {"raw_key": raw_key, "content_type": "text/html"}
    rt.store.put("connections/catalogue.json", b"{}")
    validators[f"{site}/page/0"]["raw_key"] = "connections/catalogue.json"
    rt.store.put(validators[f"{site}/page/1"]["raw_key"], b"<html>forged</html>")
    rt.store.put("http-cache/catalogue.json", json.dumps(validators).encode(), content_type="application/json")
    replayed = list(crawl_with_cache(rt, Connection(id="catalogue", source="catalogue"), Catalogue(site), replay=True))
    failed = {outcome.url.removeprefix(site): outcome.reason for outcome in replayed if isinstance(outcome, Failure)}
    assert failed.keys() == {"/page/0", "/page/1"}, failed
    assert "'connections/catalogue.json' is not a key under raw/catalogue/" in failed["/page/0"]
    assert "holds other bytes than were stored there (written over since)" in failed["/page/1"]
    assert sum(isinstance(outcome, Fetched) for outcome in replayed) == Catalogue.details - 1


def test_the_crawls_fetches_run_in_the_context_of_the_work_crawling(tmp_path, monkeypatch):
    """The fetches run in worker threads, which start in an empty context: what they published carried no rule chain
    (the guard of rules setting each other off) and what they logged none of the event's fields. Each runs in a copy of
    the crawl's context (threads.ContextPool)."""
    from affiliate_matrix.events import current_rule_chain, rule_chain

    seen, get = [], Fetcher.get

    def get_seen(self, url, *args, **kwargs):
        seen.append(current_rule_chain())
        return get(self, url, *args, **kwargs)

    monkeypatch.setattr(Fetcher, "get", get_seen)
    server = FaultServer()
    try:
        with rule_chain(("a-rule", "b-rule")):
            crawl_redirected(server, LocalObjectStore(tmp_path), {}, times=1)
    finally:
        server.close()
    assert seen and set(seen) == {("a-rule", "b-rule")}


class OnePage(Source):
    name, title = "onepage", "One page"
    start_paths = ("/p",)

    def parse(self, page):
        yield Listing(record_key="a", name="Shop", merchant_url="https://shop.example/")


def crawled_twice(source, tmp_path) -> tuple:
    """Two runs of `source` (as connection onepage) sharing one store and one HTTP cache, as two scheduled scrapes:
    the store, the cache's validators and each run's outcomes."""
    store, validators, runs = LocalObjectStore(tmp_path), {}, []
    for _ in range(2):
        fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000, validators=validators)
        runs.append(list(crawl(source, Connection(id="onepage", source="onepage"), fetcher, store)))
    return store, validators, runs


@pytest.mark.parametrize("content_type", [None, "text/html; x=" + "y" * 10_000])
def test_a_page_revalidated_whatever_content_type_it_was_sent_with_is_parsed_from_its_kept_copy(tmp_path,
                                                                                                 content_type):
    """A page served with an ETag and no Content-Type was kept in the HTTP cache with a content type of None, and its
    304 on the next run made a page whose Content-Type was None: reading its charset raised AttributeError out of the
    crawl, every run, for as long as the cache kept the entry. And one of kilobytes was kept whole in the cache (read
    and written each run). Neither is kept now: the copy is read as HTML, its charset from its <meta>, as a page
    sent without one is."""
    from affiliate_matrix.storage import MAX_CONTENT_TYPE

    def answer(request):
        if request.path == "/robots.txt":
            return 404, {}, b""
        if request.headers.get("if-none-match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"ETag": '"v1"', **({"Content-Type": content_type} if content_type else {})}, b"<h1>Shop</h1>"

    with Loopback(answer) as site:
        store, validators, runs = crawled_twice(OnePage(site.url), tmp_path)
    assert [type(outcome).__name__ for outcome in runs[1]] == ["Fetched", "RawRecord"] and runs[1][0].not_modified
    assert len(validators[f"{site.url}/p"].get("content_type") or "") <= MAX_CONTENT_TYPE


class NamedPage(OnePage):
    def parse(self, page):
        name = re.search(r"<h1>(.*)</h1>", page.text)[1]
        yield Listing(record_key="a", name=name, merchant_url="https://shop.example/")


def test_a_page_with_only_a_last_modified_is_revalidated_kept_once_and_read_again_in_its_charset(tmp_path):
    """A directory sending Last-Modified and no ETag (most static hosts), its page in windows-1252: the next run asks
    If-Modified-Since with the date as sent, its 304 costs no body, and the copy kept the first time (once) is parsed
    again in the charset the page was sent with."""
    modified = "Wed, 21 Oct 2015 07:28:00 GMT"

    def answer(request):
        if request.path == "/robots.txt":
            return 404, {}, b""
        if request.headers.get("if-modified-since") == modified:
            return 304, {}, b""
        return 200, {"Last-Modified": modified, "Content-Type": "text/html; charset=windows-1252"}, \
            "<h1>Acme™ “Deals”</h1>".encode("cp1252")

    with Loopback(answer) as site:
        store, _, runs = crawled_twice(NamedPage(site.url), tmp_path)
        asked = [request.headers.get("if-modified-since") for request in site.requests if request.path == "/p"]
    assert asked == [None, modified]
    assert [(type(outcome).__name__, getattr(outcome, "not_modified", None)) for outcome in runs[1]] == [
        ("Fetched", True), ("RawRecord", None)]
    assert runs[0][1].name == runs[1][1].name == "Acme™ “Deals”"
    assert runs[1][0].raw_key == runs[0][0].raw_key and len(list(store.list("raw/onepage/"))) == 1


class Linking(Source):
    """A directory whose home page links pages on its site, and others it does not follow."""

    name, title = "linking", "Linking"

    def parse(self, page):
        if page.url.endswith("/"):
            for href in ("/page/1", "https://elsewhere.example/x", "mailto:desk@site.example", "/page/" + "x" * 3000,
                         "/page/2", "/page/3"):
                yield page.follow(href)


def test_the_links_a_page_does_not_follow_are_logged_once_counted_by_why(tmp_path, monkeypatch):
    """Links to another host or longer than a URL may be were dropped with no word, and those past the crawl's
    queue bound too: a plugin whose links all went elsewhere crawled one page, saying nothing. One line per page."""
    from structlog.testing import capture_logs

    monkeypatch.setattr("affiliate_matrix.crawl.MAX_QUEUED", 3)  # the home page, /page/1, /page/2
    server = FaultServer()
    try:
        fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000)
        with capture_logs() as logs:
            outcomes = list(crawl(Linking(server.url), Connection(id="linking", source="linking"), fetcher,
                                  LocalObjectStore(tmp_path)))
    finally:
        server.close()
    assert sorted(o.url.removeprefix(server.url) for o in outcomes if isinstance(o, Fetched)) == [
        "/", "/page/1", "/page/2"]
    assert [{k: v for k, v in e.items() if k != "log_level"} for e in logs if e["event"] == "crawl.links_not_followed"
            ] == [{"event": "crawl.links_not_followed", "source": "linking", "url": f"{server.url}/",
                   "off_host": 2, "too_long": 1, "queue_full": 1}]


class Coded(Source):
    name, title = "coded", "Coded"
    start_paths = ("/coded/br",)

    def parse(self, page):
        raise AssertionError("a body in a coding not decoded reached the parser")


def test_a_page_in_a_coding_not_asked_for_fails_naming_it_and_is_kept_as_it_came(tmp_path):
    """Its bytes went to the parser as text, to fail as a layout the plugin did not know, or to yield nothing."""
    server, store = FaultServer(), LocalObjectStore(tmp_path)
    try:
        fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000)
        (failure,) = crawl(Coded(server.url), Connection(id="coded", source="coded"), fetcher, store)
    finally:
        server.close()
    assert failure.stage == "fetch" and "its body is coded as 'br'" in failure.reason
    assert store.get(failure.raw_key).data == PAGE


class Mended(Source):
    """A directory whose one page came brotli-coded (not asked for) until its site was mended."""

    name, title = "mended", "Mended"
    start_paths = ("/page",)

    def parse(self, page):
        assert page.text == PAGE.decode(), "a body in a coding not decoded reached the parser"
        yield from ()


def test_a_page_in_a_coding_not_asked_for_fails_its_replay_in_the_crawls_words_until_it_answers_readably(tmp_path):
    """The crawl failed the page as a fetch and kept its body; the replay knew nothing of it, and parsed the page's
    copy before (or failed for want of one). The crawl's cache notes the refusal (the coding, the copy), and the
    replay refuses the page as the crawl did, until an answer in a coding asked for clears it."""
    import json
    from types import SimpleNamespace

    from affiliate_matrix.fetch import http_cache

    coded = {"as": "br"}
    store, validators = LocalObjectStore(tmp_path), {}
    connection = Connection(id="mended", source="mended")

    def answer(request):
        if request.path != "/page":
            return 404, {}, b""
        return 200, {"Content-Type": "text/html", **({"Content-Encoding": coded["as"]} if coded["as"] else {})}, PAGE

    with Loopback(answer) as site:
        def live():
            fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000,
                              validators=validators)
            try:
                return list(crawl(Mended(site.url), connection, fetcher, store, run="2026-12-07T10:00:00.000000+00:00"))
            finally:
                fetcher.close()

        def replayed():
            store.put("http-cache/mended.json", json.dumps(validators).encode())  # as the run keeps it, read back
            cache = http_cache(SimpleNamespace(store=store), "http-cache/mended.json", replaying="mended")
            return list(crawl(Mended(site.url), connection, StoredPages(store, cache, "mended"), store))

        (failure,) = live()
        asked = len(site.requests)
        (again,) = replayed()
        assert len(site.requests) == asked  # the replay asked the site nothing
        coded["as"] = None
        (fetched,) = live()
        (parsed,) = replayed()
    assert failure.stage == "fetch" and "its body is coded as 'br'" in failure.reason
    assert (again.url, again.stage, again.reason, again.raw_key) == (failure.url, "fetch", failure.reason,
                                                                      failure.raw_key)
    assert isinstance(fetched, Fetched) and isinstance(parsed, Fetched) and parsed.raw_key == fetched.raw_key


class Wandering(Source):
    """A directory whose pages link every page they name (`<a href>`), one of them moved off its site."""

    name, title = "wandering", "Wandering"

    def parse(self, page):
        for href in re.findall(r'href="([^"]+)"', page.text):
            yield page.follow(href)


def wandering_crawl(tmp_path, directory_url: str) -> list:
    fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000)
    try:
        return list(crawl(Wandering(directory_url), Connection(id="wandering", source="wandering"), fetcher,
                          LocalObjectStore(tmp_path)))
    finally:
        fetcher.close()


def test_a_directory_page_redirecting_to_another_site_is_its_failure_and_that_site_is_never_crawled(tmp_path,
                                                                                                     monkeypatch):
    """A page redirecting elsewhere was followed, and that site's links were then 'on host' (relative to the page
    reached): the crawl went on across the other site, reading it with the directory's plugin. The crawl's scope is
    its directory's site: such a page fails naming where it led, and the other site is asked for nothing."""
    other = Loopback(lambda request: (200, {"Content-Type": "text/html"}, b'<a href="/elsewhere/1">x</a>'),
                     host="127.0.0.2")
    pages = {"/": b'<a href="/moved">m</a><a href="/p/1">p</a>', "/p/1": b"<p>a program</p>"}

    def answer(request):
        if request.path == "/moved":
            return 301, {"Location": f"{other.url}/"}, b""
        return (200, {"Content-Type": "text/html"}, pages[request.path]) if request.path in pages else (404, {}, b"")

    # the two loopback addresses stand for two public sites: loopback is otherwise allowed for the site asked alone
    monkeypatch.setattr(Fetcher, "_may_use_loopback", lambda self, host, port: True)
    with other, Loopback(answer) as directory:
        outcomes = wandering_crawl(tmp_path, directory.url)
    assert other.requests == []  # not even its robots.txt
    assert sorted(o.url.removeprefix(directory.url) for o in outcomes if isinstance(o, Fetched)) == ["/", "/p/1"]
    [failure] = [o for o in outcomes if isinstance(o, Failure)]
    assert failure.url == f"{directory.url}/moved" and failure.why == (
        "redirects to another site (127.0.0.2, not 127.0.0.1): not followed, as a crawl stays on its directory's site")


@pytest.mark.parametrize("start,moved_to", [("http://www.example.com", "http://example.com"),
                                            ("http://example.com", "http://www.example.com"),
                                            ("http://example.com", "https://example.com")])
def test_a_redirect_within_the_directorys_own_site_is_followed_and_its_links_too(tmp_path, monkeypatch, start,
                                                                                 moved_to):
    """www to the apex and back, http to https: one site, the crawl goes on there (its registrable domain)."""
    import socket

    from tests.support.tls import certificate

    pages = {"/": b'<a href="/moved">m</a>', "/p/1": b'<a href="/p/2">p</a>', "/p/2": b"<p>a program</p>"}

    def answer(request):
        if request.path == "/moved":
            return 301, {"Location": f"{moved_to}:{port_of[moved_to.split(':')[0]]}/p/1"}, b""
        return (200, {"Content-Type": "text/html"}, pages[request.path]) if request.path in pages else (404, {}, b"")

    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: real(
        "127.0.0.1" if host.endswith("example.com") else host, *args, **kwargs))
    monkeypatch.setattr(Fetcher, "_may_use_loopback", lambda self, host, port: True)  # example.com's, here
    (tmp_path / "tls").mkdir()
    tls, ca_file = certificate(tmp_path / "tls", "example.com")
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)  # httpx trusts this CA (trust_env) instead of the public ones
    with Loopback(answer) as plain, Loopback(answer, tls=tls) as secure:
        port_of = {"http": plain.port, "https": secure.port}
        outcomes = wandering_crawl(tmp_path, f"{start}:{plain.port}")
    assert [o for o in outcomes if isinstance(o, Failure)] == []
    reached = f"{moved_to}:{port_of[moved_to.split(':')[0]]}"
    assert sorted(o.url for o in outcomes if isinstance(o, Fetched)) == sorted([  # /moved is /p/1, which links /p/2
        f"{start}:{plain.port}/", f"{start}:{plain.port}/moved", f"{reached}/p/2"])
