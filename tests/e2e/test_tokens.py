"""API token lifecycle: a revocation holds from the next request in every running function, tokens
expire, `amx tokens list` shows their use and never the token or its hash."""

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from functions_framework import create_app

from affiliate_matrix.auth import authorize, create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.errors import Unauthorized
from affiliate_matrix.runtime import Runtime
from tests.conftest import VAULT_ROOT_TOKEN
from tests.support.processes import BIN, ROOT, Server, free_port


def amx(*args, cwd, env=None, stdin=None):
    return subprocess.run([str(BIN / "amx"), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          input=stdin, env={**os.environ, **(env or {})})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / ".amx"))
    return Runtime("test", Settings(data_dir=tmp_path / ".amx"))


def test_a_revoked_token_is_refused_at_once_by_a_function_running_in_another_process(tmp_path, local):
    token = create_token(local.secrets, "read")
    port = free_port()
    function = Server([str(BIN / "amx-function"), "--source", str(ROOT / "functions/programs/main.py"),
                       "--target", "handle", "--host", "127.0.0.1", "--port", str(port)],
                      f"http://127.0.0.1:{port}", tmp_path / "programs.log", ready_path="/healthz",
                      env={"AMX_DATA_DIR": str(tmp_path / ".amx")})
    try:
        url = f"http://127.0.0.1:{port}/programs"
        # seen once: a positive cache, were there one, would hold the token now
        assert httpx.get(url, headers=bearer(token), timeout=30).status_code == 200
        revoked = amx("tokens", "revoke", token.split("_")[1], cwd=tmp_path)
        assert revoked.returncode == 0, revoked.stderr
        refused = httpx.get(url, headers=bearer(token), timeout=30)
        assert refused.status_code == 401 and refused.json()["error"]["message"].startswith("the token is not valid: revoked")
    finally:
        function.stop()


@pytest.mark.parametrize("backend", ["local", pytest.param("vault", marks=pytest.mark.slow)])  # vault: OpenBao runs
def test_revocation_holds_in_every_app_instance_at_once(tmp_path, monkeypatch, request, backend):
    settings = {"AMX_DATA_DIR": str(tmp_path)}
    if backend == "vault":
        vault = request.getfixturevalue("openbao")
        settings |= {"AMX_SECRETS": "vault", "AMX_VAULT_ADDR": vault.url, "AMX_VAULT_TOKEN": VAULT_ROOT_TOKEN}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    rt = Runtime("test")
    token = create_token(rt.secrets, "admin")
    instances = [create_app("handle", str(ROOT / "functions" / name / "main.py")).test_client()
                 for name in ("triggers", "triggers", "connections")]
    assert [app.get(path, headers=bearer(token)).status_code
            for app, path in zip(instances, ("/rules", "/rules", "/connections"))] == [200, 200, 200]
    revoked = amx("tokens", "revoke", token.split("_")[1], cwd=tmp_path, env=settings)
    assert revoked.returncode == 0, revoked.stderr
    assert [app.get(path, headers=bearer(token)).status_code
            for app, path in zip(instances, ("/rules", "/rules", "/connections"))] == [401, 401, 401]


def test_an_expired_token_is_refused_and_a_current_one_is_not(local):
    now = datetime.now(UTC)
    expired = create_token(local.secrets, "read", ttl=timedelta(days=1), now=now - timedelta(days=2))
    current = create_token(local.secrets, "read", ttl=timedelta(days=1), now=now - timedelta(hours=23))
    app = create_app("handle", str(ROOT / "functions" / "triggers" / "main.py")).test_client()
    refused = app.get("/rules", headers=bearer(expired))
    assert refused.status_code == 401 and "the token expired at" in refused.json["error"]["message"]
    assert app.get("/rules", headers=bearer(current)).status_code == 200
    with pytest.raises(Unauthorized, match="expired"):  # the boundary: valid until, not at, its expiry
        authorize(local, bearer(current)["Authorization"], now=now + timedelta(hours=1))


@pytest.mark.parametrize("damage", [{"sha256": None}, {"expires_at": "soon"}, {"expires_at": "2999-01-01T00:00:00"},
                                    {"sha256": "\u00e9" * 64}, {"role": "superuser"}])
def test_a_damaged_token_record_is_named_and_grants_nothing(local, damage):
    """A token's record not as `amx tokens create` writes it (a hand edit, a store's fault) was read field by field: a
    missing hash or an unreadable expiry raised out of the check (a 500 naming nothing), and a role no token has was
    taken for a read token's. Now the request is refused naming the record and what to do, and nothing is served."""
    from affiliate_matrix.auth import FOLDER

    token = create_token(local.secrets, "admin")
    token_id = token.split("_")[1]
    record = local.secrets.read(f"{FOLDER}/{token_id}").data
    local.secrets.write(f"{FOLDER}/{token_id}", {key: value for key, value in {**record, **damage}.items()
                                                 if value is not None})  # None: the field left out
    app = create_app("handle", str(ROOT / "functions" / "triggers" / "main.py")).test_client()
    answer = app.get("/rules", headers=bearer(token))
    assert answer.status_code == 500 and answer.json["error"]["code"] == "damaged_data", answer.json
    assert answer.json["error"]["message"].startswith(f"the API token record {token_id} is damaged (not as `amx "
                                                      "tokens create` writes it"), answer.json
    assert f"amx tokens revoke {token_id}" in answer.json["error"]["message"]
    assert token.split("_", 2)[2] not in str(answer.json)


