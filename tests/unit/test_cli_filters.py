"""`amx search` and `amx export programs` take the API's words, filters and bounds and check them as the API checks them
(one query builder, handlers.programs.query_of; the words as q, program_shapes.searchable): a misspelt value was no
error and found nothing, which reads as "no such programs"."""

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
    (["search", "--kind", "netwrok"], "--kind", "must be one of 'program' or 'offer', got 'netwrok'"),
    (["search", "--commission-type", "percentage"], "--commission-type", "must be one of 'percent' or 'flat', got 'percentage'"),
    (["search", "--payout-method", "Pay Pal"], "--payout-method", "must be one of 'paypal'"),
    (["search", "--network", ""], "--network", "has a blank value"),
    (["search", "--status", "open"], "--status", "must be one of 'active'"),
    (["export", "programs", "--category", "hosting"], "--category", "must be one of"),
    (["export", "programs", "--network", " "], "--network", "has a blank value"),
    (["search", "--deeplinks", "yes"], "--deeplinks", "must be one of 'allowed' or 'not_allowed', got 'yes'"),
    (["export", "programs", "--deeplinks", "true"], "--deeplinks", "must be one of 'allowed' or"),
    # what the API refuses, in its words, naming the option
    (["search", "--min-commission-flat", "40"], "--min-commission-flat",  # said as options, not a query string
     "needs --flat-currency (as --flat-currency USD --min-commission-flat 40): amounts in "
     "different currencies are not comparable"),
    (["export", "programs", "--min-epc", "0.5"], "--min-epc",
     "needs --epc-currency (as --epc-currency USD --min-epc 0.5)"),
    (["search", "--max-payment-days", "-1"], "--max-payment-days",  # a bound as the API checks it, as the others
     "must be a number of at least 0 in digits, as 2.5, got '-1'"),
    (["export", "programs", "--max-payment-days", "soon"], "--max-payment-days",
     "must be a number of at least 0 in digits, as 2.5, got 'soon'"),
    (["search", "--min-cookie-days", "1e3"], "--min-cookie-days",
     "must be a number of at least 0 in digits, as 2.5, got '1e3'"),
    # the words, as the API checks its q, named as the command takes them: `host*` was searched as host
    (["search", "web", "host*"], "text", "the text contains query syntax ('*'); search for plain words"),
    (["search", "web--hosting"], "text", "the text contains query syntax ('--')"),
    (["export", "programs", "--q", "web;hosting"], "--q", "the text contains query syntax (';')"),
    (["search", "web\u202ehosting"], "text", "the text holds U+202E, a control character"),
    # as given, with what the command takes (the API's refusal said 'OPEN TO EVERY COUNT…' and only its codes)
    (["search", "--country", "Open to every countri"], "--country",
     "'Open to every countri' is not a country: give its ISO 3166 code (DE) or its name as shown (Germany), or "
     '"Open to every country" for the programs naming none'),
    (["export", "programs", "--country", "x" * 41], "--country", f"'{'x' * 39}…' is not a country"),
    (["export", "programs", "--flat-currency", "euro"], "--flat-currency", "'euro' is not a currency"),
    (["search", "--source", "no such"], "--source", "'no such' is no source's name"),
    (["export", "programs", "--epc-window", "30d"], "--epc-window", "must be one of '7d' or '90d'"),
])
def test_what_the_api_refuses_is_a_usage_error_naming_the_option_or_argument(index, args, option, said):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}': {said}" in " ".join(result.output.replace("│", " ").split())


def test_the_new_filter_options_find_what_they_name(index):
    result = CliRunner().invoke(app, ["search", "--kind", "offer"])
    assert result.exit_code == 0, result.output
    assert "Offer Shop" in result.output and "Program Shop" not in result.output


def test_amx_search_and_export_find_programs_by_deep_links_and_average_payment_days(tmp_path, monkeypatch):
    """The API's deeplinks and max_payment_days, as options of both commands: a program with no figure is not listed
    by --max-payment-days; --deeplinks takes the code or the words the explorer shows."""
    import json
    from decimal import Decimal

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.index.ensure_index(PROGRAMS_INDEX)
    made = []
    for name, days, allowed in [("Quick Link", "20", True), ("Slow Link", "60", True), ("No Link", "25", False),
                                ("Unsaid", None, None)]:
        program = make_program(name, f"https://{name.replace(' ', '').lower()}.com")
        program.average_payment_days, program.deeplinks_allowed = days and Decimal(days), allowed
        made.append(to_document(program))
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, made, refresh=True)

    def searched(*args) -> list[str]:
        result = CliRunner().invoke(app, ["search", *args])
        assert result.exit_code == 0, result.output
        return [name for name in ("Quick Link", "Slow Link", "No Link", "Unsaid") if name in result.output]

    def exported(*args) -> list[str]:
        result = CliRunner().invoke(app, ["export", "programs", "--format", "jsonl", *args])
        assert result.exit_code == 0, result.output
        return sorted(json.loads(line)["name"] for line in result.stdout.splitlines() if line.startswith("{"))

    assert searched("--max-payment-days", "30") == ["Quick Link", "No Link"]
    assert searched("--deeplinks", "allowed") == ["Quick Link", "Slow Link"]
    assert searched("--deeplinks", "Not allowed", "--max-payment-days", "30") == ["No Link"]
    assert exported("--max-payment-days", "59.5") == ["No Link", "Quick Link"]
    assert exported("--deeplinks", "allowed", "--max-payment-days", "30") == ["Quick Link"]


