"""A programs index written by an older version of the code, migrated forward and never re-indexed
since, is served by the programs API as if each program had just been indexed: every field the
answer model requires is there, and the fields a version added are filled from the stored program."""

from urllib.parse import quote

import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers.program_page import ProgramSummary
from affiliate_matrix.handlers.routes import in_rfc3339
from affiliate_matrix.models import Program
from affiliate_matrix.program_index import BESIDE, PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.apps import function_client
from tests.support.factories import NOW, make_program
from tests.support.indexing import BACKENDS, indexed_by, keyed_before_v16, on_backend, spec_of

# What the code of each older version wrote (git log -p of program_index.py, then programs.py, and models.py):
# the fields of its committed mapping, and a stored program without the Program and FieldSource fields added since.
ADDED_SINCE = {2: ({"merchant_key_confidence", "misses", "discovery"}, {"value", "evidence"}),
               3: ({"merchant_key_confidence", "discovery"}, {"evidence"}), 4: (set(), set()), 5: (set(), set()),
               10: (set(), set()), 20: ({"deeplinks_allowed"}, set())}


def written_by(version: int, program) -> dict:
    """The document that version's code made of `program`."""
    spec, (program_fields, claim_fields) = spec_of(version), ADDED_SINCE[version]
    stored = {k: v for k, v in program.model_dump(mode="json").items() if k not in program_fields}
    stored["provenance"] = {name: [{k: v for k, v in claim.items() if k not in claim_fields} for claim in claims]
                            for name, claims in stored["provenance"].items()}
    return {**{k: v for k, v in to_document(program).items() if k in spec.fields}, "program": stored}


def programs():
    flat = make_program("Alpha Hosting", "https://alpha.com", commission_text="$25 per sale",
                        countries=["United States"])
    flat.last_verified_at = NOW  # a field v2 did not index: the migrated document must carry it
    percent = make_program("Bravo Books", "https://bravo.com", commission_text="30% per sale")
    return [flat, percent]


@pytest.fixture(params=BACKENDS)
def rt(request, tmp_path, monkeypatch):
    """The environment the programs function reads its index from, and a runtime on the same index."""
    on_backend(request, tmp_path, monkeypatch)
    return Runtime("test")


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_a_migrated_index_is_served_as_a_freshly_indexed_one(rt, version):
    older = spec_of(version)
    rt.index.ensure_index(older)
    assert rt.index.bulk_upsert("programs", [written_by(version, p) for p in programs()], refresh=True).errors == []

    assert rt.index.migrate(PROGRAMS_INDEX) == 2
    assert rt.index.status("programs").current == PROGRAMS_INDEX.version

    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    # what a fresh index answers: its stored summary, its times said as every answer says them (in UTC, ending in Z)
    fresh = {p.id: in_rfc3339({k: v for k, v in to_document(p).items() if k not in BESIDE}, ProgramSummary)
             for p in programs()}
    page = app.get("/programs?sort=name", headers=auth)
    assert page.status_code == 200, page.text
    assert page.json["items"] == [fresh[p.id] for p in programs()]
    assert page.json["items"][0]["last_verified_at"] == NOW.isoformat().replace("+00:00", "Z")
    assert page.json["items"][0]["sources"] == ["test"]
    facets = page.json["facets"]
    assert facets["commission_flat_currencies"] == [{"value": "USD", "count": 1}]
    # Alpha names the US; Bravo, naming none, takes it, and is counted as open to every country too
    assert facets["countries"] == [{"value": "US", "count": 2}, {"value": "worldwide", "count": 1}]

    usd = app.get("/programs?flat_currency=USD&min_commission_flat=20", headers=auth)
    assert usd.status_code == 200 and [item["id"] for item in usd.json["items"]] == [programs()[0].id]
    for program in programs():  # the stored program as it was written, read by today's model (new fields defaulted)
        one = app.get(f"/programs/{program.id}", headers=auth)
        as_written = Program.model_validate(written_by(version, program)["program"]).model_dump(mode="json")
        assert one.status_code == 200 and one.json == as_written and one.json["name"] == program.name
    merchants = app.get("/merchants?q=alpha", headers=auth)
    assert merchants.status_code == 200 and [m["merchant_key"] for m in merchants.json["items"]] == ["alpha.com"]


