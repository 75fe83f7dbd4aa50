"""`amx search` and `amx export programs` check their filter options as the API checks its filters (one check,
search_params.checked_filter): a misspelt value was no error and found nothing, which reads as "no such programs"."""

import pytest
from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.config import Settings
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from tests.support.factories import make_program


@pytest.fixture
def index(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # one line per row, the error's box unwrapped
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.index.ensure_index(PROGRAMS_INDEX)
    programs = [make_program("Offer Shop", "https://offershop.com", kind="offer"),
                make_program("Program Shop", "https://programshop.com")]
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in programs], refresh=True)


@pytest.mark.parametrize("args,option,said", [
    (["search", "--kind", "netwrok"], "--kind", "kind must be one of 'program' or 'offer', got 'netwrok'"),
    (["search", "--commission-type", "percentage"], "--commission-type", "commission_type must be one of 'percent' or 'flat', got 'percentage'"),
    (["search", "--payout-method", "Pay Pal"], "--payout-method", "payout_method must be one of 'paypal'"),
    (["search", "--network", ""], "--network", "network has a blank value"),
    (["search", "--status", "open"], "--status", "status must be one of 'active'"),
    (["export", "programs", "--category", "hosting"], "--category", "category must be one of"),
    (["export", "programs", "--network", " "], "--network", "network has a blank value"),
])
def test_a_filter_option_it_cannot_match_is_a_usage_error_naming_it(index, args, option, said):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {option}: {said}" in " ".join(result.output.replace("│", " ").split())


def test_the_new_filter_options_find_what_they_name(index):
    result = CliRunner().invoke(app, ["search", "--kind", "offer"])
    assert result.exit_code == 0, result.output
    assert "Offer Shop" in result.output and "Program Shop" not in result.output
