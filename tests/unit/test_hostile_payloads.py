"""What an API answers, hostile or broken, through the real sync: the plugin's own server on loopback
(`recorded_sites`, a real HTTP server in its own process), the real scrape. Each answer ends as a named
failure recorded beside the raw response, bounded in what it costs, never a plugin fault or a traceback."""

import json
import re
import shutil

import pytest
from structlog.testing import capture_logs

from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.pipeline import scrape
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.sources import get_source


@pytest.fixture
def rt(tmp_path):
    return Runtime("test", Settings(data_dir=tmp_path / "data", allow_loopback_fetch=True))


@pytest.fixture
def offervault(tmp_path):
    """OfferVault's recorded answers, in a folder a test may change."""
    site = tmp_path / "offervault"
    shutil.copytree(get_source("offervault").recorded_dir(), site)
    return site


def scraped(rt, site):
    with capture_logs() as logs, recorded_sites("offervault", directories={"offervault": site}) as urls:
        save_connection(rt.store, Connection(id="ov", source="offervault", base_url=urls["offervault"],
                                             rate_limit_per_s=50))
        report = scrape(rt, "ov")
    return report, logs


def test_json_nested_10000_deep_is_a_parse_failure_not_a_plugin_fault(rt, offervault):
    (offervault / "networks.json").write_text("[" * 10_000 + "]" * 10_000)
    report, logs = scraped(rt, offervault)
    (failure,) = report.failures
    assert failure.stage == "parse" and failure.raw_key
    assert "not JSON" in failure.reason and "nested" in failure.reason and "plugin fault" not in failure.reason
    assert not [line for line in logs if "exc_info" in line]  # no traceback for a hostile answer


def test_a_list_of_200000_items_it_cannot_read_costs_a_bounded_report_not_one_failure_each(rt, offervault):
    from affiliate_matrix.events import SYNC_REQUESTED
    from affiliate_matrix.handlers.scrape import collect
    from affiliate_matrix.sync import MAX_FAILURES
    from affiliate_matrix.sync_requests import load_sync, request_sync

    page = json.loads((offervault / "search-12-1.json").read_text())
    page["offers"] = [1] * 200_000 + page["offers"]  # 1.2 MB: not one is an offer; the real ones after still read
    (offervault / "search-12-1.json").write_text(json.dumps(page, separators=(",", ":")))
    with capture_logs() as logs, recorded_sites("offervault", directories={"offervault": offervault}) as urls:
        connection = Connection(id="ov", source="offervault", base_url=urls["offervault"], rate_limit_per_s=50)
        save_connection(rt.store, connection)
        published = []
        rt.bus.subscribe(SYNC_REQUESTED, published.append)
        sync = request_sync(rt, connection)
        collect(rt, published[0])
    done = load_sync(rt, sync.id)
    # The offer after them is read, and network 44's; network 12's second page is not asked for: its offerCount is met
    assert done.status == "succeeded" and done.records == 2
    assert len(done.errors) == MAX_FAILURES + 1
    assert f"{200_000 - MAX_FAILURES} more items could not be read" in done.errors[-1]
    assert len(logs) < 2 * MAX_FAILURES + 10  # a line or two per failure kept, not per item
    (error,) = rt.store.list("errors/")  # beside the one answer that held them: its first 100, and the count
    beside = json.loads(rt.store.get(error).data)
    assert len(beside["errors"]) <= 101 and "more items of this response could not be read" in beside["errors"][-1]


def test_a_page_of_20000_short_lines_hands_the_terms_extractor_a_bounded_text(monkeypatch):
    """The generic reader on a page of 20,000 lines (~500 KB of visible text, the 5 MB cap holds 200,000): the
    terms extractor, linear but slow (~35 µs a character), was given the whole text, then line by line."""
    import affiliate_matrix.terms as terms
    from affiliate_matrix.sources import Page
    from affiliate_matrix.sources.generic import MAX_TERMS_TEXT, read

    read_chars, extract = [], terms.extract
    monkeypatch.setattr(terms, "extract", lambda text, *a, **k: read_chars.append(len(text)) or extract(text, *a, **k))
    lines = "".join(f"<p>Commission: {i % 90 + 1}% on sales, see section {i}</p>" for i in range(20_000))
    html = f"<html><body><h1>Acme</h1><p>Cookie: 30 days</p>{lines}</body></html>"
    listing = read(Page("https://x.example/p/acme/", 200, html, "raw/x"), "acme", "no table")
    assert (listing.name, listing.commission_text) == ("Acme", "1% on sales, see section 0")
    assert sum(read_chars) <= 2 * MAX_TERMS_TEXT


def test_a_feed_items_title_of_460_kb_is_read_for_terms_as_a_title(monkeypatch):
    """AffiliateFix's feed: a thread title with a figure in it is read by the terms extractor (does it state a
    commission?); a title of 460 KB was read whole, 23 s (the 5 MB cap, minutes), at every crawl."""
    import affiliate_matrix.terms as terms
    from affiliate_matrix.sources import Page
    from affiliate_matrix.sources.affiliatefix import AffiliateFix

    read_chars, extract = [], terms.extract
    monkeypatch.setattr(terms, "extract", lambda text, *a, **k: read_chars.append(len(text)) or extract(text, *a, **k))
    title = "Mailflow 30% recurring " * 20_000
    rss = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>{title}</title>'
           "<link>https://www.affiliatefix.com/threads/mailflow.123/</link><description>hi</description></item>"
           "</channel></rss>")
    page = Page("https://www.affiliatefix.com/forums/-/index.rss", 200, rss, "raw/x")
    (request,) = AffiliateFix().run("parse", page)
    assert request.url == "https://www.affiliatefix.com/threads/mailflow.123/"  # a commission in its title still
    assert sum(read_chars) <= 300