def test_a_search_of_an_index_not_yet_migrated_is_a_503_naming_the_migration_not_the_callers_fault(rt, capsys):
    """Deployed before `amx index migrate programs`, every search asked for a field the older index lacks and was
    answered 400, as if the caller had asked wrong; the web explorer's pages too. (A search of v10 reads a field v11
    added only when it asks for the 3-month EPC.)"""
    rt.index.ensure_index(spec_of(10))
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    asked = "/programs?q=alpha&epc_window=90d&sort=epc"
    answer = app.get(asked, headers=auth)
    assert answer.status_code == 503 and answer.json["error"]["code"] == "unavailable", answer.text
    logged = capsys.readouterr().err
    assert "run `amx index migrate programs`" in logged and "has no field 'epc_90d', 'epc_90d_currency'" in logged
    assert app.get("/programs?q=alpha", headers=auth).status_code == 200  # the 7-day EPC's fields are in v10
    rt.index.migrate(PROGRAMS_INDEX)  # by another process: this one's view of the index follows it
    assert app.get(asked, headers=auth).status_code == 200


def test_a_migration_to_v21_fills_the_payment_days_and_deep_links_a_search_bounds_and_filters_by(rt):
    """max_payment_days and deeplinks= read fields v21 indexes: on a v20 index they are a 503 naming the migration, and
    `amx index migrate programs` fills them from the stored programs (a v20 program held its average payment days;
    deeplinks_allowed came with v21, so a program written before says none until its network is synced again)."""
    from decimal import Decimal

    quick = make_program("Alpha Hosting", "https://alpha.com")
    quick.average_payment_days = Decimal("20")
    slow = make_program("Bravo Books", "https://bravo.com")
    slow.average_payment_days = Decimal("45")
    rt.index.ensure_index(spec_of(20))
    assert rt.index.bulk_upsert("programs", [written_by(20, p) for p in (quick, slow)], refresh=True).errors == []
    assert "average_payment_days" not in rt.index.get("programs", quick.id)
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    for asked in ("/programs?max_payment_days=30", "/programs?deeplinks=allowed"):
        assert app.get(asked, headers=auth).status_code == 503, asked

    assert rt.index.migrate(PROGRAMS_INDEX) == 2

    def found(query: str) -> list[str]:
        answer = app.get(f"/programs?{query}", headers=auth)
        assert answer.status_code == 200, answer.text
        return [item["name"] for item in answer.json["items"]]

    assert found("max_payment_days=30") == ["Alpha Hosting"]
    assert found("max_payment_days=45&sort=name") == ["Alpha Hosting", "Bravo Books"]
    assert found("deeplinks=allowed") == []
    [item] = app.get("/programs?q=bravo", headers=auth).json["items"]
    assert (item["average_payment_days"], item["deeplinks"]) == (45, None)


def test_a_migration_to_v11_fills_the_three_month_epc_an_awin_programme_is_found_by(rt):
    """sort=epc and min_epc read the 7-day EPC only, which Awin does not report: its programmes were never found nor
    ranked by EPC. epc_window=90d reads the 3-month EPC, which v11 indexes; `amx index migrate programs` fills it
    from the stored programs of a v10 index."""
    from affiliate_matrix.models import Money

    awin = make_program("Alpha Hosting", "https://alpha.com")
    awin.epc_90d = Money(amount="0.80", currency="GBP")
    cj = make_program("Bravo Books", "https://bravo.com")
    cj.epc_7d, cj.epc_90d = Money(amount="2.00", currency="USD"), Money(amount="1.20", currency="USD")
    rt.index.ensure_index(spec_of(10))
    assert rt.index.bulk_upsert("programs", [written_by(10, p) for p in (awin, cj)], refresh=True).errors == []
    assert "epc_90d" not in rt.index.get("programs", awin.id)

    assert rt.index.migrate(PROGRAMS_INDEX) == 2
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}

    def found(query: str) -> list[str]:
        answer = app.get(f"/programs?{query}", headers=auth)
        assert answer.status_code == 200, answer.text
        return [item["name"] for item in answer.json["items"]]

    assert found("epc_window=90d&epc_currency=GBP&min_epc=0.5") == ["Alpha Hosting"]
    assert found("epc_currency=GBP&min_epc=0.5") == []  # its 7-day EPC: none reported
    assert found("epc_window=90d&sort=epc") == ["Alpha Hosting", "Bravo Books"]  # GBP before USD: no exchange rates
    assert found("sort=epc") == ["Bravo Books", "Alpha Hosting"]
    [item] = app.get("/programs?q=alpha", headers=auth).json["items"]
    assert (item["epc_90d"], item["epc_90d_currency"], item["epc_7d"]) == (0.8, "GBP", None)


