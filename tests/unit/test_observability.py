import json
import re

import pytest
import structlog

from affiliate_matrix.config import Settings
from affiliate_matrix.observability import bind_request, configure_logging, get_logger


def test_json_lines_carry_function_and_request_id_and_never_a_secret(capsys):
    configure_logging("programs", fmt="json")
    request_id = bind_request("req-123")
    get_logger().info("something.happened", api_token="sk_live_secret", authorization="Bearer abc",
                      credentials_path="connections/awin", items=3)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["function"] == "programs" and line["request_id"] == request_id == "req-123"
    assert line["event"] == "something.happened" and line["level"] == "info" and line["items"] == 3
    assert line["api_token"] == line["authorization"] == "[redacted]"
    assert line["credentials_path"] == "connections/awin"
    assert "sk_live_secret" not in json.dumps(line)


def test_a_url_quoted_in_any_value_or_traceback_is_logged_without_its_credentials(capsys):
    """A secret-looking key was redacted, but a URL in a value (an error's words, a traceback) kept a query's key,
    token or signature and a password before its host, whole."""
    configure_logging("discover", fmt="json")
    bind_request("req-1")
    quoted = ("GET https://ops:hunter2@search.example/v1?q=shoes&key=AIzaSecret1&X-Amz-Signature=sig2&keyword=run"
              "&access_token=tok3: HTTP 500, after https://ghp_tok4@git.example/a@b")
    try:
        raise RuntimeError(f"no answer from {quoted}")
    except RuntimeError:
        get_logger().exception("provider.failed", reason=quoted, key="discovery/usage/2026-12-05.json")
    logged = capsys.readouterr().err.strip().splitlines()[-1]
    line = json.loads(logged)
    for secret in ("hunter2", "AIzaSecret1", "sig2", "tok3", "tok4"):
        assert secret not in logged, secret
    assert line["reason"] == ("GET https://ops:[redacted]@search.example/v1?q=shoes&key=[redacted]&X-Amz-Signature="
                              "[redacted]&keyword=run&access_token=[redacted]: HTTP 500, after "
                              "https://[redacted]@git.example/a@b")  # a token as the whole userinfo too
    assert "RuntimeError: no answer from GET https://ops:[redacted]@" in line["exception"]
    assert line["key"] == "discovery/usage/2026-12-05.json"  # a field named key is a storage key, not a credential


def test_a_secret_in_a_list_or_mapping_a_line_holds_is_redacted_as_at_the_top(capsys):
    """The redaction read only a line's own values: a list of failures (keys.checked's, each an error's words) kept a
    URL's key whole, a mapping (a backend's answer) its token, and a key's value a sync blanks out stayed in either."""
    from affiliate_matrix.observability import keys_unlogged

    configure_logging("keys", fmt="json")
    bind_request("req-2")
    with keys_unlogged(["sync-key-5678"]):
        get_logger().info("keys.checked", rotated=["connections/awin"], warned=[], failed=[
            "connections/cj: 401 for https://api.example/rotate?api_key=AIzaSecret1&q=1",
            ("connections/aw", "the provider echoed sync-key-5678")],
            answer={"auth": {"client_token": "hvs.secret", "lease_duration": 60, "policy_id": "p1"},
                    "pages": [{"url": "https://ops:hunter2@api.example/"}]})
    logged = capsys.readouterr().err.strip().splitlines()[-1]
    for secret in ("AIzaSecret1", "sync-key-5678", "hvs.secret", "hunter2"):
        assert secret not in logged, secret
    line = json.loads(logged)
    assert line["failed"] == ["connections/cj: 401 for https://api.example/rotate?api_key=[redacted]&q=1",
                              ["connections/aw", "the provider echoed [redacted]"]]
    assert line["answer"] == {"auth": {"client_token": "[redacted]", "lease_duration": 60, "policy_id": "p1"},
                              "pages": [{"url": "https://ops:[redacted]@api.example/"}]}
    assert line["rotated"] == ["connections/awin"] and line["request_id"] == "req-2"
    deep = "https://api.example/?api_key=AIzaDeep"
    for _ in range(5000):  # past Python's recursion limit: the line is written all the same, without it
        deep = [deep]
    get_logger().info("deep", value=deep)
    logged = capsys.readouterr().err.strip().splitlines()[-1]
    assert "AIzaDeep" not in logged and "nested too deep" in logged


def test_a_request_without_an_id_gets_one(capsys):
    configure_logging("scrape", fmt="json")
    request_id = bind_request(None)
    get_logger().warning("x")
    assert json.loads(capsys.readouterr().err.strip().splitlines()[-1])["request_id"] == request_id
    assert len(request_id) == 32


