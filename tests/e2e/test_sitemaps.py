"""A directory crawl reads the sitemaps its site names (sitemaps.py): the program pages only they list are crawled, a
page whose <lastmod> is no later than the copy kept is not asked again, and a hostile sitemap is refused with its reason
logged while the crawl goes on. Over real HTTP: AffiliatePrograms.com's recorded site with the recorded sitemaps of
tests/data/sitemaps (reconstructions, its README says) laid over it, served by the recorded-sources server."""

import gzip
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.crawl import BudgetSpent, Failure, Fetched, crawl
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.fetch import Fetcher
from affiliate_matrix.models import RawRecord
from affiliate_matrix.polite import MAX_BYTES
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.sitemaps import MAX_UNASKED, seeds
from affiliate_matrix.sources import get_source
from affiliate_matrix.storage.local import LocalObjectStore

SITEMAPS = Path(__file__).parents[1] / "data" / "sitemaps"
LINKED = {"bluehost", "canva", "hostinger", "nordvpn", "semrush", "tiny-notes"}  # read by the link walk (and surfshark,
# a parse error)
FIRST_RUN, SECOND_RUN = "2025-03-01T00:00:00.000000+00:00", "2025-03-06T00:00:00.000000+00:00"


def site_with(tmp_path: Path, *overlays: str) -> Path:
    site = tmp_path / "site"
    shutil.copytree(get_source("affiliateprograms").recorded_dir(), site)
    for overlay in overlays:
        shutil.copytree(SITEMAPS / overlay, site, dirs_exist_ok=True)
    return site


def gzipped(site: Path, name: str, url: str) -> None:
    """The sitemap `name` as the site keeps it gzipped (name.gz), naming the server's address."""
    text = (site / name).read_text().replace("{{site:affiliateprograms}}", url)
    (site / f"{name}.gz").write_bytes(gzip.compress(text.encode(), mtime=0))


def crawled(url: str, store, validators: dict, run: str, asked: list | None = None, **options) -> tuple[list, list]:
    """A live crawl's outcomes and its log; `options`: crawl's (max_pages) and the connection's (concurrency).
    `asked`: where the URLs asked for (robots.txt aside) are listed, in order."""
    source = get_source("affiliateprograms")(url)
    fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000, validators=validators)
    if asked is not None:
        get = fetcher.get
        fetcher.get = lambda page, **how: asked.append(page) or get(page, **how)
    try:
        with capture_logs() as logs:
            seeded, unchanged, _ = seeds(source, fetcher, store, run)
            connection = Connection(id="ap", source="affiliateprograms", concurrency=options.pop("concurrency", 2))
            outcomes = list(crawl(source, connection, fetcher, store, run=run, seeds=(seeded, unchanged), **options))
    finally:
        fetcher.close()
    return outcomes, logs


def slugs(outcomes: list, kind: type) -> set[str]:
    return {o.url.rsplit("/p/", 1)[1].strip("/") for o in outcomes if isinstance(o, kind) and "/p/" in o.url}


def logged(logs: list, event: str) -> list[dict]:
    return [{k: v for k, v in line.items() if k not in ("event", "log_level", "source")} for line in logs
            if line["event"] == event]


@pytest.fixture
def directory(tmp_path):
    site = site_with(tmp_path, "directory")
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site}) as urls:
        gzipped(site, "sitemap-programs.xml", urls["affiliateprograms"])
        yield urls["affiliateprograms"]


