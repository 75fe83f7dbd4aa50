"""One contract, two adapters: the local file and Vault KV v2 (hvac) against the in-repo Vault-API server."""

import time
import uuid

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import AccessDenied, BackendUnavailable, ConfigError, ConflictError, NotFoundError
from affiliate_matrix.secrets import open_secret_store
from tests.conftest import VAULT_JWT, VAULT_ROLE, VAULT_ROOT_TOKEN

SECRET_VALUE = "sk_live_do-not-leak-0123456789"


@pytest.fixture(params=["local", "vault"])
def store(request, tmp_path):
    if request.param == "local":
        return open_secret_store(Settings(data_dir=tmp_path))
    vault = request.getfixturevalue("vault_api")
    store = open_secret_store(Settings(secrets="vault", vault_addr=vault.url, vault_token=VAULT_ROOT_TOKEN))
    store.check()
    return store


@pytest.fixture
def path():
    return f"connections/c-{uuid.uuid4().hex[:8]}"


def test_write_read_and_versions(store, path):
    assert store.write(path, {"api_key": "v1"}) == 1
    assert store.write(path, {"api_key": "v2"}) == 2
    current = store.read(path)
    assert (current.data, current.version) == ({"api_key": "v2"}, 2)
    assert store.read(path, version=1).data == {"api_key": "v1"}
    meta = store.metadata(path)
    assert meta.current_version == 2 and sorted(meta.versions) == [1, 2]


def test_cas_zero_is_create_only(store, path):
    store.write(path, {"k": "a"}, cas=0)
    with pytest.raises(ConflictError):
        store.write(path, {"k": "b"}, cas=0)
    assert store.read(path).data == {"k": "a"}


def test_stale_cas_conflicts_and_says_no_secret(store, path):
    store.write(path, {"k": SECRET_VALUE})
    store.write(path, {"k": "x"}, cas=1)
    with pytest.raises(ConflictError) as info:
        store.write(path, {"k": SECRET_VALUE}, cas=1)
    assert SECRET_VALUE not in str(info.value)
    assert store.read(path).version == 2


def test_destroyed_version_cannot_be_read(store, path):
    store.write(path, {"k": "old"})
    store.write(path, {"k": "new"})
    store.destroy(path, [1])
    with pytest.raises(NotFoundError):
        store.read(path, version=1)
    assert store.read(path).data == {"k": "new"}
    assert store.metadata(path).versions[1]["destroyed"] is True


def test_custom_metadata(store, path):
    store.write(path, {"k": "v"})
    store.set_custom_metadata(path, {"owner_source": "awin", "expires_at": "2027-01-01T00:00:00Z"})
    assert store.metadata(path).custom_metadata == {"owner_source": "awin", "expires_at": "2027-01-01T00:00:00Z"}


def test_list_names_what_is_directly_under_a_folder(store):
    folder = f"tokens-{uuid.uuid4().hex[:8]}"
    assert store.list(folder) == []
    for name in ("b", "a", "deeper/c"):
        store.write(f"{folder}/{name}", {"k": "v"})
    store.write(f"{folder}x/other", {"k": "v"})  # a folder whose name merely starts the same
    assert store.list(folder) == ["a", "b", "deeper/"]
    assert store.list(f"{folder}/deeper") == ["c"]


def test_missing_secret_is_not_found(store):
    with pytest.raises(NotFoundError):
        store.read("connections/never-written")


def test_secret_repr_hides_values(store, path):
    store.write(path, {"api_key": SECRET_VALUE})
    assert SECRET_VALUE not in repr(store.read(path))


@pytest.mark.parametrize("bad", ["../x", "a//b", "/abs", "a b"])
def test_bad_paths_are_refused(store, bad):
    with pytest.raises(ValueError, match="secret path"):
        store.read(bad)


def test_local_environment_secret_is_read_only_version_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_SECRET__CONNECTIONS__AWIN_MAIN", '{"api_token": "t"}')
    store = open_secret_store(Settings(data_dir=tmp_path))
    assert store.read("connections/awin-main").data == {"api_token": "t"}
    assert store.read("connections/awin-main").version == 0


def test_local_secret_file_is_private(tmp_path):
    store = open_secret_store(Settings(data_dir=tmp_path))
    store.write("a", {"k": "v"})
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600


# -- Vault only: authentication and failure ----------------------------------------------------