@pytest.mark.parametrize("page, said", [
    # Lexbor's tree builder walks the open elements for most block start tags, so parsing costs the square of the
    # nesting: 40,000 nested <div>s (200 KB) took 9 s, the 5 MB a page may hold hours.
    ("<div>" * 40_000 + "x" + "</div>" * 40_000, "nested too deep"),
    # lexbor/lexbor#340: 3,000 <b>s with distinct attributes closed by their parent, then 3,000 "<p>x</p>", made
    # Lexbor rebuild the 3,000 for every paragraph: 9 million elements, 3 s for 62 KB.
    ("<div>" + "".join(f'<b id="{i}">' for i in range(3_000)) + "</div>" + "<p>x</p>" * 3_000, "formatting elements"),
], ids=["nested", "rebuilt"])
def test_a_page_lexbor_would_take_seconds_to_parse_is_a_parse_failure_and_the_crawl_goes_on(rt, tmp_path, page, said):
    """Crawled from a real server, such a page is a parse failure naming it, kept beside its raw copy."""
    site = tmp_path / "affiliateprograms"
    shutil.copytree(get_source("affiliateprograms").recorded_dir(), site)
    (victim,) = [p for p in sorted((site / "p").rglob("*.html"))][:1]
    victim.write_text("<html><body><h1 class=program-name>Slow</h1>" + page)
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site}) as urls:
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             rate_limit_per_s=50))
        report = scrape(rt, "ap")
    (failure,) = [f for f in report.failures if said in f.reason]
    assert failure.stage == "parse" and failure.raw_key and "plugin fault" not in failure.reason
    assert report.records > 0  # the other pages


@pytest.mark.parametrize("hostile", [
    "<div>" + "".join(f'<b id="{i}"><object></b></object>' for i in range(2_000)) + "</div>" + "<p>x</p>" * 2_000,
    "".join(f"<p><i class=c{i}>x" for i in range(2_000)),  # each paragraph closes the last, its <i> left open
    "<div>" + "".join(f'<u id="{i}">' for i in range(2_000)) + "<table><tr><td></div>x</table></div>" + "<p>x</p>" * 2_000,
])
def test_formatting_elements_rebuilt_again_and_again_are_counted_past_the_bound(hostile):
    from affiliate_matrix.sources.parse_cost import MAX_REBUILT, rebuilt_cost

    assert rebuilt_cost(hostile) > MAX_REBUILT  # each made Lexbor rebuild millions of elements (about 1 to 2.5 s here)


@pytest.mark.parametrize("sloppy", [
    "<table>" + "".join(f"<tr><td><font face=f{i}>x" for i in range(5_000)) + "</table>",  # a cell ends its <font>s
    "<font face=a><font size=2><b>" + "<p>x</p><div><i>y</i> <em>z</em></div>" * 5_000,  # left open, never closed
    "".join(f"<span><b id={i}>x</span>" for i in range(5_000)),  # closed by the next inline end tag
    "".join(f'<a href="/{i}"><strong>x</a>' for i in range(5_000)),  # misnested, each rebuilt once
])
def test_ordinary_pages_with_many_formatting_elements_stay_under_the_bound(sloppy):
    from affiliate_matrix.sources.parse_cost import MAX_REBUILT, rebuilt_cost

    assert rebuilt_cost(sloppy) < MAX_REBUILT // 20


def synced_api(rt, name: str, site):
    from tests.support.recorded_expected import RECORDED_CREDENTIALS

    credentials = RECORDED_CREDENTIALS.get(name)
    if credentials:
        rt.secrets.write(f"connections/{name}", credentials)
    with recorded_sites(name, directories={name: site}) as urls:
        save_connection(rt.store, Connection(id=name, source=name, base_url=urls[name], rate_limit_per_s=50,
                                             credentials_path=f"connections/{name}" if credentials else None))
        return scrape(rt, name)


