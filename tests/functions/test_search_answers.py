"""The programs API's search answers as a user meets them: the program looked for found and ranked first, facets
counting what the filters return, minimums that keep what they promise. Records indexed by the index function,
read back through GET /programs, on each backend."""

import json
import re
from datetime import timedelta

import pytest

from affiliate_matrix.models import MAX_COOKIE_DAYS
from affiliate_matrix.program_index import LIFETIME_DAYS, PROGRAMS_INDEX
from tests.support.indexing import BACKENDS, T1, Index, on_backend, record


@pytest.fixture(params=BACKENDS)
def index(request, tmp_path, monkeypatch):
    on_backend(request, tmp_path, monkeypatch)
    return Index(tmp_path)


def names(index: Index, query: str) -> list[str]:
    return [item["name"] for item in index.get(f"/programs?{query}&limit=100")["items"]]


def test_a_lifetime_cookie_meets_any_minimum_and_ranks_first_by_cookie(index):
    """A lifetime cookie is -1 (models.Program.cookie_days), so min_cookie_days=30 left out exactly the programs
    whose cookie never ends, and sort=cookie ranked them below a session cookie (0)."""
    index.batch(record("dira", "Forever Shoes", "https://forevershoes.com/", cookie_text="Lifetime cookie"),
                record("dira", "Month Shoes", "https://monthshoes.com/", cookie_text="30 day cookie"),
                record("dira", "Week Shoes", "https://weekshoes.com/", cookie_text="7 day cookie"),
                record("dira", "Session Shoes", "https://sessionshoes.com/", cookie_text="Session cookie"))
    assert LIFETIME_DAYS > MAX_COOKIE_DAYS  # longer than any cookie a program may state
    cookies = {p["name"]: p["cookie_days"] for p in index.programs()}
    assert cookies == {"Forever Shoes": -1, "Month Shoes": 30, "Week Shoes": 7, "Session Shoes": 0}
    assert sorted(names(index, "min_cookie_days=30")) == ["Forever Shoes", "Month Shoes"]
    assert names(index, "min_cookie_days=5000") == ["Forever Shoes"]  # past the longest cookie a program states
    assert names(index, "sort=cookie") == ["Forever Shoes", "Month Shoes", "Week Shoes", "Session Shoes"]
    first = index.get("/programs?sort=cookie&limit=1")
    assert [item["cookie_days"] for item in first["items"]] == [-1]  # shown as stated
    assert index.get(f"/programs?sort=cookie&limit=3&cursor={first['next_cursor']}")["total"] == 4



@pytest.mark.parametrize("q", ["shopify", "Shopify", "shopfy", "SHOPIFY "])
def test_a_program_named_as_asked_ranks_first(index, q):
    """bm25 over all the text ranked a program whose description repeats the word above the one named by it: "shopify"
    listed "Shopify App Partners" before "Shopify"."""
    index.batch(record("dira", "Shopify", "https://shopify.com/", description="Ecommerce platform for any store."),
                record("dira", "Shopify App Partners", "https://shopifyapps.io/",
                       description="Apps for Shopify stores: Shopify merchants love Shopify apps."),
                record("dira", "Store Tools", "https://storetools.com/", description="Works with Shopify."))
    found = names(index, f"q={q}")
    assert sorted(found) == ["Shopify", "Shopify App Partners", "Store Tools"]
    assert found[0] == ("Shopify" if q.strip().lower() == "shopify" else found[0])  # a typo names nothing exactly
    first = index.get(f"/programs?q={q}&limit=1")  # the boosted score pages on
    rest = index.get(f"/programs?q={q}&limit=2&cursor={first['next_cursor']}")
    assert [i["name"] for i in first["items"] + rest["items"]] == found


def test_a_multi_word_name_asked_exactly_ranks_first(index):
    index.batch(record("dira", "Web Hosting Pro", "https://webhostingpro.com/", description="Hosting."),
                record("dira", "Cheap Hosting", "https://cheaphosting.com/",
                       description="Web hosting, pro hosting, web pro hosting for web pros."))
    assert names(index, "q=web hosting pro")[0] == "Web Hosting Pro"
    assert names(index, "q=web hosting pro&sort=name") == ["Cheap Hosting", "Web Hosting Pro"]  # a sort keeps its order


@pytest.mark.parametrize("q", ["bluehost.com", "BlueHost.com", "bluehost com"])
def test_a_program_is_found_by_its_domain(index, q):
    """The domain was a keyword no word of a query matched: q=bluehost.com found nothing (its word "com" is in no
    name or description), though Bluehost's domain is bluehost.com. The domain as written is an exact match, so
    first; its words apart ("bluehost com") are not, and the two backends rank other hits each their own way."""
    index.batch(record("dira", "Bluehost", "https://www.bluehost.com/", description="Web hosting."),
                record("dira", "Bluehost Reviews", "https://hostreviews.com/", description="Bluehost, compared."))
    found = names(index, f"q={q}")
    assert "Bluehost" in found
    if "." in q:
        assert found[0] == "Bluehost"


@pytest.mark.parametrize("q, found", [("vpn", ["NordVPN", "VPN Shield"]), ("hosting", ["HostFast"]),
                                      ("vpn security", ["NordVPN"])])
