"""The CJ, Rakuten and ClickBank plugins end to end: synced over real HTTP from their recorded answers
(the recorded-sources server), indexed, and compared merchant by merchant; answers that are broken
or hostile end the sync with a parse failure that names what was wrong, answers past the size a source
takes (ClickBank's feed its own bound, the others the fetcher's 5 MB) with a fetch failure."""

import base64
import copy
import functools
import io
import json
import os
import random
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.crawl import error_key
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.errors import NotFoundError
from affiliate_matrix.events import RAW_BATCH_STORED
from affiliate_matrix.pipeline import index_announced, index_batch, scrape
from affiliate_matrix.polite import MAX_BYTES
from affiliate_matrix.program_index import from_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from affiliate_matrix.sources import get_source
from affiliate_matrix.sources.clickbank import ClickBank
from tests.support.processes import BIN
from tests.support.recorded_expected import EXPECTED

CJ_AUTH = {"Authorization": "Bearer test-cj-token"}
RAKUTEN_TOKEN_AUTH = {"Authorization": "Basic " + base64.b64encode(b"test-rakuten-client:test-rakuten-secret").decode()}
RAKUTEN_AUTH = {"Authorization": "Bearer test-rakuten-access-token"}


def synced(data_dir, *sources: str, directories=None, index: bool = True, as_announced: bool = False,
           **settings) -> tuple[Runtime, dict]:
    """Each source synced from its recorded answers (or the given directories), and indexed unless not asked (with
    as_announced, as the index function indexes its event: a complete run withdraws and is noted); `settings`: more
    Settings."""
    rt = Runtime("test", Settings(data_dir=data_dir, allow_loopback_fetch=True, **settings))
    if index:
        rt.bus.subscribe(RAW_BATCH_STORED, lambda e: index_announced(rt, e.data) if as_announced else
                         index_batch(rt, e.data["batch_key"]))
    reports = {}
    with recorded_sites(*sources, directories=directories) as urls:
        for source in sources:
            credentials = EXPECTED[source].get("credentials")
            if credentials:
                rt.secrets.write(f"connections/{source}", credentials)
            save_connection(rt.store, Connection(id=source, source=source, base_url=urls[source], rate_limit_per_s=50,
                                                 credentials_path=f"connections/{source}" if credentials else None))
            reports[source] = scrape(rt, source)
    return rt, reports


def program(rt, text=None, **filters):
    (hit,) = rt.index.search("programs", SearchQuery(text=text, filters={k: [v] for k, v in filters.items()})).hits
    return from_document(hit.doc)


def test_network_figures_tiers_and_gravity_reach_the_index(tmp_path):
    rt, _ = synced(tmp_path, "cj", "rakuten", "clickbank")
    bluehost = program(rt, merchant_key="bluehost.com")  # on CJ and Rakuten: one program
    assert sorted(n.network for n in bluehost.networks) == ["cj", "rakuten"]
    # CJ's EPCs are per one hundred clicks (45.12, 38.90): the program's are per click
    assert (bluehost.epc_7d.amount, bluehost.epc_7d.currency, bluehost.epc_90d.amount) == (
        Decimal("0.4512"), "USD", Decimal("0.389"))
    assert bluehost.categories == ["hosting_domains"] and bluehost.countries == ["CA", "US"]  # CJ's child, not its parent

    lumen = program(rt, merchant_key="lumenskincare.com")
    assert lumen.epc_7d is None and lumen.epc_90d.amount == Decimal("0.1248")  # CJ's "N/A" is no figure
    rakuten = next(c.value for c in lumen.provenance["commission"] if c.source == "rakuten")
    assert [(t["threshold"], t["value"]) for t in rakuten[0]["tiers"]] == [
        ("Lumen Public Offer: 0 to 500", "5"), ("Lumen Public Offer: 500 to 2000", "8"),
        ("Lumen Public Offer: 2000 and above", "10.5")]
    assert (rakuten[0]["value_min"], rakuten[0]["value_max"]) == ("5", "12")

    wanderlust = program(rt, merchant_key="wanderlustluggage.co.uk")
    assert wanderlust.cookie_days == 45 and wanderlust.countries == ["GB", "IE"]
    # its advertiser's features.deep_links, as the other networks' word for it
    assert wanderlust.deeplinks_allowed is True
    assert [(c.source, c.value) for c in wanderlust.provenance["deeplinks_allowed"]] == [("rakuten", True)]

    keto = program(rt, "keto", networks="clickbank")
    assert keto.kind == "program" and keto.gravity == Decimal("182.37") and keto.cookie_days == 60
    assert [(str(t.value_min), t.recurring) for t in keto.commission] == [("75", None), ("50", True)]
    assert keto.categories == ["health_wellness"]
    assert rt.index.search("programs", SearchQuery(filters={"networks": ["clickbank"]})).total == 4