def test_both_commands_take_every_filter_and_bound_the_api_search_takes():
    """One search option for each of program_index's FILTERS, MINIMUMS and MAXIMUMS, and no other, on `amx search` and
    `amx export programs`: a filter the API gains is not left out of the CLI unnoticed."""
    from typer.main import get_command

    from affiliate_matrix.cli.common import SEARCH_OPTIONS
    from affiliate_matrix.program_index import BOUNDS, FILTERS

    assert set(SEARCH_OPTIONS) == set(FILTERS) | set(BOUNDS)
    cli = get_command(app)
    for command in (cli.commands["search"], cli.commands["export"].commands["programs"]):
        assert set(SEARCH_OPTIONS) <= {param.name for param in command.params}, command.name


def test_a_command_with_the_search_options_lists_them_where_its_bare_star_stands_and_gets_them_by_name():
    """with_search_options declares the options once for both commands: typer reads them from the signature it
    makes, in the place --help lists them, and the command gets their values in its **options."""
    from typing import Annotated, Optional

    import typer
    from typer.main import get_command

    from affiliate_matrix.cli.common import SEARCH_OPTIONS, with_search_options

    one = typer.Typer(add_completion=False)
    got = []

    @one.command()
    @with_search_options
    def command(words: Annotated[Optional[list[str]], typer.Argument()] = None, *, limit: int = 20, **options):
        got.append((words, limit, options))

    assert [param.name for param in get_command(one).params] == ["words", *SEARCH_OPTIONS, "limit"]
    result = CliRunner().invoke(one, ["web", "--kind", "offer", "--kind", "program", "--min-epc", "1.5",
                                      "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert got == [(["web"], 5, {**dict.fromkeys(SEARCH_OPTIONS), "kind": ["offer", "program"], "min_epc": "1.5"})]
    with pytest.raises(TypeError, match="takes no \\*\\*options"):
        with_search_options(lambda words=None: None)


@pytest.fixture
def shops(tmp_path, monkeypatch):
    """Programs told apart by country, commission, cookie and EPC, indexed as indexing writes them."""
    from decimal import Decimal

    from affiliate_matrix.models import CommissionTerm, Money

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.index.ensure_index(PROGRAMS_INDEX)
    made = []
    for name, countries, percent, flat, cookie, epc in [
            ("Berlin Shop", ["DE"], "25", None, 30, ("2.0", "USD")),
            ("Paris Shop", ["FR"], "30", None, 60, ("3.0", "EUR")),
            ("Anywhere Shop", [], "10", ("50", "EUR"), 90, None),
            ("Short Cookie", ["DE"], "40", ("20", "USD"), 7, ("1.0", "USD"))]:
        program = make_program(name, f"https://{name.replace(' ', '').lower()}.com")
        program.countries, program.cookie_days = countries, cookie
        program.commission = [CommissionTerm(type="percent", value_max=Decimal(percent))] + (
            [CommissionTerm(type="flat", value_max=Decimal(flat[0]), currency=flat[1])] if flat else [])
        program.epc_7d = Money(amount=Decimal(epc[0]), currency=epc[1]) if epc else None
        made.append(to_document(program))
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, made, refresh=True)


SHOPS = ("Berlin Shop", "Paris Shop", "Anywhere Shop", "Short Cookie")


def searched(*args) -> list[str]:
    result = CliRunner().invoke(app, ["search", *args])
    assert result.exit_code == 0, result.output
    return [name for name in SHOPS if name in result.output]


def exported(*args) -> list[str]:
    import json

    result = CliRunner().invoke(app, ["export", "programs", "--format", "jsonl", *args])
    assert result.exit_code == 0, result.output
    return sorted(json.loads(line)["name"] for line in result.stdout.splitlines() if line.startswith("{"))


def test_amx_search_and_export_take_the_api_s_country_filter_and_minimums(shops):
    """"Programs in DE paying at least 20% with a 30-day cookie", as the API answers it: a program naming no country
    takes DE too; a country by its code or its name as shown."""
    assert searched("--country", "DE") == ["Berlin Shop", "Anywhere Shop", "Short Cookie"]
    assert searched("--country", "Germany", "--min-commission-percent", "20", "--min-cookie-days", "30") == [
        "Berlin Shop"]
    assert exported("--country", "de", "--min-commission-percent", "20") == ["Berlin Shop", "Short Cookie"]
    assert exported("--min-cookie-days", "60") == ["Anywhere Shop", "Paris Shop"]


def test_an_amount_s_minimum_is_met_in_the_currency_asked(shops):
    """--min-commission-flat and --min-epc with their currency, as the API's flat_currency and epc_currency: €50 meets
    a minimum of 40 in EUR, $20 none, in no exchange rate's terms."""
    assert searched("--flat-currency", "EUR", "--min-commission-flat", "40") == ["Anywhere Shop"]
    assert exported("--flat-currency", "usd", "--min-commission-flat", "40") == []
    assert exported("--flat-currency", "USD") == ["Short Cookie"]
    assert searched("--epc-currency", "USD", "--min-epc", "1.5") == ["Berlin Shop"]
    assert exported("--epc-currency", "EUR", "--min-epc", "1.5") == ["Paris Shop"]
    assert exported("--epc-currency", "EUR", "--epc-window", "90d") == []  # no 3-month EPC held