def test_a_program_is_found_by_the_words_of_its_categories(index, q, found):
    """Categories were keywords no word of a query matched: q=vpn found "VPN Shield" but not NordVPN, whose category
    is vpn_security, nor did q=hosting find a host whose listing says only "servers"."""
    index.batch(record("dira", "NordVPN", "https://nordvpn.com/", categories=["VPN & Security"]),
                record("dira", "VPN Shield", "https://vpnshield.com/"),
                record("dira", "HostFast", "https://hostfast.net/", description="Fast servers.",
                       categories=["Web Hosting"]))
    assert [p["categories"] for p in index.programs()] == [["hosting_domains"], ["vpn_security"], []]
    assert sorted(names(index, f"q={q}")) == found


def test_a_search_counts_its_programs_by_status(index):
    """Nothing in a search's answer told a program gone quiet from an active one: status was a filter with no facet
    (and the web page has filters only for facets), so closed_suspected and removed programs were listed uncounted."""
    index.batch(record("dira", "Open Shoes", "https://openshoes.com/"),
                record("dira", "Shut Shoes", "https://shutshoes.com/", closed="Expired"))
    facet = index.get("/programs?q=shoes")["facets"]["status"]
    assert facet == [{"value": "active", "count": 1}, {"value": "closed_suspected", "count": 1}]
    assert names(index, "q=shoes&status=active") == ["Open Shoes"]


def test_a_search_lists_open_programs_unless_it_asks_for_closed_ones(index):
    """A person searching for programs to join was shown closed ones (closed_suspected, removed) among them. A search
    that asks no status lists the open ones (active, discovered), its status facet still counting the closed ones;
    status= asks for them. A closed program's page and its changes stay as they were."""
    index.batch(record("dira", "Open Shoes", "https://openshoes.com/"),
                record("dira", "Shut Shoes", "https://shutshoes.com/", closed="Expired"))
    for query in ("q=shoes", "sort=name", "kind=program"):
        assert names(index, query) == ["Open Shoes"]
        assert index.get(f"/programs?{query}")["total"] == 1
    assert index.get("/programs")["facets"]["status"] == [{"value": "active", "count": 1},
                                                          {"value": "closed_suspected", "count": 1}]
    assert names(index, "q=shoes&status=closed_suspected") == ["Shut Shoes"]
    assert names(index, "sort=name&status=active&status=closed_suspected") == ["Open Shoes", "Shut Shoes"]
    (shut,) = index.get("/programs?status=closed_suspected")["items"]
    assert index.get(f"/programs/{shut['id']}")["status"] == "closed_suspected"
    assert {change["program_id"] for change in index.changes()} >= {shut["id"]}
    refused = index.api.get("/programs?status=closed", headers=index.auth)
    assert refused.status_code == 400 and "status" in refused.get_data(as_text=True)


def test_a_country_finds_the_programs_open_to_it_and_its_count_says_how_many(index):
    """country=DE left out a program that names no country, which a source lists so because it takes every country,
    and the countries facet counted only the programs naming each. A country is met by the programs naming it and by
    those naming none; its count in the facet is what country= of it finds."""
    index.batch(record("dira", "German Shoes", "https://germanshoes.com/", countries=["Germany"]),
                record("dira", "French Shoes", "https://frenchshoes.com/", countries=["France"]),
                record("dira", "World Shoes", "https://worldshoes.com/"))
    assert sorted(names(index, "q=shoes&country=DE")) == ["German Shoes", "World Shoes"]
    assert sorted(names(index, "q=shoes&country=FR&country=DE")) == ["French Shoes", "German Shoes", "World Shoes"]
    assert names(index, "q=shoes&country=JP") == ["World Shoes"]
    assert index.get("/programs?q=shoes")["facets"]["countries"] == [
        {"value": "DE", "count": 2}, {"value": "FR", "count": 2}, {"value": "worldwide", "count": 1}]
    assert index.get("/programs?q=shoes&country=DE")["facets"]["countries"] == [{"value": "DE", "count": 2},
                                                                                {"value": "worldwide", "count": 1}]
    assert names(index, "q=shoes&country=worldwide") == ["World Shoes"]  # what its count says
    assert [p["countries"] for p in index.programs()] == [["FR"], ["DE"], []]  # each shown as it names them


def test_a_flat_minimum_in_a_currency_weighs_every_flat_term_in_it(index):
    """flat_currency=EUR&min_commission_flat=40 missed a program paying $100 or €50: its document held one flat
    amount, the highest in the currency of its first flat term (USD). Every flat term is now compared, its currency
    and amount together: never €30 for a $100 term, nor $100 for a minimum in euros."""
    index.batch(record("dira", "Dual Pay", "https://dualpay.com/", commission_text="$100 per sale or €50 per lead"),
                record("dira", "Euro Low", "https://eurolow.com/", commission_text="€30 per sale or $100 per lead"),
                record("dira", "Dollar Only", "https://dollaronly.com/", commission_text="$80 per sale"))
    assert names(index, "flat_currency=EUR&min_commission_flat=40") == ["Dual Pay"]
    assert sorted(names(index, "flat_currency=USD&min_commission_flat=90")) == ["Dual Pay", "Euro Low"]
    assert sorted(names(index, "flat_currency=EUR&flat_currency=USD&min_commission_flat=45")) == [
        "Dollar Only", "Dual Pay", "Euro Low"]
    assert names(index, "flat_currency=EUR&min_commission_flat=50.01") == []
    assert names(index, "flat_currency=GBP&min_commission_flat=1") == []
    assert names(index, "flat_currency=eur&min_commission_flat=40") == ["Dual Pay"]  # typed in small letters: EUR
    refused = index.api.get("/programs?flat_currency=eux&min_commission_flat=1", headers=index.auth)
    assert refused.status_code == 400 and "flat_currency 'eux' is not a currency code" in refused.get_data(as_text=True)