def test_program_pages_only_the_sitemaps_list_are_crawled_through_an_index_of_a_gzipped_and_a_plain_one(tmp_path,
                                                                                                       directory):
    store, validators = LocalObjectStore(tmp_path / "store"), {}
    outcomes, logs = crawled(directory, store, validators, FIRST_RUN)
    records = {o.record_key: o for o in outcomes if isinstance(o, RawRecord)}
    assert set(records) == LINKED | {"mailerlite", "wise"}  # the last two linked by no category page
    assert records["mailerlite"].commission_text == "30% recurring commission"
    assert slugs(outcomes, Failure) == {"surfshark"}  # the recorded site's page no reader reads
    assert logged(logs, "sitemap.read") == [{"sitemaps": 3, "entries": 8, "program_pages": 4, "seeded": 4,
                                             "unchanged": 0, "disallowed": 0, "not_read": 0}]
    # the other host's sitemap is never asked for, nor the other host's page a sitemap lists (not a program page here)
    assert logged(logs, "sitemap.refused") == [{
        "url": "https://cdn.elsewhere.example/sitemap.xml",
        "reason": f"on another host than the directory's ({directory.removeprefix('http://')}): not asked for"}]
    # each sitemap kept raw as every page is, the gzipped one as it came; the one robots.txt names noted for a replay
    for name in ("sitemap_index.xml", "sitemap-programs.xml.gz", "sitemap-pages.xml"):
        kept = store.get_content_addressed("raw/affiliateprograms", validators[f"{directory}/{name}"]["raw_key"],
                                           max_bytes=MAX_BYTES)
        served = (tmp_path / "site" / name).read_bytes().replace(b"{{site:affiliateprograms}}", directory.encode())
        assert kept == served
    assert [url for url, entry in validators.items() if entry.get("sitemap")] == [f"{directory}/sitemap_index.xml"]


def test_the_pages_the_sitemaps_list_are_asked_after_the_listing_pages_and_before_those_the_link_walk_finds(
        tmp_path, directory):
    """Within the page limit: the start pages and the listing page they find first (they find new programs), then the
    sitemaps' program pages in their order, then the program pages the categories link (one at a time: in order)."""
    outcomes, _ = crawled(directory, LocalObjectStore(tmp_path / "store"), {}, FIRST_RUN, max_pages=6, concurrency=1)
    assert [o.url.removeprefix(directory) for o in outcomes if isinstance(o, Fetched)] == [
        "/categories/software/", "/categories/hosting/", "/categories/software/page/2/", "/p/mailerlite/", "/p/canva/",
        "/p/wise/"]
    # left: the program pages the categories link (and surfshark's) but Canva's, which the sitemap listed
    assert outcomes[-1] == BudgetSpent(6, len(LINKED | {"surfshark"}) - 1, out_of_time=False)


def test_a_page_whose_lastmod_is_no_later_than_its_kept_copy_is_not_asked_again_but_read_from_its_copy(tmp_path,
                                                                                                     directory):
    """The copy's time is the run the HTTP cache notes it was got in (data), not this machine's clock: MailerLite
    (lastmod 2025-02-28T23:00Z) and Canva (2025-01-15, a whole day) were kept in the run of 2025-03-01 and are not asked
    in the next; Wise (lastmod 2025-04-01) is, and Tiny Notes, listed with no lastmod. The two not asked are read from
    their copies as a 304's page is, so their programs are seen in the run as every page's the site still lists. The
    sitemaps answer 304 the second time: their kept copies are read, the gzipped one inflated again."""
    store, validators = LocalObjectStore(tmp_path / "store"), {}
    first, _ = crawled(directory, store, validators, FIRST_RUN)
    outcomes, logs = crawled(directory, store, validators, SECOND_RUN)
    asked = {url.rsplit("/p/", 1)[1].strip("/") for url, known in validators.items()
             if "/p/" in url and known.get("fetched_in_run") == SECOND_RUN}
    assert asked == LINKED - {"canva"} | {"surfshark", "wise"}
    assert logged(logs, "sitemap.read")[0]["unchanged"] == 2
    unasked = [o for o in outcomes if isinstance(o, Fetched) and o.url.rstrip("/").endswith(("mailerlite", "canva"))]
    assert [o.not_modified for o in unasked] == [True, True]
    seen = {o.record_key: o.commission_text for o in outcomes if isinstance(o, RawRecord)}
    assert {key: seen[key] for key in ("mailerlite", "canva")} == {
        o.record_key: o.commission_text for o in first if isinstance(o, RawRecord) and o.record_key in ("mailerlite",
                                                                                                         "canva")}
    assert validators[f"{directory}/p/wise/"]["kept_in_run"] == SECOND_RUN
    assert validators[f"{directory}/p/mailerlite/"]["kept_in_run"] == FIRST_RUN  # not asked: its copy is the first's