def test_a_stored_program_that_cannot_be_read_aborts_the_migration_before_the_swap(rt):
    older = spec_of(3)
    rt.index.ensure_index(older)
    good, damaged = (written_by(3, p) for p in programs())
    damaged["program"]["commission"] = [{"type": "flat", "value_min": "25"}]  # a flat commission with no currency
    assert rt.index.bulk_upsert("programs", [good, damaged], refresh=True).errors == []

    with pytest.raises(InvalidInput, match=f"aborted before the swap: 1 documents do not fit, e.g. .*{damaged['id']}"):
        rt.index.migrate(PROGRAMS_INDEX)
    assert rt.index.status("programs").current == 3
    assert rt.index.get("programs", good["id"]) == good


def test_a_migration_to_v15_names_no_account_in_a_claim_or_record_v14_kept(rt):
    """v14 kept an API claim's and record's url as the request, naming the agency's account (Impact's SID in the
    path): every reader was shown it. Migrated, each names the request with ACCOUNT in its place."""
    from affiliate_matrix.normalize import normalize
    from affiliate_matrix.sources import ACCOUNT
    from tests.support.factories import make_record

    request = "https://api.impact.com/Mediapartners/IRsecretSID123/Campaigns?PageSize=100&Page=2"
    program = normalize(make_record("Impact Shop", "https://impactshop.com", commission_text="10% per sale")
                        .model_copy(update={"source": "impact", "url": request}))  # as a v14 sync stored it
    rt.index.ensure_index(spec_of(14))
    assert rt.index.bulk_upsert("programs", [indexed_by(14, program)], refresh=True).errors == []
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    assert "IRsecretSID123" in app.get(f"/programs/{program.id}", headers=auth).text  # what v14 shows

    assert rt.index.migrate(PROGRAMS_INDEX) == 1
    shown = app.get(f"/programs/{program.id}", headers=auth)
    assert shown.status_code == 200 and "IRsecretSID123" not in shown.text, shown.text
    named = request.replace("IRsecretSID123", ACCOUNT)
    assert {c["url"] for claims in shown.json["provenance"].values() for c in claims} == {named}
    assert [r["url"] for r in shown.json["records"]] == [named]


def test_a_migration_to_v16_moves_a_program_keyed_without_its_marks_to_its_key_and_id(rt):
    """v15 keyed a name in another script by its letters alone, its marks a break: कोमल रसोई was 'क-मल-रस-ई' and
    कमला (resolution's compact name) 'कमल', so कमल's, कमला's and कोमल's listings were one program. Migrated, each such
    program is under the key and id its name has now; a Latin name's and a domain's stay where they were."""
    from affiliate_matrix.normalize import name_key, program_id
    from affiliate_matrix.resolve import compact_name

    kitchen = make_program("कोमल रसोई", commission_text="10% per sale")
    kamala = make_program("कमला", commission_text="5% per sale")
    latin, domain = make_program("Alpha Hosting"), make_program("Bravo Books", "https://bravo.com")
    before = [keyed_before_v16(kitchen, "क-मल-रस-ई"), keyed_before_v16(kamala, "कमल"), latin, domain]
    rt.index.ensure_index(spec_of(15))
    assert rt.index.bulk_upsert("programs", [indexed_by(15, p) for p in before], refresh=True).errors == []

    assert rt.index.migrate(PROGRAMS_INDEX) == 4
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    moved = {"कोमल रसोई": name_key("कोमल रसोई"), "कमला": compact_name("कमला")}
    for name, key in moved.items():
        shown = app.get(f"/programs/{program_id(key, 'program')}", headers=auth)
        assert shown.status_code == 200 and (shown.json["name"], shown.json["merchant_key"]) == (name, key)
        assert shown.json["merchant_key_source"] == "name"
    for old, key in zip(before[:2], moved.values()):  # nothing is left under the old id, which redirects to the new
        answer = app.get(f"/programs/{old.id}", headers=auth)
        assert (answer.status_code, answer.headers["Location"]) == (308, f"/programs/{program_id(key, 'program')}")
    for kept in (latin, domain):
        assert app.get(f"/programs/{kept.id}", headers=auth).json["merchant_key"] == kept.merchant_key
    assert sorted(item["id"] for item in app.get("/programs?limit=10", headers=auth).json["items"]) == sorted(
        [program_id(key, "program") for key in moved.values()] + [latin.id, domain.id])
    merchant = app.get(f"/merchants/{quote(moved['कोमल रसोई'])}", headers=auth)
    assert merchant.status_code == 200 and merchant.json["merchant"] == "कोमल रसोई", merchant.text