def test_one_clickbank_site_it_cannot_read_costs_that_site_not_the_feed(rt, tmp_path):
    import zipfile

    site = tmp_path / "clickbank"
    shutil.copytree(get_source("clickbank").recorded_dir(), site)
    feed = (site / "marketplace_feed_v2.xml").read_bytes()  # in the encoding it declares
    bad = b"<Site><Id>BROKEN</Id><Title>B</Title><HasRecurringProducts>maybe</HasRecurringProducts></Site>"
    feed = feed.replace(b"<Site>", bad + b"<Site>", 1)
    with zipfile.ZipFile(site / "marketplace_feed_v2.xml.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("marketplace_feed_v2.xml", feed)
        archive.write(site / "marketplace_feed_v2.dtd", "marketplace_feed_v2.dtd")
    report = synced_api(rt, "clickbank", site)
    (failure,) = report.failures
    assert "site BROKEN: HasRecurringProducts is 'maybe'" in failure.reason and failure.raw_key
    assert report.records == 4  # the feed's four vendors; before, none


def test_one_cj_advertiser_it_cannot_read_costs_that_advertiser_not_the_page(rt, tmp_path):
    site = tmp_path / "cj"
    shutil.copytree(get_source("cj").recorded_dir(), site)
    page = (site / "advertisers-1.xml").read_text()
    page = page.replace('total-matched="3"', 'total-matched="4"').replace(
        "<advertiser>", "<advertiser><advertiser-id>x1</advertiser-id></advertiser><advertiser>", 1)
    (site / "advertisers-1.xml").write_text(page)
    second = (site / "advertisers-2.xml").read_text()  # the same listing: its total, on every page
    (site / "advertisers-2.xml").write_text(second.replace('total-matched="3"', 'total-matched="4"'))
    report = synced_api(rt, "cj", site)
    (failure,) = report.failures
    assert "an advertiser's advertiser-id is 'x1', not a CID" in failure.reason and failure.raw_key
    assert report.records == 3  # both pages' advertisers; before, none


@pytest.mark.parametrize("encoding", ["Shift_JIS", "x-unknown", "utf-16", "punycode", "idna", "rot13"])
def test_a_cj_answer_in_an_encoding_it_cannot_read_is_a_parse_failure_naming_that_encoding(rt, tmp_path, encoding):
    """An encoding Python does not know, one expat cannot use (multi-byte), a codec that fails on expat's table of
    bytes, no text encoding at all, or one the bytes belie: the failure says the answer is not XML in the encoding it
    declares, naming it (before: 'multi-byte encodings are not supported', "'ascii' codec can't decode byte 0x80")."""
    site = tmp_path / "cj"
    shutil.copytree(get_source("cj").recorded_dir(), site)
    page = (site / "advertisers-1.xml").read_text()
    (site / "advertisers-1.xml").write_text(page.replace('encoding="UTF-8"', f'encoding="{encoding}"', 1))
    with capture_logs() as logs:
        report = synced_api(rt, "cj", site)
    (failure,) = report.failures
    assert failure.stage == "parse" and failure.raw_key
    assert f"the response is not XML we can read in its declared encoding {encoding!r} (" in failure.reason
    assert not [line for line in logs if "exc_info" in line]


# An entity of 250 bytes named 2,000 times: 500 KB of text from 8 KB. Expat refuses only past a 100-fold amplification,
# so a 5 MB answer naming it in every 3 bytes made 400 MB of one element's text (ClickBank's 64 MB feed: 6 GB).
ENTITIES = {"expanded": ('<!DOCTYPE cj-api [<!ENTITY a "' + "A" * 250 + '">]>', "&a;" * 2_000),
            "external": ('<!DOCTYPE cj-api [<!ENTITY a SYSTEM "file:///etc/passwd">]>', "&a;")}


@pytest.mark.parametrize("entity", ENTITIES)
def test_a_cj_answer_declaring_an_entity_is_a_parse_failure_naming_it(rt, tmp_path, entity):
    """No answer of CJ's declares an entity; one that does is refused before it is parsed, whatever it expands to."""
    declared, named = ENTITIES[entity]
    site = tmp_path / "cj"
    shutil.copytree(get_source("cj").recorded_dir(), site)
    page = (site / "advertisers-1.xml").read_text()
    page = page.replace("<cj-api>", f"{declared}<cj-api>", 1).replace(
        "<advertiser-name>Bluehost</advertiser-name>", f"<advertiser-name>Bluehost {named}</advertiser-name>", 1)
    (site / "advertisers-1.xml").write_text(page)
    report = synced_api(rt, "cj", site)
    (failure,) = report.failures
    assert failure.stage == "parse" and failure.raw_key and report.records == 0
    assert "the response declares an XML entity ('a'), which no answer of this source does" in failure.reason


def test_a_clickbank_feed_declaring_an_entity_is_refused_and_its_dtd_alone_is_read(rt, tmp_path):
    """The feed names its DTD (an external one, which expat never reads): that is read as before; an entity declared
    in it is refused before any site is read."""
    import zipfile

    site = tmp_path / "clickbank"
    shutil.copytree(get_source("clickbank").recorded_dir(), site)
    feed = (site / "marketplace_feed_v2.xml").read_bytes()
    feed = feed.replace(b'"marketplace_feed_v2.dtd">', b'"marketplace_feed_v2.dtd" [<!ENTITY a "' + b"A" * 250
                        + b'">]>', 1).replace(b"<Description>", b"<Description>" + b"&a;" * 2_000, 1)
    with zipfile.ZipFile(site / "marketplace_feed_v2.xml.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("marketplace_feed_v2.xml", feed)
    report = synced_api(rt, "clickbank", site)
    (failure,) = report.failures
    assert report.records == 0 and failure.stage == "parse" and failure.raw_key
    assert "the feed declares an XML entity ('a'), which no answer of this source does" in failure.reason


def test_an_affiliatefix_feed_declaring_an_entity_is_not_read():
    from affiliate_matrix.sources import Page, ParseError
    from affiliate_matrix.sources.affiliatefix import feed_items

    rss = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + "A" * 250 + '">]><rss version="2.0"><channel>'
           "<item><title>Mailflow " + "&a;" * 2_000 + "</title><link>https://www.affiliatefix.com/threads/m.1/</link>"
           "</item></channel></rss>")
    page = Page("https://www.affiliatefix.com/forums/-/index.rss", 200, rss, "raw/x")
    with pytest.raises(ParseError, match=r"index.rss: not an RSS feed \(the feed declares an XML entity \('a'\)"):
        feed_items(page)


def test_a_clickbank_feed_of_empty_sites_is_refused_past_a_bound_not_held_one_dict_each(rt, tmp_path):
    """A zip of 92 KB unzips to 63 MB of '<Site/>' (under the 64 MB cap): 9 million sites held as dicts, 3.2 GB and
    64 s before the first was read. A real feed's sites are ~600 bytes each; past MAX_SITES the feed is refused."""
    import zipfile

    from affiliate_matrix.sources.clickbank import MAX_SITES

    site = tmp_path / "clickbank"
    shutil.copytree(get_source("clickbank").recorded_dir(), site)
    with zipfile.ZipFile(site / "marketplace_feed_v2.xml.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("marketplace_feed_v2.xml", b"<Catalog><Category><Name>X</Name>" + b"<Site/>" * (MAX_SITES + 1)
                         + b"</Category></Catalog>")
    report = synced_api(rt, "clickbank", site)
    (failure,) = report.failures
    assert report.records == 0 and f"more than {MAX_SITES} sites" in failure.reason and failure.raw_key


def zip_of_empty_entries(count: int, stated: int) -> bytes:
    """A zip (zip64, as a writer makes one past 65,535 entries) of `count` entries, each an empty file sharing one
    local header, its end record stating `stated` entries: built in bytes, as writing it entry by entry takes long."""
    import io
    import struct
    import zipfile

    one = io.BytesIO()
    with zipfile.ZipFile(one, "w") as archive:
        archive.writestr("e", b"")
    data = one.getvalue()
    local, entry = data[:data.index(b"PK\x01\x02")], data[data.index(b"PK\x01\x02"):data.index(b"PK\x05\x06")]
    directory = entry * count
    return (local + directory
            + struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, stated, stated, len(directory), len(local))
            + struct.pack("<4sLQL", b"PK\x06\x07", 0, len(local) + len(directory), 1)
            + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))


@pytest.mark.parametrize("stated, said", [(400_000, "the archive states 400000 entries, not the feed's one file"),
                                          (1, "the archive's directory is 18800000 bytes, more than 16 entries")])
