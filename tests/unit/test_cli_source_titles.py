"""The CLI names a source as the explorer does, by its plugin's title, with the code a filter or a command takes
beside it ('CJ Advertiser Lookup API (cj-agency)'): `amx show`, `compare` and `changes` printed the code alone."""

import re

from typer.testing import CliRunner

from affiliate_matrix.cli import app
from tests.support.indexing import Index, disagreed, record


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
    assert ("Cookie length", "45 days", "CJ Advertiser Lookup API (cj-agency)") in rows, result.output
    assert ("Cookie length", "90 days", "AffiliatePrograms.com (affiliateprograms)") in rows, result.output
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


def connections(tmp_path, monkeypatch, columns: int):
    """Two connections: one on a weekday schedule, one on a cron no words say."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", str(columns))
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    save_connection(store, Connection(id="cj-agency", source="cj", schedule="30 6 * * 1-5", enabled=False,
                                      credentials_path="connections/cj-agency"), create=True)
    save_connection(store, Connection(id="dir-main", source="affiliateprograms", schedule="5,35 */2 * * *"),
                    create=True)
    result = CliRunner().invoke(app, ["connections", "list"])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_connections_list_names_a_source_by_its_title_and_says_its_schedule_in_words_beside_its_cron(
        tmp_path, monkeypatch):
    """`amx connections list` showed a connection's source by its code and its schedule as a cron alone, where the
    Connections page names the source by its title and says the schedule in words beside the cron."""
    rows = {row[0]: row[1:4] for row in cells(connections(tmp_path, monkeypatch, 400)) if row}
    assert rows["cj-agency"] == ("CJ Advertiser Lookup API (cj)", "every Monday to Friday at 06:30 UTC",
                                 "30 6 * * 1-5"), rows
    # a cron no words say is shown as it is, never said wrong
    assert rows["dir-main"] == ("AffiliatePrograms.com (affiliateprograms)", "5,35 */2 * * *", "5,35 */2 * * *"), rows


def test_connections_list_keeps_each_cron_whole_in_a_narrow_terminal(tmp_path, monkeypatch):
    """Narrower, the words give way before the cron, which is never folded (nor a source's code); narrower than the
    table's columns whole (the cron among them), each connection's fields are one under another, the cron kept."""
    for columns in (80, 100, 160):
        output = connections(tmp_path / str(columns), monkeypatch, columns)
        assert max(map(len, output.splitlines())) <= columns, output
        assert "(cj)" in output and "(affiliateprograms)" in output, output
        if columns == 80:
            assert re.search(r"^  cron +30 6 \* \* 1-5 *$", output, re.M), output
            assert re.search(r"^  cron +5,35 \*/2 \* \* \* *$", output, re.M), output
        else:
            assert "│ 30 6 * * 1-5   │" in output and "│ 5,35 */2 * * * │" in output, output
        assert ("(a wider terminal also shows: schedule)" in output) == (columns == 100), output


def test_freshness_names_each_source_by_its_title_and_its_code(tmp_path, monkeypatch):
    indexed(tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["freshness"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert {row[0] for row in cells(result.output) if row} == {
        "AffiliatePrograms.com (affiliateprograms)", "CJ Advertiser Lookup API (cj)", "all"}, result.output


def test_a_network_a_plugin_reads_is_named_by_its_proper_name_another_as_the_index_keeps_it(tmp_path, monkeypatch):
    """`amx search`, `compare` and `show` named networks as the index keeps them (cj), where sources get titles: one
    a network plugin reads is named as its plugin declares it (CJ), one no plugin reads as its source wrote it
    (MaxBounty) by search, show and compare's merchant rows (which showed the index's maxbounty); the --network filter
    still takes the stored name (or the proper one) and the export keeps the stored one."""
    import json

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("cj", "Bluehost", "https://bluehost.com", network="cj", network_program_id="77"))
    index.batch(record("offervault", "Bluehost", "https://bluehost.com", network="MaxBounty"))
    index.batch(record("affiliateprograms", "Canva", "https://canva.com", network="impact"))
    searched = CliRunner().invoke(app, ["search", ""])
    assert searched.exit_code == 0, (searched.output, searched.exception)
    networks = {row[1]: row[5] for row in cells(searched.output) if row}
    assert networks == {"Bluehost": "CJ, MaxBounty", "Canva": "Impact"}, searched.output
    assert "Networks: CJ (1), Impact (1), MaxBounty (1)" in searched.output, searched.output
    compared = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert {row[0]: row[2] for row in cells(compared.output) if row}.items() >= {
        ("CJ Advertiser Lookup API (cj)", "CJ"), ("OfferVault (CPA offers) (offervault)", "MaxBounty")}, compared.output
    [bluehost] = [p for p in index.programs() if p["name"] == "Bluehost"]
    shown = CliRunner().invoke(app, ["show", bluehost["id"]])
    assert ("Networks", "CJ (77)", "CJ Advertiser Lookup API (cj)") in {row[:3] for row in cells(shown.output)}, \
        shown.output
    for typed in ("cj", "CJ"):  # the filter by the stored name, or the proper one folded to it
        filtered = CliRunner().invoke(app, ["search", "", "--network", typed])
        assert {row[1] for row in cells(filtered.output) if row} == {"Bluehost"}, filtered.output
    exported = CliRunner().invoke(app, ["export", "programs", "--format", "jsonl"])
    listed = {n["network"] for line in exported.stdout.splitlines() if line.startswith("{")
              for n in json.loads(line)["networks"]}
    assert listed == {"cj", "maxbounty", "impact"}, listed


def test_each_network_plugins_network_is_the_name_the_index_keeps_and_its_proper_name_filters_by_it():
    """The proper names (sources.network_titles) are keyed by the name the index keeps for the network (what a plugin's
    listings name, folded by taxonomy.network_name), and each proper name, typed into `--network` or the explorer's
    filter, folds back to it."""
    from affiliate_matrix.sources import all_sources, network_titles
    from affiliate_matrix.taxonomy import NETWORK_TITLES, network_name

    titles = network_titles()
    assert set(titles) == {p.network for p in all_sources().values() if getattr(p, "network", None)} | set(
        NETWORK_TITLES) and titles
    for network, title in titles.items():
        assert network_name(network) == network_name(title) == network, (network, title)


def test_compares_disagreements_name_each_source_as_its_row_does(tmp_path, monkeypatch):
    """`amx compare` named each source of its table by its title and code, but its "sources disagree" lines by the
    code alone ("45d (cj); 90d (affiliateprograms)"): each is named as its row is, its connection's code beside it."""
    indexed(tmp_path, monkeypatch)
    compared = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert compared.exit_code == 0, (compared.output, compared.exception)
    said, kept = disagreed(compared.output, "Cookie length")
    assert said in (
        "45 days from CJ Advertiser Lookup API (cj-agency); 90 days from AffiliatePrograms.com (affiliateprograms)",
        "90 days from AffiliatePrograms.com (affiliateprograms); 45 days from CJ Advertiser Lookup API (cj-agency)"), \
        said
    assert kept == "45 days", kept  # one vote each: the network's, of higher priority than a directory's