def test_two_programs_v15_keyed_apart_that_v16_keys_as_one_are_merged_not_one_written_over_the_other(rt):
    """कोमल keyed by its name's consonants ('क-मल'), and कोमल keyed by कमल's listing it once merged with ('कमल'), are
    two programs under v15 that v16 keys alike: the copy wrote one over the other, its listings, terms and claims
    lost, and the migration said every document was copied. They are merged as two sightings of one program are."""
    from datetime import timedelta

    from affiliate_matrix.normalize import name_key, normalize, program_id
    from affiliate_matrix.program_index import from_document
    from tests.support.factories import make_record

    def listed(source: str, paid: str, days: int):
        return normalize(make_record("कोमल", commission_text=paid).model_copy(update={
            "source": source, "connection_id": source, "record_key": f"{source}-1",
            "fetched_at": NOW + timedelta(days=days)}))

    split = keyed_before_v16(listed("offervault", "10% per sale", 0), "क-मल")
    joined = keyed_before_v16(listed("affiliatefix", "$40 per sale", 1), "कमल")
    latin = make_program("Alpha Hosting")
    assert len({split.id, joined.id, latin.id}) == 3
    rt.index.ensure_index(spec_of(15))
    written = [indexed_by(15, p) for p in (split, joined, latin)]
    assert rt.index.bulk_upsert("programs", written, refresh=True).errors == []

    assert rt.index.migrate(PROGRAMS_INDEX) == 3  # every document of v15 is in v16, two of them as one
    hits = {hit.id: from_document(hit.doc) for hit in rt.index.search("programs", SearchQuery()).hits}
    one = hits.pop(program_id(name_key("कोमल"), "program"))
    assert list(hits) == [latin.id]
    assert sorted(r.source for r in one.records) == ["affiliatefix", "offervault"]
    assert sorted(c.source for c in one.provenance["commission"]) == ["affiliatefix", "offervault"]
    assert (one.name, one.first_seen_at, one.last_seen_at) == ("कोमल", split.first_seen_at, joined.last_seen_at)