def test_the_countries_facet_lists_twenty_countries_and_the_programs_open_to_all_beyond_them(index):
    """The programs open to every country were counted as one more value of the countries facet, which holds 20, and
    then dropped from it: a real country was pushed out, and the facet showed 19. It shows 20 countries, and after
    them how many programs are open to every country."""
    from affiliate_matrix.codes import COUNTRIES

    countries = sorted(COUNTRIES)[:21]
    index.batch(*[record("dira", f"Shop {code}", f"https://shop{code.lower()}.com/", countries=[code])
                  for code in countries],
                record("dira", "World One", "https://worldone.com/"), record("dira", "World Two", "https://worldtwo.com/"))
    facet = index.get("/programs")["facets"]["countries"]
    assert facet == [{"value": code, "count": 3} for code in countries[:20]] + [{"value": "worldwide", "count": 2}]


def test_a_flat_minimum_without_a_currency_is_refused_naming_it(index):
    """min_commission_flat alone compared the amount of each program's first flat term whatever its currency: ¥5000
    met a minimum of 40 meant in dollars, and $100 paid as a second term was never seen. Amounts in different
    currencies are not comparable (no exchange rates), so the minimum needs flat_currency."""
    index.batch(record("dira", "Yen Pay", "https://yenpay.com/", commission_text="¥5000 per sale"))
    for path in ("/programs?min_commission_flat=40", "/programs/export?min_commission_flat=40"):
        refused = index.api.get(path, headers=index.auth)
        assert refused.status_code == 400 and "min_commission_flat needs flat_currency" in refused.get_data(as_text=True)
    assert names(index, "flat_currency=JPY&min_commission_flat=40") == ["Yen Pay"]


def test_an_epc_minimum_without_its_currency_is_refused_naming_it(index):
    """min_epc alone compared each EPC in its own currency: €2.00 and ¥150 a click both met min_epc=1.5 meant in
    dollars. As a flat minimum, it needs its currency: a 400 naming epc_currency, on the search and the export."""
    index.batch(*[record("dira", name, f"https://{name.lower()}.com/", extra={"epc_7d": amount, "epc_currency": code})
                  for name, amount, code in [("Dollars", "1.50", "USD"), ("Euros", "2.00", "EUR"),
                                             ("Yens", "150", "JPY")]])
    for path in ("/programs?min_epc=1.5", "/programs/export?min_epc=1.5"):
        refused = index.api.get(path, headers=index.auth)
        assert refused.status_code == 400 and "min_epc needs epc_currency" in refused.get_data(as_text=True)
    assert names(index, "epc_currency=USD&min_epc=1.5") == ["Dollars"]


def test_an_awin_programme_is_found_and_ranked_by_its_three_month_epc_with_epc_window(index):
    """Awin reports a programme's EPC over 3 months only, and min_epc and sort=epc read the 7-day EPC: no EPC filter
    or ranking ever found an Awin programme. epc_window=90d reads the 3-month EPC (CJ reports both); an unknown window
    is a 400 naming it, on the search and the export."""
    index.batch(record("awin", "Pound Shoes", "https://poundshoes.com/",
                       extra={"epc_90d": "0.80", "epc_currency": "GBP"}),
                record("awin", "Pound Boots", "https://poundboots.com/",
                       extra={"epc_90d": "1.60", "epc_currency": "GBP"}),
                record("cj", "Dollar Shoes", "https://dollarshoes.com/",
                       extra={"epc_7d": "3.00", "epc_90d": "1.10", "epc_currency": "USD"}))
    assert names(index, "epc_currency=GBP&min_epc=0.5") == []  # the 7-day EPC, which Awin does not report
    assert names(index, "epc_window=90d&epc_currency=GBP&min_epc=1") == ["Pound Boots"]
    assert names(index, "epc_window=90d&epc_currency=USD&min_epc=1") == ["Dollar Shoes"]
    assert names(index, "epc_window=90d&epc_currency=GBP&sort=epc") == ["Pound Boots", "Pound Shoes"]
    assert names(index, "epc_window=90d&sort=epc") == ["Pound Boots", "Pound Shoes", "Dollar Shoes"]  # GBP, then USD
    assert names(index, "sort=epc")[0] == "Dollar Shoes"
    quarter = index.get("/programs?epc_window=90d")["facets"]["epc_currency"]
    assert quarter == [{"value": "GBP", "count": 2}, {"value": "USD", "count": 1}]
    assert index.get("/programs")["facets"]["epc_currency"] == [{"value": "USD", "count": 1}]
    exported = index.api.get("/programs/export?format=jsonl&epc_window=90d&epc_currency=GBP&min_epc=1",
                             headers=index.auth)
    assert exported.status_code == 200 and exported.get_data(as_text=True).count("\n") == 1
    for path in ("/programs?epc_window=30d", "/programs/export?epc_window=30d"):
        refused = index.api.get(path, headers=index.auth)
        said = refused.get_data(as_text=True)
        assert refused.status_code == 400 and "epc_window must be one of '7d' or '90d'" in said, said


