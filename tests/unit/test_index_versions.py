"""An index's version changes with what its documents are written with (indices.rendered: OpenSearch's settings
and mappings, and for text the SQLite index's tokenizer and folding), so a deployment is told to migrate it.
Programs went to v6 (OpenSearch's tokenizer) and v7 (the embedded index's folding) while activations and alerts,
whose text is analysed the same way, kept v1: a deployment kept the old analysis there, with nothing to migrate."""

import unicodedata

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.indices import index_specs, rendered_digest
from affiliate_matrix.runtime import open_search_index
from affiliate_matrix.search import IndexSpec, SearchQuery

# Each index's version and the digest of what that version renders. A change to the digest with the same version
# fails here: bump the version (an IndexSpec's second argument), run `amx index render`, say in the README's
# Versions paragraph to run `amx index migrate <name>` after deploying it, then write the new pair here.
# Every digest moved once, versions kept, when number_of_replicas left the settings (a cluster's operator sets it:
# the copies kept of an index, not how its documents are written or searched).
RENDERED = {
    "programs": (22, "639e803e3cb3e726"),
    "deltas": (2, "344487a06480e47d"),
    "metrics": (1, "3271035ead2bae95"),
    "budget": (2, "417ff0ea3727d21e"),
    "activations": (10, "3b2339d67939e742"),
    "alerts": (10, "cf6bc5eaa3e142ea"),
    "queries": (1, "e4df579ee94e5c71"),
    "moved": (1, "9f644ae005309875"),
}


@pytest.mark.parametrize("name", sorted(index_specs()))
def test_each_index_version_is_tied_to_what_it_renders(name):
    spec = index_specs()[name]
    assert name in RENDERED, f"a new index {name!r}: record ({spec.version}, {rendered_digest(spec)!r}) in RENDERED"
    version, digest = RENDERED[name]
    assert (spec.version, rendered_digest(spec)) == (version, digest), (
        f"what {name} v{spec.version} renders changed (OpenSearch settings or mappings, or the SQLite tokenizer or "
        f"folding of its text): give it a new version, run amx index render, tell the README to run amx index "
        f"migrate {name}, and record ({spec.version}, {rendered_digest(spec)!r}) here")


@pytest.mark.parametrize("name,field", [("alerts", "text"), ("activations", "detail")])
def test_an_embedded_index_written_before_the_folding_is_folded_by_its_migration(tmp_path, monkeypatch, name, field):
    """An alerts or activations file written when the embedded index kept full-width letters and 'Ø' as they came
    (before programs v7): 'booking' and 'oresund' do not find them until `amx index migrate` writes them again,
    which needs a version to migrate to."""
    import affiliate_matrix.search.sqlite as sqlite_index

    spec = index_specs()[name]
    old = IndexSpec(name, 1, spec.fields, spec.id_field)
    index = open_search_index(Settings(data_dir=tmp_path))
    text = "\uff22\uff4f\uff4f\uff4b\uff49\uff4e\uff47 on \u00d8resund Bikes"  # Ｂｏｏｋｉｎｇ on Øresund Bikes
    doc = {"id": "a1", field: text, "at": "2026-12-01T00:00:00Z"}
    with monkeypatch.context() as before:
        before.setattr(sqlite_index, "narrowed", lambda text: text)  # the code before the folding
        index.ensure_index(old)
        assert index.bulk_upsert(name, [doc], refresh=True).errors == []
    assert index.search(name, SearchQuery(text="booking oresund")).total == 0
    index.migrate(spec)
    assert index.status(name).current == spec.version
    assert [hit.id for hit in index.search(name, SearchQuery(text="booking oresund")).hits] == ["a1"]