def test_a_merchant_on_cj_rakuten_and_a_directory_is_compared_side_by_side(tmp_path):
    from affiliate_matrix.merchants import merchant_view

    rt, _ = synced(tmp_path / ".amx", "affiliateprograms", "cj", "rakuten")
    view = merchant_view(rt.index, "bluehost.com")
    rows = {r["source"]: r for r in view["rows"]}
    assert set(rows) == {"affiliateprograms", "cj", "rakuten"} and len({r["program_id"] for r in view["rows"]}) == 1
    assert rows["cj"]["network"] == "cj" and rows["rakuten"]["network"] == "rakuten"
    assert rows["rakuten"]["cookie_days"] == 45 and rows["cj"]["cookie_days"] is None
    # $65–$130 on the directory and on CJ, $65–$100 in Rakuten's tiers: the best USD amount is $130
    assert "commission_flat" in rows["cj"]["best"] and "commission_flat" not in rows["rakuten"]["best"]
    assert set(next(iter(view["conflicts"].values()))["commission"]) == {"affiliateprograms", "cj", "rakuten"}
    assert rows["cj"]["epc_7d"] == {"amount": "0.4512", "currency": "USD"}

    shown = subprocess.run([str(BIN / "amx"), "compare", "bluehost.com"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120, env={**os.environ, "COLUMNS": "300"})
    assert shown.returncode == 0, shown.stderr
    # one row per source, side by side, each named by its title and its code
    cells = {line.split("│")[1].strip(): line for line in shown.stdout.splitlines() if line.count("│") > 3}
    cells = {"affiliateprograms": cells["AffiliatePrograms.com (affiliateprograms)"],
             "cj": cells["CJ Advertiser Lookup API (cj)"], "rakuten": cells["Rakuten Advertising API (rakuten)"]}
    assert "★ Hosting Sale: USD 65.00" in cells["cj"] and "45 days" in cells["rakuten"]
    assert "│ 0.4512 USD │ 0.389 USD │" in " ".join(cells["cj"].split())  # CJ's own EPCs, 7 days and 3 months
    assert "sources disagree on Commission" in shown.stdout


def test_one_rate_stated_by_a_network_and_a_directory_is_no_disagreement(tmp_path):
    """CJ's one default rate ("USD 65.00", no item list) and a directory's "$65 per qualified sale" are the same
    term: one value is value_min alone (the terms' convention). CJ stated it as the range 65..65, so amx compare
    said the sources disagree on a commission they agree on."""
    cj, directory = tmp_path / "cj", tmp_path / "affiliateprograms"
    shutil.copytree(get_source("cj").recorded_dir(), cj)
    shutil.copytree(get_source("affiliateprograms").recorded_dir(), directory)
    for path, said, now in ((cj / "advertisers-1.xml", '<itemlist name="Pro Plans" id="52231">USD 130.00</itemlist>', ""),
                            (directory / "p/bluehost/index.html", "$65 - $130 per qualified", "$65 per qualified")):
        assert said in path.read_text()
        path.write_text(path.read_text().replace(said, now))
    rt, _ = synced(tmp_path / ".amx", "affiliateprograms", "cj", directories={"cj": cj, "affiliateprograms": directory})
    bluehost = program(rt, merchant_key="bluehost.com")
    said = {c.source: c.value for c in bluehost.provenance["commission"]}
    assert said["cj"] == said["affiliateprograms"] == [{"type": "flat", "value_min": "65", "value_max": None,
                                                        "currency": "USD", "recurring": None, "tiers": []}]
    shown = subprocess.run([str(BIN / "amx"), "compare", "bluehost.com"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120, env={**os.environ, "COLUMNS": "300"})
    assert shown.returncode == 0, shown.stderr
    assert "cj" in shown.stdout and "disagree" not in shown.stdout


@pytest.mark.parametrize("info_currency,expected", [
    ("EUR", [{"type": "flat", "value_min": "200", "value_max": None, "currency": "EUR", "recurring": None,
              "tiers": []}]),
    (None, []),  # no currency anywhere: the amount is no term, never GBP
])
def test_an_awin_amount_is_in_the_programmes_currency_never_an_assumed_gbp(tmp_path, info_currency, expected):
    """Semrush EU's programme entry without its currencyCode: its €200 is in the currency its details name, and
    with none named it is no term; it was read as £200 whatever the programme's currency."""
    awin = tmp_path / "awin"
    shutil.copytree(get_source("awin").recorded_dir(), awin)
    programmes = json.loads((awin / "programmes.json").read_text())
    del programmes[1]["currencyCode"]
    (awin / "programmes.json").write_text(json.dumps(programmes))
    details = json.loads((awin / "details-1002.json").read_text())
    if info_currency:
        details["programmeInfo"]["currencyCode"] = info_currency
    (awin / "details-1002.json").write_text(json.dumps(details))
    rt, reports = synced(tmp_path / "data", "awin", directories={"awin": awin})
    assert reports["awin"].failures == []
    semrush = program(rt, merchant_key="semrush.com")
    assert [c.value for c in semrush.provenance.get("commission", [])] == ([expected] if expected else [])
    assert "GBP" not in (semrush.commission_text or "")


def test_awins_commission_range_is_its_figures_not_text_read_back(tmp_path):
    """Awin states its commission range as numbers (min, max, type). Written as text and read back by the terms
    extractor, an amount of 2.125 was read as 2125 (a thousands separator) and 3.125 - 8% as no term at all."""
    awin = tmp_path / "awin"
    shutil.copytree(get_source("awin").recorded_dir(), awin)
    for number, ranges in ((1001, [{"min": 3.125, "max": 8.0, "type": "percentage"}]),
                           (1002, [{"min": 2.125, "max": 2.125, "type": "amount"}])):
        details = json.loads((awin / f"details-{number}.json").read_text())
        details["commissionRange"] = ranges
        (awin / f"details-{number}.json").write_text(json.dumps(details))
    rt, reports = synced(tmp_path / "data", "awin", directories={"awin": awin})
    assert reports["awin"].failures == []
    trailhead, semrush = program(rt, merchant_key="trailhead-outfitters.co.uk"), program(rt, merchant_key="semrush.com")
    assert [(t.type, t.value_min, t.value_max, t.currency) for t in trailhead.commission] == [
        ("percent", Decimal("3.125"), Decimal("8"), None)]
    assert [(t.type, t.value_min, t.value_max, t.currency) for t in semrush.commission] == [
        ("flat", Decimal("2.125"), None, "EUR")]
    assert (trailhead.commission_text, semrush.commission_text) == ("3.125 - 8%", "2.125 EUR")


def test_the_rakuten_token_is_never_kept_or_logged(tmp_path, capsys):
    from affiliate_matrix.observability import configure_logging

    configure_logging("sync", fmt="json")
    rt, _ = synced(tmp_path, "rakuten")
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and path != rt.secrets.path)
    assert b"Lumen Public Offer" in stored  # the offers were kept raw and indexed
    logged = capsys.readouterr()
    for secret in ("test-rakuten-access-token", "test-rakuten-refresh-token", "test-rakuten-secret"):
        assert secret.encode() not in stored and secret not in logged.out + logged.err


def test_the_recorded_clickbank_zip_is_the_readable_feed_beside_it():
    recorded = get_source("clickbank").recorded_dir()
    with zipfile.ZipFile(recorded / "marketplace_feed_v2.xml.zip") as archive:
        assert sorted(archive.namelist()) == ["marketplace_feed_v2.dtd", "marketplace_feed_v2.xml"]
        for name in archive.namelist():
            assert archive.read(name) == (recorded / name).read_bytes(), f"rebuild the zip: {name} changed"


def zipped(xml: bytes, name: str = "marketplace_feed_v2.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, xml)
    return buffer.getvalue()


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE Catalog [<!ENTITY a "aaaaaaaaaa">'
          + b"".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">'.encode() for p, c in zip("abcdefg", "bcdefgh"))
          + b"]><Catalog>&h;</Catalog>")
CJ_PAGE = (b'<cj-api><advertisers total-matched="1" records-returned="1" page-number="1"><advertiser>'
           b"<advertiser-id>%s</advertiser-id><advertiser-name>Acme</advertiser-name>%s</advertiser></advertisers></cj-api>")
OFFERS = json.loads((get_source("rakuten").recorded_dir() / "offers-1.json").read_text())


def broken_offer(**changes) -> bytes:
    """The recorded first page, its first offer (advertiser 36342) changed, as the only page."""
    offers = json.loads(json.dumps(OFFERS))
    offers["offers"][0].update(changes)
    offers["_metadata"]["total"] = len(offers["offers"])
    return json.dumps(offers).encode()


CJ_CASES = {
    "truncated": (b'<cj-api><advertisers total-matched="3"><advertiser>',
                  "the response is not XML we can read in UTF-8 (it declares no encoding) (no element found"),
    "a multi-byte encoding": (b'<?xml version="1.0" encoding="Shift_JIS"?><cj-api/>',
                              "the response is not XML we can read in its declared encoding 'Shift_JIS' (multi-byte"),
    "error answer": (b"<cj-api><error-message>Not Authenticated: xxxxxx</error-message></cj-api>",
                     "CJ answered with an error: Not Authenticated"),
    "another document": (b"<html><body>maintenance</body></html>", "the root element is <html>, not <cj-api>"),
    "no id": (CJ_PAGE % (b"", b""), "an advertiser's advertiser-id is None"),
    "a rate in words": (CJ_PAGE % (b"42", b"<actions><action><name>Sale</name><commission><default>ten percent"
                                          b"</default></commission></action></actions>"),
                        "advertiser 42: commission 'ten percent' is neither a percentage nor an amount"),
    "a negative EPC": (CJ_PAGE % (b"42", b"<seven-day-epc>-3.10</seven-day-epc>"),
                       "advertiser 42: seven-day-epc is '-3.10', not an amount"),
    "entity amplification": (LAUGHS, "the response declares an XML entity ('a'), which no answer of this source does"),
}
RAKUTEN_CASES = {
    "no offers": (json.dumps({"_metadata": {"total": 1}}).encode(), "offers is None, not list"),
    "not JSON": (b"<html>Service Unavailable</html>", "the response is not JSON"),
    "a tier in words": (broken_offer(offer_rules=[{"commissions": [{"commission_type": "percentage",
                                                                    "tiers": [{"commission": "five"}]}]}]),
                        "offer 40251 commission 0: tier 0 commission is 'five', not a number"),
    "an unknown commission type": (broken_offer(offer_rules=[{"commissions": [{"commission_type": "points",
                                                                               "tiers": [{"commission": 5}]}]}]),
                                   "commission_type 'points' is neither a percentage nor a flat amount"),
    "a flat amount in an unknown network": (
        broken_offer(advertiser={"id": 36342, "network": "Atlantis", "name": "Bluehost"}),
        "a flat commission on network 'Atlantis', whose currency is unknown"),
}
BROKEN_OFFERS = {"a tier in words", "an unknown commission type", "a flat amount in an unknown network"}
CLICKBANK_CASES = {
    "not a zip": (b"<html>moved</html>", "the response is not the zipped XML feed (BadZipFile"),
    "no feed inside": (zipped(b"<Catalog/>", name="readme.txt"), "the archive holds 0 .xml files"),
    "another document": (zipped(b"<rss><channel/></rss>"), "the feed's root element is <rss>, not <Catalog>"),
    "entity amplification": (zipped(LAUGHS),
                             "the feed declares an XML entity ('a'), which no answer of this source does"),
    "a multi-byte encoding": (zipped(b'<?xml version="1.0" encoding="Shift_JIS"?><Catalog/>'),
                              "the feed is not XML we can read in its declared encoding 'Shift_JIS' (multi-byte"),
    "an unknown encoding": (zipped(b'<?xml version="1.0" encoding="x-unknown"?><Catalog/>'),
                            "the feed is not XML we can read in its declared encoding 'x-unknown' ("),
    "a zip bomb": (zipped(b"<Catalog>" + b" " * (65 * 1024 * 1024) + b"</Catalog>"), "unzips to more than"),
    "gravity in words": (zipped(b"<Catalog><Category><Name>X</Name><Site><Id>ABC</Id><Title>A</Title>"
                                b"<HasRecurringProducts>false</HasRecurringProducts><Gravity>high</Gravity>"
                                b"<Commission>50</Commission></Site></Category></Catalog>"),
                         "site ABC: Gravity is 'high', not a number"),
}


def answering(directory, routes: list[dict], files: dict[str, bytes]):
    """A recorded API that answers with these files."""
    directory.mkdir()
    for name, body in files.items():
        (directory / name).write_bytes(body)
    (directory / "routes.json").write_text(json.dumps(routes))
    return directory


@pytest.mark.parametrize("case", sorted(CJ_CASES))
def test_a_broken_cj_answer_is_a_parse_failure_naming_the_problem(tmp_path, case):
    body, problem = CJ_CASES[case]
    site = answering(tmp_path / "site", [{"path": "/v2/advertiser-lookup", "file": "page.xml", "auth": CJ_AUTH}],
                     {"page.xml": body})
    _, reports = synced(tmp_path / "data", "cj", directories={"cj": site})
    (failure,) = reports["cj"].failures
    assert reports["cj"].records == 0 and failure.stage == "parse" and problem in failure.reason


def rakuten_answering(directory, offers: bytes):
    recorded = get_source("rakuten").recorded_dir()
    return answering(directory, [
        {"method": "POST", "path": "/token", "file": "token.json", "auth": RAKUTEN_TOKEN_AUTH},
        {"path": "/v1/offers", "file": "offers.json", "auth": RAKUTEN_AUTH},
        {"path": "/v2/advertisers/36342", "file": "advertiser.json", "auth": RAKUTEN_AUTH},
        {"path": "/v2/advertisers/44583", "file": "advertiser-44583.json", "auth": RAKUTEN_AUTH}],
        {"token.json": (recorded / "token.json").read_bytes(), "offers.json": offers,
         "advertiser.json": (recorded / "advertiser-36342.json").read_bytes(),
         "advertiser-44583.json": (recorded / "advertiser-44583.json").read_bytes()})


@pytest.mark.parametrize("case", sorted(RAKUTEN_CASES))
def test_a_broken_rakuten_answer_is_a_parse_failure_naming_the_problem(tmp_path, case):
    body, problem = RAKUTEN_CASES[case]
    site = rakuten_answering(tmp_path / "site", body)
    _, reports = synced(tmp_path / "data", "rakuten", directories={"rakuten": site})
    (failure,) = reports["rakuten"].failures
    assert failure.stage == "parse" and problem in failure.reason
    # a broken page costs the sync; a broken offer its advertiser only, the page's other one (44583) is read
    assert reports["rakuten"].records == (1 if case in BROKEN_OFFERS else 0)


def test_rakuten_offers_not_sorted_by_advertiser_are_refused_not_split(tmp_path):
    """Offers are read advertiser by advertiser; one coming back later would split its terms in two."""
    offers = json.loads(json.dumps(OFFERS))
    offers["offers"].append(offers["offers"][0])
    offers["_metadata"]["total"] = 3
    site = rakuten_answering(tmp_path / "site", json.dumps(offers).encode())
    _, reports = synced(tmp_path / "data", "rakuten", directories={"rakuten": site})
    (failure,) = reports["rakuten"].failures
    assert reports["rakuten"].records == 1 and "advertiser 36342's offers came again" in failure.reason


@pytest.mark.parametrize("case", sorted(CLICKBANK_CASES))
def test_a_broken_clickbank_feed_is_a_parse_failure_naming_the_problem(tmp_path, case):
    body, problem = CLICKBANK_CASES[case]
    site = answering(tmp_path / "site", [{"path": "/feeds/marketplace_feed_v2.xml.zip", "file": "feed.zip",
                                          "headers": {"Content-Type": "application/zip"}}], {"feed.zip": body})
    _, reports = synced(tmp_path / "data", "clickbank", directories={"clickbank": site})
    (failure,) = reports["clickbank"].failures
    assert reports["clickbank"].records == 0 and failure.stage == "parse" and problem in failure.reason


VENDORS = 2000


@functools.cache
def real_sized_feed() -> bytes:
    """A zipped feed past the fetcher's 5 MB, its sites shaped like the recorded feed's first (same elements,
    same figures) under its category path, each with its own Id, Title and Description. The real feed gets
    its ~4.3 MB zipped from ~23.5 MB of prose, which deflates well; here the descriptions are random base64
    (which does not), so 2,000 sites make a zip of the size wanted without a slow test."""
    recorded = ET.parse(get_source("clickbank").recorded_dir() / "marketplace_feed_v2.xml").getroot()
    template = recorded.find("Category/Category/Site")
    catalog = ET.Element("Catalog")
    ET.SubElement(top := ET.SubElement(catalog, "Category"), "Name").text = "Health & Fitness"
    ET.SubElement(category := ET.SubElement(top, "Category"), "Name").text = "Diets"
    draw = random.Random(2026)
    for number in range(VENDORS):
        site = copy.deepcopy(template)
        site.find("Id").text, site.find("Title").text = f"VENDOR{number:05d}", f"Vendor {number}"
        site.find("Description").text = base64.b64encode(draw.randbytes(3000)).decode()
        category.append(site)
    return zipped(ET.tostring(catalog, encoding="ISO-8859-1"))


def feed_site(directory, body: bytes):
    return answering(directory, [{"path": "/feeds/marketplace_feed_v2.xml.zip", "file": "feed.zip",
                                  "headers": {"Content-Type": "application/zip"}}], {"feed.zip": body})


def test_a_clickbank_feed_past_the_fetchers_5_mb_syncs_completely(tmp_path):
    feed = real_sized_feed()
    assert MAX_BYTES < len(feed) < ClickBank.max_response_bytes
    rt, reports = synced(tmp_path / "data", "clickbank", directories={"clickbank": feed_site(tmp_path / "site", feed)},
                         index=False)
    assert reports["clickbank"].failures == [] and reports["clickbank"].records == VENDORS
    (batch,) = list(rt.store.list("batches/clickbank/"))
    records = [json.loads(line) for line in rt.store.get(batch).data.splitlines()]
    assert sorted(r["record_key"] for r in records) == [f"VENDOR{n:05d}" for n in range(VENDORS)]
    last = next(r for r in records if r["record_key"] == f"VENDOR{VENDORS - 1:05d}")
    assert last["categories"] == ["Health & Fitness", "Diets"] and len(last["description"]) == 4000
    (raw,) = list(rt.store.list("raw/clickbank/"))
    assert rt.store.get(raw).data == feed  # kept raw as it came


def test_a_clickbank_vendor_listed_under_several_categories_is_one_program_with_all_of_them(tmp_path):
    """The feed lists a vendor under its main category, its other category and ClickBank's "New Products", each
    time with the same figures: one record, with both subjects (it was three records, the last, "New Products",
    standing as the program's only ClickBank category: 'other')."""
    xml = (get_source("clickbank").recorded_dir() / "marketplace_feed_v2.xml").read_bytes()
    keto = xml[xml.index(b"<Site>"):xml.index(b"</Site>") + len(b"</Site>")]
    again = b"".join(b"<Category><Name>%s</Name>%s</Category>" % (name, keto) for name in (b"Home &amp; Garden",
                                                                                           b"New Products"))
    site = feed_site(tmp_path / "site", zipped(xml.replace(b"</Catalog>", again + b"</Catalog>")))
    rt, reports = synced(tmp_path / "data", "clickbank", directories={"clickbank": site})
    assert (reports["clickbank"].records, reports["clickbank"].failures) == (4, [])
    (batch,) = list(rt.store.list("batches/clickbank/"))
    records = [json.loads(line) for line in rt.store.get(batch).data.splitlines()]
    assert [r["categories"] for r in records if r["record_key"] == "KETOCYCLE"] == [
        ["Health & Fitness", "Diets & Weight Loss", "Home & Garden"]]
    assert program(rt, "keto", networks="clickbank").categories == ["health_wellness", "home_garden"]


def test_a_clickbank_figure_the_feed_leaves_empty_is_said_nowhere_not_as_0(tmp_path):
    """SEOpresso's average $/sale and average rebill total left empty: its commission text states the figures the
    feed gives (it read 'average $0/sale' and 'average rebill total $0', amounts ClickBank never stated)."""
    xml = (get_source("clickbank").recorded_dir() / "marketplace_feed_v2.xml").read_bytes()
    for said in (b"<AverageEarningsPerSale>86.3</AverageEarningsPerSale>", b"<TotalRebillAmt>66.8</TotalRebillAmt>"):
        assert said in xml
        xml = xml.replace(said, said.split(b">")[0] + b"/>")
    site = feed_site(tmp_path / "site", zipped(xml))
    rt, reports = synced(tmp_path / "data", "clickbank", directories={"clickbank": site}, index=False)
    assert reports["clickbank"].failures == []
    (batch,) = list(rt.store.list("batches/clickbank/"))
    records = {r["record_key"]: r for r in map(json.loads, rt.store.get(batch).data.splitlines())}
    assert records["SEOPRESSO"]["commission_text"] == "50% per sale; initial $19.5/sale; 40% per rebill"
    assert "average_earnings_per_sale" not in records["SEOPRESSO"]["extra"]


def test_a_clickbank_answer_past_its_own_bound_is_refused_and_the_run_goes_on(tmp_path):
    too_big = ClickBank.max_response_bytes + 1
    site = feed_site(tmp_path / "site", b"\0" * too_big)
    _, reports = synced(tmp_path / "data", "clickbank", "cj", directories={"clickbank": site}, index=False)
    (failure,) = reports["clickbank"].failures
    assert reports["clickbank"].records == 0 and failure.stage == "fetch"
    assert f"declares {too_big} bytes, more than the {ClickBank.max_response_bytes} we take" in failure.reason
    assert reports["cj"].failures == [] and reports["cj"].records == len(EXPECTED["cj"]["records"])


def test_another_network_still_refuses_an_answer_past_5_mb(tmp_path):
    page = CJ_PAGE % (b"1", b" " * MAX_BYTES)  # well-formed, only too big
    site = answering(tmp_path / "site", [{"path": "/v2/advertiser-lookup", "file": "page.xml", "auth": CJ_AUTH}],
                     {"page.xml": page})
    _, reports = synced(tmp_path / "data", "cj", directories={"cj": site}, index=False)
    (failure,) = reports["cj"].failures
    assert reports["cj"].records == 0 and failure.stage == "fetch"
    assert f"declares {len(page)} bytes, more than the {MAX_BYTES} we take" in failure.reason


def test_a_refused_rakuten_client_is_named_as_refused_credentials(tmp_path):
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    rt.secrets.write("connections/r", {**EXPECTED["rakuten"]["credentials"], "client_secret": "wrong-secret-value"})
    with recorded_sites("rakuten") as urls:
        save_connection(rt.store, Connection(id="r", source="rakuten", base_url=urls["rakuten"], rate_limit_per_s=50,
                                             credentials_path="connections/r"))
        report = scrape(rt, "r")
    (failure,) = report.failures
    assert "POST" in failure.reason and "HTTP 401, the connection's credentials were refused" in failure.reason
    assert "wrong-secret-value" not in failure.reason


@pytest.mark.parametrize("source", ["cj", "rakuten", "clickbank"])
def test_the_connection_check_reaches_each_network_with_its_credentials(tmp_path, source):
    from affiliate_matrix.connection_test import check

    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    credentials = EXPECTED[source].get("credentials")
    if credentials:
        rt.secrets.write("connections/n", credentials)
    with recorded_sites(source) as urls:
        result = check(rt, Connection(id="n", source=source, base_url=urls[source], rate_limit_per_s=50,
                                      credentials_path="connections/n" if credentials else None))
    assert result["ok"], result
    assert [c["name"] for c in result["checks"]] == (
        ["credentials accepted", "read"] if credentials else ["reachable", "read"])


AWIN_AUTH = {"Authorization": "Bearer test-awin-token"}
# How one item's details request can fail: the route answering it, and what its failure says
ITEM_FAILURES = {
    "an error status still there after retries": ({"status": 500, "headers": {"Retry-After": "0"}}, "fetch",
                                                   "HTTP 500 after 4 attempts"),
    "not found": ({"status": 404}, "fetch", "HTTP 404"),
    "an unreadable body": ({"file": "broken.json"}, "parse", "the response is not JSON"),
}


def awin_answering(directory, programme_1001: dict):
    """Awin's recorded answers, programme 1001's details answered by this route instead."""
    recorded = get_source("awin").recorded_dir()
    details = {"path": "/publishers/123456/programmedetails", "auth": AWIN_AUTH}
    return answering(directory, [
        {"path": "/publishers/123456/programmes", "query": {"relationship": "joined"}, "file": "programmes.json",
         "auth": AWIN_AUTH},
        {**details, "query": {"advertiserId": "1001"}, **programme_1001},
        {**details, "query": {"advertiserId": "1002"}, "file": "details-1002.json"}],
        {name: (recorded / name).read_bytes() for name in ("programmes.json", "details-1002.json")}
        | {"broken.json": b"<html>Bad Gateway</html>"})


@pytest.mark.parametrize("case", sorted(ITEM_FAILURES))
def test_a_failed_awin_details_request_costs_that_programme_only(tmp_path, case):
    """The programme whose details could not be had is that item's failure, beside its raw answer; the others are
    synced, and the run is incomplete (it withdraws nothing)."""
    route, stage, reason = ITEM_FAILURES[case]
    site = awin_answering(tmp_path / "site", route)
    rt, reports = synced(tmp_path / "data", "awin", directories={"awin": site})
    (failure,) = reports["awin"].failures
    assert failure.stage == stage and reason in failure.reason and "advertiserId=1001" in failure.url
    assert rt.store.get(failure.raw_key).data == (b"<html>Bad Gateway</html>" if "file" in route else b"")
    assert reports["awin"].records == 1 and reports["awin"].incomplete == "1 request or item failed"
    assert [(n.network, n.program_id) for n in program(rt, "Semrush").networks] == [("awin", "1002")]
    if stage == "parse":  # kept beside the raw answer, as a page's parse failure is
        assert json.loads(rt.store.get(error_key(failure.raw_key)).data)["error"] == failure.reason


def test_a_programme_whose_details_failed_keeps_what_the_last_sync_said(tmp_path):
    """Skipped, not listed with the list's fields alone: its commission and figures come only from its details, so
    a record without them would say less than Awin does; the incomplete run withdraws nothing."""
    rt, _ = synced(tmp_path / "data", "awin")
    before = program(rt, "Trailhead")
    site = awin_answering(tmp_path / "site", {"status": 404})
    rt, reports = synced(tmp_path / "data", "awin", directories={"awin": site})
    assert reports["awin"].records == 1 and reports["awin"].incomplete
    after = program(rt, "Trailhead")
    assert after.status == "active" and after.commission == before.commission and after.commission
    assert after.epc_90d == before.epc_90d and after.networks == before.networks


def test_a_failed_rakuten_advertiser_request_costs_that_advertiser_only(tmp_path):
    recorded = get_source("rakuten").recorded_dir()
    offers = json.loads(json.dumps(OFFERS))
    offers["_metadata"]["total"] = len(offers["offers"])
    site = answering(tmp_path / "site", [
        {"method": "POST", "path": "/token", "file": "token.json", "auth": RAKUTEN_TOKEN_AUTH},
        {"path": "/v1/offers", "file": "offers.json", "auth": RAKUTEN_AUTH},
        {"path": "/v2/advertisers/36342", "status": 503, "headers": {"Retry-After": "0"}, "auth": RAKUTEN_AUTH},
        {"path": "/v2/advertisers/44583", "file": "advertiser-44583.json", "auth": RAKUTEN_AUTH}],
        {"token.json": (recorded / "token.json").read_bytes(), "offers.json": json.dumps(offers).encode(),
         "advertiser-44583.json": (recorded / "advertiser-44583.json").read_bytes()})
    _, reports = synced(tmp_path / "data", "rakuten", directories={"rakuten": site})
    (failure,) = reports["rakuten"].failures
    assert failure.stage == "fetch" and "/v2/advertisers/36342" in failure.url and "HTTP 503" in failure.reason
    assert reports["rakuten"].records == 1 and reports["rakuten"].incomplete


def awin_details_failing(directory, route: dict):
    """Awin's recorded answers with eight more programmes, whose details are all answered by `route`."""
    recorded = get_source("awin").recorded_dir()
    programmes = json.loads((recorded / "programmes.json").read_text())
    more = [{**programmes[1], "id": 2000 + n, "name": f"Programme {n}"} for n in range(8)]
    return answering(directory, [
        {"path": "/publishers/123456/programmes", "file": "programmes.json", "auth": AWIN_AUTH},
        {"path": "/publishers/123456/programmedetails", "query": {"advertiserId": "1001"},
         "file": "details-1001.json", "auth": AWIN_AUTH},
        {"path": "/publishers/123456/programmedetails", **route, "auth": AWIN_AUTH}],
        {"programmes.json": json.dumps(programmes[:1] + more).encode(),
         "details-1001.json": (recorded / "details-1001.json").read_bytes()})


def test_awin_details_unanswered_five_times_in_a_row_end_the_sync_keeping_what_was_read(tmp_path):
    """An API gone down mid-sync: each item's request retried in vain, at Awin's 20 calls a minute, ran the sync past
    its function's 15 minutes, losing the programmes already read. Five in a row end it, the rest left unread."""
    site = awin_details_failing(tmp_path / "site", {"status": 503, "headers": {"Retry-After": "0"}})
    _, reports = synced(tmp_path / "data", "awin", directories={"awin": site})
    *items, ended = reports["awin"].failures
    assert [f.url.rsplit("=", 1)[1] for f in items] == ["2000", "2001", "2002", "2003", "2004"]
    assert ended.stage == "fetch" and "5 item requests in a row got no answer" in ended.reason
    assert reports["awin"].records == 1 and reports["awin"].incomplete


def test_awin_details_throttled_past_the_time_budget_end_the_sync_saying_so(tmp_path, monkeypatch):
    """Each item request answered 429 with `Retry-After: 60`: the sync's waits are counted against the function's time
    limit (100 s less a tenth). The details request whose retry would pass it is not retried, and the sync ends there
    with what it read, saying it ran out of time; the next items are not asked (each would be refused, and five
    refused in a row were taken for the API being down)."""
    from affiliate_matrix import sync as syncing
    from affiliate_matrix.polite import HostLimits
    from affiliate_matrix.sync import Api
    from tests.support.clock import FakeTime

    time = FakeTime()
    monkeypatch.setattr(syncing, "Api", functools.partial(Api, **time.options(HostLimits())))
    site = awin_details_failing(tmp_path / "site", {"status": 429, "headers": {"Retry-After": "60"}})
    _, reports = synced(tmp_path / "data", "awin", directories={"awin": site}, crawl_time_limit_s=100)
    (ended,) = reports["awin"].failures
    assert ended.out_of_time and "programmedetails?advertiserId=2000: HTTP 429: not asked" in ended.reason
    assert reports["awin"].records == 1 and reports["awin"].incomplete.startswith("stopped at its time budget")
    assert sum(time.sleeps) <= 100 and time.sleeps.count(60) == 1


@pytest.mark.parametrize("route,said", [
    ({"status": 404}, "HTTP 404"),
    # a redirect to a Location httpx cannot read was counted as no answer: five ended the sync, the API taken for down
    ({"status": 302, "headers": {"Location": "http://[::1/x"}}, "redirects to a malformed Location")])
def test_awin_details_refused_for_many_programmes_in_a_row_cost_those_only(tmp_path, route, said):
    """A 404 is an answer, and so is a redirect we cannot follow: the API is up, and those programmes' details are not
    to be had there; the rest are still asked for (else the same programmes would stop every sync at the same place)."""
    site = awin_details_failing(tmp_path / "site", route)
    _, reports = synced(tmp_path / "data", "awin", directories={"awin": site})
    assert [f.url.rsplit("=", 1)[1] for f in reports["awin"].failures] == [str(2000 + n) for n in range(8)]
    assert all(said in f.reason for f in reports["awin"].failures)
    assert reports["awin"].records == 1 and reports["awin"].incomplete


def test_an_api_redirecting_elsewhere_never_has_its_key_sent_there(tmp_path):
    """An API's answer redirecting to another host (an attacker's, a metadata address) is not followed: the request
    carrying its key goes to its own origin only, and each such answer is that item's failure, naming the status."""
    from tests.support.loopback import Loopback

    with Loopback(lambda request: (200, {}, b"{}"), host="127.0.0.2") as elsewhere:
        site = awin_details_failing(tmp_path / "site", {"status": 307, "headers": {"Location": f"{elsewhere.url}/x"}})
        _, reports = synced(tmp_path / "data", "awin", directories={"awin": site})
    assert elsewhere.requests == []
    assert reports["awin"].failures and all("HTTP 307" in f.reason for f in reports["awin"].failures)


def test_a_redirect_quoting_the_key_keeps_no_key_in_the_answers_kept(tmp_path):
    """The kept answers (api-answers/) are read by whoever reads the store: a Location quoting the key it was sent (a
    login page's address, the request echoed back) is kept with the key's values blanked, as the answer's URL is."""
    site = awin_answering(tmp_path / "site", {"status": 302, "headers": {"Location": "/login?token=test-awin-token"}})
    rt, reports = synced(tmp_path / "data", "awin", directories={"awin": site})
    (failure,) = reports["awin"].failures
    assert "/login?token=[redacted]" in failure.reason
    (kept,) = [answer for answer in kept_answers(rt, "awin").values() if answer["status"] == 302]
    assert kept["headers"]["location"] == "/login?token=[redacted]"
    assert b"test-awin-token" not in rt.store.get("api-answers/awin.json").data


def test_two_networks_that_disagree_synced_again_record_no_change(tmp_path):
    """CJ and Rakuten both list Lumen Skincare, of one priority, each its own commission: by the latest sighting alone
    the shown commission took turns, a change in the feed (a "commission changed" rule's trigger) at every sync of
    either. Synced again with nothing changed at either, the feed records nothing for it."""
    from affiliate_matrix.deltas import DELTAS_INDEX

    def lumen_changes(rt) -> list[dict]:
        lumen = program(rt, merchant_key="lumenskincare.com")
        hits = rt.index.search(DELTAS_INDEX.name, SearchQuery(filters={"program_id": [lumen.id]}, size=100)).hits
        return [hit.doc for hit in hits]

    rt, _ = synced(tmp_path, "cj", "rakuten")
    first = program(rt, merchant_key="lumenskincare.com")
    assert len({claim.source for claim in first.provenance["commission"]}) == 2  # both claim it, and disagree
    before = lumen_changes(rt)
    for _ in range(2):
        rt, _ = synced(tmp_path, "rakuten", "cj")  # in the other order: the later sync's was shown
        assert program(rt, merchant_key="lumenskincare.com").commission == first.commission
    assert lumen_changes(rt) == before


API_SOURCES = ("awin", "cj", "clickbank", "impact", "offervault", "rakuten")


def test_every_network_replays_its_kept_answers_to_the_same_batch_with_no_network(tmp_path):
    """A sync keeps how each request was answered; a replay, its recorded API stopped, asks nothing and reads the very
    records the sync read (the batch is content-addressed: the same key is the same bytes)."""
    rt, reports = synced(tmp_path, *API_SOURCES)  # the recorded APIs are stopped once synced
    for source in API_SOURCES:
        replayed = scrape(rt, source, replay=True)
        assert replayed.failures == [] and replayed.records == reports[source].records > 0, source
        assert replayed.batch_key == reports[source].batch_key, source
    kept = b"".join(path.read_bytes() for path in tmp_path.rglob("api-answers/*.json"))
    assert b"test-rakuten-access-token" not in kept and b"test-rakuten-refresh-token" not in kept  # the token blanked


def test_a_rotated_key_replays_the_answers_its_old_values_were_sent_with(tmp_path):
    rt, reports = synced(tmp_path, "rakuten")
    rt.secrets.write("connections/rakuten", {**EXPECTED["rakuten"]["credentials"], "client_secret": "rotated-secret"})
    assert scrape(rt, "rakuten", replay=True).batch_key == reports["rakuten"].batch_key


def revoked(rt, path: str) -> None:
    """The key at `path` revoked, as `amx keys revoke` does (registered first, as `amx keys add` registers it)."""
    from datetime import UTC, datetime

    from affiliate_matrix.keys import KeyRecord, revoke, save_record

    save_record(rt, KeyRecord(path=path, rotation="manual", created_at=datetime.now(UTC)), create=True)
    revoke(rt, path)


def programs_indexed(rt) -> list[tuple[str, str]]:
    from affiliate_matrix.program_index import PROGRAMS_INDEX

    return sorted((hit.id, hit.doc["name"]) for hit in rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=100)).hits)