def test_a_replay_reads_the_program_pages_of_the_sitemaps_kept(tmp_path, directory):
    """`amx replay` asks no host: it reads the copies of the sitemaps the last run read, and of their program pages."""
    from affiliate_matrix.pipeline import scrape

    rt = Runtime("test", Settings(data_dir=tmp_path / "data", allow_loopback_fetch=True))
    save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=directory, rate_limit_per_s=50))
    runs = []
    for replay in (False, True):
        records = []
        scrape(rt, "ap", on_item=lambda item: records.append(item.record_key) if isinstance(item, RawRecord) else 0,
               replay=replay)
        runs.append(set(records))
    assert runs[1] == runs[0] == LINKED | {"mailerlite", "wise"}


def test_hostile_sitemaps_are_refused_with_their_reason_and_the_crawl_goes_on(tmp_path):
    site = site_with(tmp_path, "directory", "hostile")
    # one past the 5 MB cap; one gzipped into a few KB that inflates past it
    (site / "oversized.xml").write_bytes(b"<urlset>" + b" " * MAX_BYTES + b"</urlset>")
    (site / "inflating.xml.gz").write_bytes(gzip.compress(b"<urlset>" + b" " * (2 * MAX_BYTES) + b"</urlset>"))
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site}) as urls:
        url = urls["affiliateprograms"]
        outcomes, logs = crawled(url, LocalObjectStore(tmp_path / "store"), {}, FIRST_RUN)
    assert set(o.record_key for o in outcomes if isinstance(o, RawRecord)) == LINKED | {"wise"}
    refused = {line["url"].removeprefix(url): line["reason"] for line in logged(logs, "sitemap.refused")}
    assert refused.pop("/bomb.xml").startswith(f"{url}/bomb.xml: the sitemap declares an XML entity ('lol')")
    assert refused.pop("/deep.xml") == f"{url}/deep.xml: elements nested 8 deep and more: no sitemap nests so"
    assert refused.pop("/oversized.xml") == (f"{url}/oversized.xml: declares {MAX_BYTES + 17} bytes, more than the "
                                             f"{MAX_BYTES} we take")
    assert refused.pop("/inflating.xml.gz") == f"{url}/inflating.xml.gz: inflates past {MAX_BYTES:,} bytes"
    assert refused.pop("https://cdn.elsewhere.example/sitemap.xml").startswith("on another host")
    # MailerLite, which only the index nested deepest leads to, is not crawled
    assert refused.pop("/nested-3.xml") == "listed by an index 3 deep: indexes are followed 2 deep"
    assert refused == {}


def test_a_run_reads_no_more_sitemap_entries_than_its_bound(tmp_path, directory, monkeypatch):
    """The entries read in all are bounded (50,000 a run; 3 here): the index's 2 and the first of the gzipped
    sitemap's; the plain sitemap is not read."""
    monkeypatch.setattr("affiliate_matrix.sitemaps.MAX_ENTRIES", 3)
    outcomes, logs = crawled(directory, LocalObjectStore(tmp_path / "store"), {}, FIRST_RUN)
    assert logged(logs, "sitemap.read") == [{"sitemaps": 2, "entries": 3, "program_pages": 1, "seeded": 1,
                                             "unchanged": 0, "disallowed": 0, "not_read": 1}]
    assert {o.record_key for o in outcomes if isinstance(o, RawRecord)} == LINKED | {"mailerlite"}


# A directory's sitemaps as a hostile or careless site writes them: a <lastmod> that lags its pages, a copy's time
# noted past the run, an index listing itself.
def later(run: str, by: timedelta) -> str:
    return (datetime.fromisoformat(run) + by).isoformat(timespec="microseconds")


def asked_in(validators: dict, run: str) -> set[str]:
    return {url.rsplit("/p/", 1)[1].strip("/") for url, known in validators.items()
            if "/p/" in url and known.get("fetched_in_run") == run}


