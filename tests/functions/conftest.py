import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime


@pytest.fixture
def admin_env(tmp_path, monkeypatch):
    """An embedded data directory for the functions under test, and an admin's Authorization header."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    return {"rt": rt, "admin": {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}}


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An embedded data directory with a daily budget set, and an admin's and a reader's Authorization headers."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "300.00")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    return {"admin": {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"},
            "read": {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}}


@pytest.fixture
def web_rt(tmp_path, monkeypatch):
    """The web tests' data directory (tests/support/web_pages.filled: a few programs and a change)."""
    from tests.support.web_pages import web_runtime

    return web_runtime(tmp_path, monkeypatch)


@pytest.fixture
def web_client(web_rt):
    """The web function's test client over web_rt."""
    from tests.support.web_pages import web_app

    return web_app()