def test_a_search_counts_every_status_in_the_one_search_it_makes(index, monkeypatch):
    """A search asking no status lists the open programs and counts every status in its facet: it made a second,
    count-only search for that facet (a second request to OpenSearch, a second pass on SQLite). One search now
    answers both, with the same counts."""
    from affiliate_matrix.search import opensearch, sqlite

    index.batch(record("dira", "Open Shoes", "https://openshoes.com/"),
                record("dira", "Open Boots", "https://openboots.com/"),
                record("dira", "Shut Shoes", "https://shutshoes.com/", closed="Expired"))
    searches = []
    for adapter in (sqlite.SqliteSearchIndex, opensearch.OpenSearchIndex):
        def counted(self, name, query, search=adapter.search):
            searches.append(name)
            return search(self, name, query)

        monkeypatch.setattr(adapter, "search", counted)
    answer = index.get("/programs?q=shoes")
    assert searches.count("programs") == 1
    assert [item["name"] for item in answer["items"]] == ["Open Shoes"] and answer["total"] == 1
    assert answer["facets"]["status"] == [{"value": "active", "count": 1}, {"value": "closed_suspected", "count": 1}]
    assert index.get("/programs")["facets"]["status"] == [{"value": "active", "count": 2},
                                                          {"value": "closed_suspected", "count": 1}]
    assert index.get("/programs?status=closed_suspected")["facets"]["status"] == [
        {"value": "closed_suspected", "count": 1}]  # a status asked counts under it, as before


@pytest.mark.parametrize("query", ["category=hosting_domains&country=US", "country=DE&commission_type=flat&source=dirb",
                                   "flat_currency=USD&epc_currency=USD&category=vpn_security&country=US"])
def test_facets_counted_apart_are_those_of_a_search_without_each_filter(index, query):
    """The web explorer counts each facet without its own filter (what ticking one more value adds). It made one
    search per ticked filter for that; its filters of faceted fields are now post filters of one search (apart), with
    the same hits and the same counts, on both backends."""
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from affiliate_matrix.handlers.programs import FILTERS, search
    from affiliate_matrix.program_index import faceted

    for source in ("dira", "dirb"):
        index.batch(*[record(source, f"{source} {i}", f"https://{source}{i}.com/", categories=[category],
                             countries=countries, commission_text=commission,
                             extra={"epc_7d": "1.00", "epc_currency": epc})
                      for i, (category, countries, commission, epc) in enumerate([
                          ("Web Hosting", ["US"], "$50 per sale", "USD"), ("Web Hosting", ["US", "DE"], "20%", "EUR"),
                          ("VPN", ["DE"], "€40 per sale", "USD"), ("VPN", [], "$30 per sale", "GBP"),
                          ("VPN", ["US"], "$20 per sale", "USD")])])
    args = MultiDict(parse_qsl(query))
    apart = search(index.rt, args, apart=True)
    plain = search(index.rt, args)
    assert (apart["total"], apart["items"]) == (plain["total"], plain["items"])
    ticked = [name for name in FILTERS if name in args and faceted(name)]
    for name in ticked:
        without = MultiDict([(k, v) for k, v in args.items(multi=True) if k != name])
        assert apart["facets"][FILTERS[name]] == search(index.rt, without)["facets"][FILTERS[name]], name
    untouched = set(plain["facets"]) - {FILTERS[name] for name in ticked}
    assert {f: apart["facets"][f] for f in untouched} == {f: plain["facets"][f] for f in untouched}
    assert apart["facets"] != plain["facets"]  # some value a filter left out is counted


@pytest.mark.parametrize("name", ["Магазин Книг", "日本語ショップ", "Ελληνικά Δώρα"])
def test_a_merchant_keyed_by_a_name_in_another_script_is_shown(index, name):
    """A merchant with no domain is keyed by its name, in its own script when that is not Latin ("магазин-книг"):
    GET /merchants listed it, but GET /merchants/{key} took ASCII keys only, so its comparison was a 400 for good."""
    from urllib.parse import quote

    index.batch(record("dira", name, None, commission_text="10% per sale"))
    (merchant,) = index.get(f"/merchants?q={quote(name)}")["items"]
    view = index.get(f"/merchants/{quote(merchant['merchant_key'])}")
    assert (view["merchant"], [row["source"] for row in view["rows"]]) == (name, ["dira"])


@pytest.mark.parametrize("asked", ["مَكْتَبَة", "مكـتـبـة", "مكتبة"])
def test_a_merchant_key_asked_with_its_optional_marks_is_the_key_without_them(index, asked):
    """A key holds a word without its harakat (search.unwritten): GET /merchants/ of the key written with them (as a
    user types the name, or as programs v16 keyed it) was a 404 for a merchant the index holds."""
    from urllib.parse import quote

    index.batch(record("dira", "مَكْتَبَة", None, commission_text="10% per sale"))
    assert [p["merchant_key"] for p in index.programs()] == ["مكتبة"]
    assert index.get(f"/merchants/{quote(asked)}")["merchant_key"] == "مكتبة"


