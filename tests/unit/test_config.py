"""Settings read from the environment: our reader of the AMX_* variables gives what pydantic-settings' own
environment source gives for these settings (config._Variables), and a bad or unknown one is one ConfigError."""

import os
from decimal import Decimal

import pytest
from pydantic_settings import EnvSettingsSource

from affiliate_matrix.config import Settings, _Variables, load_settings
from affiliate_matrix.errors import ConfigError

ENVIRONMENT = {"AMX_LOG_LEVEL": "debug", "AMX_BUDGET_DAILY_TOTAL": "12.50", "amx_search": "opensearch",
               "AMX_S3_BUCKET": "", "AMX_ALLOW_LOOPBACK_FETCH": "true", "AMX_VAULT_TOKEN": "s3cret",
               "AMX_SECRET__NETWORK__KEY": "x", "Amx_Budget_Pacing_Tolerance": "2.5", "HOME": "/root"}


def test_the_variables_read_as_pydantic_settings_reads_them(monkeypatch):
    for name in [n for n in os.environ if n.lower().startswith("amx_")]:
        monkeypatch.delenv(name)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    assert _Variables(Settings)() == EnvSettingsSource(Settings)()
    assert Settings() == Settings(**EnvSettingsSource(Settings)())
    settings = Settings()
    assert (settings.log_level, str(settings.budget_daily_total), settings.search, settings.s3_bucket,
            settings.allow_loopback_fetch, settings.budget_pacing_tolerance) == ("debug", "12.50", "opensearch",
                                                                   "affiliate-matrix", True, 2.5)
    assert Settings(log_level="error").log_level == "error"  # an argument wins over a variable


@pytest.mark.parametrize("variable", ["AMX_FLAGS_TTL_S", "amx_flags_ttl_s"])
def test_a_retired_setting_is_refused_with_why(monkeypatch, variable):
    """AMX_FLAGS_TTL_S bounded how stale the flags could be; they are checked on every request now."""
    monkeypatch.setenv(variable, "10")
    with pytest.raises(ConfigError, match=f"{variable}: no longer a setting: every request checks the flags"):
        load_settings()


def test_a_bad_setting_is_one_config_error_naming_it(monkeypatch):
    monkeypatch.setenv("AMX_BUDGET_CURRENCY", "dollars")
    with pytest.raises(ConfigError, match="AMX_BUDGET_CURRENCY"):
        load_settings()
    monkeypatch.delenv("AMX_BUDGET_CURRENCY")
    monkeypatch.setenv("AMX_LOG_LEVLE", "debug")
    with pytest.raises(ConfigError, match="did you mean AMX_LOG_LEVEL"):
        load_settings()


@pytest.mark.parametrize("value, totals", [
    ("12.50", {"USD": "12.50"}),  # a lone amount, in AMX_BUDGET_CURRENCY as ever
    ("USD=500.00,EUR=300.00", {"USD": "500.00", "EUR": "300.00"}),
    (" USD=500 , JPY=1000 ", {"USD": "500", "JPY": "1000"}),
])
def test_the_daily_total_is_one_amount_or_a_total_per_currency(monkeypatch, value, totals):
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", value)
    assert {code: str(total) for code, total in load_settings().budget_totals.items()} == totals


@pytest.mark.parametrize("value, fragment", [
    ("USD=500.00,EUR=3.001", "'EUR=3.001': must be in whole cents (at most 2 decimal places)"),
    ("USD=1e400", "'USD=1e400': Input should be less than or equal to 1E+12"),
    ("USD=1,EUR=2,USD=3", "'USD=3': USD is given twice"),
    ("USD=1,XYZ=2", "'XYZ=2': 'XYZ' is not an ISO-4217 currency code"),
    ("USD=1,eur=2", "'eur=2': 'eur' is not an ISO-4217 currency code"),
    ("USD=1,,EUR=2", "'' is not CURRENCY=AMOUNT"),
    ("USD=1,EUR", "'EUR' is not CURRENCY=AMOUNT"),
    ("USD=1;EUR=2", "'USD=1;EUR=2': Input should be a valid decimal"),
    ("USD=-5", "'USD=-5': Input should be greater than or equal to 0"),
    ("-5", "Input should be greater than or equal to 0"),
    ("USD=1,JPY=100.50", "'JPY=100.50': JPY has no minor unit: 100.50 is not a whole amount"),
])
def test_a_bad_daily_total_is_refused_naming_the_setting_and_the_entry(monkeypatch, value, fragment):
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value).startswith("AMX_BUDGET_DAILY_TOTAL: ") and fragment in str(refused.value)


def test_totals_per_currency_without_usd_start_when_no_lone_amounts_currency_is_set(monkeypatch):
    """AMX_BUDGET_DAILY_TOTAL=EUR=300.00 stopped every start: "AMX_BUDGET_CURRENCY: USD has no total ... unset it",
    for a setting nobody had set (its default, USD, was judged as if given)."""
    monkeypatch.delenv("AMX_BUDGET_CURRENCY", raising=False)
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "EUR=300.00,JPY=5000")
    assert load_settings().budget_totals == {"EUR": Decimal("300.00"), "JPY": Decimal("5000")}
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "12.50")  # a lone amount is still in USD unless set
    assert load_settings().budget_totals == {"USD": Decimal("12.50")}


def test_a_currency_for_a_lone_amount_beside_totals_per_currency_that_lack_it_is_refused(monkeypatch):
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "USD=500.00,EUR=300.00")
    monkeypatch.setenv("AMX_BUDGET_CURRENCY", "GBP")
    with pytest.raises(ConfigError, match="AMX_BUDGET_CURRENCY: GBP has no total in AMX_BUDGET_DAILY_TOTAL"):
        load_settings()
    monkeypatch.setenv("AMX_BUDGET_CURRENCY", "EUR")  # one of them: harmless
    assert list(load_settings().budget_totals) == ["USD", "EUR"]


def test_a_lone_amount_with_cents_in_a_currency_without_them_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "5000.50")
    monkeypatch.setenv("AMX_BUDGET_CURRENCY", "JPY")
    with pytest.raises(ConfigError, match="AMX_BUDGET_CURRENCY: AMX_BUDGET_DAILY_TOTAL 5000.50: JPY has no minor unit"):
        load_settings()
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "5000")
    assert load_settings().budget_totals == {"JPY": 5000}


def test_a_discovery_language_without_dork_templates_is_refused_at_start(monkeypatch):
    """AMX_DISCOVERY_LANGUAGES took any two letters; every cron run then failed on one with no templates."""
    monkeypatch.setenv("AMX_DISCOVERY_LANGUAGES", "nl,pt,it")
    assert load_settings().discovery_languages == "nl,pt,it"
    monkeypatch.setenv("AMX_DISCOVERY_LANGUAGES", "en,xx")
    with pytest.raises(ConfigError, match=r"AMX_DISCOVERY_LANGUAGES: .*\(en\|de\|fr\|es\|nl\|pt\|it\)"):
        load_settings()


def test_the_discovery_languages_setting_takes_exactly_the_languages_dorks_are_written_in():
    from affiliate_matrix.discovery.dorks import TEMPLATES

    pattern = Settings.model_fields["discovery_languages"].metadata[0].pattern
    assert pattern == f"^({'|'.join(TEMPLATES)})(,({'|'.join(TEMPLATES)}))*$"
