"""A network neither a plugin nor the taxonomy names (OfferVault's MaxBounty and ClickDealer, in its recorded answers)
is shown as its source wrote it, in the explorer's Network filter, a program's page and `amx show`/`amx search`, where
it was its folded key (maxbounty); filters, facets' values and the API keep the key."""

import re

import pytest
from typer.testing import CliRunner

from affiliate_matrix.cli import app as cli
from tests.support.apps import signed_in_web
from tests.support.syncing import Synced


@pytest.fixture
def synced(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "400")  # the CLI's tables one line a row
    synced = Synced(tmp_path / "data")
    synced.sync("offervault", "cj")  # and a network a plugin names (CJ)
    return synced


def offered_by(synced, network: str) -> dict:
    """The first program the index lists on `network` (its key), read whole from the programs API."""
    item = synced.get(f"/programs?network={network}&limit=1")["items"][0]
    return synced.get(f"/programs/{item['id']}")


@pytest.fixture
def web(synced):
    return signed_in_web(synced.rt.secrets)


def test_the_index_keeps_the_key_and_the_listing_the_name_as_the_source_wrote_it(synced):
    program = offered_by(synced, "maxbounty")
    assert [(n["network"], n["title"]) for n in program["networks"]] == [("maxbounty", "MaxBounty")]
    counted = {b["value"] for b in synced.get("/programs?limit=1")["facets"]["networks"]}
    assert {"maxbounty", "clickdealer"} <= counted  # facets and filters take the key


def network_filter(page: str) -> set[tuple[str, str, bool]]:
    """The Network filter's boxes: (value, label, ticked)."""
    return {(value, label, bool(checked)) for value, checked, label in re.findall(
        r'name="network" value="([^"]*)"( checked)?>\s*<label[^>]*>([^<(]*?)\s*(?:<span|</label>)', page)}


def test_the_network_filter_and_the_program_page_show_the_name_as_written(synced, web):
    page = web.get("/programs").text
    assert network_filter(page) >= {("maxbounty", "MaxBounty", False), ("clickdealer", "ClickDealer", False)}, page
    ticked = web.get("/programs?network=maxbounty").text  # a chosen value is labelled so too
    assert ("maxbounty", "MaxBounty", True) in network_filter(ticked), ticked
    shown = web.get(f"/programs/{offered_by(synced, 'maxbounty')['id']}").text
    assert "<li>MaxBounty: " in shown.split("<h2>Join</h2>")[1].split("</ul>")[0], shown
    networks = re.search(r'data-label="Field">Networks</th>\s*<td data-label="Value">([^<]*)</td>', shown).group(1)
    assert networks.startswith("MaxBounty"), networks
    assert ">maxbounty<" not in shown and "maxbounty (" not in shown


def test_amx_show_and_search_name_it_as_written(synced):
    program = offered_by(synced, "maxbounty")
    shown = CliRunner().invoke(cli, ["show", program["id"]])
    assert shown.exit_code == 0, (shown.output, shown.exception)
    rows = {tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in shown.output.splitlines()}
    assert any(row[:1] == ("Networks",) and row[1].startswith("MaxBounty") for row in rows), shown.output
    found = CliRunner().invoke(cli, ["search", "--network", "maxbounty"])
    assert found.exit_code == 0, (found.output, found.exception)
    assert re.search(r"Networks: .*MaxBounty \(\d+\)", found.output), found.output  # its facet's label
    table = [[cell.strip() for cell in line.split("│")[1:-1]] for line in found.output.splitlines() if "│" in line]
    assert all("MaxBounty" in row for row in table[1:]) and "maxbounty" not in found.output, found.output


def test_the_merchants_list_and_a_merchants_rows_name_it_as_written_and_keep_the_key_to_filter(synced):
    """GET /merchants and /merchants/{key} gave the key alone (maxbounty), which the explorer and amx compare showed:
    each row has the name people read beside it (network_titles, network_title), a known network by its proper name
    (CJ), the key staying the field a filter takes."""
    listed = {m["merchant_key"]: m for m in synced.get("/merchants?limit=100")["items"]}
    keto = offered_by(synced, "maxbounty")["merchant_key"]
    bluehost = offered_by(synced, "cj")["merchant_key"]
    assert (listed[keto]["networks"], listed[keto]["network_titles"]) == (["maxbounty"], {"maxbounty": "MaxBounty"})
    assert (listed[bluehost]["networks"], listed[bluehost]["network_titles"]) == (["cj"], {"cj": "CJ"})
    rows = synced.get(f"/merchants/{keto}")["rows"]
    assert {(row["network"], row["network_title"]) for row in rows} == {("maxbounty", "MaxBounty")}, rows
    assert {(row["network"], row["network_title"]) for row in synced.get(f"/merchants/{bluehost}")["rows"]} == {
        ("cj", "CJ")}
    schemas = synced.api.get("/openapi.json").get_json()["components"]["schemas"]
    assert "MaxBounty" in schemas["SourceRow"]["properties"]["network_title"]["description"]
    assert "MaxBounty" in schemas["MerchantSummary"]["properties"]["network_titles"]["description"]


def test_the_merchants_pages_and_the_graph_show_the_name_as_written_and_link_by_the_key(synced, web):
    keto = offered_by(synced, "maxbounty")["merchant_key"]
    bluehost = offered_by(synced, "cj")["merchant_key"]
    merchants = web.get("/merchants").text
    cells = dict(re.findall(r'<a href="/merchants/([^"]+)">[^<]*</a></td>.*?data-label="Networks" class="id">([^<]*)<',
                            merchants, re.S))
    assert (cells[keto], cells[bluehost]) == ("MaxBounty", "CJ"), merchants
    page = web.get(f"/merchants/{keto}").text
    assert re.findall(r'data-label="Network" class="id">([^<]*)<', page) == ["MaxBounty"], page
    for graph in (web.get(f"/graph?merchant={keto}").text, web.get("/graph?network=maxbounty").text):
        nodes = dict(re.findall(r'<a href="([^"]*)">\s*<g class="node network">\s*<title>([^<]*)</title>', graph))
        assert nodes == {"/programs?network=maxbounty": "MaxBounty"}, graph  # the link by the key
    assert "Network: MaxBounty (<a" in web.get("/graph?network=maxbounty").text  # the filter it was drawn by
    everything = web.get("/graph").text
    nodes = dict(re.findall(r'<a href="([^"]*)">\s*<g class="node network">\s*<title>([^<]*)</title>', everything))
    assert nodes.items() >= {("/programs?network=maxbounty", "MaxBounty"), ("/programs?network=cj", "CJ")}, everything
    assert ">maxbounty<" not in merchants + page + everything


def test_amx_compare_names_it_as_written(synced):
    keto = offered_by(synced, "maxbounty")["merchant_key"]
    compared = CliRunner().invoke(cli, ["compare", keto])
    assert compared.exit_code == 0, (compared.output, compared.exception)
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in compared.output.splitlines() if "│" in line]
    assert [row[2] for row in rows] == ["MaxBounty"] and "maxbounty" not in compared.output, compared.output