def test_a_cursor_past_a_long_name_in_another_script_is_taken_back(index):
    """A cursor holds the sort values of a page's last program: sort=name's is its name (up to 256 characters). Written
    as ASCII JSON, each CJK character took 6 bytes, so a next_cursor past a long Japanese name ran over the 2,000
    characters the cursor parameter takes, and passing it back, as the answer says to, was a 400."""
    index.batch(record("dira", "日" * 250, "https://hinode.com/", key="hi"),
                record("dira", "月" * 250, "https://tsuki.com/", key="tsuki"))
    first = index.get("/programs?sort=name&limit=1")
    rest = index.get(f"/programs?sort=name&limit=1&cursor={first['next_cursor']}")
    assert [p["name"][0] for p in first["items"] + rest["items"]] == ["日", "月"]


def test_a_commission_sort_over_many_flat_currencies_pages_on_by_its_own_cursor(index):
    """sort=commission ranks by each flat currency asked apart, a sort key each: with nine or more, the next_cursor held
    more sort values than a cursor was let hold (ten), so passing it back, as the answer says to, was a 400 and the
    second page could not be had. A cursor holds as many values as its query has sort keys."""
    index.batch(*(record("dira", f"Flat {i}", f"https://flat{i}.com/", commission_text=f"${10 + i} per sale")
                  for i in range(3)))
    asked = "sort=commission&limit=1&" + "&".join(
        f"flat_currency={c}" for c in ("AUD", "BRL", "CAD", "CHF", "CNY", "EUR", "GBP", "JPY", "USD"))
    seen, cursor = [], ""
    for _ in range(5):  # paged until next_cursor is null (a last full page may still give one)
        page = index.get(f"/programs?{asked}{cursor}")
        seen += [item["name"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == ["Flat 2", "Flat 1", "Flat 0"] and not page["next_cursor"]


@pytest.mark.parametrize("asked", ["CJ", "ＣＪ", "cj.com", "Commission Junction"])
def test_a_network_filter_finds_the_network_however_it_is_spelt(index, asked):
    """`network=CJ` or full-width `ｃｊ` found nothing, silently: the index names networks as taxonomy.network_name
    does (cj), and the filter was taken as typed. It is read the same way; a source the same (lower-case, NFKC)."""
    from urllib.parse import quote

    index.batch(record("dira", "Joined Shop", "https://joinedshop.com/", network="CJ Affiliate"),
                record("dira", "Other Shop", "https://othershop.com/", network="Awin"))
    assert names(index, f"network={quote(asked)}") == ["Joined Shop"]
    assert sorted(names(index, f"source={quote('ＤＩＲＡ')}")) == ["Joined Shop", "Other Shop"]
    refused = index.api.get("/programs?network=%21%21", headers=index.auth)
    assert refused.status_code == 400 and "network '!!' names no network" in refused.get_data(as_text=True)


@pytest.mark.parametrize("asked", ["ＣＡＦＥＬＵＭＩＥＲＥ", "Cafe\u0301lumie\u0300re", "CAFELUMIERE"])
def test_a_merchant_key_in_full_width_or_decomposed_form_is_the_key_resolution_built(index, asked):
    """GET /merchants/{key} compared the key as typed: full-width or decomposed (an accent as its own character) it
    was a 404 for a merchant the index holds. It is folded as resolution folds what it builds keys from."""
    from urllib.parse import quote

    index.batch(record("dira", "Café Lumière", None, commission_text="10% per sale"),
                record("dira", "Hosting Co", "https://hosting.com/", commission_text="5% per sale"))
    assert sorted(p["merchant_key"] for p in index.programs()) == ["cafelumiere", "hosting.com"]
    assert index.get(f"/merchants/{quote(asked)}")["merchant_key"] == "cafelumiere"
    assert index.get(f"/merchants/{quote('ＨＯＳＴＩＮＧ．ｃｏｍ')}")["merchant_key"] == "hosting.com"


def test_a_program_of_the_index_not_of_its_shape_is_left_out_of_a_search_and_named(index):
    """A program document of the index not of its shape (a hand edit, an older build's writing) was sent as it was: the
    search's answer is not checked as a whole (its model costs a cold start), so it broke the API's schema (a name that
    is a list), and GET /programs/{id} of a stored program not of a Program's shape was an uncaught AttributeError or
    ValidationError, a 500 with no JSON. Now the search leaves it out and names it (errors, X-Damaged-Items, as the
    other lists), cached with the answer, and the program's own address names it (damaged_data)."""
    from affiliate_matrix.deltas import DELTAS_INDEX
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = index.rt
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)
    good, listed, unread = (to_document(make_program(f"Shop {n}", f"https://shop{n}.com")) for n in ("one", "two", "3"))
    assert rt.index.bulk_upsert(PROGRAMS_INDEX.name, [good, {**listed, "name": ["<b>listed</b>"]},
                                                      {**unread, "program": {"name": 5}}], refresh=True).errors == []
    for _ in range(2):  # the second from the answers' cache: its notice kept with it
        answer = index.api.get("/programs?q=shop&sort=name", headers=index.auth)
        assert answer.status_code == 200 and answer.headers["X-Damaged-Items"] == "1"
        body = index.get("/programs?q=shop&sort=name")  # and of the schema the API documents
        assert [item["id"] for item in body["items"]] == [unread["id"], good["id"]]  # its summary is of its shape
        assert [bad["key"] for bad in body["errors"]] == [listed["id"]]
        assert "name" in body["errors"][0]["error"] and "listed" not in answer.get_data(as_text=True)
    assert "X-Damaged-Items" not in index.api.get("/programs?q=one", headers=index.auth).headers
    assert index.get(f"/programs/{good['id']}")["name"] == "Shop one"
    answer = index.api.get(f"/programs/{unread['id']}", headers=index.auth)
    assert answer.status_code == 500 and answer.json["error"]["code"] == "damaged_data", answer.get_data(as_text=True)
    assert answer.json["error"]["message"].startswith(f"program {unread['id']} is damaged (id: Field required)")



def test_the_merchants_answer_past_a_program_of_the_index_not_of_its_shape_and_name_it(index):
    """GET /merchants?q= read a hit's merchant_key as it was (a document without one: a KeyError, a 500 with no JSON)
    and GET /merchants/{key} each of its programs (one not of a Program's shape: an AttributeError or ValidationError,
    the same). Now each leaves it out and names it (errors, X-Damaged-Items), as the search does."""
    from affiliate_matrix.deltas import DELTAS_INDEX
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = index.rt
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)
    good, keyless = (to_document(make_program(f"Shop {n}", f"https://shop{n}.com", commission_text="5%"))
                     for n in ("one", "two"))
    beside = {**good, "id": "p_00000000000000aa", "program": {"name": 5}}  # one of Shop one's merchant too
    assert rt.index.bulk_upsert(PROGRAMS_INDEX.name, [
        good, beside, {key: value for key, value in keyless.items() if key != "merchant_key"}],
        refresh=True).errors == []
    for _ in range(2):  # the second from the answers' cache
        answer = index.api.get("/merchants?q=shop", headers=index.auth)
        assert answer.status_code == 200 and answer.headers["X-Damaged-Items"] == "1", answer.get_data(as_text=True)
        assert [m["merchant_key"] for m in answer.json["items"]] == ["shopone.com"]
        assert answer.json["items"][0]["programs"] == 2  # its summary is of its shape
        assert [bad["key"] for bad in answer.json["errors"]] == [keyless["id"]]  # once, however often it was read
    for _ in range(2):
        answer = index.api.get("/merchants/shopone.com", headers=index.auth)
        assert answer.status_code == 200 and answer.headers["X-Damaged-Items"] == "1", answer.get_data(as_text=True)
        assert {row["program_id"] for row in answer.json["rows"]} == {good["id"]}
        assert [bad["key"] for bad in answer.json["errors"]] == [beside["id"]]
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [{**good, "program": {"name": 5}}], refresh=True)
    answer = index.api.get("/merchants/shopone.com", headers=index.auth)  # none of its programs can be read
    assert answer.status_code == 500 and answer.json["error"]["code"] == "damaged_data", answer.get_data(as_text=True)
    assert "none of its 2 can be read" in answer.json["error"]["message"]


