"""Settings read from the environment: our reader of the AMX_* variables gives what pydantic-settings' own
environment source gives for these settings (config._Variables), and a bad or unknown one is one ConfigError."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic_settings import EnvSettingsSource

from affiliate_matrix.budget.settings import BudgetSettings, budget_totals
from affiliate_matrix.config import HELD, Settings, _Variables, held, load_settings
from affiliate_matrix.discovery.settings import DiscoverySettings
from affiliate_matrix.events.settings import EventSettings
from affiliate_matrix.errors import ConfigError

ENVIRONMENT = {"AMX_LOG_LEVEL": "debug", "AMX_BUDGET_DAILY_TOTAL": "12.50", "amx_search": "opensearch",
               "AMX_S3_BUCKET": "", "AMX_ALLOW_LOOPBACK_FETCH": "true", "AMX_VAULT_TOKEN": "s3cret",
               "AMX_SECRET__NETWORK__KEY": "x", "Amx_Budget_Pacing_Tolerance": "2.5", "HOME": "/root",
               "AMX_DISCOVERY_NICHES": "pets,travel", "amx_searxng_url": "http://127.0.0.1:8888", "AMX_GOOGLE_CSE_URL": "",
               "AMX_EVENTS": "http", "AMX_NAMESPACE": "ours", "AMX_BROKER_TOKEN_PATH": "/var/run/token"}


def test_the_variables_read_as_pydantic_settings_reads_them(monkeypatch):
    for name in [n for n in os.environ if n.lower().startswith("amx_")]:
        monkeypatch.delenv(name)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    for kind in (Settings, *held()):  # the settings every function reads, and each concern's
        assert _Variables(kind)() == EnvSettingsSource(kind)()
        assert kind() == kind(**EnvSettingsSource(kind)())
    settings, budget = Settings(), BudgetSettings()
    assert (settings.log_level, str(budget.budget_daily_total), settings.search, settings.s3_bucket,
            settings.allow_loopback_fetch, budget.budget_pacing_tolerance) == ("debug", "12.50", "opensearch",
                                                                 "affiliate-matrix", True, 2.5)
    assert Settings(log_level="error").log_level == "error"  # an argument wins over a variable
    assert BudgetSettings(budget_strategy="equal").budget_strategy == "equal"
    discovery = DiscoverySettings()
    assert (discovery.discovery_niches, discovery.searxng_url, discovery.google_cse_url) == (
        "pets,travel", "http://127.0.0.1:8888", "https://www.googleapis.com")
    events = EventSettings()
    assert (events.events, events.namespace, events.broker_token_path) == ("http", "ours", Path("/var/run/token"))


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
    ("usd=500,Eur=300", {"USD": "500", "EUR": "300"}),  # a code as typed (codes.typed_currency)
])
def test_the_daily_total_is_one_amount_or_a_total_per_currency(monkeypatch, value, totals):
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", value)
    assert {code: str(total) for code, total in budget_totals(load_settings()).items()} == totals


@pytest.mark.parametrize("value, fragment", [
    ("USD=500.00,EUR=3.001", "'EUR=3.001': must be in whole cents (at most 2 decimal places)"),
    ("USD=1e400", "'USD=1e400': Input should be less than or equal to 1E+12"),
    ("USD=1,EUR=2,USD=3", "'USD=3': USD is given twice"),
    ("USD=1,XYZ=2", "'XYZ=2': 'XYZ' is not an ISO-4217 currency code"),
    ("USD=1,eus=2", "'eus=2': 'EUS' is not an ISO-4217 currency code"),  # eur is EUR, as typed
    ("USD=1,,EUR=2", "'' is not CURRENCY=AMOUNT"),
    ("USD=1,EUR", "'EUR' is not CURRENCY=AMOUNT"),
    ("USD=1;EUR=2", "'USD=1;EUR=2': '1;EUR=2' is not a number in ASCII digits, as 1234.50"),
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
    assert budget_totals(load_settings()) == {"EUR": Decimal("300.00"), "JPY": Decimal("5000")}
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "12.50")  # a lone amount is still in USD unless set
    assert budget_totals(load_settings()) == {"USD": Decimal("12.50")}


def test_a_currency_for_a_lone_amount_beside_totals_per_currency_that_lack_it_is_refused(monkeypatch):
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "USD=500.00,EUR=300.00")
    monkeypatch.setenv("AMX_BUDGET_CURRENCY", "GBP")
    with pytest.raises(ConfigError, match="AMX_BUDGET_CURRENCY: GBP has no total in AMX_BUDGET_DAILY_TOTAL"):
        load_settings()
    monkeypatch.setenv("AMX_BUDGET_CURRENCY", "EUR")  # one of them: harmless
    assert list(budget_totals(load_settings())) == ["USD", "EUR"]


def test_a_lone_amount_with_cents_in_a_currency_without_them_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "5000.50")
    monkeypatch.setenv("AMX_BUDGET_CURRENCY", "JPY")
    with pytest.raises(ConfigError, match="AMX_BUDGET_CURRENCY: AMX_BUDGET_DAILY_TOTAL 5000.50: JPY has no minor unit"):
        load_settings()
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "5000")
    assert budget_totals(load_settings()) == {"JPY": 5000}


def test_a_discovery_language_without_dork_templates_is_refused_at_start(monkeypatch):
    """AMX_DISCOVERY_LANGUAGES took any two letters; every cron run then failed on one with no templates."""
    monkeypatch.setenv("AMX_DISCOVERY_LANGUAGES", "nl,pt,it")
    assert load_settings().discovery_languages == "nl,pt,it"
    monkeypatch.setenv("AMX_DISCOVERY_LANGUAGES", "en,xx")
    with pytest.raises(ConfigError, match=r"AMX_DISCOVERY_LANGUAGES: .*\(en\|de\|fr\|es\|nl\|pt\|it\)"):
        load_settings()


def test_the_discovery_languages_setting_takes_exactly_the_languages_dorks_are_written_in():
    from affiliate_matrix.discovery.dorks import TEMPLATES

    pattern = DiscoverySettings.model_fields["discovery_languages"].metadata[0].pattern
    assert pattern == f"^({'|'.join(TEMPLATES)})(,({'|'.join(TEMPLATES)}))*$"


def _start_defines(variables: dict[str, str]) -> list[str]:
    """Which of the classes Settings holds (config.HELD) a function's start (load_settings) defines, in a fresh
    process with `variables` set."""
    import subprocess
    import sys

    env = {name: value for name, value in os.environ.items() if not name.lower().startswith("amx_")}
    shown = subprocess.run([sys.executable, "-c", "import sys; from affiliate_matrix.config import HELD, load_settings; "
                            "load_settings(); print([p for p in HELD if p.rpartition('.')[0] in sys.modules])"],
                           env={**env, **variables}, capture_output=True, text=True, check=True).stdout
    return eval(shown)  # a list of the names in HELD, printed by the line above


def test_a_start_defines_none_of_the_backends_or_fetchings_settings_unless_one_is_set():
    """Every start defined the S3, OpenSearch, Vault, retention and fetching settings (21 of them, ~0.4 M
    instructions each) though a start on the embedded backends reads none: Settings holds each group as a class
    defined by the first read of one of its settings, or at start when one is set (so a bad one still stops it)."""
    assert _start_defines({}) == []
    assert _start_defines({"AMX_S3_BUCKET": "ours"}) == ["affiliate_matrix.storage.settings.S3Settings"]
    assert _start_defines({"amx_vault_role": "fn"}) == ["affiliate_matrix.secrets.settings.VaultSettings"]


def test_each_held_setting_is_one_classs_and_none_of_settings_own():
    """Settings reads a held setting from the one class HELD names for it: a name two classes had, or Settings too,
    would be read from one of them and the other's never (nor its variable checked by it)."""
    named = [name for names in HELD.values() for name in names]
    clashes = {name for name in named if named.count(name) > 1} | (set(named) & set(Settings.model_fields))
    assert not clashes, f"settings of more than one class: {sorted(clashes)}"


