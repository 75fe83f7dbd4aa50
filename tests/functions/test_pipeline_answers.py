"""The index's answers against its sources: batches of raw records stored on the real (local) store, indexed by the
index function on a raw.batch.stored event, and read back through the programs API, as a user comparing the index
with the sources would read them (what merged, which source each field is credited to, what the change feed says)."""

from datetime import timedelta

import pytest

from tests.support.indexing import T1, T2, Index, record


@pytest.fixture
def index(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    return Index(tmp_path)


@pytest.mark.parametrize("urls", [
    ("https://bit.ly/3xAcme", "https://bit.ly/9zZed"),  # short links: where they lead is not known here
    ("https://www.etsy.com/shop/AcmeShoes", "https://www.etsy.com/shop/ZedTools"),  # a marketplace's shops
    ("https://www.amazon.com/stores/Acme/page/1", "https://amazon.com/stores/Zed/page/2"),
    ("https://acme.sjv.io/c/1/2/3", "https://zed.sjv.io/c/4/5/6"),  # a network's tracking host
    ("https://acme.myshopify.com/", "https://zed.myshopify.com/"),  # a shop builder's subdomains
    ("https://ui.awin.com/merchant-profile/1001", "https://ui.awin.com/merchant-profile/1002"),  # a network's pages
], ids=["short-links", "marketplace", "amazon-stores", "tracking-host", "shop-subdomains", "network-profiles"])
def test_two_merchants_on_one_shared_host_are_two_programs(index, urls):
    """Every merchant whose URL was on a host many merchants share (a link shortener, a marketplace, a network's
    tracking host, a shop builder) was keyed by that host's registrable domain: bit.ly, etsy.com, sjv.io. So 'Acme
    Shoes' and 'Zed Tools' became one program named after one of them, the other an alias, with one's commission
    shown for both. Such a host names no merchant: its subdomain does (acme.myshopify.com), or else the name."""
    index.batch(record("dira", "Acme Shoes", urls[0], commission_text="10% per sale"))
    index.batch(record("dirb", "Zed Tools", urls[1], commission_text="$40 per sale"))
    programs = {p["name"]: p for p in index.programs()}
    assert sorted(programs) == ["Acme Shoes", "Zed Tools"]
    assert programs["Acme Shoes"]["aliases"] == [] and programs["Zed Tools"]["aliases"] == []
    assert programs["Acme Shoes"]["commission"][0]["type"] == "percent"
    assert programs["Zed Tools"]["commission"][0]["type"] == "flat"


def test_a_shared_hosts_own_front_page_is_its_own_program(index):
    """The shared host's own front page is its own site: Etsy's affiliate program is keyed by etsy.com from both
    directories, and a shop on Etsy is not Etsy."""
    index.batch(record("dira", "Etsy Affiliate Program", "https://www.etsy.com/"),
                record("dira", "Acme Shoes", "https://www.etsy.com/shop/AcmeShoes"))
    index.batch(record("dirb", "Etsy", "https://etsy.com/?ref=aff"))
    programs = {p["merchant_domain"]: p for p in index.programs()}
    assert len(programs) == 2 and programs[None]["name"] == "Acme Shoes"
    assert {c["source"] for c in programs["etsy.com"]["provenance"]["name"]} == {"dira", "dirb"}


@pytest.mark.parametrize("first, second", [
    ((None, "dira"), ("https://www.acmeshoes.com/", "dirb")),  # a listing with no URL, then the merchant's site
    (("https://bit.ly/3xAcme", "dira"), ("https://acmeshoes.com/", "dirb")),  # a short link, then the site
], ids=["no-url-first", "short-link-first"])
def test_one_merchant_listed_in_two_batches_is_one_program_whatever_came_first(index, first, second):
    """A batch's listings keyed by a domain were not looked up in the index ('domain keys are stable by
    themselves'), so a merchant indexed first from a listing with no URL (or only a short link) and then from its
    own domain's listing was two programs, where the two in one batch were one."""
    index.batch(record(first[1], "Acme Shoes", first[0], commission_text="10% per sale"))
    index.batch(record(second[1], "Acme Shoes", second[0], commission_text="10% per sale"))
    (program,) = index.programs()
    assert {c["source"] for c in program["provenance"]["name"]} == {"dira", "dirb"}


def test_one_name_under_two_tlds_is_two_programs_unless_a_network_program_ties_the_sites(index):
    """acme.com (shoes, 10%) and acme.io (software, $40) were one program on their one name, showing one's commission
    for both. Two sites are one program where a network lists them as one program (its id), and a program so merged
    keeps taking its other site's listings, from any source."""
    index.batch(record("dira", "Acme", "https://acme.com/", commission_text="10% per sale"))
    index.batch(record("dirb", "Acme", "https://acme.io/", commission_text="$40 per sale"))
    programs = {p["merchant_domain"]: p for p in index.programs()}
    assert sorted(programs) == ["acme.com", "acme.io"]
    assert programs["acme.io"]["commission"][0]["type"] == "flat"
    index.batch(record("netx", "Acme", "https://acme.com/", network="awin", network_program_id="7"))
    index.batch(record("nety", "Acme", "https://acme.de/", network="awin", network_program_id="7"))
    # (the domain more sources claim shown: acme.de is only among the program's domains)
    assert sorted(p["merchant_domain"] for p in index.programs()) == ["acme.com", "acme.io"]
    index.batch(record("dirc", "Acme", "https://www.acme.de/"))
    programs = {p["merchant_key"]: p for p in index.programs()}
    assert sorted(programs) == ["acme.com", "acme.io"]
    assert {c["source"] for c in programs["acme.com"]["provenance"]["name"]} == {"dira", "netx", "nety", "dirc"}
    assert programs["acme.com"]["domains"] == ["acme.com", "acme.de"]


def test_a_change_is_credited_to_the_source_whose_listing_made_it(index):
    """A delta named the source that won the merged program's name, not the one whose batch made the change: zeta's
    raised commission was credited to alpha (first by name among equal claims), which never said it."""
    index.batch(record("alpha", "Acme", "https://acme.com/", commission_text="10% per sale"))
    index.batch(record("zeta", "Acme", "https://acme.com/", commission_text="10% per sale"))
    index.batch(record("zeta", "Acme", "https://acme.com/", at=T2, commission_text="10% per sale",
                       cookie_text="45 days"))
    change = index.changes()[0]
    assert [f["field"] for f in change["fields"]] == ["cookie_days"] and change["source"] == "zeta"


def test_a_list_field_shows_what_its_sources_say_now(index):
    """A list field (countries, categories, networks, domains) was the union of every value it ever held, while its
    provenance kept each source's latest claim: a source that moved a program from the US to Canada left it in
    both, the US credited to no one, and replaying the older batch afterwards kept it there too."""
    first = index.batch(record("dira", "Acme", "https://acme.com/", countries=["US"], categories=["software"]))
    index.batch(record("dirb", "Acme", "https://acme.com/", countries=["GB"]))
    index.batch(record("dira", "Acme", "https://acme.com/", at=T2, countries=["Canada"], categories=["software"]))
    (program,) = index.programs()
    assert program["countries"] == ["CA", "GB"]
    assert [(c["source"], c["value"]) for c in program["provenance"]["countries"]] == [("dira", ["CA"]),
                                                                                      ("dirb", ["GB"])]
    assert index.changes()[0]["fields"] == [{"field": "countries", "old": ["GB", "US"], "new": ["CA", "GB"]}]
    feed = len(index.changes())
    index.again(first)
    assert index.programs() == [program] and len(index.changes()) == feed  # the older sighting changes nothing


def test_a_field_a_source_no_longer_states_is_withdrawn(index):
    """A source's page seen again without a field it stated before kept its old claim: the cookie duration only
    dira had stated stayed on the program, credited to dira's page of a day before, after dira's page no longer
    gave one, and so did its category. The later sighting withdraws the claim: a value no source states is gone
    (a change in the feed), and one another source states stays, credited to it alone."""
    index.batch(record("dira", "Acme", "https://acme.com/", cookie_text="30 days", categories=["software"],
                       commission_text="10% per sale"))
    index.batch(record("dirb", "Acme", "https://acme.com/", commission_text="10% per sale"))
    index.batch(record("dira", "Acme", "https://acme.com/", at=T2))
    (program,) = index.programs()
    assert program["cookie_days"] is None and program["categories"] == []
    assert "cookie_days" not in program["provenance"] and "categories" not in program["provenance"]
    assert [c["source"] for c in program["provenance"]["commission"]] == ["dirb"]
    assert program["commission"][0]["value_min"] == "10"
    change = index.changes()[0]
    assert {f["field"]: (f["old"], f["new"]) for f in change["fields"]} == {"categories": (["software"], []),
                                                                            "cookie_days": (30, None)}
    assert change["source"] == "dira"


def test_a_network_figure_names_its_report_and_an_older_report_replayed_changes_nothing(index):
    """Network figures (EPC, gravity, conversion and approval rates, validation days) had no provenance, so the
    program's EPC named no source or raw page, and 'the newest report stands' meant the last batch indexed: an
    older sync's batch indexed again (a replay, a redelivery) put its older EPC back, a change in the feed that
    no source made, credited to the source the name came from."""
    older = index.batch(record("awin", "Acme", "https://acme.com/", extra={"epc_7d": "1.50", "epc_currency": "USD"}))
    index.batch(record("awin", "Acme", "https://acme.com/", at=T2, extra={"epc_7d": "2.50", "epc_currency": "USD"}))
    (program,) = index.programs()
    assert program["epc_7d"] == {"amount": "2.5", "currency": "USD"}
    (claim,) = program["provenance"]["epc_7d"]
    assert (claim["source"], claim["raw_key"], claim["value"]) == ("awin", "raw/awin/acme/20261122.html",
                                                                   {"amount": "2.5", "currency": "USD"})
    feed = index.changes()
    index.again(older)
    assert index.programs() == [program] and index.changes() == feed


@pytest.mark.parametrize("spelling", ["Acme\u200b Shoes", "\u200eAcme Shoes\u200f", "\ufeffAcme Shoes",
                                      "Ac\u00adme Shoes", "Ａｃｍｅ Ｓｈｏｅｓ"],
                         ids=["zero-width-space", "direction-marks", "byte-order-mark", "soft-hyphen", "full-width"])
def test_one_name_spelt_with_invisible_or_full_width_characters_is_one_name(index, spelling):
    """A name carrying an invisible character (a zero-width space, a left-to-right mark, a byte order mark, a soft
    hyphen) or written in full-width letters was another name: with two sources' spellings of one program, the
    invisible or full-width one could win the vote (it did, sorting after the plain one), the plain one shown as
    its alias, and a full-width commission ('１０％') read as no commission at all."""
    index.batch(record("dira", "Acme Shoes", "https://acmeshoes.com/", commission_text="10% per sale"))
    index.batch(record("dirb", spelling, "https://acmeshoes.com/",
                       commission_text="１０％ per sale" if "Ｓ" in spelling else "10% per sale"))
    (program,) = index.programs()
    assert (program["name"], program["aliases"]) == ("Acme Shoes", [])
    assert {c["value"] for c in program["provenance"]["name"]} == {"Acme Shoes"}
    assert [(c["source"], c["value"][0]["value_min"]) for c in program["provenance"]["commission"]] == [
        ("dira", "10"), ("dirb", "10")]


def test_a_name_written_with_a_ligature_is_one_program_with_the_name_spelt_out_shown_as_written(index):
    """'Proﬁt Hub' (with the ligature U+FB01) and 'Profit Hub' were two programs: the ligature was dropped from the
    merchant's key ('prothub'), while a search for 'profit' found both. They are one program now, each spelling shown
    as a source wrote it (the name and its alias), and found by 'profit'."""
    index.batch(record("dira", "Proﬁt Hub", commission_text="10% per sale"))
    index.batch(record("dirb", "Profit Hub", commission_text="10% per sale"))
    (program,) = index.programs()
    assert {program["name"], *program["aliases"]} == {"Proﬁt Hub", "Profit Hub"}
    assert [item["id"] for item in index.get("/programs?q=profit")["items"]] == [program["id"]]


@pytest.mark.parametrize("spelling", ["Ⓐⓒⓜⓔ Shoes", "Acme² Shoes", "ＡＣＭＥ Shoes"],
                         ids=["circled", "superscript", "full-width"])
def test_a_name_written_in_compatibility_letters_is_one_program_with_the_plain_name(index, spelling):
    """Listings with no site are keyed by their names: circled 'Ⓐⓒⓜⓔ Shoes' was keyed 'shoes' and 'Acme² Shoes'
    'acme-shoes' beside 'Acme2 Shoes', another program than the plain name. Names are folded by NFKC and case."""
    plain = "Acme2 Shoes" if "²" in spelling else "Acme Shoes"
    index.batch(record("dira", plain, commission_text="10% per sale"))
    index.batch(record("dirb", spelling, commission_text="10% per sale"))
    (program,) = index.programs()
    assert {c["source"] for c in program["provenance"]["name"]} == {"dira", "dirb"}


def test_restrictions_follow_their_sources_and_their_changes_are_in_the_feed(index):
    """A program's traffic restrictions were the first record's for good: merge never read them, so a second
    source's ('no PPC brand bidding') was lost, a source adding one changed nothing and no change was in the feed
    (restrictions is a field the feed tracks), and they named no source."""
    index.batch(record("dira", "Acme", "https://acme.com/", description="Earn 10% per sale. No coupon sites."))
    index.batch(record("dirb", "Acme", "https://acme.com/", description="Earn 10% per sale. No PPC brand bidding."))
    index.batch(record("dira", "Acme", "https://acme.com/", at=T2,
                       description="Earn 10% per sale. No coupon sites. No incentivized traffic."))
    (program,) = index.programs()
    assert program["restrictions"] == ["coupon_sites", "incentivized", "ppc_brand_bidding"]
    assert [(c["source"], c["value"], c["evidence"]) for c in program["provenance"]["restrictions"]] == [
        ("dira", ["coupon_sites", "incentivized"], ["No coupon sites.", "No incentivized traffic."]),
        ("dirb", ["ppc_brand_bidding"], ["No PPC brand bidding."])]
    updates = {c["source"]: c["fields"] for c in index.changes() if c["change"] == "updated"}
    assert updates == {
        "dira": [{"field": "restrictions", "old": ["coupon_sites", "ppc_brand_bidding"],
                  "new": ["coupon_sites", "incentivized", "ppc_brand_bidding"]}],
        "dirb": [{"field": "restrictions", "old": ["coupon_sites"], "new": ["coupon_sites", "ppc_brand_bidding"]},
                 {"field": "records", "old": [{"source": "dira", "record_key": "acme"}],  # a second source lists it
                  "new": [{"source": "dira", "record_key": "acme"}, {"source": "dirb", "record_key": "acme"}]}]}


def test_a_merchants_rows_show_each_sources_own_network_figures(index):
    """One merchant's rows side by side (GET /merchants/{key}) each showed the program's EPC and approval rate,
    whoever reported them: a directory that states neither showed Awin's 7-day EPC and approval rate as its own."""
    index.batch(record("awin", "Acme", "https://acme.com/", commission_text="10% per sale",
                       extra={"epc_7d": "0.47", "epc_currency": "GBP", "approval_rate": "0.7019"}))
    index.batch(record("dira", "Acme", "https://acme.com/", commission_text="12% per sale"))
    rows = {row["source"]: row for row in index.get("/merchants/acme.com")["rows"]}
    assert (rows["awin"]["epc_7d"], rows["awin"]["approval_rate"]) == ({"amount": "0.47", "currency": "GBP"}, 0.7019)
    assert (rows["dira"]["epc_7d"], rows["dira"]["approval_rate"]) == (None, None)


def test_a_merchants_rows_show_each_networks_three_month_epc_in_its_currency(index):
    """A merchant's rows (GET /merchants/{key}) showed the 7-day EPC only: an Awin row, whose network reports only
    the 3-month EPC, showed none, and CJ's 3-month figure was not shown either. Each row shows its own source's
    epc_90d, an amount with its currency, and none of another's."""
    index.batch(record("awin", "Acme", "https://acme.com/", commission_text="10% per sale",
                       extra={"epc_90d": "0.47", "epc_currency": "GBP"}))
    index.batch(record("cj", "Acme", "https://acme.com/", commission_text="12% per sale",
                       extra={"epc_7d": "0.45", "epc_90d": "0.38", "epc_currency": "USD"}))
    index.batch(record("dira", "Acme", "https://acme.com/", commission_text="11% per sale"))
    rows = {row["source"]: row for row in index.get("/merchants/acme.com")["rows"]}
    assert (rows["awin"]["epc_7d"], rows["awin"]["epc_90d"]) == (None, {"amount": "0.47", "currency": "GBP"})
    assert (rows["cj"]["epc_7d"], rows["cj"]["epc_90d"]) == ({"amount": "0.45", "currency": "USD"},
                                                             {"amount": "0.38", "currency": "USD"})
    assert (rows["dira"]["epc_7d"], rows["dira"]["epc_90d"]) == (None, None)


def test_a_merchant_has_a_row_per_connection_two_accounts_of_one_network_two_rows(index):
    """GET /merchants/{key} had a row per source: two Awin accounts listing Acme on other terms were one row, the
    terms of whichever claim came last, the other account's lost."""
    index.batch(record("awin", "Acme", "https://acme.com/", commission_text="10% per sale"))
    index.batch(record("awin", "Acme", "https://acme.com/", connection="awin-agency", commission_text="12% per sale"))
    rows = index.get("/merchants/acme.com")["rows"]
    assert sorted((row["source"], row["connection_id"], row["commission_text"]) for row in rows) == [
        ("awin", "awin", "10% per sale"), ("awin", "awin-agency", "12% per sale")]


def test_a_merchant_is_named_as_its_sources_name_it_now(index):
    """A program's merchant kept the name of the first listing ever indexed, whatever its sources said since: a forum
    thread's 'Acme Affiliate Program - 30% Lifetime' stayed the merchant shown by GET /merchants and the merchant
    view after three sources named it 'Acme' (the program's own name), a name no source gave any more."""
    index.batch(record("forum", "Acme Affiliate Program - 30% Lifetime", "https://acme.com/"))
    for source in ("awin", "cj"):
        index.batch(record(source, "Acme", "https://acme.com/", at=T2))
    index.batch(record("forum", "Acme", "https://acme.com/", at=T2))
    (program,) = index.programs()
    assert (program["name"], program["merchant"]) == ("Acme", "Acme")
    assert [m["merchant"] for m in index.get("/merchants?q=acme")["items"]] == ["Acme"]
    assert index.get("/merchants/acme.com")["merchant"] == "Acme"


def test_one_figure_written_two_ways_is_one_value(index):
    """A figure was kept as written: '10.0%' and '10%', '$18.50' and '$18.5' were two values, so two sources
    stating the same terms disagreed in the vote (and in the merchant view's conflicts), and a source rewriting
    '$18.50' as '$18.5' made a commission change in the feed, 18.50 to 18.5, that changed nothing."""
    index.batch(record("dira", "Acme", "https://acme.com/", commission_text="10.0% per sale, $18.50 per lead",
                       cookie_text="30 days"))
    index.batch(record("dirb", "Acme", "https://acme.com/", commission_text="10% per sale, $18.5 per lead",
                       cookie_text="30 days"))
    assert index.get("/merchants/acme.com")["conflicts"] == {}
    index.batch(record("dira", "Acme", "https://acme.com/", at=T2, commission_text="10% per sale, $18.5 per lead",
                       cookie_text="30 days"))
    (program,) = index.programs()
    assert [(t["type"], t["value_min"]) for t in program["commission"]] == [("percent", "10"), ("flat", "18.5")]
    assert [f["field"] for f in index.changes()[0]["fields"]] == ["commission_text"]


@pytest.mark.parametrize("accented, plain", [("Hôtel Café", "Hotel Cafe"), ("Crème Brûlée Shop", "Creme Brulee Shop"),
                                             ("Ñandú Viajes", "Nandu Viajes"), ("Søstrene Grøn", "Sostrene Gron")])
def test_a_name_with_its_accents_and_without_is_one_merchant(index, accented, plain):
    """Names were compared by their ASCII letters, so an accented letter was dropped, not read as its letter:
    'Hôtel Café' was 'htelcaf' against another source's 'Hotel Cafe', 'hotelcafe', too far apart, and the one
    merchant two programs (in one batch or two)."""
    index.batch(record("dira", accented, commission_text="10% per sale"))
    index.batch(record("dirb", plain, commission_text="10% per sale"))
    (program,) = index.programs()
    assert {c["source"] for c in program["provenance"]["name"]} == {"dira", "dirb"}


def test_a_source_whose_pages_moved_is_read_at_its_new_address_alone(index):
    """A source's claims were current by page address, so a source read at another address (its site moved to
    https or a new host, an API's listing on another page number, a recorded site on another port: the demo's
    second run) kept its older claims beside its newer ones: two claims from one source, and a country it no
    longer listed still in the program."""
    index.batch(record("dira", "Acme", "https://acme.com/", page="http://dira.example.org/p/acme", countries=["US"]))
    index.batch(record("dira", "Acme", "https://acme.com/", at=T2, page="https://www.dira.example.org/programs/acme",
                       countries=["CA"]))
    (program,) = index.programs()
    assert program["countries"] == ["CA"]
    assert [(c["source"], c["url"]) for c in program["provenance"]["countries"]] == [
        ("dira", "https://www.dira.example.org/programs/acme")]


def test_a_network_is_one_network_however_a_source_spells_it(index):
    """A network a source named was its letters: 'Impact.com' was the network 'impactcom', 'ShareASale.com'
    'shareasalecom', 'Rakuten Marketing' 'rakutenmarketing', 'In house' 'inhouse', so GET /programs?network=impact
    missed a program a directory listed on 'Impact.com', and the networks facet counted one network twice."""
    for source, network in (("dira", "Impact.com"), ("dirb", "Rakuten Marketing"), ("dirc", "ShareASale.com"),
                            ("dird", "Awin (formerly Affiliate Window)"), ("dire", "In house")):
        index.batch(record(source, "Acme", "https://acme.com/", network=network))
    (program,) = index.programs()
    assert sorted(n["network"] for n in program["networks"]) == ["awin", "direct", "impact", "rakuten", "shareasale"]
    assert index.get("/programs?network=impact")["total"] == 1
    facet = index.get("/programs")["facets"]["networks"]
    assert sorted(f["value"] for f in facet) == ["awin", "direct", "impact", "rakuten", "shareasale"]


def test_an_imported_program_whose_name_is_older_than_its_other_claims_is_merged(index, tmp_path):
    """A program imported (amx import programs) with a source's name claim older than its other claims made its
    name look withdrawn by that source's later sighting, and merge cleared it when no other source named it: a
    required field left unset, so indexing the source's listing again (a replay) failed on it (recorded as an error,
    the listing never indexed)."""
    import json

    from affiliate_matrix.exchange import import_programs
    from affiliate_matrix.normalize import normalize

    program = normalize(record("dira", "Acme", "https://acme.com/", cookie_text="30 days"))
    program.provenance["cookie_days"] = [c.model_copy(update={"fetched_at": T1 + timedelta(hours=1)})
                                         for c in program.provenance["cookie_days"]]
    path = tmp_path / "programs.jsonl"
    path.write_text(json.dumps(program.model_dump(mode="json")) + "\n")
    assert import_programs(index.rt, path, "jsonl").written == 1
    index.batch(record("dira", "Acme", "https://acme.com/", cookie_text="30 days", description="Shoes."))
    assert not list(index.rt.store.list("errors/index/"))
    (program,) = index.programs()
    assert (program["name"], program["cookie_days"]) == ("Acme", 30)


def test_a_category_or_country_label_spelt_with_other_spacing_or_dots_is_read(index):
    """Labels were looked up as written: 'Web  Hosting' (two spaces) and 'Health and Fitness' (for the known
    'health & fitness') were the category 'other' beside the one another source's 'Web Hosting' gave, and 'U.S.'
    and 'U.K.' no country at all, where 'US' and 'UK' were."""
    index.batch(record("dira", "Acme", "https://acme.com/", categories=["Web Hosting", "Health & Fitness"],
                       countries=["US", "UK"]))
    index.batch(record("dirb", "Acme", "https://acme.com/", categories=["Web  Hosting", "Health and Fitness"],
                       countries=["U.S.", "U.K."]))
    (program,) = index.programs()
    assert program["categories"] == ["health_wellness", "hosting_domains"]
    assert [(c["source"], c["value"]) for c in program["provenance"]["countries"]] == [("dira", ["GB", "US"]),
                                                                                      ("dirb", ["GB", "US"])]