def test_a_clickbank_zip_of_400000_empty_entries_is_refused_before_its_directory_is_read(stated, said):
    """Python's zipfile reads a zip's whole central directory, an object each entry, before a name can be looked at:
    400,000 empty entries (19 MB of zip, under the 32 MB cap) cost ~200 MB to list. The feed is one XML file: an
    archive whose end record states more than a few entries, or a directory larger than they take (zipfile reads it
    by its size, whatever count is stated), is refused before it is read, naming them."""
    import zipfile

    from affiliate_matrix.sources.clickbank import read_feed

    body = zip_of_empty_entries(400_000, stated)
    with pytest.MonkeyPatch.context() as patch:  # never read as an archive
        patch.setattr(zipfile.ZipFile, "_RealGetContents", lambda archive: pytest.fail("the directory was read"))
        with pytest.raises(ValueError, match=re.escape(said)):
            read_feed(body)


def test_a_clickbank_vendor_listed_under_200000_categories_keeps_a_bounded_few(rt, tmp_path):
    """A vendor listed again is one record with its categories together; listed under 200,000 categories (6 MB of
    XML), each name would be looked for among all the others (2 * 10**10 comparisons): it keeps the first few."""
    import zipfile

    from affiliate_matrix.sources.clickbank import MAX_CATEGORY_NAMES

    site = tmp_path / "clickbank"
    shutil.copytree(get_source("clickbank").recorded_dir(), site)
    vendor = (b"<Site><Id>ABC</Id><Title>Abc</Title><HasRecurringProducts>false</HasRecurringProducts>"
              b"<Commission>50</Commission></Site>")
    with zipfile.ZipFile(site / "marketplace_feed_v2.xml.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("marketplace_feed_v2.xml", b"<Catalog>" + b"".join(
            b"<Category><Name>c%d</Name>%s</Category>" % (number, vendor) for number in range(200_000)) + b"</Catalog>")
    records = []
    with recorded_sites("clickbank", directories={"clickbank": site}) as urls:
        save_connection(rt.store, Connection(id="cb", source="clickbank", base_url=urls["clickbank"],
                                             rate_limit_per_s=50))
        report = scrape(rt, "cb", on_item=lambda item: records.append(item) if hasattr(item, "record_key") else None)
    assert (report.records, report.failures) == (1, [])
    assert records[0].categories == [f"c{number}" for number in range(MAX_CATEGORY_NAMES)]


def test_a_clickbank_feed_nesting_categories_past_any_real_depth_is_refused(rt, tmp_path):
    """Each site was given every category name above it: under 20,000 nested categories (a 2 KB zip), 5,000 empty
    sites were 820 MB of name lists and 3 s (the square of the depth times the sites). A real feed nests two deep."""
    import zipfile

    from affiliate_matrix.sources.clickbank import MAX_CATEGORY_DEPTH

    site = tmp_path / "clickbank"
    shutil.copytree(get_source("clickbank").recorded_dir(), site)
    vendor = (b"<Site><Id>ABC</Id><Title>Abc</Title><HasRecurringProducts>false</HasRecurringProducts>"
              b"<Commission>50</Commission></Site>")
    depth = MAX_CATEGORY_DEPTH + 1
    with zipfile.ZipFile(site / "marketplace_feed_v2.xml.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("marketplace_feed_v2.xml", b"<Catalog>" + b"<Category><Name>c</Name>" * depth + vendor
                         + b"</Category>" * depth + b"</Catalog>")
    report = synced_api(rt, "clickbank", site)
    (failure,) = report.failures
    assert report.records == 0 and failure.stage == "parse" and failure.raw_key
    assert f"categories are nested more than {MAX_CATEGORY_DEPTH} deep" in failure.reason


def test_an_impact_next_page_that_loops_back_ends_the_paging_at_once(rt, tmp_path):
    """Impact pages by the @nextpageuri each answer names; an answer naming a page already read (itself, or the
    first) was asked for again, 1,000 times, each page's campaigns read again."""
    site = tmp_path / "impact"
    shutil.copytree(get_source("impact").recorded_dir(), site)
    second = json.loads((site / "campaigns-2.json").read_text())
    second["@nextpageuri"] = "/Mediapartners/IRtestSID/Campaigns?PageSize=100&Page=2"  # itself
    (site / "campaigns-2.json").write_text(json.dumps(second))
    report = synced_api(rt, "impact", site)
    assert report.pages == 2  # each page asked for once
    (failure,) = report.failures
    assert "@nextpageuri" in failure.reason and "already" in failure.reason


def test_a_cj_answer_that_repeats_a_page_under_a_total_of_a_billion_ends_the_paging(rt, tmp_path):
    """CJ pages by page number until its total-matched is reached; a total of 10**9 with every page the same was
    asked for 1,000 times at 25 calls a minute (40 minutes), the same advertisers read each time."""
    site = tmp_path / "cj"
    shutil.copytree(get_source("cj").recorded_dir(), site)
    for name in ("advertisers-1.xml", "advertisers-2.xml"):  # page 2 repeats page 1
        (site / name).write_text((get_source("cj").recorded_dir() / "advertisers-1.xml").read_text()
                                 .replace('total-matched="3"', 'total-matched="1000000000"'))
    routes = json.loads((site / "routes.json").read_text())
    routes.append({**routes[1], "query": {**routes[1]["query"], "page-number": "3"}})  # were it asked for
    (site / "routes.json").write_text(json.dumps(routes))
    report = synced_api(rt, "cj", site)
    assert report.records == 2 and report.pages == 2
    (failure,) = report.failures
    assert "no advertiser not read already" in failure.reason


@pytest.mark.parametrize("total", ["²", "1" * 5000])
def test_a_cj_total_that_is_no_count_is_a_parse_failure_naming_it_not_a_plugin_fault(rt, tmp_path, total):
    """str.isdigit() takes '²' and 5,000 digits, which int() refuses: a ValueError out of the page's reading, recorded
    as a plugin fault with its traceback logged, as if the plugin were broken."""
    site = tmp_path / "cj"
    shutil.copytree(get_source("cj").recorded_dir(), site)
    page = (site / "advertisers-1.xml").read_text(encoding="utf-8")
    (site / "advertisers-1.xml").write_text(page.replace('total-matched="3"', f'total-matched="{total}"'),
                                            encoding="utf-8")
    with capture_logs() as logs:
        report = synced_api(rt, "cj", site)
    (failure,) = report.failures
    assert failure.stage == "parse" and failure.raw_key and "plugin fault" not in failure.reason
    assert f"advertisers total-matched is {total[:20]!r}" in failure.reason and "not a count" in failure.reason
    assert not [line for line in logs if "exc_info" in line]