def test_two_connections_of_one_source_disagreeing_are_each_named_by_its_connection(tmp_path, monkeypatch):
    """Two accounts of one network (cj-agency, cj-brand) are two rows and two sides of a disagreement, each named
    by its connection, as its row is."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("cj", "Bluehost", "https://bluehost.com", connection="cj-agency", cookie_text="45 days"))
    index.batch(record("cj", "Bluehost", "https://bluehost.com", connection="cj-brand", cookie_text="60 days"))
    compared = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert compared.exit_code == 0, (compared.output, compared.exception)
    [line] = [line for line in compared.output.splitlines() if line.startswith("sources disagree on Cookie length: ")]
    assert "45 days from CJ Advertiser Lookup API (cj-agency)" in line and \
        "60 days from CJ Advertiser Lookup API (cj-brand)" in line, line


def test_search_names_categories_by_their_title_which_category_takes_too(tmp_path, monkeypatch):
    """`amx search` showed categories by their code (hosting_domains), in its table and its facet line, where the
    explorer shows their titles: each is shown by its title, which `--category` takes as well as the code (the filter
    and the export keep the code)."""
    import json

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("cj", "Bluehost", "https://bluehost.com", categories=["Web Hosting"]))
    index.batch(record("cj", "Canva", "https://canva.com", categories=["SaaS"]))
    searched = CliRunner().invoke(app, ["search", ""])
    assert searched.exit_code == 0, (searched.output, searched.exception)
    assert {row[1]: row[-1] for row in cells(searched.output) if row} == {
        "Bluehost": "Hosting & domains", "Canva": "B2B SaaS"}, searched.output
    assert "Categories: B2B SaaS (1), Hosting & domains (1)" in searched.output, searched.output
    assert "hosting_domains" not in searched.output
    for typed in ("hosting_domains", "Hosting & domains", "hosting  & DOMAINS"):
        filtered = CliRunner().invoke(app, ["search", "", "--category", typed])
        assert filtered.exit_code == 0, (typed, filtered.output)
        assert {row[1] for row in cells(filtered.output) if row} == {"Bluehost"}, (typed, filtered.output)
    exported = CliRunner().invoke(app, ["export", "programs", "--format", "jsonl", "--category", "Hosting & domains"])
    [program] = [json.loads(line) for line in exported.stdout.splitlines() if line.startswith("{")]
    assert program["categories"] == ["hosting_domains"], program


def test_a_network_the_taxonomy_knows_is_named_by_its_proper_name_though_no_plugin_reads_it(tmp_path, monkeypatch):
    """The demo's HostFast (a directory names ShareASale) was listed "shareasale" beside "CJ" and "Impact", in
    `amx search` and the explorer alike: a network the taxonomy recognises has its proper name too."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("affiliatesdirectory", "HostFast", "https://hostfast.net", network="ShareASale"))
    index.batch(record("affiliationlist", "Notion", "https://notion.so", network="PartnerStack"))
    searched = CliRunner().invoke(app, ["search", ""])
    assert searched.exit_code == 0, (searched.output, searched.exception)
    assert {row[1]: row[5] for row in cells(searched.output) if row} == {"HostFast": "ShareASale",
                                                                          "Notion": "PartnerStack"}, searched.output
    filtered = CliRunner().invoke(app, ["search", "", "--network", "ShareASale"])
    assert {row[1] for row in cells(filtered.output) if row} == {"HostFast"}, filtered.output


def test_search_and_export_take_a_source_by_the_title_the_tables_show(tmp_path, monkeypatch):
    """README: `--source` takes a source by its code or by the words the tables show, as `--network` and `--category`
    do; the title `amx show` and `compare` print ('CJ Advertiser Lookup API') was refused as no source's name."""
    indexed(tmp_path, monkeypatch)
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Hostinger", "https://hostinger.com"))
    for typed in ("cj", "CJ Advertiser Lookup API", "cj advertiser  lookup api"):
        found = CliRunner().invoke(app, ["search", "--source", typed])
        assert found.exit_code == 0, (typed, found.output, found.exception)
        assert "Bluehost" in found.output and "Hostinger" not in found.output, (typed, found.output)
    exported = CliRunner().invoke(app, ["export", "programs", "--format", "jsonl", "--source", "AffiliatePrograms.com"])
    assert exported.exit_code == 0, (exported.output, exported.exception)
    assert len([line for line in exported.stdout.splitlines() if line.startswith("{")]) == 2, exported.stdout