def test_a_page_whose_lastmod_never_moves_is_asked_again_after_max_unasked_runs_read_from_its_copy(tmp_path,
                                                                                                   directory):
    """MailerLite's and Canva's <lastmod> stay before their copies' run for good (a site stamping its build date, or
    never updating it): read from their copies run after run, they were never asked again, every change to them lost.
    The runs in a row each was read unasked are counted (no clock): the next one asks them, and the count starts
    again."""
    store, validators = LocalObjectStore(tmp_path / "store"), {}
    crawled(directory, store, validators, FIRST_RUN)
    runs = [later(FIRST_RUN, timedelta(days=day)) for day in range(1, MAX_UNASKED + 3)]
    for run in runs[:MAX_UNASKED]:
        _, logs = crawled(directory, store, validators, run)
        assert logged(logs, "sitemap.read")[0]["unchanged"] == 2 and not asked_in(validators, run) & {"mailerlite",
                                                                                                        "canva"}
    assert validators[f"{directory}/p/mailerlite/"]["unasked"] == MAX_UNASKED
    _, logs = crawled(directory, store, validators, runs[MAX_UNASKED])
    assert logged(logs, "sitemap.read")[0]["unchanged"] == 0
    assert {"mailerlite", "canva"} <= asked_in(validators, runs[MAX_UNASKED])
    assert validators[f"{directory}/p/mailerlite/"]["kept_in_run"] == runs[MAX_UNASKED]
    assert "unasked" not in validators[f"{directory}/p/mailerlite/"]
    _, logs = crawled(directory, store, validators, runs[MAX_UNASKED + 1])
    assert logged(logs, "sitemap.read")[0]["unchanged"] == 2


def test_a_copy_noted_as_kept_after_the_run_began_is_no_reason_not_to_ask(tmp_path, directory):
    """A cache noting a copy kept in 2099 (written by a machine whose clock ran ahead, or edited) would pass every
    <lastmod> until then: the page is asked."""
    store, validators = LocalObjectStore(tmp_path / "store"), {}
    crawled(directory, store, validators, FIRST_RUN)
    validators[f"{directory}/p/mailerlite/"]["kept_in_run"] = "2099-01-01T00:00:00.000000+00:00"
    second = later(FIRST_RUN, timedelta(days=1))
    _, logs = crawled(directory, store, validators, second)
    assert "mailerlite" in asked_in(validators, second) and "canva" not in asked_in(validators, second)
    assert logged(logs, "sitemap.read")[0]["unchanged"] == 1


def test_a_sitemap_index_listing_itself_and_a_sitemap_twice_reads_each_once(tmp_path):
    site = site_with(tmp_path, "directory")
    (site / "robots.txt").write_text("User-agent: *\nSitemap: {{site:affiliateprograms}}/loop.xml\n")
    (site / "loop.xml").write_text(
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<sitemap><loc>{{{{site:affiliateprograms}}}}/{name}</loc></sitemap>"
                  for name in ("loop.xml", "sitemap-pages.xml", "loop.xml", "sitemap-pages.xml"))
        + "</sitemapindex>")
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site}) as urls:
        _, logs = crawled(urls["affiliateprograms"], LocalObjectStore(tmp_path / "store"), {}, FIRST_RUN)
    (read,) = logged(logs, "sitemap.read")
    assert (read["sitemaps"], read["program_pages"], read["not_read"]) == (2, 2, 0), read


