"""amx import programs cleans a program's text as a source's record is cleaned (models.RawRecord): NFC, without C0
and C1 controls, DEL and the bidi embeddings, overrides and isolates (tabs and line breaks kept). An imported file
is text from outside as a scraped page is; it was stored as written, so an imported 'Cafe\u0301' stood apart from
a scraped 'Caf\u00e9' and a name could be shown reversed."""

import json

import pytest
from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.config import Settings
from affiliate_matrix.exchange import csv_chunks, jsonl_chunks
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document
from affiliate_matrix.runtime import Runtime
from tests.support.factories import make_program

DIRTY = "\u202eCafe\u0301\x00 Partners\x85\u2069"
CLEAN = "Caf\u00e9 Partners"


@pytest.mark.parametrize("fmt,chunks", [("jsonl", jsonl_chunks), ("csv", csv_chunks)])
def test_an_imported_programs_text_is_cleaned_as_a_scraped_records_is(tmp_path, monkeypatch, fmt, chunks):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    scraped = make_program(CLEAN, "https://cafe.example.com", description="Earn 20%\nper sale\tmonthly",
                           commission_text="20% per sale")
    source = scraped.provenance["name"][0]
    dirty = scraped.model_copy(update={
        "name": DIRTY, "merchant": DIRTY, "aliases": [f"{DIRTY} Group"],
        "description": f"{DIRTY}: earn 20%\nper sale\tmonthly", "commission_text": "20%\u202e per sale\x1b",
        "provenance": {**scraped.provenance, "name": [source.model_copy(update={"value": DIRTY,
                                                                                "evidence": [f"{DIRTY}!"]})]}})
    path = tmp_path / f"programs.{fmt}"
    path.write_text("".join(chunks([dirty])))
    result = CliRunner().invoke(app, ["import", "programs", str(path)])
    assert result.exit_code == 0, (result.output, result.exception)
    rt = Runtime("test", Settings(data_dir=tmp_path / "data"))
    stored = from_document(rt.index.get(PROGRAMS_INDEX.name, scraped.id))
    assert stored.name == stored.merchant == CLEAN and stored.aliases == [f"{CLEAN} Group"]
    assert stored.description == f"{CLEAN}: earn 20%\nper sale\tmonthly"
    assert stored.commission_text == "20% per sale"
    assert stored.provenance["name"][0].value == CLEAN and stored.provenance["name"][0].evidence == [f"{CLEAN}!"]


@pytest.mark.parametrize("name,old_key", [("कोमल रसोई", "क-मल-रस-ई"), ("مَكْتَبَة جرير", "مَكْتَبَة-جرير"),
                                           ("دیجی\u200cکالا", "دیجی-کالا")], ids=["v15-marks", "v16-harakat", "v16-joiner"])
def test_a_program_exported_keyed_as_older_code_keyed_it_is_imported_under_its_key_now(tmp_path, monkeypatch, name,
                                                                                       old_key):
    """A file exported before programs v16 keys a name in another script without its marks (कोमल रसोई as 'क-मल-रस-ई'),
    and one before v17 with its harakat or with a joiner as a break: imported as written, it stood under the old id,
    beside the program the next sync of its listing makes. It is keyed as a migration keys a stored one
    (program_index.as_written_now)."""
    from affiliate_matrix.normalize import program_id

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    program = make_program(name, commission_text="10% per sale")
    assert program.merchant_key != old_key
    exported = program.model_copy(update={"merchant_key": old_key, "id": program_id(old_key, "program")})
    path = tmp_path / "programs.jsonl"
    path.write_text("".join(jsonl_chunks([exported])))
    result = CliRunner().invoke(app, ["import", "programs", str(path)])
    assert result.exit_code == 0, (result.output, result.exception)
    rt = Runtime("test", Settings(data_dir=tmp_path / "data"))
    assert rt.index.get(PROGRAMS_INDEX.name, exported.id) is None
    assert from_document(rt.index.get(PROGRAMS_INDEX.name, program.id)).merchant_key == program.merchant_key


def test_a_jsonl_export_keeps_each_program_on_one_line_however_lines_are_split(tmp_path, monkeypatch):
    """A description holds U+2028/U+2029 as its page wrote them, and JSON need not escape them: the export wrote them
    raw, so a reader splitting lines as Python's str.splitlines (or JavaScript before ES2019) broke the record in
    two. Escaped, every line is a record, and the import reads the same text back."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    program = make_program(CLEAN, "https://cafe.example.com", description="one\u2028two\u2029three")
    exported = "".join(jsonl_chunks([program]))
    assert [json.loads(line)["description"] for line in exported.splitlines()] == ["one\u2028two\u2029three"]
    path = tmp_path / "programs.jsonl"
    path.write_text(exported)
    result = CliRunner().invoke(app, ["import", "programs", str(path)])
    assert result.exit_code == 0, (result.output, result.exception)
    rt = Runtime("test", Settings(data_dir=tmp_path / "data"))
    assert from_document(rt.index.get(PROGRAMS_INDEX.name, program.id)).description == "one\u2028two\u2029three"
