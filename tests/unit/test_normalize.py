from datetime import UTC
from decimal import Decimal

import pytest
from pydantic import ValidationError

from affiliate_matrix.connections import Connection
from affiliate_matrix.models import CommissionTerm, Program, RawRecord
from affiliate_matrix.normalize import program_id, registrable_domain
from tests.support.factories import NOW, make_program, make_record


@pytest.mark.parametrize("host,expected", [
    ("www.shop.example.co.uk", "example.co.uk"), ("semrush.com", "semrush.com"), ("a.b.c.github.io", "github.io"),
    ("localhost", None),
])
def test_registrable_domain_uses_the_bundled_suffix_list(host, expected):
    assert registrable_domain(host) == expected


def test_ids_are_stable_and_keyed_by_merchant():
    a = make_program("Shop", "https://www.shop.com/")
    b = make_program("Shop Inc", "https://shop.com/affiliates")
    assert a.id == b.id == program_id("shop.com", "program")
    assert make_program("No Domain").merchant_key == "no-domain"


def test_network_from_join_link_and_direct_programs():
    impact = make_program("A", "https://a.com", join_url="https://a.sjv.io/c/1/2/3")
    direct = make_program("B", "https://b.com", join_url="https://b.com/partners/signup")
    assert [n.network for n in impact.networks] == ["impact"]
    assert [n.network for n in direct.networks] == ["direct"]


def test_a_network_label_is_read_no_further_than_its_bound(monkeypatch):
    """A page's network cell has no bound: its remark, '(formerly …)', was looked for from each bracket to the first
    closing one, so a cell of 40,000 brackets took 7 s to read, at each index run. Counted, not timed: the text the
    patterns are handed."""
    import re

    from affiliate_matrix import taxonomy

    handed, sub = [], re.sub
    monkeypatch.setattr(taxonomy.re, "sub", lambda pattern, repl, text, *more: handed.append(len(text)) or sub(
        pattern, repl, text, *more))
    assert taxonomy.network_name("Awin (formerly Affiliate Window) " + "(" * 20_000) == "awin"
    assert handed and max(handed) <= 200
    monkeypatch.undo()
    assert [n.network for n in make_program("A", "https://a.com", network="Impact " + "(" * 20_000).networks] == [
        "impact"]


def test_other_is_a_programs_category_only_when_none_of_its_labels_maps_and_provenance_names_the_raw_page():
    """A label we do not know beside one we do added "other" (Notion: b2b_saas and other), so `category=other`
    found programs that have a category of ours: "other" means none of ours fits."""
    p = make_program("A", "https://a.com", categories=["Web Hosting", "Underwater Basket Weaving"])
    assert p.categories == ["hosting_domains"]
    assert p.provenance["categories"][0].raw_key == "raw/test/ab/abc.html"
    assert make_program("A", "https://a.com", categories=["Underwater Basket Weaving"]).categories == ["other"]


@pytest.mark.parametrize("label", ["Health and Wellness", "Health & Wellness", "health  &  wellness"])
def test_a_category_is_known_whether_it_is_written_with_and_or_with_an_ampersand(label):
    """A label was looked up as written and with its 'and' as '&', never the other way: the taxonomy's 'health and
    wellness' (CJ's spelling) did not know 'Health & Wellness', which was 'other'."""
    assert make_program("A", "https://a.com", categories=[label]).categories == ["health_wellness"]


def test_every_category_a_source_label_maps_to_is_one_of_the_taxonomys_labelled_categories():
    """The categories a program can have are the taxonomy's labelled ones (CATEGORY_LABELS, what the web shows): a
    label mapped to a category with no label would be a category no program can have, refused when indexed."""
    from affiliate_matrix.codes import CATEGORIES, CATEGORY_LABELS
    from affiliate_matrix.taxonomy import CATEGORY_MAP

    assert set(CATEGORY_MAP.values()) | {"other"} == set(CATEGORIES) == set(CATEGORY_LABELS)
    assert all(label.strip() and label[0].isupper() for label in CATEGORY_LABELS.values())