def test_the_last_use_is_written_at_most_once_a_minute_per_token(local):
    token = create_token(local.secrets, "read")
    key = f"api-tokens/last-used/{token.split('_')[1]}.json"
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for second in range(0, 60, 5):  # a burst within a minute: one write
        authorize(local, bearer(token)["Authorization"], now=t0 + timedelta(seconds=second))
    assert json.loads(local.store.get(key).data)["last_used_at"] == t0.isoformat()
    authorize(local, bearer(token)["Authorization"], now=t0 + timedelta(seconds=61))
    assert json.loads(local.store.get(key).data)["last_used_at"] == (t0 + timedelta(seconds=61)).isoformat()


def test_in_a_request_the_last_use_is_written_once_the_answer_is_sent(local):
    token = create_token(local.secrets, "read")
    key = f"api-tokens/last-used/{token.split('_')[1]}.json"
    app = create_app("handle", str(ROOT / "functions" / "triggers" / "main.py")).test_client()
    answer = app.get("/rules", headers=bearer(token))
    assert answer.status_code == 200 and local.store.head(key) is None  # answered, not yet closed
    answer.close()  # what the WSGI server does once it has sent the answer
    assert datetime.fromisoformat(json.loads(local.store.get(key).data)["last_used_at"]) <= datetime.now(UTC)


def shown_at(cell: str) -> datetime:
    """A listed time (cut to the minute or the second) as a UTC instant."""
    return datetime.fromisoformat(cell).replace(tzinfo=UTC)


def test_tokens_are_listed_with_their_use_and_never_shown(tmp_path, local):
    # the amx processes and the function read the clock themselves: the listed times must fall in this
    # window, which holds across midnight (comparing with a day read afterwards would not)
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    created = amx("tokens", "create", "--role", "admin", "--ttl", "30d", cwd=tmp_path)
    token = created.stdout.strip()
    unused = amx("tokens", "create", cwd=tmp_path).stdout.strip()
    assert created.returncode == 0 and token.startswith("amx_")
    app = create_app("handle", str(ROOT / "functions" / "triggers" / "main.py")).test_client()
    with app.get("/rules", headers=bearer(token)) as answer:  # closed, as a WSGI server closes it: the last use is written then
        assert answer.status_code == 200
    assert amx("tokens", "revoke", unused.split("_")[1], cwd=tmp_path).returncode == 0
    listed = amx("tokens", "list", cwd=tmp_path, env={"COLUMNS": "200"})
    assert listed.returncode == 0, listed.stderr
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in listed.stdout.splitlines() if line.count("│") > 5 and "amx" not in line}
    used_id, unused_id = token.split("_")[1], unused.split("_")[1]
    after = datetime.now(UTC)
    role, created_at, expires, last_used, status = rows[used_id]
    assert (role, status) == ("admin", "active") and before <= shown_at(last_used) <= after
    assert before <= shown_at(created_at) <= after
    assert shown_at(expires) - shown_at(created_at) == timedelta(days=30)
    assert rows[unused_id][0] == "read" and rows[unused_id][3:] == ["never", "revoked"]
    for secret_part in (token.split("_", 2)[2], unused.split("_", 2)[2]):
        assert secret_part not in listed.stdout
    record = json.loads((tmp_path / ".amx" / "secrets.json").read_text())[f"api-tokens/{used_id}"]
    assert record["versions"]["1"]["data"]["sha256"] not in listed.stdout


@pytest.mark.parametrize("ttl,message", [("0d", "between 1m and 366d"), ("400d", "between 1m and 366d"),
                                         ("5y", "not a number of days, hours or minutes")])
def test_a_bad_ttl_is_refused_naming_the_option(tmp_path, ttl, message):
    result = amx("tokens", "create", "--ttl", ttl, cwd=tmp_path)
    assert result.returncode == 2 and "--ttl" in result.stderr and message in result.stderr


def test_revoking_a_token_says_so_once_not_again_as_a_log_line_unless_the_logs_are_asked_for(tmp_path, local):
    """`amx tokens revoke ID` printed its own "revoked token …" and the token.revoked warning as a log line beside it:
    the command says its outcome once, as `amx keys revoke` does; with AMX_LOG_LEVEL set the logs have it whole."""
    for env, logged in (({}, False), ({"AMX_LOG_LEVEL": "info"}, True)):
        token_id = create_token(local.secrets, "read").split("_")[1]
        revoked = amx("tokens", "revoke", token_id, cwd=tmp_path, env=env)
        assert revoked.returncode == 0 and revoked.stdout == f"revoked token {token_id}\n", revoked.stdout
        assert ("token.revoked" in revoked.stderr) is logged, revoked.stderr


def test_revoking_an_unknown_token_says_so(tmp_path):
    result = amx("tokens", "revoke", "0123456789ab", cwd=tmp_path)
    assert result.returncode == 2 and "there is no token 0123456789ab" in result.stderr


def test_revoking_a_token_again_keeps_when_it_was_revoked_and_says_so(tmp_path, local):
    """A second `amx tokens revoke` said "revoked token …" again, wrote a new revocation time over the first (the
    record of when it was revoked lost) and logged token.revoked a second time: it is left as it is, and said so."""
    from affiliate_matrix.auth import list_tokens, revoke_token

    token_id = create_token(local.secrets, "read").split("_")[1]
    assert revoke_token(local, token_id, now=datetime(2026, 1, 5, 6, 7, 8, tzinfo=UTC)) is None
    again = amx("tokens", "revoke", token_id, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == (f"token {token_id} was revoked already, at 2026-01-05 06:07:08 "
                                                      "UTC\n"), again.stdout
    assert "token.revoked" not in again.stderr
    [listed] = list_tokens(local)
    assert listed.revoked_at == "2026-01-05T06:07:08+00:00"