def test_the_held_settings_are_read_given_and_checked_as_settings_own(monkeypatch):
    for kind in held():
        assert tuple(kind.model_fields) == HELD[f"{kind.__module__}.{kind.__name__}"]
    monkeypatch.setenv("AMX_S3_BUCKET", "from-the-variable")
    settings = Settings(crawl_time_limit_s=60)
    assert (settings.s3_bucket, settings.crawl_time_limit_s, settings.opensearch_url, settings.vault_token) == (
        "from-the-variable", 60, "http://127.0.0.1:9200", None)
    assert Settings(s3_bucket="given").s3_bucket == "given"  # an argument wins over a variable
    assert load_settings(vault_token="t0ken").vault_token.get_secret_value() == "t0ken"
    with pytest.raises(AttributeError, match="no_such"):
        settings.no_such
    monkeypatch.setenv("AMX_VAULT_TOKEN_TTL_S", "0")
    with pytest.raises(ConfigError, match="AMX_VAULT_TOKEN_TTL_S: Input should be greater than 0"):
        load_settings()
    monkeypatch.delenv("AMX_VAULT_TOKEN_TTL_S")
    with pytest.raises(ConfigError, match="AMX_RETENTION_DEAD_LETTERS_DAYS: Input should be greater than or equal to 1"):
        load_settings(retention_dead_letters_days=0)
    monkeypatch.setenv("AMX_USER_AGNET", "x")
    with pytest.raises(ConfigError, match="did you mean AMX_USER_AGENT"):
        load_settings()