@pytest.mark.parametrize("name,field", [("alerts", "text"), ("activations", "detail")])
def test_an_embedded_index_written_before_compatibility_folding_is_folded_by_its_migration(tmp_path, monkeypatch, name,
                                                                                         field):
    """Alerts and activations v5 (programs v14) search text in Unicode's compatibility form (NFKC): a file written
    before holds "𝐇𝐨𝐬𝐭𝐢𝐧𝐠" and half-width "ｶﾀｶﾅ" as they came, so "hosting" and "カタカナ" find them only once
    `amx index migrate` writes them again."""
    import affiliate_matrix.search.sqlite as sqlite_index

    spec = index_specs()[name]
    old = IndexSpec(name, spec.version - 1, spec.fields, spec.id_field)
    index = open_search_index(Settings(data_dir=tmp_path))
    bold = "\U0001d407\U0001d428\U0001d42c\U0001d42d\U0001d422\U0001d427\U0001d420"  # 𝐇𝐨𝐬𝐭𝐢𝐧𝐠
    doc = {"id": "a1", field: f"{bold} \uff76\uff80\uff76\uff85", "at": "2026-12-01T00:00:00Z"}  # ｶﾀｶﾅ
    with monkeypatch.context() as before:
        before.setattr(sqlite_index, "narrowed", lambda text: text)  # what the folding before made of this text
        index.ensure_index(old)
        assert index.bulk_upsert(name, [doc], refresh=True).errors == []
    assert index.search(name, SearchQuery(text="hosting カタカナ")).total == 0
    index.migrate(spec)
    assert [hit.id for hit in index.search(name, SearchQuery(text="hosting カタカナ")).hits] == ["a1"]
    assert index.get(name, "a1")[field] == doc[field]  # the document as written


@pytest.mark.parametrize("name,field", [("alerts", "text"), ("activations", "detail")])
def test_an_embedded_index_that_cut_words_at_their_marks_is_tokenized_again_by_its_migration(tmp_path, monkeypatch,
                                                                                             name, field):
    """Programs v15 (alerts and activations v6) keep a word's marks in it: a file written before cut "हिन्दी" at its
    vowel signs and virama, so "हिन्दी" found "हिन्दुस्तान" too, until `amx index migrate` writes it again."""
    import affiliate_matrix.search.sqlite as sqlite_index

    spec = index_specs()[name]
    old = IndexSpec(name, spec.version - 1, spec.fields, spec.id_field)
    index = open_search_index(Settings(data_dir=tmp_path))
    docs = [{"id": "hi", field: "हिन्दी समाचार"}, {"id": "hindustan", field: "हिन्दुस्तान टाइम्स"}]
    with monkeypatch.context() as before:
        before.setattr(sqlite_index, "TOKENIZE", "unicode61 remove_diacritics 2")  # the tokenizer before
        index.ensure_index(old)
        assert index.bulk_upsert(name, docs, refresh=True).errors == []
    assert sorted(hit.id for hit in index.search(name, SearchQuery(text="हिन्दी")).hits) == ["hi", "hindustan"]
    index.migrate(spec)
    assert [hit.id for hit in index.search(name, SearchQuery(text="हिन्दी")).hits] == ["hi"]


@pytest.mark.parametrize("name,field", [("alerts", "text"), ("activations", "detail")])
def test_an_embedded_index_that_kept_optional_marks_in_its_words_drops_them_by_its_migration(tmp_path, monkeypatch,
                                                                                          name, field):
    """Programs v17 (alerts and activations v7) write a word without its harakat and niqqud: a file written before
    holds "مَكْتَبَةُ" with them, which "مكتبة" (five edits away) does not find until `amx index migrate` writes it
    again."""
    import affiliate_matrix.search.sqlite as sqlite_index

    spec = index_specs()[name]
    old = IndexSpec(name, spec.version - 1, spec.fields, spec.id_field)
    index = open_search_index(Settings(data_dir=tmp_path))
    docs = [{"id": "jarir", field: "مَكْتَبَةُ جَرِيرٍ"}, {"id": "shufersal", field: "שׁוּפֶּרְסַל"}]
    with monkeypatch.context() as before:  # the folding before kept the marks (NFKC alone, for this text)
        before.setattr(sqlite_index, "narrowed", lambda text: unicodedata.normalize("NFKC", text))
        index.ensure_index(old)
        assert index.bulk_upsert(name, docs, refresh=True).errors == []
    assert [index.search(name, SearchQuery(text=q)).total for q in ("مكتبة", "שופרסל")] == [0, 0]
    index.migrate(spec)
    assert [hit.id for hit in index.search(name, SearchQuery(text="مكتبة")).hits] == ["jarir"]
    assert [hit.id for hit in index.search(name, SearchQuery(text="שופרסל")).hits] == ["shufersal"]