def k8s_store(vault_api, tmp_path, ttl):
    jwt = tmp_path / "token"
    jwt.write_text(VAULT_JWT)
    return open_secret_store(Settings(secrets="vault", vault_addr=vault_api.url, vault_role=VAULT_ROLE,
                                      vault_jwt_path=jwt, vault_token_ttl_s=ttl))


def test_kubernetes_login_then_renewal_before_ttl(vault_api, tmp_path):
    store = k8s_store(vault_api, tmp_path, ttl=30)
    store.write("renewal/a", {"k": "v"})  # logs in: the server grants 2 s, below a third of 30 s ...
    first_token = store.client.token
    store.read("renewal/a")  # ... so this renews the same token to 30 s instead of letting it lapse
    assert store.client.token == first_token
    assert store.client.auth.token.lookup_self()["data"]["ttl"] > 20
    time.sleep(2.5)  # past the original 2 s grant: only the renewal keeps it valid
    assert store.read("renewal/a").data == {"k": "v"}


def test_expired_token_logs_in_again(vault_api, tmp_path):
    store = k8s_store(vault_api, tmp_path, ttl=3)
    store.write("relogin/a", {"k": "v"})
    first_token = store.client.token
    store.client.auth.token.renew_self(increment="1s")  # make it lapse behind the store's back
    store._expires_at = time.monotonic()  # the store knows it is due
    time.sleep(1.5)
    assert store.read("relogin/a").data == {"k": "v"}
    assert store.client.token != first_token


def test_wrong_role_jwt_is_access_denied(vault_api, tmp_path):
    jwt = tmp_path / "token"
    jwt.write_text("not-the-jwt")
    store = open_secret_store(Settings(secrets="vault", vault_addr=vault_api.url, vault_role=VAULT_ROLE, vault_jwt_path=jwt))
    with pytest.raises(AccessDenied, match="fn-scrape"):
        store.read("x")


def test_bad_token_fails_at_startup_naming_the_setting(vault_api):
    store = open_secret_store(Settings(secrets="vault", vault_addr=vault_api.url, vault_token="wrong"))
    with pytest.raises(ConfigError, match="AMX_VAULT_TOKEN"):
        store.check()


def test_unreachable_vault_fails_at_startup_naming_the_setting():
    store = open_secret_store(Settings(secrets="vault", vault_addr="http://127.0.0.1:9", vault_token="t"))
    with pytest.raises(ConfigError, match="AMX_VAULT_ADDR"):
        store.check()


def test_vault_going_down_is_backend_unavailable(tmp_path):
    from tests.support.processes import start_vault_api

    server = start_vault_api(tmp_path, VAULT_ROOT_TOKEN)
    store = open_secret_store(Settings(secrets="vault", vault_addr=server.url, vault_token=VAULT_ROOT_TOKEN))
    store.write("down/a", {"k": "v"})
    server.stop()
    with pytest.raises(BackendUnavailable):
        store.read("down/a")


def test_missing_vault_credentials_is_a_config_error():
    with pytest.raises(ConfigError, match="AMX_VAULT_TOKEN"):
        open_secret_store(Settings(secrets="vault"))


def test_vault_down_serves_cached_reads_within_ttl_then_fails_closed(tmp_path):
    from tests.support.processes import start_vault_api

    server = start_vault_api(tmp_path, VAULT_ROOT_TOKEN)
    store = open_secret_store(Settings(secrets="vault", vault_addr=server.url, vault_token=VAULT_ROOT_TOKEN,
                                       secret_cache_ttl_s=1, data_dir=tmp_path / "data"))
    store.write("cached/a", {"k": SECRET_VALUE})
    assert store.read("cached/a").data == {"k": SECRET_VALUE}
    server.stop()
    assert store.read("cached/a").data == {"k": SECRET_VALUE}  # Vault down: the copy read a moment ago
    with pytest.raises(BackendUnavailable):
        store.read("cached/a", outage_copy=False)  # a token check: a revocation must hold, so no copy
    with pytest.raises(BackendUnavailable):
        store.write("cached/a", {"k": "new"})  # writes are never faked
    time.sleep(1.2)
    with pytest.raises(BackendUnavailable, match="failing closed") as info:
        store.read("cached/a")
    assert SECRET_VALUE not in str(info.value)
    assert not any(SECRET_VALUE.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
                   and p.suffix != ".log")  # never written to disk as a fallback