def test_terms_read_from_the_description_keep_their_sentences_in_the_provenance():
    description = ("Join our partner program. You earn 25% on every order.\nThe cookie lasts 60 days. "
                   "Payouts are sent monthly via PayPal. Self-referrals are not allowed.")
    p = make_program("A", "https://a.com", description=description, commission_text="30% per sale")
    assert p.provenance["cookie_days"][0].evidence == ["The cookie lasts 60 days."]
    assert p.provenance["payout"][0].evidence == ["Payouts are sent monthly via PayPal."]
    assert p.provenance["commission"][0].evidence == []  # the directory labelled it: the column is the source
    assert (p.payout.frequency, p.payout.methods, p.restrictions) == ("monthly", ["paypal"], ["self_referral"])


def test_models_reject_bad_input_naming_the_field():
    with pytest.raises(ValidationError, match="fetched_at"):
        RawRecord(source="t", connection_id="c", record_key="k", url="https://x.org/", fetched_at="2026-01-01T00:00:00",
                  raw_key="r", name="n")  # naive timestamp
    with pytest.raises(ValidationError, match="not an ISO-4217"):
        CommissionTerm(type="flat", value_min=1, currency="DOLLARS")
    assert CommissionTerm(type="flat", value_min=1, currency="usd").currency == "USD"  # a code as typed
    with pytest.raises(ValidationError, match="not an ISO-4217"):
        CommissionTerm(type="flat", value_min=1, currency="u\u017fd")  # 'uſd'.upper() is USD: not a code as typed
    with pytest.raises(ValidationError, match="extra_field"):
        make_record("n", extra_field=1)
    with pytest.raises(ValidationError, match="five-field cron"):
        Connection(id="c", source="s", schedule="every day")
    with pytest.raises(ValidationError, match="not an ISO-3166"):
        Program(id="p_0123456789abcdef", name="n", merchant_key="k", merchant_key_source="name",
                first_seen_at=NOW, last_seen_at=NOW, countries=["XX"])
    program = dict(id="p_0123456789abcdef", name="n", merchant_key="k", merchant_key_source="name", first_seen_at=NOW,
                   last_seen_at=NOW)
    typed = Program(**program, countries=["de"], excluded_countries=["Us"])  # codes as typed
    assert (typed.countries, typed.excluded_countries) == (["DE"], ["US"])
    with pytest.raises(ValidationError, match="not an ISO-3166"):
        Program(**program, countries=["\u0131t"])  # 'ıt'.upper() is IT: not a code as typed


def test_timestamps_are_kept_in_utc():
    record = RawRecord.model_validate({**make_record("n").model_dump(), "fetched_at": "2026-11-21T14:00:00+02:00"})
    assert record.fetched_at == NOW and record.fetched_at.tzinfo == UTC


def test_countries_become_iso_codes_and_unknown_labels_are_not_guessed():
    p = make_program("A", "https://a.com", countries=["USA", "uk", "DE", "Deutschland"])
    assert p.countries == ["DE", "GB", "US"]
    # Atlantis is no country we know: not guessed, kept as unread, and it widens nothing beside a country we read
    atlantis = make_program("A", "https://a.com", countries=["USA", "Atlantis"])
    assert atlantis.countries == ["US"] and atlantis.countries_unread == ["Atlantis"]


def test_merchant_keys_say_how_they_were_derived():
    from affiliate_matrix.normalize import with_merchant_key

    by_domain = make_program("Shop", "https://www.shop.com/")
    assert (by_domain.merchant_key, by_domain.merchant_key_source, by_domain.merchant_key_confidence) == \
        ("shop.com", "domain", 1.0)
    by_name = make_program("Tiny Notes")
    assert (by_name.merchant_key_source, by_name.merchant_key_confidence) == ("name", 0.6)
    by_alias = with_merchant_key(make_program("TinyNotes App"), "tiny-notes")  # joined another listing's key
    assert (by_alias.merchant_key, by_alias.merchant_key_source, by_alias.merchant_key_confidence) == \
        ("tiny-notes", "alias", 0.8)


def test_terms_an_api_states_as_data_are_kept_with_their_tiers_and_its_text_is_not_parsed():
    tiered = CommissionTerm(type="percent", value_min=5, value_max=10, tiers=[
        {"threshold": "Public offer: 0 to 500", "value": 5}, {"threshold": "Public offer: 500 and above", "value": 10}])
    program = make_program("Lumen", "https://lumen.example.com", commission=[tiered],
                           commission_text="Public offer: 5% (0 to 500), 10% (500 and above); $3 per lead")
    assert program.commission == [tiered]  # not the $3 the text would have given too
    assert program.provenance["commission"][0].value[0]["tiers"][1] == {"threshold": "Public offer: 500 and above",
                                                                       "value": "10"}