@pytest.mark.parametrize("name,file,answer,said", [
    ("impact", "campaigns-1.json", [], "the answer is a list, not an object"),
    ("impact", "campaigns-1.json", {"Campaigns": None}, "Campaigns is null, not a list"),
    ("impact", "campaigns-1.json", {"Campaigns": [1]}, "a campaign is a number, not an object"),
    ("impact", "campaigns-1.json", {"Campaigns": [], "@nextpageuri": 2}, "@nextpageuri is a number, not a string"),
    ("offervault", "networks.json", [], "the answer is a list, not an object"),
    ("offervault", "networks.json", {"networks": None}, "networks is null, not a list"),
    ("offervault", "search-12-1.json", {"offers": 5}, "offers is a number, not a list"),
    ("awin", "programmes.json", {"error": "unknown publisher"}, "the answer is an object, not a list"),
    ("awin", "programmes.json", None, "the answer is null, not a list"),
    ("awin", "details-1001.json", [], "the answer is a list, not an object"),
])
def test_an_api_answer_of_another_shape_is_a_parse_failure_saying_so_not_a_plugin_fault(rt, tmp_path, name, file,
                                                                                        answer, said):
    """An answer that is not the object or list the API documents (an error object, a null list) was read on as if it
    were: "plugin fault: AttributeError: 'list' object has no attribute 'get'" with a traceback logged, as though the
    plugin were broken, or for Awin each key of an error object "a programme without an id"."""
    site = tmp_path / name
    shutil.copytree(get_source(name).recorded_dir(), site)
    (site / file).write_text(json.dumps(answer))
    with capture_logs() as logs:
        report = synced_api(rt, name, site)
    failure = next(f for f in report.failures if f.stage == "parse")
    assert said in failure.reason and "plugin fault" not in failure.reason and failure.raw_key
    assert not [line for line in logs if "exc_info" in line]


def test_an_offervault_search_that_repeats_its_page_under_a_count_of_a_billion_ends_that_networks_paging(rt,
                                                                                                         offervault):
    """A network's offerCount of 10**9 and a search answering page 2 as page 1 was asked for 500 pages at the site's
    0.5 calls a second, per network, the same offers read each time."""
    networks = json.loads((offervault / "networks.json").read_text())
    networks["networks"][0]["offerCount"] = 10**9
    (offervault / "networks.json").write_text(json.dumps(networks))
    (offervault / "search-12-2.json").write_text((offervault / "search-12-1.json").read_text())
    routes = json.loads((offervault / "routes.json").read_text())
    routes.append({**routes[2], "json": {"networks": [12], "page": 3}})  # were it asked for
    (offervault / "routes.json").write_text(json.dumps(routes))
    report, _ = scraped(rt, offervault)
    assert report.records == 2 and report.pages == 4  # network 12's page 1 (and 2, a repeat), network 44's
    (failure,) = report.failures
    assert "no offer not read already" in failure.reason


@pytest.mark.parametrize("amount,said", [("18.50", "USD 18.50 per lead"), (4.1, "USD 4.10 per lead"),
                                         (0.045, "USD 0.045 per lead"), (None, None), ("", None)])
def test_an_offervault_amount_is_its_commission_text(amount, said):
    from affiliate_matrix.sources.offervault import offer_listing

    offer = {"id": "5f1", "title": "Offer", "usdAmount": amount, "payoutType": "lead"}
    assert offer_listing(offer, {"id": 12, "name": "Network"}).commission_text == said


NO_AMOUNTS = [(1e30, "1e+30, out of range"), ("1e30", "'1e30', out of range"), (float("nan"), "nan, not a number"),
              ("NaN", "'NaN', not a number"), (float("inf"), "inf, out of range"), ("-Infinity", "'-Infinity', out of"),
              (-5, "-5, out of range"), ("call us", "'call us', not a number"), (True, "True, not a number"),
              ({"usd": 5}, "an object, not a number"), ("9" * 80, "'" + "9" * 50 + "…', out of range")]


@pytest.mark.parametrize("amount,said", NO_AMOUNTS)
def test_a_figure_a_plugin_reads_that_is_no_amount_fails_its_item_naming_the_field_and_the_value(amount, said):
    """Python's JSON parser takes NaN and Infinity, which read 'USD NaN per lead' as a commission; 1e30 failed the
    offer as a bare decimal.InvalidOperation, a word as another, naming neither the field nor the value. Each
    plugin's numbers are read by one function (sources.amount), which names both."""
    from affiliate_matrix.sources import ParseError
    from affiliate_matrix.sources.awin import programme_listing
    from affiliate_matrix.sources.offervault import offer_listing

    offer = {"id": "5f1", "title": "Offer", "usdAmount": amount, "payoutType": "lead"}
    with pytest.raises(ParseError, match=re.escape(f"offer 5f1: usdAmount is {said}")):
        offer_listing(offer, {"id": 12, "name": "Network"})
    programme = {"id": 7, "name": "Shop", "currencyCode": "EUR"}
    for details, field in (({"kpi": {"conversionRate": amount}}, "conversionRate"),
                           ({"commissionRange": [{"type": "percentage", "min": amount, "max": 5}]},
                            "a commission range's min")):
        with pytest.raises(ParseError, match=re.escape(f"programme 7: {field} is {said}")):
            programme_listing(programme, details, "https://api.awin.test/x")


@pytest.mark.parametrize("epc,said", NO_AMOUNTS)
def test_an_awin_epc_that_is_no_amount_is_dropped_naming_the_field_and_the_programme_stands(epc, said):
    """The EPC is a statistic, not the offer: one that is no amount is dropped (logged, naming the field and the
    value), the programme read all the same. It was taken as it came, past the one reader of a source's numbers
    (sources.amount): 'call us' went on as the programme's epc_90d."""
    from affiliate_matrix.sources.awin import programme_listing

    programme = {"id": 7, "name": "Shop", "currencyCode": "EUR"}
    with capture_logs() as logs:
        listing = programme_listing(programme, {"kpi": {"epc": epc, "approvalPercentage": 80}},
                                    "https://api.awin.test/x")
    assert "epc_90d" not in listing.extra and "epc_currency" not in listing.extra
    assert listing.extra["approval_rate"] == "0.8"
    (dropped,) = [entry for entry in logs if entry["event"] == "awin.figure_dropped"]
    assert dropped["field"] == "epc" and f"programme 7: epc is {said}" in dropped["problem"]
    read = programme_listing(programme, {"kpi": {"epc": "0.2100"}}, "https://api.awin.test/x")
    assert (read.extra["epc_90d"], read.extra["epc_currency"]) == ("0.21", "EUR")  # an amount, as amounts are kept