def test_a_network_named_with_letters_outside_ascii_keeps_them_in_the_index_its_filter_and_facet(index):
    """A network's name was its ASCII letters alone, when indexed and in `network=`: "Ćj" was j, one filter value and
    one facet entry with a network "J", and a name in another script ("バリューコマース") no network at all (its listing
    dropped, `network=` a 400). Every letter is kept, case folded, on both sides (taxonomy.network_name)."""
    from urllib.parse import quote

    index.batch(record("dira", "Accent Shop", "https://accentshop.com/", network="Ćj"),
                record("dira", "Plain Shop", "https://plainshop.com/", network="J"),
                record("dira", "Kana Shop", "https://kanashop.com/", network="バリューコマース"))
    assert [names(index, f"network={quote(asked)}") for asked in ("ćj", "ĆJ", "j", "バリューコマース")] == [
        ["Accent Shop"], ["Accent Shop"], ["Plain Shop"], ["Kana Shop"]]
    facet = {bucket["value"]: bucket["count"] for bucket in index.get("/programs")["facets"]["networks"]}
    assert facet == {"ćj": 1, "j": 1, "バリューコマース": 1}


def test_a_program_stored_with_a_networks_ascii_letters_alone_gets_its_whole_name_when_its_source_is_read_again(
        index, monkeypatch):
    """No migration can give back the letters a program stored before lost (the index's fields are made from the
    stored program, which kept none of them): it keeps "j" until its source is read again, which replaces the
    listing with "ćj", one program, as a reader of `network=` and the facet then sees it."""
    import affiliate_matrix.taxonomy as taxonomy

    def shop(at):
        return record("dira", "Accent Shop", "https://accentshop.com/", at=at, network="Ćj", network_program_id="7")

    with monkeypatch.context() as before:  # the name before: its ASCII letters and digits
        before.setattr(taxonomy, "network_name", lambda label: re.sub(r"[^a-z0-9]+", "", label.lower()) or None)
        index.batch(shop(T1))
    assert [[n["network"] for n in p["networks"]] for p in index.programs()] == [["j"]]
    assert (names(index, "network=j"), names(index, "network=%C4%87j")) == (["Accent Shop"], [])

    index.batch(shop(T1 + timedelta(days=1)))
    assert [[n["network"] for n in p["networks"]] for p in index.programs()] == [["ćj"]]
    assert (names(index, "network=j"), names(index, "network=%C4%87j")) == ([], ["Accent Shop"])


