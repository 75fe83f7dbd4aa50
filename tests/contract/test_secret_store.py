"""One contract, two adapters: the local file, and Vault KV v2 (hvac) against a real OpenBao dev server.
Kubernetes auth and the policies are in test_vault_kubernetes.py."""

import signal
import uuid

import hvac
import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import (AccessDenied, BackendUnavailable, ConfigError, ConflictError, InvalidInput,
                                     NotFoundError)
from affiliate_matrix.runtime import open_secret_store
from tests.conftest import VAULT_ROOT_TOKEN
from tests.support.clock import ManualClock
from tests.support.processes import start_openbao

SECRET_VALUE = "sk_live_do-not-leak-0123456789"


@pytest.fixture(params=["local", pytest.param("vault", marks=pytest.mark.slow)])
def store(request, tmp_path):
    if request.param == "local":
        return open_secret_store(Settings(data_dir=tmp_path))
    vault = request.getfixturevalue("openbao")
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


def test_destroying_no_versions_changes_nothing(store, path):
    # a revocation run again after it was interrupted finds every version destroyed already: hvac refused the
    # empty list (ParamValidationError, no AmxError), so the run could never finish on Vault
    store.write(path, {"k": "v"})
    store.destroy(path, [1])
    store.destroy(path, [])
    assert store.metadata(path).versions[1]["destroyed"] is True

def test_a_removed_secret_is_gone_with_its_metadata_and_listed_no_more(store):
    folder = f"sessions-{uuid.uuid4().hex[:8]}"
    for name in ("a", "b"):
        store.write(f"{folder}/{name}", {"k": "v"})
    store.destroy(f"{folder}/b", [1])
    store.remove(f"{folder}/a")
    store.remove(f"{folder}/b")  # only destroyed versions left: removed all the same
    store.remove(f"{folder}/never")  # not there: fine
    assert store.list(folder) == []
    for name in ("a", "b"):
        with pytest.raises(NotFoundError):
            store.metadata(f"{folder}/{name}")


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


@pytest.mark.parametrize("custom", [{"owner_source": ""}, {"k": "x" * 513}, {"k" * 129: "v"}])
def test_custom_metadata_outside_vaults_limits_is_refused(store, path, custom):
    store.write(path, {"k": "v"})
    with pytest.raises(ValueError, match="custom metadata"):
        store.set_custom_metadata(path, custom)


def test_missing_secret_is_not_found(store):
    with pytest.raises(NotFoundError):
        store.read("connections/never-written")


def test_secret_repr_hides_values(store, path):
    store.write(path, {"api_key": SECRET_VALUE})
    assert SECRET_VALUE not in repr(store.read(path))


@pytest.mark.parametrize("bad", ["../x", "a//b", "/abs", "a b", "connections/aw\n"])
def test_bad_paths_are_refused(store, bad):
    with pytest.raises(ValueError, match="secret path"):
        store.read(bad)


def test_local_environment_secret_is_read_only_version_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_SECRET__CONNECTIONS__AWIN_MAIN", '{"api_token": "t"}')
    store = open_secret_store(Settings(data_dir=tmp_path))
    assert store.read("connections/awin-main").data == {"api_token": "t"}
    assert store.read("connections/awin-main").version == 0


@pytest.mark.parametrize("other", ["connections/aw_x", "connections/Aw-x", "connections/aw--x", "connections/aw-/x",
                                   "connections/aw/-x"])
def test_a_local_environment_secret_is_read_by_its_own_path_only(tmp_path, monkeypatch, other):
    """`-` and `/` are written `_` and `__` in a variable's name, and names are upper case: other paths (aw_x, Aw-x)
    mapped to the variable of connections/aw-x or aw/x, so a connection naming one read the other's secret."""
    monkeypatch.setenv("AMX_SECRET__CONNECTIONS__AW_X", '{"api_token": "x"}')
    monkeypatch.setenv("AMX_SECRET__CONNECTIONS__AW__X", '{"api_token": "y"}')
    monkeypatch.setenv("AMX_SECRET__CONNECTIONS__AW___X", '{"api_token": "z"}')
    store = open_secret_store(Settings(data_dir=tmp_path))
    assert store.read("connections/aw-x").data == {"api_token": "x"}
    assert store.read("connections/aw/x").data == {"api_token": "y"}
    with pytest.raises(InvalidInput, match=f"cannot hold the secret '{other}'"):
        store.read(other)
    store.write(other, {"api_token": "own"})  # the secret file holds any path
    assert store.read(other).data == {"api_token": "own"}


def test_local_secret_file_is_private(tmp_path):
    store = open_secret_store(Settings(data_dir=tmp_path))
    store.write("a", {"k": "v"})
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600



_WRITE_PAST_THE_FILE_LIMIT = """
import resource, signal, sys
from pathlib import Path
from affiliate_matrix.secrets.local import LocalSecretStore
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as a full disk with ENOSPC
store = LocalSecretStore(Path(sys.argv[1]))
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
try:
    store.write("connections/b", {"api_token": "x" * 100_000})
except OSError as exc:
    print(exc.errno)
"""