@pytest.mark.parametrize("extra,epc_7d,epc_90d", [
    ({"epc_7d": "45.12", "epc_90d": "38.9", "epc_currency": "USD"}, ("45.12", "USD"), ("38.9", "USD")),
    ({"epc_90d": "12.48", "epc_currency": "USD"}, None, ("12.48", "USD")),
    ({"epc_7d": "45.12"}, None, None),  # an amount in no known currency is not a figure
])
def test_reported_epcs_become_money_only_with_their_currency(extra, epc_7d, epc_90d):
    program = make_program("Shop", "https://shop.com", extra=extra)
    money = [(str(m.amount), m.currency) if m else None for m in (program.epc_7d, program.epc_90d)]
    assert money == [epc_7d, epc_90d]


@pytest.mark.parametrize("extra,refused", [
    ({"approval_rate": "1.5"}, "approval_rate"),  # Awin's approvalPercentage of 150
    ({"approval_rate": "nan"}, "approval_rate"),
    ({"conversion_rate": "inf"}, "conversion_rate"),
    ({"validation_days": "-5"}, "validation_days"),
    ({"validation_days": "3.5"}, "validation_days"),
    ({"average_payment_days": "-1"}, "average_payment_days"),
    ({"average_payment_days": "soon"}, "average_payment_days"),
    ({"gravity": "lots"}, "gravity"),
    ({"epc_7d": "-1", "epc_currency": "USD"}, "epc_7d"),
    ({"epc_7d": "1e30", "epc_currency": "USD"}, "epc_7d"),
    ({"epc_7d": "1", "epc_currency": "US"}, "epc_7d"),
])
def test_a_reported_figure_its_field_does_not_take_is_left_out_and_logged(extra, refused):
    """A network's figure out of its field's range is the network's word only: the program is indexed without
    it, the others kept. Before, normalize raised ValidationError (Program, Money), and index_batch with it:
    one such record failed the indexing of its whole batch, every time the event was redelivered."""
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        program = make_program("Shop", "https://shop.com", extra={**extra, "approval_rate": "0.5"} if refused !=
                               "approval_rate" else extra | {"validation_days": "30"})
    assert getattr(program, refused) is None
    assert (program.approval_rate, program.validation_days) in ((Decimal("0.5"), None), (None, 30))
    assert [(e["event"], e["field"]) for e in logs if e["log_level"] == "warning"] == [
        ("normalize.figure_refused", refused)]


def test_names_in_other_scripts_are_told_apart():
    """A name with no ASCII letter (or only a few: 'Магазин 24') was keyed by its ASCII part: '' for every
    Cyrillic, CJK or Arabic name, so all of them were one program (one id, their claims voted against each other),
    and the resolver clustered them too. Latin names keep their keys (and ids)."""
    from affiliate_matrix.resolve import Candidate, resolve

    names = ["日本語ショップ", "Магазин Книг", "متجر الكتب", "Магазин 24", "Интернет-магазин 24",
             "!!!", "???"]
    programs = [make_program(name) for name in names]
    assert len({p.id for p in programs}) == len(names)
    assert all(p.merchant_key for p in programs)
    assert len(set(resolve([Candidate(name) for name in names]))) == len(names)
    latin = [make_program(name).merchant_key for name in ("Café Rouge", "Acme™", "ＡＣＭＥ")]
    assert latin == ["cafe-rouge", "acme", "acme"]  # accents dropped, not the letters (an indexed one keeps its id)


@pytest.mark.parametrize("names", [("कमल", "कमला", "कोमल"), ("কমল", "কোমল", "কমলা"), ("กิน", "กัน", "กน"),
                                   ("Кафе моло\u0301ко", "Кафе молоко")],
                         ids=["devanagari", "bengali", "thai", "cyrillic-stress"])