# What each source's key keeps with its answers: its fields that are no secret (its account ids), never a secret one
KEPT_FIELDS = {"awin": {"publisher_id"}, "cj": {"requestor_cid"}, "impact": {"account_sid"}, "rakuten": {"client_id"},
               "clickbank": set(), "offervault": set()}


def test_every_network_replays_and_rebuilds_with_its_key_revoked_or_removed(tmp_path, monkeypatch):
    """A replay sends nothing, so it reads no key: it builds its requests from the key's fields kept with the answers,
    each secret standing as one blanked. A revoked key (compromised) left its connection out of `amx replay --all`, so
    an index rebuilt after it was lost lacked that connection's programs until a new key was added and synced."""
    from affiliate_matrix.observability import secret_values
    from affiliate_matrix.pipeline import rebuild
    from affiliate_matrix.program_index import PROGRAMS_INDEX
    from affiliate_matrix.sync import StoredAnswers, request_key

    rt, reports = synced(tmp_path, *API_SOURCES, as_announced=True)
    indexed = programs_indexed(rt)
    for source in API_SOURCES:
        kept = rt.store.get(f"api-answers/{source}.json").data
        credentials = EXPECTED[source].get("credentials", {})
        assert [value for value in secret_values(credentials) if value.encode() in kept] == [], source
        assert json.loads(kept)["key_fields"] == {name: credentials[name] for name in KEPT_FIELDS[source]}, source
    for source in ("awin", "rakuten"):
        revoked(rt, f"connections/{source}")
    for source in ("cj", "impact"):
        rt.secrets.remove(f"connections/{source}")
    asked, answer = {}, StoredAnswers.answer

    def noted(self, request, key_values):
        asked.setdefault(self.source, set()).add(request_key(request, key_values))
        return answer(self, request, key_values)

    monkeypatch.setattr(StoredAnswers, "answer", noted)
    for source in API_SOURCES:
        replayed = scrape(rt, source, replay=True)
        assert (replayed.failures, replayed.batch_key) == ([], reports[source].batch_key), source
        # each request the replay built is one the sync made, found by the key the sync kept its answer under
        assert asked[source] == set(kept_answers(rt, source)), source
    for hit in rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=100)).hits:  # the index is lost
        rt.index.delete(PROGRAMS_INDEX.name, hit.id)
    rebuilt = rebuild(rt)
    assert rebuilt.left_out == []
    assert {(r.connection_id, r.batch_key) for r in rebuilt.replayed} == {
        (source, reports[source].batch_key) for source in API_SOURCES}
    assert programs_indexed(rt) == indexed and len(indexed) > len(API_SOURCES)
    with pytest.raises(NotFoundError, match=r"^connection 'awin': the key at 'connections/awin' was revoked at "):
        scrape(rt, "awin")  # a sync still needs its key


