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
    synced.sync("offervault")
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
    assert any(row[:1] == ("networks",) and row[1].startswith("MaxBounty") for row in rows), shown.output
    found = CliRunner().invoke(cli, ["search", "--network", "maxbounty"])
    assert found.exit_code == 0, (found.output, found.exception)
    assert re.search(r"networks: .*MaxBounty \(\d+\)", found.output), found.output  # its facet's label
    table = [[cell.strip() for cell in line.split("│")[1:-1]] for line in found.output.splitlines() if "│" in line]
    assert all("MaxBounty" in row for row in table[1:]) and "maxbounty" not in found.output, found.output
