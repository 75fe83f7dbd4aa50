"""A directory's sitemaps as a hostile or careless site writes them (sitemaps.py): a <lastmod> that lags its pages, a
copy's time noted past the run, an index listing itself. Over real HTTP, as tests/e2e/test_sitemaps.py serves them."""

from datetime import datetime, timedelta

from affiliate_matrix.sitemaps import MAX_UNASKED
from affiliate_matrix.storage.local import LocalObjectStore
from tests.e2e.test_sitemaps import FIRST_RUN, crawled, directory, logged, recorded_sites, site_with  # noqa: F401


def later(run: str, by: timedelta) -> str:
    return (datetime.fromisoformat(run) + by).isoformat(timespec="microseconds")


def asked_in(validators: dict, run: str) -> set[str]:
    return {url.rsplit("/p/", 1)[1].strip("/") for url, known in validators.items()
            if "/p/" in url and known.get("fetched_in_run") == run}


def test_a_page_whose_lastmod_never_moves_is_asked_again_once_its_copy_is_older_than_the_bound(tmp_path, directory):
    """MailerLite's and Canva's <lastmod> stay before their copies' run for good (a site stamping its build date, or
    never updating it): read from their copies within MAX_UNASKED of it, they were never asked again, every change to
    them lost. Past it they are asked, and their copies' run moves on."""
    store, validators = LocalObjectStore(tmp_path / "store"), {}
    crawled(directory, store, validators, FIRST_RUN)
    within = later(FIRST_RUN, MAX_UNASKED - timedelta(hours=1))
    past = later(FIRST_RUN, MAX_UNASKED + timedelta(hours=1))
    _, logs = crawled(directory, store, validators, within)
    assert logged(logs, "sitemap.read")[0]["unchanged"] == 2 and not asked_in(validators, within) & {"mailerlite",
                                                                                                       "canva"}
    _, logs = crawled(directory, store, validators, past)
    assert logged(logs, "sitemap.read")[0]["unchanged"] == 0
    assert {"mailerlite", "canva"} <= asked_in(validators, past)
    assert validators[f"{directory}/p/mailerlite/"]["kept_in_run"] == past


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