@pytest.mark.parametrize("kept_fields", [None, {}], ids=["kept-before-key-fields", "a-field-not-kept"])
def test_answers_kept_without_the_keys_fields_replay_with_the_key_and_say_so_when_it_is_gone(tmp_path, kept_fields):
    """Answers kept before syncs kept the key's fields with them (or without a field the source reads now) are replayed
    as before, their requests built with the key; with the key gone, the replay says why it needs it, and a rebuild
    leaves that connection out, naming it, and replays the rest."""
    from affiliate_matrix.pipeline import rebuild

    rt, reports = synced(tmp_path, "awin", "clickbank")
    record = json.loads(rt.store.get("api-answers/awin.json").data)
    rt.store.put("api-answers/awin.json", json.dumps({**record, "key_fields": kept_fields}).encode())
    assert scrape(rt, "awin", replay=True).batch_key == reports["awin"].batch_key
    revoked(rt, "connections/awin")
    with pytest.raises(NotFoundError) as refused:
        scrape(rt, "awin", replay=True)
    assert str(refused.value).startswith("connection 'awin': the key at 'connections/awin' was revoked at "), refused
    assert str(refused.value).endswith("its API answers were kept before syncs kept the key's account fields with "
                                       "them, so their replay needs the key: once a key is there, a sync (amx scrape "
                                       "awin) keeps them, and its replays need no key"), refused
    rebuilt = rebuild(rt)
    assert [(r.connection_id, r.records) for r in rebuilt.replayed] == [("clickbank", reports["clickbank"].records)]
    assert rebuilt.left_out == [str(refused.value)]