@pytest.mark.parametrize("shown", ["कमल", "कोमल"])
def test_two_merchants_v15_merged_are_split_by_their_sources_next_run(rt, shown):
    """कमल and कोमल were one key under v15 ('कमल'), so one API's listings of the two were one program, their claims
    mixed. The migration cannot split the stored program (which claim is whose is not kept): it keys it by its shown
    name (कोमल's moves it to 'कोमल'), whose listings join it later, and the connection's next complete run lists the
    other name's apart, under its own key and id, taking its claims off the merged program."""
    from datetime import timedelta

    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.merge import combined
    from affiliate_matrix.normalize import normalize, program_id
    from affiliate_matrix.pipeline import index_batch
    from affiliate_matrix.program_index import from_document
    from tests.support.factories import make_record

    save_connection(rt.store, Connection(id="c", source="offervault"), create=True)
    terms = {"कमल": "10% per sale", "कोमल": "$40 per sale"}

    def listed(days: int):  # the shown name is the record's of the first key (merge.combined)
        return [make_record(name, commission_text=paid).model_copy(update={
            "source": "offervault", "record_key": f"{int(name != shown)}-{name}",
            "fetched_at": NOW + timedelta(days=days)}) for name, paid in terms.items()]

    sightings = [normalize(record) for record in listed(0)]
    merged = combined([keyed_before_v16(p, "कमल") for p in sightings])  # one program of the source's, as v15 had it
    assert (merged.merchant_key, merged.name, merged.aliases) == ("कमल", shown, [n for n in terms if n != shown])
    rt.index.ensure_index(spec_of(15))
    assert rt.index.bulk_upsert("programs", [indexed_by(15, merged)], refresh=True).errors == []

    assert rt.index.migrate(PROGRAMS_INDEX) == 1
    ([hit],) = [rt.index.search("programs", SearchQuery()).hits]
    assert (hit.id, from_document(hit.doc).records) == (program_id(shown, "program"), merged.records)  # kept whole

    batch = "\n".join(r.model_dump_json() for r in listed(1)).encode()
    report = index_batch(rt, rt.store.put_content_addressed("batches/offervault", batch, suffix=".jsonl"),
                         complete_run_of="c")
    assert (report.created, report.updated, report.errors) == (1, 1, [])
    rt.index.refresh("programs")
    apart = {p.name: p for p in (from_document(hit.doc) for hit in rt.index.search("programs", SearchQuery()).hits)}
    assert {name: (p.id, [r.record_key.split("-", 1)[1] for r in p.records], p.commission_text)
            for name, p in apart.items()} == {name: (program_id(name, "program"), [name], paid)
                                              for name, paid in terms.items()}


def test_a_migration_to_v17_moves_a_program_keyed_with_its_optional_marks_and_merges_it_with_its_bare_twin(rt):
    """v16 keyed a name by its words with every mark and broke a word at a joiner: كِتاب (offervault's, with its kasra)
    and كتاب (affiliatefix's) were two keys, two programs of one merchant, and دیجی‌کالا was 'دیجی-کالا' while the
    search held one word. Migrated, both are one program under 'كتاب', merged as two sightings of it, دیجی‌کالا is
    under 'دیجیکالا', each old id redirecting to its new one; a Latin name's program stays where it was."""
    from datetime import timedelta

    from affiliate_matrix.normalize import name_key, normalize, program_id
    from affiliate_matrix.program_index import from_document
    from tests.support.factories import make_record

    def listed(name: str, source: str, paid: str, days: int):
        return normalize(make_record(name, commission_text=paid).model_copy(update={
            "source": source, "connection_id": source, "record_key": f"{source}-1",
            "fetched_at": NOW + timedelta(days=days)}))

    marked = keyed_before_v16(listed("كِتاب", "offervault", "10% per sale", 0), "كِتاب")  # as v16 keyed them
    bare = keyed_before_v16(listed("كتاب", "affiliatefix", "$40 per sale", 1), "كتاب")
    joined = keyed_before_v16(listed("دیجی\u200cکالا", "offervault", "5% per sale", 0), "دیجی-کالا")
    latin = make_program("Alpha Hosting")
    before = [marked, bare, joined, latin]
    assert len({p.id for p in before}) == 4
    rt.index.ensure_index(spec_of(16))
    assert rt.index.bulk_upsert("programs", [indexed_by(16, p) for p in before], refresh=True).errors == []

    assert rt.index.migrate(PROGRAMS_INDEX) == 4  # every document of v16 is in v17, two of them as one
    hits = {hit.id: from_document(hit.doc) for hit in rt.index.search("programs", SearchQuery()).hits}
    book, digikala = program_id("كتاب", "program"), program_id("دیجیکالا", "program")
    assert sorted(hits) == sorted([book, digikala, latin.id])
    assert (hits[book].merchant_key, hits[digikala].merchant_key) == ("كتاب", "دیجیکالا") == (
        name_key("كِتاب"), name_key("دیجی\u200cکالا"))
    assert sorted(c.source for c in hits[book].provenance["commission"]) == ["affiliatefix", "offervault"]
    assert hits[latin.id].merchant_key == latin.merchant_key
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    for old, new in ((marked, book), (joined, digikala)):
        answer = app.get(f"/programs/{old.id}", headers=auth)
        assert (answer.status_code, answer.headers["Location"]) == (308, f"/programs/{new}")
    assert [hit.id for hit in rt.index.search("programs", SearchQuery(text="كِتاب")).hits] == [book]