@pytest.mark.parametrize("zero", [-0.0, "-0", "-0.000"])
def test_an_amount_of_minus_zero_is_zero(zero):
    """A negative zero (a JSON -0.0, or '-0') is no negative amount, so it was taken, and kept as it came: 'USD -0.00
    per lead', an Awin range of '-0 - 5 EUR', an EPC of '-0'. The one reader of a source's numbers makes it zero."""
    from affiliate_matrix.sources.awin import programme_listing
    from affiliate_matrix.sources.offervault import offer_listing

    offer = {"id": "5f1", "title": "Offer", "usdAmount": zero, "payoutType": "lead"}
    assert offer_listing(offer, {"id": 12, "name": "Network"}).commission_text == "USD 0.00 per lead"
    listing = programme_listing({"id": 7, "name": "Shop", "currencyCode": "EUR"},
                                {"kpi": {"epc": zero}, "commissionRange": [{"type": "amount", "min": zero, "max": 5}]},
                                "https://api.awin.test/x")
    assert (listing.extra["epc_90d"], listing.commission_text) == ("0", "0 - 5 EUR")


def test_an_offervault_payout_of_1e30_fails_that_offer_beside_its_answer_and_the_rest_is_read(rt, offervault):
    page = json.loads((offervault / "search-12-1.json").read_text())
    page["offers"][0]["usdAmount"] = 1e30
    (offervault / "search-12-1.json").write_text(json.dumps(page))
    report, logs = scraped(rt, offervault)
    (failure,) = report.failures
    assert failure.stage == "parse" and failure.raw_key
    assert failure.reason == (f"offer {page['offers'][0]['id']}: usdAmount is 1e+30, out of range "
                              "(0 to 1,000,000,000,000)")
    assert report.records == 3  # the other offers of the answers recorded (4 in all)
    assert not [line for line in logs if "exc_info" in line]  # no plugin fault


def test_one_rakuten_offer_it_cannot_read_costs_its_advertiser_not_the_sync(rt, tmp_path):
    """Offers are grouped per advertiser across pages: one offer with a tier in words ended the whole sync."""
    site = tmp_path / "rakuten"
    shutil.copytree(get_source("rakuten").recorded_dir(), site)
    page = json.loads((site / "offers-2.json").read_text())
    page["offers"][0]["offer_rules"][0]["commissions"][0]["tiers"][0]["commission"] = "five percent"
    (site / "offers-2.json").write_text(json.dumps(page))
    report = synced_api(rt, "rakuten", site)
    (failure,) = report.failures
    assert "tier 0 commission" in failure.reason and failure.raw_key
    assert report.records == 2  # the advertisers before and after it; its own (both pages' offers) failed


def test_data_quoting_the_words_of_refused_credentials_does_not_mark_the_connection_refused(rt, tmp_path):
    """A connection was marked as refused (scheduled syncs pass it over until a passing test) when any failure's
    reason held "credentials were refused", a parse failure quoting the provider's data too: an advertiser could
    stop a connection's syncs by its name. Refusal is told by the error's type."""
    from affiliate_matrix.connections import load_connection

    site = tmp_path / "cj"
    shutil.copytree(get_source("cj").recorded_dir(), site)
    page = (site / "advertisers-1.xml").read_text(encoding="utf-8")
    words = "the connection's credentials were refused"
    (site / "advertisers-1.xml").write_text(page.replace("<default>USD 65.00</default>", f"<default>{words}</default>"),
                                            encoding="utf-8")
    report = synced_api(rt, "cj", site)
    (failure,) = report.failures  # that advertiser's, the others read
    assert failure.stage == "parse" and words in failure.reason and not failure.refused
    assert load_connection(rt.store, "cj")[0].healthy


def test_a_credential_past_ascii_fails_the_sync_in_words_not_with_an_encoding_error(tmp_path):
    """An API key pasted with a non-breaking space (or a typographic quote) goes into a header httpx encodes as ASCII:
    the UnicodeEncodeError escaped the sync, so its record stayed `running` and the event was delivered again and
    again. The sync fails, saying what is wrong with the key, never showing it."""
    from affiliate_matrix.connections import Connection
    from affiliate_matrix.sources import get_source
    from affiliate_matrix.storage.local import LocalObjectStore
    from affiliate_matrix.sync import sync

    connection = Connection(id="aw", source="awin", base_url="http://127.0.0.1:9/", rate_limit_per_s=50)
    items = sync(get_source("awin")(), connection, {"api_token": "s3cr3t\u00a0", "publisher_id": "1"},
                 LocalObjectStore(tmp_path), True, time_limit_s=60)
    (failure,) = items
    assert failure.stage == "fetch" and "not a valid HTTP header value" in failure.reason, failure.reason
    assert "past ASCII" in failure.reason and "s3cr3t" not in failure.reason



def test_a_provider_quoting_the_key_in_its_answer_is_not_kept_in_the_syncs_failures(tmp_path):
    """A failure's reason quotes what the plugin could not read (a programme without an id, quoted whole): a provider
    that echoed the key it was sent had it kept in the sync's failures, shown to every read token. The key's values
    are now blanked out of every failure a sync makes."""
    from affiliate_matrix.crawl import Failure
    from affiliate_matrix.storage.local import LocalObjectStore
    from affiliate_matrix.sync import sync
    from tests.support.loopback import Loopback

    key = "awin-key-not-to-be-kept-7311"
    with Loopback(lambda request: (200, {}, json.dumps([{"note": f"token {key} refused"}]).encode())) as site:
        connection = Connection(id="aw", source="awin", base_url=site.url, rate_limit_per_s=50)
        items = sync(get_source("awin")(site.url), connection, {"api_token": key, "publisher_id": "1"},
                     LocalObjectStore(tmp_path / "store"), True, time_limit_s=60)
    (failure,) = [item for item in items if isinstance(item, Failure)]
    assert "token [redacted] refused" in failure.reason and key not in failure.reason
    (kept,) = (tmp_path / "store" / "errors").rglob("*.json")  # the failure kept beside the raw answer
    assert "token [redacted] refused" in kept.read_text() and key not in kept.read_text()