def test_a_rebuild_after_a_lost_index_indexes_what_a_replay_failing_the_last_item_read(tmp_path):
    """A replay's records carry the times of the answers: one that failed the item its complete run fetched last (its
    raw copy gone) fetched earlier than that run's noted time, and was left out as older than it, so after a lost index
    `amx replay --all` left the connection's good records out until its next sync."""
    from affiliate_matrix.pipeline import rebuild
    from affiliate_matrix.program_index import PROGRAMS_INDEX

    rt, reports = synced(tmp_path, "awin", as_announced=True)
    records = [json.loads(line) for line in rt.store.get(reports["awin"].batch_key).data.splitlines()]
    last = max(records, key=lambda record: record["fetched_at"])
    (kept,) = [record["name"] for record in records if record is not last]
    rt.store.delete(last["raw_key"])
    for hit in rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=100)).hits:  # the index is lost
        rt.index.delete(PROGRAMS_INDEX.name, hit.id)
    (replayed,) = rebuild(rt).replayed
    assert (replayed.records, replayed.incomplete, replayed.run) == (1, "1 request or item failed",
                                                                     reports["awin"].run)
    assert [hit.doc["name"] for hit in rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=100)).hits] == [kept]


def test_an_older_syncs_batch_indexed_after_the_next_complete_run_is_still_left_out(tmp_path):
    """Its event retried late: its run is not the complete run noted, and it fetched before it."""
    _, first = synced(tmp_path, "awin", as_announced=True)
    rt, second = synced(tmp_path, "awin", as_announced=True)
    assert first["awin"].run != second["awin"].run and not first["awin"].incomplete
    late = index_announced(rt, {"batch_key": first["awin"].batch_key, "connection_id": "awin", "complete": True,
                                "run": first["awin"].run})
    assert late.skipped.startswith("2 records of connection awin, older than its complete run of "), late.skipped
    again = index_announced(rt, {"batch_key": second["awin"].batch_key, "connection_id": "awin", "complete": True,
                                 "run": second["awin"].run})
    assert again.skipped is None and again.unchanged == 2  # the complete run itself, again