def test_settings_never_print_secrets():
    settings = Settings(vault_token="hvs.secret", s3_secret_access_key="abc123")
    assert "hvs.secret" not in repr(settings) and "abc123" not in str(settings.model_dump())
    for part in settings._held.values():  # the classes it holds (config.HELD), built as they were given
        assert "hvs.secret" not in repr(part) and "abc123" not in str(part.model_dump())
    assert (settings.vault_token.get_secret_value(), settings.s3_secret_access_key.get_secret_value()) == (
        "hvs.secret", "abc123")


def test_env_example_lists_every_setting_and_only_those():
    """Each setting a Settings class declares has its line (`AMX_X=default`, or a commented example of one), and each
    line is a setting: one renamed or retired would otherwise stay there, refused at start when copied."""
    from affiliate_matrix.config import SECRET_ENV_PREFIX, held
    from tests.support.processes import ROOT

    listed = set(re.findall(r"^(?:# )?(AMX_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    declared = {f"AMX_{name.upper()}" for kind in (Settings, *held()) for name in kind.model_fields}
    assert sorted(declared - listed) == []  # missing
    assert sorted(name for name in listed - declared if not name.startswith(SECRET_ENV_PREFIX)) == []  # not settings


def test_every_line_of_a_request_on_a_worker_thread_has_the_function_and_only_that_requests_context():
    """Two requests one after the other on the same pool thread (as a server's worker serves them):
    the function's name, bound at start on the main thread, is on every line of both; the first
    request's event context is gone from the second's lines."""
    from concurrent.futures import ThreadPoolExecutor

    from structlog.testing import capture_logs

    from affiliate_matrix.observability import context_processors

    configure_logging("triggers", fmt="json")

    def first_request():
        bind_request("req-1", method="POST", path="/")
        structlog.contextvars.bind_contextvars(event_id="ev-1", event_type="dev.affiliatematrix.program.delta")
        get_logger().info("event.done")

    def second_request():
        bind_request("req-2", method="GET", path="/rules")
        get_logger().info("request.done")

    with capture_logs(processors=context_processors()) as lines, ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(first_request).result()
        worker.submit(second_request).result()
    first, second = lines
    assert first["function"] == second["function"] == "triggers"
    assert (first["request_id"], first["event_id"]) == ("req-1", "ev-1")
    assert second["request_id"] == "req-2" and "event_id" not in second and "event_type" not in second


def test_a_hostile_request_id_is_replaced():
    assert bind_request("x" * 500) != "x" * 500 and bind_request("a\nb") != "a\nb"
    assert bind_request("abc-123") == "abc-123"


def test_a_sync_logs_no_value_of_its_key_even_in_a_plugin_faults_traceback(capsys, tmp_path):
    """A plugin's fault is logged with its traceback (sync.plugin_fault); one raised on an answer quoting the key the
    provider was sent quoted the key in the log. While a sync runs, its key's secret values are blanked out of every
    line; its account ids are not secrets and stay."""
    from affiliate_matrix.connections import Connection
    from affiliate_matrix.sources import get_source
    from affiliate_matrix.storage.local import LocalObjectStore
    from affiliate_matrix.sync import sync
    from tests.support.loopback import Loopback

    key = "awin-key-never-logged-7311"
    configure_logging("sync", fmt="json")
    source = get_source("awin")

    def broken(*_):  # a plugin fault whose message quotes what the provider sent back
        raise ValueError(f"unexpected answer: token {key} is refused")

    with Loopback(lambda request: (200, {}, b"[]")) as site:
        plugin = source(site.url)
        plugin.listings = lambda *a: _raising(broken)
        sync(plugin, Connection(id="aw", source="awin", base_url=site.url, rate_limit_per_s=50),
             {"api_token": key, "publisher_id": "1234567"}, LocalObjectStore(tmp_path / "store"), True, time_limit_s=60)
    printed = capsys.readouterr().err
    assert "sync.plugin_fault" in printed and "token [redacted] is refused" in printed and key not in printed
    get_logger().info("after.sync", said=key)  # outside a sync a value is not known to be a key
    assert key in capsys.readouterr().err


async def _raising(fault):
    fault()
    yield


def test_a_console_line_shows_terminal_controls_rather_than_acting_on_them(capsys):
    """The console renderer (amx up, the CLI) printed a value as it was unless it held a space or a line break: a
    request path or a scraped page's text holding ESC sequences moved the cursor up and rewrote the lines above (a
    forged line), or cleared the screen. JSON lines escaped them already."""
    configure_logging("web", fmt="console")
    bind_request("r1", path="/programs\x1b[1A\x1b[2K2026-01-01 [info] request.done status=200\x1b[0m")
    try:
        raise ValueError("page text \x1b]0;title\x07\rover")
    except ValueError:
        get_logger().exception("crawl.plugin_fault", reason="\x9b31mred")
    printed = capsys.readouterr().err
    assert not any(ord(c) < 0x20 and c not in "\n" or 0x7f <= ord(c) < 0xa0 for c in printed), repr(printed)
    assert "x1b[1A" in printed and "reason=\\x9b31mred" in printed  # shown, escaped
    assert "ValueError: page text \\x1b]0;title\\x07\\x0dover" in printed
    assert not any(line.startswith("2026-01-01") for line in printed.splitlines())


def test_a_log_line_shows_bidi_controls_and_line_separators_rather_than_reordering_or_breaking_the_line(capsys):
    """A request path holding U+202E was written raw into the console line (a viewer showed its tail reversed) and
    U+2028 broke a viewer's line; the JSON line escapes them (ensure_ascii), the console line now does too."""
    import json

    path = "/programs\u202etxt.exe\u2066x\u2069\u2028y\u200f"
    configure_logging("web", fmt="console")
    bind_request("r1", path=path)
    get_logger().info("request.done")
    printed = capsys.readouterr().err
    assert not {"\u202e", "\u2066", "\u2069", "\u2028", "\u200f"} & set(printed), repr(printed)
    assert "path=/programs\\u202etxt.exe\\u2066x\\u2069\\u2028y\\u200f" in printed, printed
    configure_logging("web", fmt="json")
    bind_request("r1", path=path)
    get_logger().info("request.done")
    line = capsys.readouterr().err
    assert line.isascii() and json.loads(line)["path"] == path, line


def test_a_span_continues_a_valid_traceparent_and_a_request_without_one_compiles_no_pattern():
    """The traceparent's pattern is compiled by the first request that brings one, not by every start: a cold start's
    first request (Knative's probe, or a first read) has none. Run in a fresh interpreter, so re's cache is its own."""
    import subprocess
    import sys

    probe = """
import re
from affiliate_matrix.observability import telemetry
telemetry.start_span(None)
print(any("[0-9a-f]{32}" in str(key) for key in re._cache))
incoming = "00-" + "a" * 32 + "-" + "b" * 16 + "-00"
print(telemetry.start_span(incoming.upper())[:36] == "00-" + "a" * 32 + "-", telemetry.start_span(incoming)[-3:],
      telemetry.start_span("00-" + "0" * 32 + "-" + "b" * 16 + "-00")[3:35] != "0" * 32)
"""
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert shown == ["False", "True", "-00", "True"]


def test_env_example_gives_no_value_to_a_setting_unset_by_default():
    """.env.example lists each setting with its default: a line copied as it is changes nothing. Its
    AMX_BUDGET_CURRENCY=USD (unset by default, read as USD), copied beside totals per currency without USD, refused
    every start."""
    from affiliate_matrix.config import held
    from tests.support.processes import ROOT

    lines = dict(re.findall(r"^(AMX_[A-Z0-9_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE))
    unset = {f"AMX_{name.upper()}" for kind in (Settings, *held()) for name, field in kind.model_fields.items()
             if field.default is None}
    assert {name: value for name, value in lines.items() if name in unset and value} == {}


@pytest.mark.parametrize("log_format", ["json", "console", "jsn"])
def test_a_function_stopped_at_start_by_a_setting_says_so_as_its_log_lines_are_written(tmp_path, monkeypatch, capsys,
                                                                                       log_format):
    """`budget: configuration error: …` was plain text with AMX_LOG_FORMAT=json, one line whatever collects the JSON
    lines could not read. It is a JSON line then (start.configuration_error), and plain text otherwise, a misspelt
    format too (itself the error then)."""
    from affiliate_matrix.runtime import start

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_LOG_FORMAT", log_format)
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "USD=-1")
    with pytest.raises(SystemExit) as exited:
        start("budget")
    (said,) = capsys.readouterr().err.strip().splitlines()
    assert exited.value.code == 2
    if log_format == "json":
        line = json.loads(said)
        assert (line["event"], line["function"], line["level"]) == ("start.configuration_error", "budget", "error")
        assert line["error"].startswith("AMX_BUDGET_DAILY_TOTAL: "), line
    else:
        assert said.startswith("budget: configuration error: AMX_"), said
        assert ("AMX_LOG_FORMAT" if log_format == "jsn" else "AMX_BUDGET_DAILY_TOTAL") in said, said