def test_the_pages_of_a_search_by_relevance_are_every_match_once_with_a_sync_between_them(index):
    """GET /programs?q= pages by relevance, whose scores a write between two pages moved (bm25's statistics): the
    programs ranked after the first page rose above its cursor and no page showed them. On OpenSearch the API's search
    is read in one view (SearchQuery.paged): a point in time on OpenSearch, the first page's ranking kept on the
    embedded index (README: `cursor`)."""
    index.batch(*[record("dira", " ".join(["Hotel"] + ["Stay"] * i), f"https://hotel{i}.com/") for i in range(6)],
                *[record("dira", f"Plain {i}", f"https://plain{i}.com/") for i in range(20)])
    first = index.get("/programs?q=hotel&limit=2")
    index.batch(*[record("dirb", f"Other Words {i} " + "Long Name " * 10, f"https://other{i}.com/") for i in range(50)])
    seen, cursor = [item["name"] for item in first["items"]], first["next_cursor"]
    while cursor:
        page = index.get(f"/programs?q=hotel&limit=2&cursor={cursor}")
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(" ".join(["Hotel"] + ["Stay"] * i) for i in range(6)) and len(seen) == 6


def test_a_relevance_cursor_whose_view_is_gone_pages_on_in_the_live_index(index):
    """A cursor read once its view is gone (OpenSearch's point in time past its keep-alive, the embedded index's
    ranking dropped by newer ones: both forgotten here, no clock waited on) is answered as before there were views,
    the page after its place in the live index, in the documented shape: never an error."""
    import base64

    index.batch(*[record("dira", " ".join(["Hotel"] + ["Stay"] * i), f"https://hotel{i}.com/") for i in range(6)])
    first = index.get("/programs?q=hotel&limit=2")
    cursor = first["next_cursor"]
    point = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["p"]
    if getattr(index.rt.index, "client", None):
        index.rt.index.client.delete_pit(body={"pit_id": [point]})
    else:
        assert index.rt.index.db.execute("DELETE FROM amx_view WHERE view = ?", (point,)).rowcount == 1
    seen = [item["name"] for item in first["items"]]
    while cursor:
        page = index.get(f"/programs?q=hotel&limit=2&cursor={cursor}")
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(" ".join(["Hotel"] + ["Stay"] * i) for i in range(6))  # no write since: each once


def started(index: Index) -> None:
    """Programs a word's start finds (Hostinger, HostFast, NordVPN), one named by the word and one holding it whole."""
    index.batch(record("dira", "Hostinger", "https://hostinger.com/"), record("dira", "HostFast", "https://hostfast.net/"),
                record("dira", "Web Host Pro", "https://webhostpro.com/"), record("dira", "Host", "https://host.io/"),
                record("dira", "NordVPN", "https://nordvpn.com/"), record("dira", "Shopify", "https://shopify.com/"))


def test_the_programs_search_finds_a_name_by_its_start_below_the_whole_word(index):
    """q=host found 0 programs where /merchants?q=host found Hostinger: the programs search matched whole words only.
    The last word matches the start of words too (SearchQuery.prefix); a program named by the word ranks first, one
    holding it whole next, those it begins after them; an export of the search lists what it shows."""
    started(index)
    found = names(index, "q=host")
    assert found[:2] == ["Host", "Web Host Pro"] and sorted(found[2:]) == ["HostFast", "Hostinger"], found
    assert names(index, "q=nord") == ["NordVPN"] and names(index, "q=NORD") == ["NordVPN"]
    assert names(index, "q=web ho") == ["Web Host Pro"]  # the last word only: "web" is whole
    first = index.get("/programs?q=host&limit=2")  # the page's cursor pages on through the starts
    rest = index.get(f"/programs?q=host&limit=10&cursor={first['next_cursor']}")
    assert [i["name"] for i in first["items"] + rest["items"]] == found
    exported = index.api.get("/programs/export?q=host&format=jsonl", headers=index.auth)
    assert exported.status_code == 200, exported.get_data(as_text=True)
    assert sorted(json.loads(line)["name"] for line in exported.get_data(as_text=True).splitlines()) == sorted(found)


def test_the_api_document_says_the_last_word_matches_the_start_of_a_word(index):
    """/openapi.json's q said "every word must match; one or two typos allowed by word length" and nothing of the last
    word matching the start of words (q=host finding Hostinger): a client read from it that q matched whole words. It
    says so, for the programs' search and the merchants' alike (both take Words)."""
    document = index.api.get("/openapi.json").get_json()
    for path in ("/programs", "/programs/export", "/merchants"):
        [q] = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "q"]
        assert "the last word (of 2 letters or more) also matches the start of a word: host finds Hostinger" in \
            q["description"], (path, q["description"])


def test_a_one_letter_word_is_not_a_start_and_query_syntax_is_still_refused(index):
    """PREFIX_MIN: a one-letter start would match a good share of every word there is; `host*` is syntax, refused."""
    started(index)
    assert names(index, "q=h") == []
    refused = index.api.get("/programs?q=host*", headers=index.auth)
    assert refused.status_code == 400 and "query syntax ('*')" in refused.get_data(as_text=True)