def test_a_redirected_page_read_unasked_keeps_its_notes_and_counts_the_run(tmp_path, directory):
    """A page listed at an address that redirected (its copy kept under the address reached) is read from that copy;
    its own entry, which reading a copy writes anew ({"redirect": …}), keeps the run its copy is of and counts the run
    it was not asked in, so the next run still reads it unasked and MAX_UNASKED still bounds it."""
    store, validators = LocalObjectStore(tmp_path / "store"), {}
    crawled(directory, store, validators, FIRST_RUN)
    listed, reached = f"{directory}/p/mailerlite", f"{directory}/p/mailerlite/"
    validators[listed] = {"redirect": reached, "kept_in_run": FIRST_RUN, "fetched_in_run": FIRST_RUN, "unasked": 2}
    source = get_source("affiliateprograms")(directory)
    fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000, validators=validators)
    try:
        outcomes = list(crawl(source, Connection(id="ap", source="affiliateprograms"), fetcher, store,
                              max_pages=0, run=SECOND_RUN, seeds=([], {listed})))
    finally:
        fetcher.close()
    assert [o.record_key for o in outcomes if isinstance(o, RawRecord)] == ["mailerlite"]
    assert validators[listed] == {"redirect": reached, "kept_in_run": FIRST_RUN, "fetched_in_run": FIRST_RUN,
                                  "unasked": 3}


# A site with no sitemap, a text sitemap, and what a run's outcome says of the sitemaps it refused.
# How a site says it has none at /sitemap.xml: (its files over the recorded site's, whether robots.txt names it)
NO_SITEMAP = {
    "404": ({}, False),
    "soft 404": ({"sitemap.xml": "<!DOCTYPE html>\n<html><body><h1>Page not found</h1></body></html>"}, False),
    "named": ({}, True),  # robots.txt names it: asked every run, whatever it answers
}


@pytest.mark.parametrize("answer", NO_SITEMAP)
def test_a_site_with_no_sitemap_is_asked_for_it_once_in_max_unasked_runs_unless_robots_txt_names_it(tmp_path,
                                                                                                      answer):
    """/sitemap.xml answering 404 (or a 200 HTML page: a "soft 404") cost a request, and a spacing of the run's time
    budget, every run. Its absence is noted in its cache entry and it is not asked for the next MAX_UNASKED runs
    (counted, not days); the run after asks it once more. One robots.txt names is asked every run."""
    files, named = NO_SITEMAP[answer]
    site = site_with(tmp_path)
    for name, text in files.items():
        (site / name).write_text(text)
    if named:
        (site / "robots.txt").write_text("User-agent: *\nSitemap: {{site:affiliateprograms}}/sitemap.xml\n")
    store, validators = LocalObjectStore(tmp_path / "store"), {}
    runs = [later(FIRST_RUN, timedelta(days=day)) for day in range(MAX_UNASKED + 3)]
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site}) as urls:
        url, asked_in_runs = urls["affiliateprograms"], []
        for run in runs:
            asked = []
            outcomes, logs = crawled(url, store, validators, run, asked=asked)
            asked_in_runs.append(f"{url}/sitemap.xml" in asked)
            assert not logged(logs, "sitemap.refused")  # no sitemap is no refusal
            assert {o.record_key for o in outcomes if isinstance(o, RawRecord)} == LINKED
    if named:
        assert asked_in_runs == [True] * len(runs)
    else:
        assert asked_in_runs == [True] + [False] * MAX_UNASKED + [True, False]
        assert validators[f"{url}/sitemap.xml"] == {"absent": "HTTP 404" if answer == "404" else "an HTML page",
                                                    "unasked": 1}


def test_a_sitemap_found_at_sitemap_xml_after_it_was_absent_is_read_when_asked_again(tmp_path):
    site = site_with(tmp_path, "directory")
    (site / "robots.txt").write_text("User-agent: *\n")
    index = (site / "sitemap_index.xml").read_text()
    store, validators = LocalObjectStore(tmp_path / "store"), {}
    runs = [later(FIRST_RUN, timedelta(days=day)) for day in range(MAX_UNASKED + 2)]
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site}) as urls:
        url = urls["affiliateprograms"]
        gzipped(site, "sitemap-programs.xml", url)
        for run in runs[:-1]:
            crawled(url, store, validators, run)
        assert validators[f"{url}/sitemap.xml"] == {"absent": "HTTP 404", "unasked": MAX_UNASKED}
        (site / "sitemap.xml").write_text(index)
        outcomes, _ = crawled(url, store, validators, runs[-1])
    assert {o.record_key for o in outcomes if isinstance(o, RawRecord)} == LINKED | {"mailerlite", "wise"}
    assert "absent" not in validators[f"{url}/sitemap.xml"] and validators[f"{url}/sitemap.xml"]["sitemap"] == "root"