def test_a_migration_to_v18_pairs_the_words_of_a_name_written_without_spaces(rt, monkeypatch):
    """v17 held a run of Japanese or Thai as one word, so "市場" found no "楽天市場" and "ไทย" no "ภาษาไทย"; migrated,
    each run is its pairs of characters (search.paired) on either index, and a part of the name finds its program."""
    import affiliate_matrix.search.opensearch as opensearch_index
    import affiliate_matrix.search.sqlite as sqlite_index

    programs = [make_program("楽天市場"), make_program("ภาษาไทย"), make_program("Alpha Hosting")]
    with monkeypatch.context() as before:  # runs were kept whole before
        for module in (sqlite_index, opensearch_index):
            before.setattr(module, "paired", lambda text: text)
        rt.index.ensure_index(spec_of(17))
        assert rt.index.bulk_upsert("programs", [indexed_by(17, p) for p in programs], refresh=True).errors == []
    assert [rt.index.search("programs", SearchQuery(text=q)).total for q in ("市場", "ไทย", "alpha")] == [0, 0, 1]

    assert rt.index.migrate(PROGRAMS_INDEX) == 3
    found = {q: [hit.id for hit in rt.index.search("programs", SearchQuery(text=q)).hits]
             for q in ("市場", "ไทย", "alpha")}
    assert found == {"市場": [programs[0].id], "ไทย": [programs[1].id], "alpha": [programs[2].id]}


def test_a_migration_to_v19_writes_the_last_character_of_a_run_so_one_character_finds_it(rt, monkeypatch):
    """v18 held a run as its pairs alone, so "場", which begins none of "楽天 天市 市場", found no "楽天市場"; migrated,
    the run's last character follows its pairs (search.paired), and one character finds every program holding it."""
    import affiliate_matrix.search.opensearch as opensearch_index
    import affiliate_matrix.search.sqlite as sqlite_index

    programs = [make_program("楽天市場"), make_program("Alpha Hosting")]
    with monkeypatch.context() as before:  # v18's pairs, without the last character
        for module in (sqlite_index, opensearch_index):
            before.setattr(module, "paired", lambda text: text.replace("楽天市場", " 楽天 天市 市場 "))
        rt.index.ensure_index(spec_of(18))
        assert rt.index.bulk_upsert("programs", [indexed_by(18, p) for p in programs], refresh=True).errors == []
    assert [rt.index.search("programs", SearchQuery(text=q)).total for q in ("場", "楽", "alpha")] == [0, 1, 1]

    assert rt.index.migrate(PROGRAMS_INDEX) == 2
    found = {q: [hit.id for hit in rt.index.search("programs", SearchQuery(text=q)).hits] for q in ("場", "楽")}
    assert found == {"場": [programs[0].id], "楽": [programs[0].id]}


def test_a_migration_to_v22_writes_the_stems_and_category_names_a_search_finds_programs_by(rt):
    """v21 held no stems and its category words were the taxonomy's keys alone: "hosts" found no program whose text
    says "hosting", and "Hébergement" no hosting program. Written by v21's code and migrated, the index holds each
    program's stems (search.document_stems) and its categories' names (taxonomy.CATEGORY_NAMES), on either index."""
    hosting = make_program("Alpha", "https://alpha.com", description="Web hosting plans", categories=["hosting"])
    books = make_program("Bravo Books", "https://bravo.com", categories=["books"])
    v21 = [{**indexed_by(21, p), "category_words": p.categories} for p in (hosting, books)]
    rt.index.ensure_index(spec_of(21))
    assert rt.index.bulk_upsert("programs", v21, refresh=True).errors == []

    def found(q: str) -> list[str]:
        return [hit.id for hit in rt.index.search("programs", SearchQuery(text=q)).hits]

    assert [found(q) for q in ("hosts", "Hébergement", "hosting")] == [[], [], [hosting.id]]

    assert rt.index.migrate(PROGRAMS_INDEX) == 2
    assert rt.index.status("programs").current == 22
    assert [found(q) for q in ("hosts", "Hébergement", "Bücher")] == [[hosting.id], [hosting.id], [books.id]]