def test_names_told_apart_by_their_marks_are_different_merchants(names):
    """A name in another script was keyed by its letters alone: the vowel signs, viramas, harakat and niqqud (Unicode
    marks, which Python's \\w does not match) split it, so कमल, कमला and कोमल were the key 'कमल' (or 'क-मल'), one
    program id for three merchants, whose records merged and whose claims were mixed. A word keeps its marks, as the
    search indexes keep them (search.word_runs), in the key, the id and resolution's names."""
    from affiliate_matrix.resolve import compact_name

    programs = [make_program(name) for name in names]
    assert len({p.id for p in programs}) == len({p.merchant_key for p in programs}) == len(names)
    assert len({compact_name(name) for name in names}) == len(names)  # resolution compares these
    assert [make_program(name).merchant_key for name in names] == [p.merchant_key for p in programs]


@pytest.mark.parametrize("names", [
    ("متجر كتاب", "مَتْجَر كِتَاب", "متجر كُتّاب", "متجر كتـــاب", "متجر كتاب\u0651"),  # harakat, shadda, tatweel
    ("שלום בית", "שָׁלוֹם בַּיִת", "\ufb2aלום בית", "שׁ\u05b8לוֹם\u0591 בית"),  # niqqud, a pointed letter, cantillation
    ("دیجی\u200cکالا", "دیجیکالا", "دیجی\u200dکالا")],  # a Persian word with and without its joiner
    ids=["arabic-harakat", "hebrew-niqqud", "persian-joiner"])
def test_a_name_written_with_or_without_its_optional_marks_is_one_merchant(names):
    """Harakat, tatweel, niqqud and cantillation are written or left out at will, and a joiner inside a Persian word
    too: a key kept them (a joiner broke the word), so two sources writing one merchant so made two programs, and the
    search, which drops the joiner, held another word than the key. A word is written without them (search.unwritten),
    in the key, the id and resolution's names, as in what the indexes search; a vowel sign stays (कोमल is not कमल)."""
    from affiliate_matrix.resolve import compact_name
    from affiliate_matrix.search import words

    programs = [make_program(name) for name in names]
    assert len({p.id for p in programs}) == len({p.merchant_key for p in programs}) == 1, [p.merchant_key
                                                                                          for p in programs]
    assert len({compact_name(name) for name in names}) == 1
    assert len({tuple(words(name)) for name in names}) == 1
    assert programs[0].merchant_key == "-".join(words(names[0]))  # the key's words are the search's


def test_resolution_keeps_short_names_apart_by_their_marks():
    """Resolution joined कमल, कमला and कोमल as one name (their compact names were all 'कमल'); they are three names
    now, too short for the one-edit rule that joins a long name's typo (as 'Acme' and 'Acne' stay apart)."""
    from affiliate_matrix.resolve import Candidate, resolve

    assert len(set(resolve([Candidate(name) for name in ("कमल", "कमला", "कोमल", "กิน", "กัน")]))) == 5


def test_a_latin_names_key_is_its_letters_and_digits_as_before():
    """Keeping marks in a key changed only names in other scripts: a Latin name's key (and so its program's id) is its
    letters and digits as before, accents off, on every name of the terms corpus and the sources' recorded pages (a
    Latin name's marks are accents, which folded_name takes off or which were a break: 'x\u0332y' is 'x-y')."""
    import json
    import re
    from pathlib import Path

    from affiliate_matrix.normalize import name_key
    from affiliate_matrix.resolve import folded_name, other_script

    root = Path(__file__).parents[2]
    texts = [json.loads(path.read_text())["text"] for path in sorted((root / "tests/data/terms/items").glob("*.json"))]
    names = {line.strip() for text in texts for line in text.splitlines() if 0 < len(line.strip()) <= 80}
    names = {name for name in names if not name.isascii() and not other_script(folded_name(name))}
    names |= {"x\u0332y shop", "Cafe\u0301 \u0332Rouge", "Ŀ\u0315 Shop", "\u0301\u0332"}
    assert len(names) > 1000
    for name in names:  # the rule before: the folded name's runs of letters and digits, hyphen-joined
        before = re.sub(r"[^a-z0-9]+", "-", folded_name(name)).strip("-") or "-".join(
            re.findall(r"[^\W_]+", folded_name(name)) or folded_name(name).split() or [folded_name(name)])
        assert name_key(name) == before, name