def kept_answers(rt, connection_id: str) -> dict:
    return json.loads(rt.store.get(f"api-answers/{connection_id}.json").data)["answers"]


def test_a_request_no_sync_answered_fails_the_replay_naming_it_and_withdraws_nothing(tmp_path):
    rt, reports = synced(tmp_path, "awin")
    answers = kept_answers(rt, "awin")
    (details,) = [key for key, answer in answers.items() if answer["url"].endswith("advertiserId=1001")]
    del answers[details]
    rt.store.put("api-answers/awin.json", json.dumps({"answers": answers}).encode())
    replayed = scrape(rt, "awin", replay=True)
    (failure,) = replayed.failures
    assert failure.stage == "fetch" and failure.url.endswith("advertiserId=1001")
    assert "no sync kept an answer to this request, so a replay cannot read it" in failure.reason
    assert replayed.records == reports["awin"].records - 1 and replayed.incomplete  # so it withdraws nothing


def test_a_sync_cut_short_keeps_the_usable_answers_before_it_for_a_replay(tmp_path):
    """The second sync got a 404 for programme 1001's details: its answers are added to the first's, the usable
    answer before it kept, so a replay reads both programmes, as the index still holds both."""
    _, first = synced(tmp_path / "data", "awin")
    site = awin_answering(tmp_path / "site", {"status": 404})
    rt, reports = synced(tmp_path / "data", "awin", directories={"awin": site})
    assert reports["awin"].records == 1 and reports["awin"].incomplete
    replayed = scrape(rt, "awin", replay=True)
    assert replayed.failures == [] and replayed.records == 2
    assert replayed.run == first["awin"].run != reports["awin"].run  # the answers are still the first sync's, and later


