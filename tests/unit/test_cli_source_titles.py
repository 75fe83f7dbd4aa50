"""The CLI names a source as the explorer does, by its plugin's title, with the code a filter or a command takes
beside it ('CJ Advertiser Lookup API (cj-agency)'): `amx show`, `compare` and `changes` printed the code alone."""

from typer.testing import CliRunner

from affiliate_matrix.cli import app
from tests.support.indexing import Index, record


def cells(output: str) -> set[tuple[str, ...]]:
    """A table's rows (a wide terminal, one line a row) as their cells."""
    return {tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in output.splitlines() if "│" in line}


def indexed(tmp_path, monkeypatch) -> Index:
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # one line per row
    index = Index(tmp_path)
    index.batch(record("cj", "Bluehost", "https://bluehost.com", connection="cj-agency", cookie_text="45 days"))
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", cookie_text="90 days"))
    return index


def test_show_names_each_claims_source_by_its_title_and_its_code(tmp_path, monkeypatch):
    [program] = indexed(tmp_path, monkeypatch).programs()
    result = CliRunner().invoke(app, ["show", program["id"]])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = {row[:3] for row in cells(result.output)}
    assert ("cookie_days", "45d", "CJ Advertiser Lookup API (cj-agency)") in rows, result.output
    assert ("cookie_days", "90d", "AffiliatePrograms.com (affiliateprograms)") in rows, result.output
    # the page each claim was read from, its source named so too
    assert "CJ Advertiser Lookup API (cj): https://cj.example.org/p/bluehost/" in result.output, result.output


def test_compare_and_changes_name_each_source_by_its_title_and_its_code(tmp_path, monkeypatch):
    indexed(tmp_path, monkeypatch)
    compared = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert compared.exit_code == 0, (compared.output, compared.exception)
    sources = {row[0] for row in cells(compared.output) if row}
    assert {"CJ Advertiser Lookup API (cj-agency)", "AffiliatePrograms.com (affiliateprograms)"} <= sources, \
        compared.output
    changed = CliRunner().invoke(app, ["changes"])
    assert changed.exit_code == 0, (changed.output, changed.exception)
    assert {row[-1] for row in cells(changed.output) if row} >= {
        "CJ Advertiser Lookup API (cj)", "AffiliatePrograms.com (affiliateprograms)"}, changed.output


def test_the_machine_output_keeps_the_codes(tmp_path, monkeypatch):
    """`amx export programs` (JSON lines, for programs to read) names each claim's source and connection by its code,
    as the API does: the titles are for people's tables."""
    import json

    indexed(tmp_path, monkeypatch)
    exported = CliRunner().invoke(app, ["export", "programs", "--format", "jsonl"])
    assert exported.exit_code == 0, (exported.output, exported.exception)
    [program] = [json.loads(line) for line in exported.stdout.splitlines() if line.startswith("{")]
    claimants = {(claim["source"], claim["connection_id"]) for claims in program["provenance"].values()
                 for claim in claims}
    assert claimants == {("cj", "cj-agency"), ("affiliateprograms", "affiliateprograms")}, claimants
    assert "CJ Advertiser Lookup API" not in exported.stdout


def test_a_source_no_plugin_has_is_named_by_its_codes():
    from affiliate_matrix.cli.views import source_named

    assert source_named("gone", "gone-main") == "gone (gone-main)"
    assert source_named("gone") == "gone"