def test_a_composed_and_a_decomposed_name_are_one_program_with_one_name():
    composed, decomposed = make_program("Caf\u00e9 Partners"), make_program("Cafe\u0301 Partners")
    assert composed.id == decomposed.id and composed.merchant_key == decomposed.merchant_key
    assert composed.name == decomposed.name == "Caf\u00e9 Partners"


@pytest.mark.parametrize("dirty", ["\x00Shop\x07 Partners\x1b", "\u202eShop Partners\u202c",
                                   "\u2067Shop\u2069 Partners", "Shop\x85\x9b Partners",
                                   "Shop\u202a\u202b\u202d Partners\x7f"])
def test_controls_and_bidi_overrides_do_not_reach_indexed_text(dirty):
    program = make_program(dirty, description=f"{dirty}: earn 20% per sale", categories=["Web\u202e Hosting\x00"],
                           aliases=[f"{dirty} Group"], extra={"gravity": "12\x00"})
    assert program.name == "Shop Partners" and program.merchant_key == make_program("Shop Partners").merchant_key
    assert program.description == "Shop Partners: earn 20% per sale"
    assert program.aliases == ["Shop Partners Group"] and program.categories == ["hosting_domains"]
    assert program.gravity == 12


def test_line_breaks_and_tabs_of_a_description_are_kept():
    assert make_program("A", description="Earn 20%\nper sale\tmonthly").description == "Earn 20%\nper sale\tmonthly"


@pytest.mark.parametrize("fields", [{"cookie_text": "1000000000 days"}, {"cookie_text": "3651 days"},
                                    {"description": "Earn 20% per sale. Cookie duration: 1000000000 days."}])
def test_a_cookie_past_any_real_one_is_left_out_and_logged(fields):
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        program = make_program("Shop", "https://shop.com", **fields)
    assert program.cookie_days is None and program.name == "Shop"
    assert [(e["event"], e["field"]) for e in logs if e["log_level"] == "warning"] == [
        ("normalize.figure_refused", "cookie_days")]


@pytest.mark.parametrize("text,days", [("3650 days", 3650), ("lifetime", -1), ("session", 0), ("90 days", 90)])
def test_cookies_up_to_ten_years_and_lifetime_ones_are_kept(text, days):
    assert make_program("Shop", "https://shop.com", cookie_text=text).cookie_days == days


def test_a_program_document_with_a_cookie_past_any_real_one_is_refused():
    with pytest.raises(ValidationError, match="cookie_days"):
        Program.model_validate({**make_program("Shop", "https://shop.com").model_dump(mode="json"),
                                "cookie_days": 10**9})


def test_a_program_stored_with_a_cookie_past_any_real_one_is_read_without_it():
    """Indexed before cookie_days was bounded: the program is read (by the index run merging into it, the API)
    with the cookie not known, not refused at every read."""
    from affiliate_matrix.program_index import from_document, to_document

    doc = to_document(make_program("Shop", "https://shop.com", cookie_text="30 days"))
    doc["program"]["cookie_days"] = 10**9
    program = from_document(doc)
    assert program.cookie_days is None and program.name == "Shop"
    assert from_document(to_document(make_program("Shop", "https://shop.com", cookie_text="30 days"))).cookie_days == 30


def test_a_sources_url_holding_credentials_is_kept_without_them():
    """A page's link to 'https://paypal.com@evil.com/' goes to evil.com, its first part a user name that reads as
    another site to whoever reads the URL; 'https://user:secret@…' is a password the page leaked. A record keeps its
    URLs without them (the host is the one they named), so the index, the API, exports and the explorer's links
    republish no credential, nor a URL reading as a site it does not go to."""
    record = make_record("Evil", "https://paypal.com@evil.com/signup",
                         join_url="https://user:s3cret@a.example.com:8443/j?x=1#f")
    assert (str(record.merchant_url), str(record.join_url)) == ("https://evil.com/signup",
                                                                "https://a.example.com:8443/j?x=1#f")
    page = record.model_dump() | {"url": "https://me%40dir.example.org@dir.example.org/p/x/"}  # a redirect's Location
    assert str(RawRecord(**page).url) == "https://dir.example.org/p/x/"
    program = make_program("Evil", "https://paypal.com:443@evil.com/", join_url="https://paypal.com@evil.com/join")
    assert program.merchant_domain == "evil.com" and str(program.networks[0].join_url) == "https://evil.com/join"
    assert str(make_record("Plain", "https://evil.com/a@b").merchant_url) == "https://evil.com/a@b"  # a path's @ stays