def test_a_copy_of_an_answer_made_before_the_search_found_starts_is_not_current(index):
    """A client's copy of /programs?q=host from before (0 programs) carried the ETag the same index's generation gives
    now, and If-None-Match with it was a 304: the copy kept while the index was unchanged. The ETag names the
    answers' form (ANSWERS_FORM)."""
    import hashlib

    started(index)
    generation = index.rt.index.generation(PROGRAMS_INDEX.name)
    before = '"' + hashlib.sha256(f"{generation}|/programs|{[('q', 'host')]}|".encode()).hexdigest()[:32] + '"'
    answer = index.api.get("/programs?q=host", headers={**index.auth, "If-None-Match": before})
    assert answer.status_code == 200 and answer.get_json()["total"] == 4
    again = index.api.get("/programs?q=host", headers={**index.auth, "If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_the_explorer_and_amx_search_find_a_name_by_its_start_as_the_api_does(index, monkeypatch):
    """The explorer's programs page and `amx search host` found no program, as the API did (a search of whole words)."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from tests.support.apps import signed_in_web

    started(index)
    web = signed_in_web(index.rt.secrets)
    for q, first, rest in (("host", "Host", ["HostFast", "Hostinger", "Web Host Pro"]), ("nord", "NordVPN", [])):
        page = web.get(f"/programs?q={q}").text
        shown = re.findall(r'<a href="/programs/p_[0-9a-f]+">([^<]+)</a>', page)
        assert shown[:1] == [first] and sorted(shown[1:]) == rest, shown
    assert re.findall(r'<a href="/programs/p_[0-9a-f]+">([^<]+)</a>', web.get("/programs?q=h").text) == []
    assert "query syntax" in web.get("/programs?q=host*").text

    monkeypatch.setenv("COLUMNS", "400")  # a row a line
    for q, first, rest in (("host", "Host", {"HostFast", "Hostinger", "Web Host Pro"}), ("nord", "NordVPN", set())):
        searched = CliRunner().invoke(app, ["search", q])
        assert searched.exit_code == 0, (searched.output, searched.exception)
        rows = [line.split("│")[2].strip() for line in searched.stdout.splitlines() if "│ p_" in line]
        assert rows[:1] == [first] and set(rows[1:]) == rest, searched.stdout


def test_programs_are_found_by_how_fast_they_pay_on_average_and_whether_deep_links_are_allowed(index):
    """What a network says of paying (Awin's averagePaymentTime) and deep links (Impact's AllowsDeeplinking, Awin's
    deeplinkEnabled) was shown on a program's page but could not be asked for. max_payment_days=N lists the programs
    paid within N days on average (one with no figure is not known to be: not listed), deeplinks=allowed or
    not_allowed those their networks say it of, counted in the deeplinks facet; the export lists the same."""
    paying = {"Quick Pay": ("20", "true"), "Month Pay": ("30", "false"), "Slow Pay": ("44.5", None),
              "Unsaid Pay": (None, "true"), "Silent": (None, None)}
    index.batch(*[record("dira", name, f"https://{name.replace(' ', '').lower()}.com/", extra={
        key: value for key, value in (("average_payment_days", days), ("deeplinks_allowed", allowed)) if value})
        for name, (days, allowed) in paying.items()])
    assert sorted(names(index, "max_payment_days=30")) == ["Month Pay", "Quick Pay"]
    assert names(index, "max_payment_days=19.5") == []
    assert sorted(names(index, "max_payment_days=44.5")) == ["Month Pay", "Quick Pay", "Slow Pay"]
    assert sorted(names(index, "deeplinks=allowed")) == ["Quick Pay", "Unsaid Pay"]
    assert names(index, "deeplinks=not_allowed") == ["Month Pay"]
    assert sorted(names(index, "deeplinks=allowed&deeplinks=not_allowed")) == ["Month Pay", "Quick Pay", "Unsaid Pay"]
    assert names(index, "deeplinks=allowed&max_payment_days=30") == ["Quick Pay"]
    answer = index.get("/programs?sort=name")
    assert answer["facets"]["deeplinks"] == [{"value": "allowed", "count": 2}, {"value": "not_allowed", "count": 1}]
    said = {item["name"]: (item["average_payment_days"], item["deeplinks"]) for item in answer["items"]}
    assert said == {"Month Pay": (30, "not_allowed"), "Quick Pay": (20, "allowed"), "Silent": (None, None),
                    "Slow Pay": (44.5, None), "Unsaid Pay": (None, "allowed")}
    exported = index.api.get("/programs/export?format=jsonl&max_payment_days=30&deeplinks=allowed", headers=index.auth)
    assert exported.status_code == 200
    assert [json.loads(line)["name"] for line in exported.get_data(as_text=True).splitlines()] == ["Quick Pay"]
    for query, named in [("max_payment_days=-1", "max_payment_days"), ("max_payment_days=soon", "max_payment_days"),
                         ("max_payment_days=", "max_payment_days"), ("deeplinks=maybe", "deeplinks"),
                         ("deeplinks=", "deeplinks"), ("deeplinks=true", "deeplinks")]:
        for path in ("/programs", "/programs/export"):
            refused = index.api.get(f"{path}?{query}", headers=index.auth)
            assert refused.status_code == 400 and named in refused.get_data(as_text=True), (path, query)
