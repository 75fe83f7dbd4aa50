"""A function's start opens only the backends its first request uses (runtime.start): an event-only
function with an unreachable index still starts and answers Knative's readiness probe, and its first
event, which needs the index, is answered 503 (so Knative redelivers) with a log line naming the
setting, not a traceback."""

from structlog.testing import capture_logs

from affiliate_matrix.events import Event
from tests.support.apps import function_client
from tests.support.events import deliver


def test_a_backend_first_used_by_an_event_fails_that_event_with_503_naming_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_SEARCH", "opensearch")
    monkeypatch.setenv("AMX_OPENSEARCH_URL", "http://127.0.0.1:9")  # the discard port: nothing listens
    app = function_client("verify")  # would exit at start if it opened the index there
    assert app.get("/healthz").status_code == 200
    with capture_logs() as logs:
        answer = deliver(app, Event.make("dev.knative.sources.ping", "/cron/verify", {}), "verify")
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "unavailable"
    assert {"event": "request.misconfigured", "setting": "AMX_OPENSEARCH_URL"}.items() <= \
        next(line for line in logs if line["event"] == "request.misconfigured").items()
