"""Settings read from the environment: our reader of the AMX_* variables gives what pydantic-settings' own
environment source gives for these settings (config._Variables), and a bad or unknown one is one ConfigError."""

import os

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