def test_a_local_secret_write_that_fails_half_way_leaves_no_partial_copy(tmp_path):
    """A write that fails half-way (a full disk) keeps the file as it was and leaves no partial copy of every
    secret behind, which would also hold the disk full."""
    import subprocess
    import sys

    store = open_secret_store(Settings(data_dir=tmp_path))
    store.write("connections/a", {"api_token": SECRET_VALUE})
    before = (tmp_path / "secrets.json").read_bytes()
    child = subprocess.run([sys.executable, "-c", _WRITE_PAST_THE_FILE_LIMIT, str(tmp_path / "secrets.json"),
                            str(len(before) + 4096)], capture_output=True, text=True, timeout=60)
    assert child.stdout.strip() == "27", child.stderr  # EFBIG: the write failed part of the way
    assert (tmp_path / "secrets.json").read_bytes() == before
    from affiliate_matrix.runtime import TREE_REPAIRED

    assert sorted(p.name for p in tmp_path.iterdir() if p.name != TREE_REPAIRED) == ["secrets.json", "secrets.lock"]



def test_a_local_secret_write_is_on_disk_before_it_replaces_the_file(tmp_path, monkeypatch):
    """Renamed onto secrets.json before its bytes were on disk, a write cut by a power loss could leave the file
    empty (XFS, or ext4 without auto_da_alloc): every token and stored credential lost, the store refusing to start.
    Its bytes are synced before the rename, and the folder's entry after it."""
    import os

    store = open_secret_store(Settings(data_dir=tmp_path))
    store.write("connections/a", {"api_token": SECRET_VALUE})
    steps, fsync, replace = [], os.fsync, os.replace

    def synced(fd):
        steps.append(("fsync", os.fstat(fd).st_ino))
        return fsync(fd)

    def renamed(src, dst, **kwargs):
        steps.append(("replace", os.stat(src).st_ino))
        return replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "fsync", synced)
    monkeypatch.setattr(os, "replace", renamed)
    store.write("connections/a", {"api_token": "rotated-0123456789"})
    written, folder = (tmp_path / "secrets.json").stat().st_ino, tmp_path.stat().st_ino
    assert ("replace", written) in steps, steps
    renamed_at = steps.index(("replace", written))
    assert ("fsync", written) in steps[:renamed_at] and ("fsync", folder) in steps[renamed_at:], steps

# -- Vault only: tokens and failure --------------------------------------------------------------

def short_lived_token(url: str) -> str:
    """A child token whose lease can never reach a third of a 3600 s AMX_VAULT_TOKEN_TTL_S (its maximum is
    120 s), so the store renews it before every operation: each operation starts with a renewal."""
    root = hvac.Client(url=url, token=VAULT_ROOT_TOKEN)
    return root.auth.token.create(policies=["root"], ttl="60s", explicit_max_ttl="120s")["auth"]["client_token"]


@pytest.mark.slow
def test_token_is_renewed_up_to_its_maximum(openbao):
    store = open_secret_store(Settings(secrets="vault", vault_addr=openbao.url, vault_token=short_lived_token(openbao.url),
                                       vault_token_ttl_s=3600))
    store.write("renewal/a", {"k": "v"})
    lookup = store.client.auth.token.lookup_self()["data"]
    assert lookup["ttl"] > 60  # renewed past its 60 s grant, towards its 120 s maximum
    assert store.read("renewal/a").data == {"k": "v"}


@pytest.mark.slow
def test_revoked_token_without_a_role_is_access_denied(openbao):
    store = open_secret_store(Settings(secrets="vault", vault_addr=openbao.url, vault_token=short_lived_token(openbao.url),
                                       vault_token_ttl_s=3600))
    store.write("revoked/a", {"k": "v"})
    store.client.auth.token.revoke_self()  # behind the store's back
    with pytest.raises(AccessDenied, match="AMX_VAULT_ROLE"):
        store.read("revoked/a")


@pytest.mark.slow
def test_bad_token_fails_at_startup_naming_the_setting(openbao):
    store = open_secret_store(Settings(secrets="vault", vault_addr=openbao.url, vault_token="wrong"))
    with pytest.raises(ConfigError, match="AMX_VAULT_TOKEN"):
        store.check()


def test_unreachable_vault_fails_at_startup_naming_the_setting():
    store = open_secret_store(Settings(secrets="vault", vault_addr="http://127.0.0.1:9", vault_token="t"))
    with pytest.raises(ConfigError, match="AMX_VAULT_ADDR"):
        store.check()


def test_missing_vault_credentials_is_a_config_error():
    with pytest.raises(ConfigError, match="AMX_VAULT_TOKEN"):
        open_secret_store(Settings(secrets="vault"))


@pytest.fixture
def own_openbao(tmp_path):
    """An OpenBao of this test's own, to stop on cue (it starts in well under a second)."""
    server = start_openbao(tmp_path, VAULT_ROOT_TOKEN)
    yield server
    server.stop()