def test_deep_link_hosts_are_kept_lower_case_once_each_and_what_is_no_host_is_logged_and_left_out():
    """The hosts a network lets deep links point at (Impact's DeeplinkDomains, Awin's validDomains): a wildcard is
    kept as the network wrote it; a sentence or an address with a path is no host, named in the log, and the rest
    stands."""
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        program = make_program("Shop", "https://shop.com", deeplink_domains=[
            "WWW.Shop.com", "*.shop.com", "www.shop.com.", "any page of ours", "https://shop.com/deals", ""])
    assert program.deeplink_domains == ["*.shop.com", "www.shop.com"]
    assert [c.value for c in program.provenance["deeplink_domains"]] == [["*.shop.com", "www.shop.com"]]
    assert program.domains == ["shop.com"]  # where a link may go is no site of the merchant's
    assert [(e["event"], e["label"]) for e in logs if e["log_level"] == "warning"] == [
        ("normalize.deeplink_domain_unread", label) for label in ("any page of ours", "https://shop.com/deals", "")]


@pytest.mark.parametrize("said,allowed", [("true", True), ("false", False), (" False ", False), ("TRUE", True)])
def test_a_networks_word_on_deep_links_is_read_as_yes_or_no_with_its_claim(said, allowed):
    """Impact's AllowsDeeplinking and Awin's deeplinkEnabled are the strings "true" and "false"."""
    program = make_program("Shop", "https://shop.com", extra={"deeplinks_allowed": said})
    assert program.deeplinks_allowed is allowed
    assert [c.value for c in program.provenance["deeplinks_allowed"]] == [allowed]


@pytest.mark.parametrize("said", ["yes", "1", "maybe", "on"])
def test_a_word_on_deep_links_neither_true_nor_false_is_logged_and_left_out(said):
    """Only the networks' two words are read (pydantic's lax bool took "yes", "1" and "on" too): another is the
    network's word only, logged naming the field and left out, and the rest of the record stands."""
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        program = make_program("Shop", "https://shop.com", extra={"deeplinks_allowed": said, "validation_days": "30"})
    assert program.deeplinks_allowed is None and "deeplinks_allowed" not in program.provenance
    assert program.validation_days == 30
    assert [(e["event"], e["field"], e["value"]) for e in logs if e["log_level"] == "warning"] == [
        ("normalize.figure_refused", "deeplinks_allowed", said)]


def test_a_records_lists_past_what_a_program_may_hold_are_cut_and_logged_not_lost():
    """A plugin's record of 300,000 aliases or commission terms (a hostile payload) made a program no import takes
    back: its lists are cut to the bounds an import holds (models.MAX_ITEMS), saying so, and the rest of it kept."""
    from structlog.testing import capture_logs

    from affiliate_matrix.models import MAX_ITEMS, CommissionTerm, CommissionTier
    from affiliate_matrix.normalize import RECORD_ALIASES

    tiers = [CommissionTier(threshold=f"{n}+ sales", value=n) for n in range(MAX_ITEMS["tiers"] + 5)]
    terms_ = [CommissionTerm(type="percent", value_min=n, tiers=tiers) for n in range(MAX_ITEMS["commission"] + 1)]
    with capture_logs() as logs:
        program = make_program("Acme", "https://acme.com", aliases=[f"Acme {n}" for n in range(1000)],
                               commission=terms_, cookie_text="30 days")
    assert len(program.aliases) == RECORD_ALIASES and len(program.commission) == MAX_ITEMS["commission"]
    assert {len(term.tiers) for term in program.commission} == {MAX_ITEMS["tiers"]} and program.cookie_days == 30
    cut = {(e["field"], e["items"], e["kept"]) for e in logs if e["event"] == "normalize.list_cut"}
    assert cut == {("aliases", 1000, RECORD_ALIASES), ("commission", MAX_ITEMS["commission"] + 1,
                                                       MAX_ITEMS["commission"]),
                   ("tiers", MAX_ITEMS["tiers"] + 5, MAX_ITEMS["tiers"])}