@pytest.mark.parametrize("name,field", [("alerts", "text"), ("activations", "detail")])
def test_an_embedded_index_that_held_unspaced_runs_whole_pairs_them_by_its_migration(tmp_path, monkeypatch, name,
                                                                                   field):
    """Programs v18 (alerts and activations v8) write a run of a script written without spaces as its pairs of
    characters: a file written before holds "楽天市場" and "ภาษาไทย" as one word each, which "市場" and "ไทย" do not find
    until `amx index migrate` writes them again."""
    import affiliate_matrix.search.sqlite as sqlite_index

    spec = index_specs()[name]
    old = IndexSpec(name, spec.version - 1, spec.fields, spec.id_field)
    index = open_search_index(Settings(data_dir=tmp_path))
    docs = [{"id": "rakuten", field: "楽天市場"}, {"id": "thai", field: "ภาษาไทย"}]
    with monkeypatch.context() as before:  # runs were kept whole before
        before.setattr(sqlite_index, "paired", lambda text: text)
        index.ensure_index(old)
        assert index.bulk_upsert(name, docs, refresh=True).errors == []
    assert [index.search(name, SearchQuery(text=q)).total for q in ("市場", "ไทย")] == [0, 0]
    index.migrate(spec)
    assert [hit.id for hit in index.search(name, SearchQuery(text="市場")).hits] == ["rakuten"]
    assert [hit.id for hit in index.search(name, SearchQuery(text="ไทย")).hits] == ["thai"]


@pytest.mark.parametrize("name,field", [("alerts", "text"), ("activations", "detail")])
def test_an_embedded_index_without_a_runs_last_character_writes_it_by_its_migration(tmp_path, monkeypatch, name,
                                                                                     field):
    """Programs v19 (alerts and activations v9) write a run's last character after its pairs, so one character asked
    alone finds every run holding it: a file written before holds "楽天市場" as its pairs alone, where "場" (which
    begins none of them) finds nothing until `amx index migrate` writes it again."""
    import affiliate_matrix.search.sqlite as sqlite_index

    spec = index_specs()[name]
    old = IndexSpec(name, spec.version - 1, spec.fields, spec.id_field)
    index = open_search_index(Settings(data_dir=tmp_path))
    with monkeypatch.context() as before:  # v18's pairs, without the last character
        before.setattr(sqlite_index, "paired", lambda text: " 楽天 天市 市場 " if text == "楽天市場" else text)
        index.ensure_index(old)
        assert index.bulk_upsert(name, [{"id": "rakuten", field: "楽天市場"}], refresh=True).errors == []
    assert [index.search(name, SearchQuery(text=q)).total for q in ("場", "楽")] == [0, 1]
    index.migrate(spec)
    assert [[hit.id for hit in index.search(name, SearchQuery(text=q)).hits] for q in ("場", "楽")] == [
        ["rakuten"], ["rakuten"]]


def test_an_embedded_index_written_before_whole_values_were_folded_is_folded_by_its_migration(tmp_path, monkeypatch):
    """Programs v9 (activations and alerts v3) fold a text field's whole value (<field>.raw, the exact match): a file
    written before holds "café" as it came, so q=cafe lifts "Café" only once `amx index migrate` writes it again."""
    import affiliate_matrix.search.sqlite as sqlite_index

    fields = {"id": "keyword", "name": "text", "description": "text"}
    index = open_search_index(Settings(data_dir=tmp_path))
    docs = [{"id": "a", "name": "Café Partners", "description": "cafe cafe cafe café"},
            {"id": "b", "name": "Café", "description": "a program"}]
    with monkeypatch.context() as before:
        before.setattr(sqlite_index, "whole_value", lambda value: str(value).lower()[:256])  # the code before
        index.ensure_index(IndexSpec("things", 1, fields))
        assert index.bulk_upsert("things", docs, refresh=True).errors == []
    query = SearchQuery(text="cafe", exact=["name"])
    assert [hit.id for hit in index.search("things", query).hits][0] == "a"
    index.migrate(IndexSpec("things", 2, fields))
    assert [hit.id for hit in index.search("things", query).hits][0] == "b"