def test_a_text_sitemap_robots_txt_names_is_read_a_url_a_line_with_the_same_bounds(tmp_path):
    """sitemaps.org's text form: a URL a line. Its program pages on the directory's host are crawled (MailerLite and
    Wise, linked by no category page; Wise listed twice, read once); its other lines (a category page, a page on
    another host) are not program pages."""
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site_with(tmp_path, "directory",
                                                                                           "text")}) as urls:
        outcomes, logs = crawled(urls["affiliateprograms"], LocalObjectStore(tmp_path / "store"), {}, FIRST_RUN)
    assert {o.record_key for o in outcomes if isinstance(o, RawRecord)} == LINKED | {"mailerlite", "wise"}
    assert logged(logs, "sitemap.read") == [{"sitemaps": 1, "entries": 5, "program_pages": 2, "seeded": 2,
                                             "unchanged": 0, "disallowed": 0, "not_read": 0}]
    assert not logged(logs, "sitemap.refused")


def test_a_text_sitemap_reads_no_more_entries_than_its_bound(tmp_path, monkeypatch):
    monkeypatch.setattr("affiliate_matrix.sitemaps.MAX_ENTRIES", 1)
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site_with(tmp_path, "directory",
                                                                                           "text")}) as urls:
        outcomes, logs = crawled(urls["affiliateprograms"], LocalObjectStore(tmp_path / "store"), {}, FIRST_RUN)
    assert logged(logs, "sitemap.read")[0]["entries"] == 1
    assert {o.record_key for o in outcomes if isinstance(o, RawRecord)} == LINKED | {"mailerlite"}


def test_amx_scrape_and_the_runs_record_say_the_sitemaps_refused_and_do_not_fail_for_them(tmp_path, monkeypatch):
    """Refused sitemaps were only logged: `amx scrape` counts them with the first few reasons, and the run's record
    (the connection's last_sync) says those after its failures; the run is not failed for them."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.connections import load_connection

    monkeypatch.setenv("COLUMNS", "400")
    for name, value in {"DATA_DIR": str(tmp_path / "data"), "ALLOW_LOOPBACK_FETCH": "true"}.items():
        monkeypatch.setenv(f"AMX_{name}", value)
    site = site_with(tmp_path, "directory", "hostile")
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site}) as urls:
        url = urls["affiliateprograms"]
        rt = Runtime("test", Settings(data_dir=tmp_path / "data"))
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=url, rate_limit_per_s=50))
        result = CliRunner().invoke(app, ["scrape", "ap"])
    # Surfshark's page, which no reader reads, is the one failure: a refused sitemap is none
    assert result.exit_code == 1 and "\n1 page or response failed" in result.output, (result.output, result.exception)
    said = result.output[result.output.index("4 sitemaps refused"):].splitlines()
    assert said[:5] == [
        "4 sitemaps refused, the crawl went on without them",
        f"  sitemap {url}/bomb.xml: the sitemap declares an XML entity ('lol'), which no answer of this source does: "
        "refused unread, as what it expands to may be gigabytes",
        f"  sitemap {url}/deep.xml: elements nested 8 deep and more: no sitemap nests so",
        f"  sitemap https://cdn.elsewhere.example/sitemap.xml: on another host than the directory's "
        f"({url.removeprefix('http://')}): not asked for",
        "  and 1 more (AMX_LOG_LEVEL=warning logs each as sitemap.refused)"]
    last = load_connection(rt.store, "ap")[0].last_sync
    assert last.status == "succeeded" and [error.split(" ")[0] for error in last.errors] == ["parse"]
    assert last.sitemaps_refused[:3] == [line.removeprefix("  ") for line in said[1:4]]
    assert last.sitemaps_refused[3:] == [
        "sitemap: 1 more refused (each logged as sitemap.refused); the crawl went on without them"]
