"""An overloaded or unreachable search backend, as the programs API's caller sees it: a 503 with Retry-After whose
message says why, never the backend's URL or the credentials in it (the log line has the details)."""

import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from tests.support.apps import function_client
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