def test_a_rakuten_offer_named_at_length_gives_its_tiers_thresholds_within_their_limit(rt, tmp_path):
    """A tier's threshold is its offer's name and span: an offer named in 800 characters made thresholds of that
    length, shown wherever the term is, past the limit an import holds a threshold to (models.MAX_THRESHOLD). (A name
    past ~2,000 characters: its terms in words are cut to commission_text's limit, sources.terms_said.)"""
    from affiliate_matrix.models import MAX_THRESHOLD
    from affiliate_matrix.pipeline import index_batch
    from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document
    from affiliate_matrix.search import SearchQuery

    site = tmp_path / "rakuten"
    shutil.copytree(get_source("rakuten").recorded_dir(), site)
    page = json.loads((site / "offers-2.json").read_text())
    offer = page["offers"][0]
    offer["name"] = "Holiday " * 100  # 800 characters: its terms in words still fit commission_text
    offer["offer_rules"][0]["commissions"][0]["tiers"] = [{"commission": 12, "threshold": 0, "upper_threshold": 100},
                                                         {"commission": 15, "threshold": 100, "upper_threshold": None}]
    (site / "offers-2.json").write_text(json.dumps(page))
    report = synced_api(rt, "rakuten", site)
    assert [f.reason for f in report.failures if "403" not in f.reason] == []  # the recording's one 403, retried
    index_batch(rt, report.batch_key)
    rt.index.refresh(PROGRAMS_INDEX.name)
    programs = [from_document(hit.doc) for hit in rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=50)).hits]
    tiers = [tier for program in programs for term in program.commission for tier in term.tiers]
    long = [tier.threshold for tier in tiers if tier.threshold.startswith("Holiday Holiday")]
    assert len(long) == 2 and all(len(threshold) <= MAX_THRESHOLD for threshold in long)
    assert all(threshold.split(": ")[0].endswith("…") for threshold in long)  # said to be cut, its span kept whole