def test_a_start_defines_only_the_settings_every_function_reads_unless_a_concerns_variable_is_set():
    """Every start defined all 49 settings, ~0.6 M instructions a field, though most functions read a few of them: the
    budget's, discovery's and the event path's settings are each a class Settings holds, defined when that work reads
    them, or at start when one is set (so a bad one still stops the start)."""
    assert _start_defines({"AMX_BUDGET_STRATEGY": "equal"}) == ["affiliate_matrix.budget.settings.BudgetSettings"]
    assert _start_defines({"AMX_DISCOVERY_NICHES": "pets"}) == ["affiliate_matrix.discovery.settings.DiscoverySettings"]
    assert _start_defines({"AMX_NAMESPACE": "ours"}) == ["affiliate_matrix.events.settings.EventSettings"]


def test_a_start_keeps_the_settings_it_read(monkeypatch):
    """A held class whose variable is set is read with the start's settings, as every setting was: not again later."""
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DISCOVERY_NICHES", "pets")
    rt = Runtime("test")
    monkeypatch.delenv("AMX_DISCOVERY_NICHES")
    assert rt.settings.discovery_niches == "pets"
    assert rt.settings.budget_strategy == "optimal"  # none set: read on first use


def test_a_misspelt_held_setting_is_named_with_the_likely_one(monkeypatch):
    monkeypatch.setenv("AMX_BUDGET_STRATEGI", "equal")
    with pytest.raises(ConfigError, match="AMX_BUDGET_STRATEGI: unknown setting; did you mean AMX_BUDGET_STRATEGY"):
        load_settings()
    monkeypatch.delenv("AMX_BUDGET_STRATEGI")
    monkeypatch.setenv("AMX_budget_strategy", "equal")  # AMX_ is spelt as every setting is: so is the rest
    with pytest.raises(ConfigError, match="AMX_budget_strategy: unknown setting"):
        load_settings()


def test_an_override_goes_to_the_class_that_has_it(monkeypatch):
    """`amx demo` starts its runtime with events=inprocess, a setting of the event path's class."""
    monkeypatch.setenv("AMX_EVENTS", "http")
    settings = load_settings(log_level="error", events="inprocess", budget_strategy="equal")
    assert (settings.log_level, settings.events, settings.budget_strategy) == ("error", "inprocess", "equal")
    with pytest.raises(ConfigError, match="AMX_NO_SUCH: Extra inputs are not permitted"):
        load_settings(no_such=1)
    with pytest.raises(ConfigError, match="AMX_BUDGET_HISTORY_DAYS: Input should be greater than or equal to 7"):
        load_settings(budget_history_days=3)


def test_a_copy_of_the_settings_owns_the_held_settings_it_reads(monkeypatch):
    """model_copy shared the table of held classes built so far: a class one of the two built later, read with the
    variables then, was the other's too."""
    original = Settings()
    copied = original.model_copy()
    monkeypatch.setenv("AMX_BUDGET_STRATEGY", "equal")
    assert copied.budget_strategy == "equal"  # read on first use, now
    monkeypatch.delenv("AMX_BUDGET_STRATEGY")
    assert original.budget_strategy == "optimal"
    # a copy starts from what its original read: a class built before is not read again
    assert [c.budget_strategy for c in (copied.model_copy(), copied.model_copy(deep=True))] == ["equal", "equal"]