def test_an_embedded_index_written_when_long_names_kept_their_start_sorts_them_last_after_its_migration(tmp_path,
                                                                                                     monkeypatch):
    """Programs v12 (activations and alerts v4): a text longer than RAW_IGNORE_ABOVE has no whole value, as on
    OpenSearch, whose ignore_above indexes none, so it sorts after every other name; a file written before kept its
    first 256 characters, sorting it among the a's here and last on OpenSearch, until `amx index migrate` writes it
    again."""
    import affiliate_matrix.search.sqlite as sqlite_index
    from affiliate_matrix.search import SortKey, folded

    fields = {"id": "keyword", "name": "text"}
    index = open_search_index(Settings(data_dir=tmp_path))
    docs = [{"id": "long", "name": "A" * 300}, {"id": "b", "name": "Bravo"}]
    with monkeypatch.context() as before:
        before.setattr(sqlite_index, "whole_value", lambda value: folded(str(value)[:320])[:256])  # the code before
        index.ensure_index(IndexSpec("things", 1, fields))
        assert index.bulk_upsert("things", docs, refresh=True).errors == []
    query = SearchQuery(sort=[SortKey(field="name")])
    assert [hit.id for hit in index.search("things", query).hits] == ["long", "b"]
    index.migrate(IndexSpec("things", 2, fields))
    assert [hit.id for hit in index.search("things", query).hits] == ["b", "long"]


def test_an_embedded_index_written_when_bare_dates_were_local_reads_them_in_utc_after_its_migration(tmp_path,
                                                                                                  monkeypatch):
    """The embedded index read a date without a zone in the machine's zone until it read it in UTC, as OpenSearch does;
    the instant is worked out as a document is written, so one written before keeps the machine's reading (the budget
    index's days, bare dates, 15:00 UTC the day before in Tokyo) until `amx index migrate` writes it again."""
    import time
    from datetime import datetime

    import affiliate_matrix.search.sqlite as sqlite_index
    from affiliate_matrix.budget.mirror import BUDGET_INDEX

    def local(spec, doc):  # the code before: a date without a zone in the machine's zone
        return [(field, datetime.fromisoformat(doc[field]).astimezone()) for field, kind in spec.fields.items()
                if kind == "date" and doc.get(field)]

    try:
        with monkeypatch.context() as tokyo:
            tokyo.setenv("TZ", "JST-9")
            time.tzset()
            index = open_search_index(Settings(data_dir=tmp_path))
            with monkeypatch.context() as before:
                before.setattr(sqlite_index, "document_times", local)
                index.ensure_index(IndexSpec("budget", 1, BUDGET_INDEX.fields))
                assert index.bulk_upsert("budget", [{"id": "day:c1:2026-06-01", "date": "2026-06-01"}]).errors == []
            on_the_day = SearchQuery(filters={"date": ["2026-06-01"]})
            assert index.search("budget", on_the_day).total == 0
            index.migrate(BUDGET_INDEX)
            assert [hit.id for hit in index.search("budget", on_the_day).hits] == ["day:c1:2026-06-01"]
    finally:
        time.tzset()  # the zone the environment names again


@pytest.mark.parametrize("name,field", [("alerts", "text"), ("activations", "detail")])
def test_an_embedded_index_that_broke_words_at_a_zero_width_space_joins_them_by_its_migration(tmp_path, monkeypatch,
                                                                                            name, field):
    """Programs v20 (alerts and activations v10) drop a zero-width space from a word, as the other invisible
    characters: a file written before broke "ภาษา\u200bไทย" there, losing the pair across it, so "ภาษาไทย" typed
    without it found nothing until `amx index migrate` writes it again."""
    import affiliate_matrix.search.sqlite as sqlite_index

    spec = index_specs()[name]
    old = IndexSpec(name, spec.version - 1, spec.fields, spec.id_field)
    index = open_search_index(Settings(data_dir=tmp_path))
    narrowed = sqlite_index.narrowed
    with monkeypatch.context() as before:  # the space was a break before
        before.setattr(sqlite_index, "narrowed", lambda text: narrowed(text.replace("\u200b", " ")))
        index.ensure_index(old)
        assert index.bulk_upsert(name, [{"id": "thai", field: "ภาษา\u200bไทย"}], refresh=True).errors == []
    assert index.search(name, SearchQuery(text="ภาษาไทย")).total == 0
    index.migrate(spec)
    assert [hit.id for hit in index.search(name, SearchQuery(text="ภาษาไทย")).hits] == ["thai"]