def test_a_sync_read_to_its_end_replaces_the_answers_kept(tmp_path):
    rt, _ = synced(tmp_path / "data", "cj")
    stale = {"0" * 64: {"url": "http://gone/", "status": 200, "headers": {}, "raw_key": "raw/cj/x.xml",
                        "fetched_at": "2026-01-01T00:00:00+00:00"}}
    rt.store.put("api-answers/cj.json", json.dumps({"answers": {**kept_answers(rt, "cj"), **stale}}).encode())
    rt, _ = synced(tmp_path / "data", "cj")
    assert "0" * 64 not in kept_answers(rt, "cj") and kept_answers(rt, "cj")


@pytest.mark.parametrize("written", [b"{not json", b'{"answers": []}', b'[1]', b'{"answers": {}, "run": "r_1"}',
                                     b'{"answers": {}, "key_fields": ["123456"]}',
                                     b'{"answers": {}, "key_fields": {"publisher_id": 123456}}',
                                     b'{"answers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"])
def test_a_damaged_answers_record_is_refused_naming_it(tmp_path, written):
    from affiliate_matrix.errors import DamagedData

    rt, _ = synced(tmp_path, "cj")
    rt.store.put("api-answers/cj.json", written)
    with pytest.raises(DamagedData, match=r"^api-answers/cj\.json is damaged .*amx scrape cj syncs it again"):
        scrape(rt, "cj", replay=True)


def replayed_by_amx(monkeypatch, capsys, data_dir, *args: str) -> tuple[int, str]:
    """`amx replay ...` run as its console script runs it: its exit code, and all it said, its spaces run together."""
    from affiliate_matrix.cli import main

    monkeypatch.setenv("AMX_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setattr("sys.argv", ["amx", "replay", *args])
    capsys.readouterr()  # (what came before)
    with pytest.raises(SystemExit) as ended:
        main()
    said = capsys.readouterr()
    return ended.value.code, " ".join((said.out + said.err).split())


@pytest.mark.parametrize("where", ["local", pytest.param("s3", marks=pytest.mark.slow)])
def test_answers_kept_past_their_bound_are_refused_unread_and_the_replay_says_which(tmp_path, monkeypatch, capsys,
                                                                                   request, where):
    """The answers kept (api-answers/<connection>.json) and each answer's raw copy were read whole before their size
    was looked at, whoever wrote them: each is read no further than its bound (storage.MAX_API_ANSWERS_BYTES, and the
    cap the answer was fetched under), so one past it is refused unread, named with its size and the bound: the
    record ends the replay (damaged, to be synced again), a raw copy fails its request and the replay goes on."""
    from affiliate_matrix import sync

    if where == "s3":
        request.getfixturevalue("on_s3")
    rt, reports = synced(tmp_path, "cj", index=False)
    kept = rt.store.get("api-answers/cj.json").data
    monkeypatch.setattr(sync, "MAX_API_ANSWERS_BYTES", len(kept) - 1)  # 32 MiB as shipped: the record as it is suffices
    code, said = replayed_by_amx(monkeypatch, capsys, tmp_path, "cj")
    assert code == 2 and said == (f"error: api-answers/cj.json is damaged (too large to read: {len(kept):,} bytes, "
                                  f"more than the {len(kept) - 1:,} bytes a read of it takes): amx scrape cj syncs it "
                                  "again")
    code, said = replayed_by_amx(monkeypatch, capsys, tmp_path, "--all")
    assert code == 1 and "left out: api-answers/cj.json is damaged (too large to read: " in said, said

    monkeypatch.setattr(sync, "MAX_API_ANSWERS_BYTES", len(kept))
    raw_key = next(iter(kept_answers(rt, "cj").values()))["raw_key"]  # the listing's first page
    rt.store.put(raw_key, b" " * (MAX_BYTES + 1))  # past the 5 MB cj's answers are fetched under
    code, said = replayed_by_amx(monkeypatch, capsys, tmp_path, "cj")
    assert code == 1 and "1 failure" in said, said
    assert (f"its kept answer cannot be read (ObjectTooLarge: object {raw_key}: too large to read: {MAX_BYTES + 1:,} "
            f"bytes, more than the {MAX_BYTES:,} bytes a read of it takes) 1 page or response failed") in said, said


def test_a_rebuild_names_a_connection_whose_answers_are_damaged_and_replays_the_others(tmp_path):
    from affiliate_matrix.pipeline import rebuild

    rt, reports = synced(tmp_path, "cj", "rakuten")
    rt.store.put("api-answers/cj.json", b"{not json")
    rebuilt = rebuild(rt)
    assert [(r.connection_id, r.batch_key) for r in rebuilt.replayed] == [("rakuten", reports["rakuten"].batch_key)]
    (left_out,) = rebuilt.left_out
    assert left_out.startswith("api-answers/cj.json is damaged") and "amx scrape cj syncs it again" in left_out


def test_a_kept_answer_that_cannot_be_read_fails_that_request_naming_why(tmp_path):
    rt, reports = synced(tmp_path, "cj")
    answers = kept_answers(rt, "cj")
    for answer in answers.values():
        answer["raw_key"] = "raw/cj/00/gone.xml"
    rt.store.put("api-answers/cj.json", json.dumps({"answers": answers}).encode())
    (failure,) = scrape(rt, "cj", replay=True).failures
    assert failure.stage == "fetch" and "its kept answer cannot be read (NotFoundError" in failure.reason


def test_a_request_finds_its_kept_answer_whatever_the_keys_secret_values_or_the_apis_host():
    import httpx

    from affiliate_matrix.sync import request_key

    def key(url, secret, body=b""):
        return request_key(httpx.Request("POST", url, content=body.replace(b"SECRET", secret.encode())), [secret])

    asked = key("https://api.example/v1/offers?page=2&token=old-secret", "old-secret", b'{"key": "SECRET"}')
    assert asked == key("https://moved.example:8443/v1/offers?page=2&token=new-secret", "new-secret",
                        b'{"key": "SECRET"}')
    for other in ("https://api.example/v1/offers?page=3&token=old-secret", "https://api.example/v2/offers?page=2"):
        assert key(other, "old-secret", b'{"key": "SECRET"}') != asked
    assert key("https://api.example/v1/offers?page=2&token=old-secret", "old-secret", b'{"key": 1}') != asked


def test_a_raw_answer_written_over_since_fails_that_request_and_is_not_read(tmp_path):
    """Whoever may write raw copies (evidence only, otherwise) cannot have a replay index what they wrote as the API's
    answer: a raw answer's key names its bytes' SHA-256, and bytes that are not those fail the request."""
    rt, reports = synced(tmp_path, "cj")
    raw_key = next(iter(kept_answers(rt, "cj").values()))["raw_key"]  # the listing's first page
    forged = rt.store.get(raw_key).data.replace(b"Bluehost", b"Forged Host")
    assert b"Forged Host" in forged
    rt.store.put(raw_key, forged)
    replayed = scrape(rt, "cj", replay=True)
    (failure,) = replayed.failures
    assert replayed.records == 0 and failure.stage == "fetch", failure
    assert f"{raw_key} holds other bytes than were stored there (written over since)" in failure.reason


@pytest.mark.parametrize("edit,said", [
    ({"raw_key": "connections/cj.json"}, "'connections/cj.json' is not a key under raw/cj/"),
    ({"fetched_at": "2026-12-01T10:00:00"}, "fetched_at '2026-12-01T10:00:00' names no time zone"),
    # claims dated ahead would outweigh every sync's until then
    ({"fetched_at": "2100-01-01T00:00:00+00:00"}, "fetched_at '2100-01-01T00:00:00+00:00' is after the store kept"),
    ({"status": "two hundred"}, "ValueError: invalid literal for int()"),
    ({"headers": ["content-type"]}, "TypeError"),
])
def test_an_answer_edited_to_read_something_else_fails_that_request_naming_why(tmp_path, edit, said):
    """Whoever edits the kept answers cannot have a replay read another object of the store (a connection, a key's
    record) as the API's answer, nor a time with no zone or one after the answers were kept as when it was fetched."""
    rt, _ = synced(tmp_path, "cj")
    answers = {key: answer | edit for key, answer in kept_answers(rt, "cj").items()}
    rt.store.put("api-answers/cj.json", json.dumps({"answers": answers}).encode())
    replayed = scrape(rt, "cj", replay=True)
    (failure,) = replayed.failures
    assert replayed.records == 0 and failure.stage == "fetch" and said in failure.reason, failure.reason