@pytest.mark.slow
def test_vault_going_down_is_backend_unavailable(own_openbao):
    store = open_secret_store(Settings(secrets="vault", vault_addr=own_openbao.url, vault_token=VAULT_ROOT_TOKEN))
    store.write("down/a", {"k": "v"})
    own_openbao.stop()
    with pytest.raises(BackendUnavailable):
        store.read("down/a")


@pytest.mark.slow
def test_sealed_vault_is_backend_unavailable(own_openbao):
    store = open_secret_store(Settings(secrets="vault", vault_addr=own_openbao.url, vault_token=VAULT_ROOT_TOKEN))
    store.write("sealed/a", {"k": "v"})
    hvac.Client(url=own_openbao.url, token=VAULT_ROOT_TOKEN).sys.seal()  # every request now answers 503
    with pytest.raises(BackendUnavailable):
        store.write("sealed/a", {"k": "w"})


@pytest.mark.slow
def test_a_vault_sealed_at_start_is_unavailable_not_misconfigured(own_openbao):
    """A sealed Vault is there and will be back: its check at a function's start is BackendUnavailable (the function
    starts and answers 503), not the ConfigError of an address where nothing answers (it exited, crash-looping)."""
    hvac.Client(url=own_openbao.url, token=VAULT_ROOT_TOKEN).sys.seal()
    store = open_secret_store(Settings(secrets="vault", vault_addr=own_openbao.url, vault_token=VAULT_ROOT_TOKEN))
    with pytest.raises(BackendUnavailable) as caught:
        store.check()
    assert caught.value.retry_after > 0


@pytest.mark.slow
def test_vault_down_at_renewal_serves_cached_reads_within_ttl_then_fails_closed(own_openbao, tmp_path):
    store = open_secret_store(Settings(secrets="vault", vault_addr=own_openbao.url,
                                       vault_token=short_lived_token(own_openbao.url), vault_token_ttl_s=3600,
                                       secret_cache_ttl_s=60, data_dir=tmp_path / "data"))
    store.clock = clock = ManualClock()  # the copy's 60 s run out when the test says, however slow the stop
    store.write("cached/a", {"k": SECRET_VALUE})
    assert store.read("cached/a").data == {"k": SECRET_VALUE}
    own_openbao.stop()  # the next operation's renewal is the first request to meet it down
    assert store.read("cached/a").data == {"k": SECRET_VALUE}  # Vault down: the copy read a moment ago
    with pytest.raises(BackendUnavailable):
        store.read("cached/a", outage_copy=False)  # a token check: a revocation must hold, so no copy
    with pytest.raises(BackendUnavailable):
        store.write("cached/a", {"k": "new"})  # writes are never faked
    clock.advance(61)
    with pytest.raises(BackendUnavailable, match="failing closed") as info:
        store.read("cached/a")
    assert SECRET_VALUE not in str(info.value)
    assert not any(SECRET_VALUE.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
                   and p.suffix != ".log")  # never written to disk as a fallback


@pytest.mark.slow
def test_vault_not_answering_at_renewal_serves_cached_reads(own_openbao):
    store = open_secret_store(Settings(secrets="vault", vault_addr=own_openbao.url,
                                       vault_token=short_lived_token(own_openbao.url), vault_token_ttl_s=3600))
    store.write("slow/a", {"k": "v"})
    assert store.read("slow/a").data == {"k": "v"}
    own_openbao.process.send_signal(signal.SIGSTOP)  # connections are still accepted, and never answered
    try:
        assert store.read("slow/a").data == {"k": "v"}  # the renewal timed out: the copy read a moment ago
    finally:
        own_openbao.process.send_signal(signal.SIGCONT)


@pytest.mark.slow
def test_a_store_call_and_the_token_renewal_before_it_share_one_time_bound(openbao, monkeypatch):
    """A renewal and the read after it each had the request's 5 s: a Vault slow to renew held its caller 10 s. They
    share the call's one bound, so a renewal that took all of it (on the clock deadlines are kept on, moved by the test
    as the real server answers) leaves the read none: it is not made, and the read fails closed."""
    from types import SimpleNamespace

    from affiliate_matrix import netguard
    from affiliate_matrix.secrets import vault

    store = open_secret_store(Settings(secrets="vault", vault_addr=openbao.url, vault_token=short_lived_token(openbao.url),
                                       vault_token_ttl_s=3600))
    store.write("bound/a", {"k": "v"})
    clock = ManualClock()
    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=clock))
    renew, renewed = store.client.auth.token.renew_self, []

    def slow_renewal(**kwargs):
        answer = renew(**kwargs)
        renewed.append(answer["auth"]["lease_duration"])
        clock.advance(vault.REQUEST_TIMEOUT_S)  # the whole bound taken
        return answer

    monkeypatch.setattr(store.client.auth.token, "renew_self", slow_renewal)
    with pytest.raises(BackendUnavailable, match="failing closed"):
        store.read("bound/a", outage_copy=False)
    assert renewed  # the renewal was made, and answered
    monkeypatch.setattr(store.client.auth.token, "renew_self", renew)
    assert store.read("bound/a").data == {"k": "v"}  # a renewal leaving it time: the read is made