def test_an_advertiser_whose_terms_in_words_pass_a_records_limit_is_recorded_with_them_cut(rt, tmp_path):
    """An API's terms said for people, every action's or offer's, joined: a CJ advertiser of 20 actions with their item
    lists (3,848 characters), or a Rakuten offer named at length, passed commission_text's 2,000 and the advertiser was
    refused whole ('commission_text: String should have at most 2000 characters'), missing from the index. Those that
    fit are said, then how many more; the structured terms keep every rate."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from affiliate_matrix.models import RawRecord
    from affiliate_matrix.sources.cj import read_page
    from affiliate_matrix.sync import listing_record

    actions = "".join(f"<action><name>Sale {i}</name><commission><default>10.00%</default>" + "".join(
        f'<itemlist name="Category number {j} of items">{j + 1}.00%</itemlist>' for j in range(5))
        + "</commission></action>" for i in range(20))
    answer = ('<cj-api><advertisers total-matched="1"><advertiser><advertiser-id>123</advertiser-id><advertiser-name>'
              f"Acme</advertiser-name><actions>{actions}</actions></advertiser></advertisers></cj-api>")
    (listing,), _ = read_page(get_source("cj")().decode(answer.encode()), "https://advertiser-lookup.api.cj.com/v2")
    response = SimpleNamespace(url="https://advertiser-lookup.api.cj.com/v2", fetched_at=datetime.now(UTC),
                               raw_key="raw/x")
    record = listing_record(get_source("cj")(), Connection(id="cj", source="cj"), response, listing)
    assert isinstance(record, RawRecord), record
    assert len(record.commission_text) <= 2_000 and record.commission_text.endswith("; … and 10 more")
    assert [(t.type, str(t.value_min), str(t.value_max)) for t in record.commission] == [("percent", "1", "10")]

    site = tmp_path / "rakuten"
    shutil.copytree(get_source("rakuten").recorded_dir(), site)
    page = json.loads((site / "offers-2.json").read_text())
    page["offers"][0]["name"] = "Holiday " * 300  # one offer said in 2,400 characters
    (site / "offers-2.json").write_text(json.dumps(page))
    report = synced_api(rt, "rakuten", site)
    assert [f.reason for f in report.failures if "403" not in f.reason] == []  # the recording's one 403, retried


def test_a_link_longer_than_a_records_url_may_be_is_not_followed():
    """A listing page's links are queued, fetched, and kept in the connection's HTTP cache, 20,000 of them: a page
    may hold links of megabytes (it is 5 MB), and each was followed and kept whole, the cache read and written each
    run growing past anything a site is owed. A page at such a URL could give no record anyway (a record's url is at
    most 2,083 characters, pydantic's HttpUrl): such a link is not followed, like one to another host."""
    from affiliate_matrix.sources import MAX_URL, Page

    page = Page("https://directory.example/list", 200, "", "raw/x")
    assert page.follow("/p/" + "a" * (MAX_URL - len("https://directory.example/p/"))).url.endswith("a")
    assert page.follow("/p/" + "a" * MAX_URL) is None
    assert page.follow("p/" + "a" * MAX_URL) is None


# A commission cell of 5,000 characters: 120 plans' rates, then one past the 2,000 a record keeps
LONG_CELL = "; ".join([f"Plan {i} of the hosting range: 10% per sale" for i in range(120)]
                      + ["Dedicated servers: $150 per sale"])


@pytest.mark.parametrize("name, page, key, said", [
    ("affiliateprograms", "p/bluehost/index.html", "bluehost", "$65 - $130 per qualified sale"),
    ("affiliateprograms", "p/hostinger/index.html", "hostinger", "60% per sale"),  # a layout the generic reader reads
    ("affiliationlist", "program/mailflow/index.html", "mailflow", "30% recurring for 12 months"),
    ("affiliatesdirectory", "program/4711/hostfast.html", "4711", "$100 per sale"),
    ("affiliatefix", "threads/mailflow-30-recurring-commission-for-12-months.187342/index.html", "187342",
     "Hi everyone!"),
])
def test_a_directorys_commission_cell_past_a_records_limit_is_cut_and_its_terms_read_whole(rt, tmp_path, name, page,
                                                                                           key, said):
    """A directory's commission cell past a record's 2,000 characters failed its program whole ('commission_text:
    String should have at most 2000 characters'), the generic reader's cut it and lost the terms past the cut: every
    record is cut in one place (crawl.record_of, as sources.terms_said says an API's), its terms read from the whole
    cell first. (AffiliateFix keeps a post as the description, up to 20,000 characters: it was never refused.)"""
    from affiliate_matrix.normalize import normalize

    site = tmp_path / name
    shutil.copytree(get_source(name).recorded_dir(), site)
    path = site / page
    text = path.read_bytes().decode("latin-1")  # as AffiliatesDirectory's pages are; the others' cells are ASCII
    assert said in text
    cell = LONG_CELL if name != "affiliatefix" else f"{said} {LONG_CELL}."  # a forum post: the cell in its text
    path.write_bytes(text.replace(said, cell).encode("latin-1"))
    records = []
    with recorded_sites(name, directories={name: site}) as urls:
        save_connection(rt.store, Connection(id="d", source=name, base_url=urls[name], rate_limit_per_s=50))
        report = scrape(rt, "d", on_item=lambda item: records.append(item) if hasattr(item, "record_key") else None)
    assert [f.reason for f in report.failures if "layout changed" not in f.reason] == []
    (record,) = [r for r in records if r.record_key == key]
    terms = {(t.type, str(t.value_min), t.currency) for t in normalize(record).commission}
    assert {("percent", "10", None), ("flat", "150", "USD")} <= terms, terms  # the rate past the cut too
    if name != "affiliatefix":
        assert len(record.commission_text) <= 2_000 and record.commission_text.endswith("; … and 77 more")


def test_an_offervault_payout_type_past_a_records_limit_is_cut_and_the_offer_kept(rt, offervault):
    """An offer's payout type said at length made its commission text ('USD 32.00 per …') pass a record's 2,000
    characters, and the offer failed: it is kept, its text cut at a word, its payout read."""
    page = json.loads((offervault / "search-12-1.json").read_text())
    page["offers"][0]["payoutType"] = "CPA " + "lead " * 1_000  # a commission text of 5,000 characters
    (offervault / "search-12-1.json").write_text(json.dumps(page))
    records = []
    with recorded_sites("offervault", directories={"offervault": offervault}) as urls:
        save_connection(rt.store, Connection(id="ov", source="offervault", base_url=urls["offervault"],
                                             rate_limit_per_s=50))
        report = scrape(rt, "ov", on_item=lambda item: records.append(item) if hasattr(item, "record_key") else None)
    assert report.failures == []
    (record,) = [r for r in records if r.record_key == page["offers"][0]["id"]]
    assert record.commission_text.startswith("USD 32.00 per CPA lead ") and record.commission_text.endswith(" lead…")
    assert len(record.commission_text) <= 2_000
    assert [(t.type, str(t.value_min), t.currency) for t in record.commission] == [("flat", "32", "USD")]


# A sentence that states no term, said over and over before a directory's cell states its own
FILLER = "The referral goes to the last link a visitor clicked before buying. "


@pytest.mark.parametrize("said, stated, repeat", [
    ("90 days", "90 days", 8),  # a cookie cell of 560 characters: its days past the 500 kept
    ("Net 60 via PayPal", "Paid Net 60 via PayPal", 30),  # a payout cell of 2,100: its terms past the 2,000 kept
    ("Bluehost offers shared, VPS and WordPress hosting.", "Bluehost hosts.", 300),  # a description of 20,400
])
def test_a_directorys_long_cookie_payout_or_description_is_cut_and_its_terms_read_whole(rt, tmp_path, said,
                                                                                        stated, repeat):
    """A directory's cookie, payout or description text past a record's 500, 2,000 or 20,000 characters failed its
    program whole ('cookie_text: String should have at most 500 characters'): it is cut where every record's text is
    (crawl.record_of), the cookie days and payout terms read from the whole text first."""
    from affiliate_matrix.normalize import normalize

    site = tmp_path / "affiliateprograms"
    shutil.copytree(get_source("affiliateprograms").recorded_dir(), site)
    path = site / "p/bluehost/index.html"
    text = path.read_text()
    assert said in text
    path.write_text(text.replace(said, FILLER * repeat + stated))
    records = []
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site}) as urls:
        save_connection(rt.store, Connection(id="d", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             rate_limit_per_s=50))
        report = scrape(rt, "d", on_item=lambda item: records.append(item) if hasattr(item, "record_key") else None)
    assert [f.reason for f in report.failures if "bluehost" in f.url] == []
    (record,) = [r for r in records if r.record_key == "bluehost"]
    program = normalize(record)
    assert (program.cookie_days, program.payout.methods, program.payout.frequency) == (90, ["paypal"], "net60")
    assert record.cookie_text.startswith(FILLER) or record.payout_text.startswith(FILLER) \
        or record.description.startswith(FILLER)
    assert len(record.cookie_text) <= 500 and len(record.payout_text) <= 2_000 and len(record.description) <= 20_000


def test_a_directorys_name_past_a_records_limit_is_no_name_and_fails_naming_the_field(rt, tmp_path):
    """A name is not cut: past a record's 300 characters it is no program's name, and the page fails saying so."""
    site = tmp_path / "affiliateprograms"
    shutil.copytree(get_source("affiliateprograms").recorded_dir(), site)
    path = site / "p/bluehost/index.html"
    path.write_text(path.read_text().replace('"program-name">Bluehost', '"program-name">' + "Bluehost " * 40))
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site}) as urls:
        save_connection(rt.store, Connection(id="d", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             rate_limit_per_s=50))
        report = scrape(rt, "d")
    assert [f.reason.partition(": ")[2] for f in report.failures if "bluehost" in f.url] == [
        "name: String should have at most 300 characters"]
