"""An overloaded or unreachable search backend, as the programs API's caller sees it: a 503 with Retry-After whose
message says why, never the backend's URL or the credentials in it (the log line has the details)."""

import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.events import Event
from affiliate_matrix.runtime import Runtime
from tests.support.apps import function_client
from tests.support.events import deliver
from tests.support.overloaded import OverloadedNode


@pytest.mark.parametrize("status,cause", [(429, "the search index is overloaded (it answered HTTP 429)"),
                                          (503, "the search index is unavailable (it answered HTTP 503)")])
def test_an_overloaded_search_index_is_a_503_with_retry_after_naming_the_cause(tmp_path, monkeypatch, status, cause):
    node = OverloadedNode(status)
    try:
        url = node.url("amx:hunter2@")
        monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("AMX_SEARCH", "opensearch")
        monkeypatch.setenv("AMX_OPENSEARCH_URL", url)
        token = create_token(Runtime("test", Settings(data_dir=tmp_path)).secrets, "read")
        app = function_client("programs")
        answer = app.get("/programs?q=hosting", headers={"Authorization": f"Bearer {token}"})
    finally:
        node.stop()
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.get_json()["error"] == {**answer.get_json()["error"], "code": "unavailable",
                                          "message": f"{cause}; retry later"}
    assert "hunter2" not in answer.get_data(as_text=True)


@pytest.mark.parametrize("status,cause", [(429, "the search index is overloaded (it answered HTTP 429)"),
                                          (503, "the search index is unavailable (it answered HTTP 503)")])
def test_a_search_index_overloaded_at_start_lets_the_function_start_and_answer_503(tmp_path, monkeypatch, status,
                                                                                    cause):
    """The programs function opens its index at start. A node overloaded or not ready then (a 429 or a 503 to its
    first call) is no misconfiguration: the function starts (it exited 2, and Knative crash-looped it), answers
    /healthz, and each request is a 503 with Retry-After naming the cause until the node is back."""
    node = OverloadedNode(status, at_start=True)
    try:
        monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("AMX_SEARCH", "opensearch")
        monkeypatch.setenv("AMX_OPENSEARCH_URL", node.url("amx:hunter2@"))
        token = create_token(Runtime("test", Settings(data_dir=tmp_path)).secrets, "read")
        app = function_client("programs")
        assert app.get("/healthz").status_code == 200
        answer = app.get("/programs?q=hosting", headers={"Authorization": f"Bearer {token}"})
    finally:
        node.stop()
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.get_json()["error"]["message"] == f"{cause}; retry later"
    assert "hunter2" not in answer.get_data(as_text=True)


def test_a_backend_unreachable_at_a_request_is_a_503_with_retry_after(tmp_path, monkeypatch):
    """A backend a request is the first to use, unreachable at its address (a ConfigError: a wrong address, or a
    node not up yet): the 503 carries a Retry-After, since a node that is starting will answer."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_SEARCH", "opensearch")
    monkeypatch.setenv("AMX_OPENSEARCH_URL", "http://127.0.0.1:9")  # the discard port: nothing listens
    app = function_client("verify")
    answer = deliver(app, Event.make("dev.knative.sources.ping", "/cron/verify", {}), "verify")
    assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "unavailable"
    assert int(answer.headers["Retry-After"]) > 0


def test_a_backend_refusing_its_credentials_at_a_request_is_a_503_without_retry_after(tmp_path, monkeypatch):
    """A backend a request is the first to use refuses the credentials (a ConfigError only a change of setting
    cures): a 503 (an event is redelivered once the setting is fixed) with no Retry-After, which would promise
    that waiting helps, and a message saying it is misconfigured."""
    node = OverloadedNode(401, at_start=True)
    try:
        monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("AMX_SEARCH", "opensearch")
        monkeypatch.setenv("AMX_OPENSEARCH_URL", node.url("amx:hunter2@"))
        app = function_client("verify")
        answer = deliver(app, Event.make("dev.knative.sources.ping", "/cron/verify", {}), "verify")
    finally:
        node.stop()
    assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "unavailable"
    assert "Retry-After" not in answer.headers
    assert "misconfigured" in answer.get_json()["error"]["message"]
    assert "hunter2" not in answer.get_data(as_text=True)


def test_a_vault_sealed_at_start_lets_the_function_start_and_answer_503(tmp_path, monkeypatch):
    """The programs function opens its secret store (the token store) at start. A Vault that answers sealed (a 503
    to every call, as a sealed server does) is no misconfiguration: the function starts (it exited 2 as 'cannot
    reach Vault', and Knative crash-looped it), answers /healthz, and a request is a 503 with Retry-After."""
    node = OverloadedNode(503, at_start=True)  # answers as a sealed Vault does; the contract suite seals a real OpenBao
    try:
        monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("AMX_SECRETS", "vault")
        monkeypatch.setenv("AMX_VAULT_ADDR", node.url())
        monkeypatch.setenv("AMX_VAULT_TOKEN", "hvs.test-token")
        app = function_client("programs")
        assert app.get("/healthz").status_code == 200
        answer = app.get("/programs?q=hosting", headers={"Authorization": "Bearer amx_000000000000_" + "a" * 43})
    finally:
        node.stop()
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.get_json()["error"]["message"] == "the secret store is unavailable; retry later"
    assert "hvs.test-token" not in answer.get_data(as_text=True)
