"""Provider API keys on the embedded secret store: rotations whose write fails, and keys added again."""

import json
from datetime import UTC, datetime

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.events import KEY_ROTATION_FAILED
from affiliate_matrix.keys import KeyRecord, RotationFailed, add_key, load_record, rotate
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.secrets.local import LocalSecretStore
from tests.support.minting import cj_mints

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
PATH = "connections/shop"


class Provider:
    """Stub provider: none of the real sources mints keys. It keeps the set of keys it accepts."""

    valid: set[str] = set()
    minted = 0

    @classmethod
    def rotate_credentials(cls, old: dict) -> dict:
        cls.minted += 1
        token = f"minted-{cls.minted}-secret"
        cls.valid.add(token)
        return {**old, "api_token": token}

    @classmethod
    def retire_credentials(cls, key: dict) -> None:
        cls.valid.discard(key["api_token"])


@pytest.fixture
def rt(tmp_path, monkeypatch):
    from affiliate_matrix import sources

    sources.all_sources()
    provider = type("ProviderForTests", (Provider,), {"valid": {"first-key-1234"}, "minted": 0, "name": "p"})
    monkeypatch.setitem(sources._REGISTRY, "provider_for_tests", provider)
    runtime = Runtime("test", Settings(data_dir=tmp_path))
    runtime.provider, runtime.failures = provider, []
    runtime.bus.subscribe(KEY_ROTATION_FAILED, lambda event: runtime.failures.append(event.data))
    add_key(runtime, KeyRecord(path=PATH, rotation="provider", owner_source="provider_for_tests", created_at=NOW),
            {"api_token": "first-key-1234"})
    return runtime


def test_a_rotation_whose_secret_write_fails_keeps_the_old_key_in_use(rt, monkeypatch):
    """The provider's new key was only in memory when the secret store's write failed (a full disk, Vault down):
    the write's error went out of rotate as it was, with no key.rotation.failed, and the new key was lost. The
    old key is now used until the new one is stored, and one that cannot be stored is retired at the provider."""
    write = LocalSecretStore.write
    monkeypatch.setattr(LocalSecretStore, "write", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "disk full")))
    with pytest.raises(RotationFailed, match="could not be stored.*old key is still in use"):
        rotate(rt, PATH, NOW)
    monkeypatch.setattr(LocalSecretStore, "write", write)
    assert rt.secrets.read(PATH).data["api_token"] == "first-key-1234"
    assert rt.provider.valid == {"first-key-1234"}  # still accepted; the unstored new key retired
    assert [(f["version"], f["old_key_live"]) for f in rt.failures] == [(None, True)]
    assert load_record(rt, PATH)[0].rotated_at is None

    assert rotate(rt, PATH, NOW).version == 2  # and once the store takes it, the old key is retired
    assert rt.secrets.read(PATH).data["api_token"] == "minted-2-secret" and rt.provider.valid == {"minted-2-secret"}


def test_a_rotation_whose_write_landed_with_its_answer_lost_goes_on(rt, monkeypatch):
    """A write that landed but whose answer was lost (a timeout on the way back) left the new version current,
    unverified and unrecorded, with the error out of rotate: the old key no longer the one in use, nothing saying
    so. Such a write is now found and the rotation finishes as if it had answered."""
    write = LocalSecretStore.write

    def answer_lost(self, *args, **kwargs):
        write(self, *args, **kwargs)
        raise TimeoutError("no answer")

    monkeypatch.setattr(LocalSecretStore, "write", answer_lost)
    assert rotate(rt, PATH, NOW).version == 2
    assert load_record(rt, PATH)[0].rotated_at == NOW and rt.failures == []
    assert rt.provider.valid == {"minted-1-secret"}


def test_a_revoked_key_path_can_be_added_again(rt, monkeypatch):
    """Once revoked, a path could never take a key again: the secret's create-only write met the destroyed
    versions (ConflictError) and the record was there already. An add over a revoked key now writes the next
    version, the revoked ones staying destroyed, and a fresh record replaces the revoked one."""
    from affiliate_matrix.errors import ConflictError, NotFoundError
    from affiliate_matrix.keys import revoke
    from affiliate_matrix.storage.local import LocalObjectStore

    revoke(rt, PATH, NOW)
    put = LocalObjectStore.put

    def disk_full_for_records(self, key, data, **kwargs):  # stopped between the secret and its record
        if key.startswith("keys/records/"):
            raise OSError(28, "No space left on device")
        return put(self, key, data, **kwargs)

    monkeypatch.setattr(LocalObjectStore, "put", disk_full_for_records)
    with pytest.raises(OSError):
        add_key(rt, KeyRecord(path=PATH, rotation="manual", created_at=NOW), {"api_token": "second-key-5678"})
    monkeypatch.setattr(LocalObjectStore, "put", put)
    with pytest.raises(ConflictError):  # other values than the stopped add's
        add_key(rt, KeyRecord(path=PATH, rotation="manual", created_at=NOW), {"api_token": "other-key-0000"})
    add_key(rt, KeyRecord(path=PATH, rotation="manual", created_at=NOW), {"api_token": "second-key-5678"})
    record, _ = load_record(rt, PATH)
    assert record.revoked_at is None and record.rotation == "manual"
    assert rt.secrets.read(PATH) == (PATH, {"api_token": "second-key-5678"}, 2)
    with pytest.raises(NotFoundError):
        rt.secrets.read(PATH, 1)  # what was revoked stays destroyed
    with pytest.raises(ConflictError):  # a key in use is not replaced
        add_key(rt, KeyRecord(path=PATH, rotation="manual", created_at=NOW), {"api_token": "third-key-9012"})



@pytest.mark.parametrize("path", ["connections/k ü", "connections/../x", "/connections/x"])
def test_a_key_path_of_another_shape_is_refused_in_words_not_as_its_pattern(tmp_path, monkeypatch, path):
    """`amx keys add 'connections/k ü'` said "path: String should match pattern '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$'"."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    added = CliRunner().invoke(app, ["keys", "add", path, "--rotation", "manual", "--field", "value"], input="v\n")
    said = " ".join(added.output.replace("│", " ").split())  # a usage error naming the argument, as Click's are
    assert added.exit_code == 2 and (
        f"Invalid value for 'path': {path!r} is not a key's path: letters, digits, '_' and '-', parts separated by '/', "
        "at most 200 characters (as amx keys status shows it)") in said, said


def test_a_rotation_of_none_of_the_ways_is_an_option_error_naming_it_and_what_was_typed(tmp_path, monkeypatch):
    """`amx keys add connections/x --rotation weird` said "error: rotation: Input should be 'generate', 'provider' or
    'manual'", the record's field bare and not what was typed: a usage error naming --rotation, as the CLI's other
    option errors are."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    added = CliRunner().invoke(app, ["keys", "add", "connections/x", "--rotation", "weird", "--field", "value"],
                               input="v\n")
    said = " ".join(added.output.replace("│", " ").split())
    assert added.exit_code == 2 and ("Invalid value for '--rotation': must be one of 'generate', 'provider' or "
                                     "'manual', got 'weird'") in said, said


def test_adding_a_key_where_an_unregistered_secret_is_stored_does_not_send_the_user_to_rotate_it(rt):
    """The demo wrote its recorded credentials with no key record: `amx keys add` over one said "rotate it (amx keys
    rotate)", and `amx keys rotate` said "no key is registered there (amx keys add)", each sending the user to the
    other. It says what is stored there and what to do instead."""
    from affiliate_matrix.errors import ConflictError

    rt.secrets.write("connections/demo-cj", {"api_token": "recorded", "requestor_cid": "1"})
    with pytest.raises(ConflictError) as refused:
        add_key(rt, KeyRecord(path="connections/demo-cj", rotation="manual", created_at=NOW),
                {"api_token": "mine", "requestor_cid": "2"})
    said = str(refused.value)
    assert "no key record registers" in said and "rotate it (amx keys rotate)" not in said, said
    assert "amx connections edit ID --credentials-path" in said, said

def test_a_rotation_whose_store_cannot_be_read_after_a_failed_write_says_the_key_in_use_is_unknown(rt, monkeypatch):
    """The write raised and the secret store could not be read after it (Vault down): whether the new version
    landed is unknown. It was reported as not stored, the old key still in use, and the new key retired at the
    provider, though it may be the one stored. Now it says so: unknown, the new key kept at the provider, and the
    next rotation goes on from whichever version is stored."""
    from affiliate_matrix.errors import BackendUnavailable

    write, read = LocalSecretStore.write, LocalSecretStore.read

    def lost(self, *args, **kwargs):  # the write lands, its answer is lost, and the store stops answering
        write(self, *args, **kwargs)
        monkeypatch.setattr(LocalSecretStore, "read", down)
        raise TimeoutError("no answer")

    def down(self, *args, **kwargs):
        raise BackendUnavailable("secret store: unavailable")

    monkeypatch.setattr(LocalSecretStore, "write", lost)
    with pytest.raises(RotationFailed, match="which key it holds is unknown") as failure:
        rotate(rt, PATH, NOW)
    assert "old key is still in use" not in str(failure.value)
    assert [(f["version"], f["old_key_live"]) for f in rt.failures] == [(None, None)]
    assert rt.provider.valid == {"first-key-1234", "minted-1-secret"}  # the stored one may be either: both kept
    monkeypatch.setattr(LocalSecretStore, "write", write)
    monkeypatch.setattr(LocalSecretStore, "read", read)

    assert rotate(rt, PATH, NOW).version == 3  # the next rotation: from the version stored (2, the minted key)
    assert rt.secrets.read(PATH).data["api_token"] == "minted-2-secret"
    assert "minted-1-secret" not in rt.provider.valid and load_record(rt, PATH)[0].rotated_at == NOW
    assert [n for n, meta in rt.secrets.metadata(PATH).versions.items() if not meta["destroyed"]] == [3]


def test_a_key_added_again_over_a_revoked_one_makes_its_connections_healthy_again(rt):
    """Revocation marks the connections using the key unhealthy; a new key added at the path left them so. The
    revocation's mark is now cleared when a key is added again; a connection unhealthy for another reason stays."""
    from affiliate_matrix.connections import Connection, load_connection, save_connection
    from affiliate_matrix.keys import revoke

    for cid in ("shop-1", "shop-2"):
        save_connection(rt.store, Connection(id=cid, source="awin", credentials_path=PATH))
    assert sorted(revoke(rt, PATH, NOW)) == ["shop-1", "shop-2"]
    connection, etag = load_connection(rt.store, "shop-2")
    save_connection(rt.store, connection.model_copy(update={"health_reason": "its base URL answers 404"}),
                    if_match=etag)
    add_key(rt, KeyRecord(path=PATH, rotation="manual", created_at=NOW), {"api_token": "second-key-5678"})
    first, second = (load_connection(rt.store, cid)[0] for cid in ("shop-1", "shop-2"))
    assert (first.healthy, first.health_reason) == (True, None)
    assert (second.healthy, second.health_reason) == (False, "its base URL answers 404")


def _jwt(size: int) -> str:
    """A token of `size` characters shaped like a provider's JWT (header.payload.signature, base64url)."""
    import base64
    import json

    def b64(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    head = b64({"alg": "RS256", "typ": "JWT", "kid": "k1"})
    signature = "s" * 342  # RS256: 256 bytes in base64url
    payload = b64({"sub": "publisher-1", "scope": "x" * size})[:size - len(head) - len(signature) - 2]
    return f"{head}.{payload}.{signature}"


def test_a_token_of_a_few_thousand_characters_is_stored_whole(tmp_path, monkeypatch):
    """Provider tokens (JWTs, OAuth tokens) run to a few thousand characters: no store caps them (900 is the
    object store's cap on a key's name, never a secret's value). The one limit is the terminal's: a line read at a
    hidden prompt is cut at 4,095 characters with no word, so a longer token was stored cut; one that long at the
    prompt is refused now, naming standard input, which takes it whole."""
    import io
    import sys

    import typer
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.cli.keys import secret_fields

    token = _jwt(4500)
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["keys", "add", "connections/big", "--rotation", "manual", "--field",
                                      "api_token"], input=token + "\n")
    assert result.exit_code == 0, (result.output, result.exception)
    assert LocalSecretStore(tmp_path / "secrets.json").read("connections/big").data == {"api_token": token}

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt: token[:4095])  # what the terminal's line discipline hands over
    with pytest.raises(typer.BadParameter, match="4,095 characters.*standard input"):
        secret_fields(["api_token"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: token[:4094])
    assert secret_fields(["api_token"]) == {"api_token": token[:4094]}


def test_a_rotation_whose_new_key_passes_clears_the_refused_mark_of_its_connections(tmp_path, monkeypatch):
    """A connection whose provider refused its key is passed over by the scheduled syncs until a passing
    connection test clears the mark; a rotation whose new key passed that very test with every connection using
    it left the mark, so the connections stayed passed over with a key known good. `amx keys rotate` now clears the
    mark of every connection it verified; a rotation that fails (rolled back) clears nothing and marks nothing."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.connections import Connection, load_connection, save_connection, skip_reason
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
    from affiliate_matrix.pipeline import scrape

    cj_mints(monkeypatch, {"api_token": "refused-again-0000"}, RECORDED_CREDENTIALS["cj"])
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "1")
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    add_key(rt, KeyRecord(path="connections/cj", rotation="provider", owner_source="cj", created_at=NOW),
            {"api_token": "expired-key-1234", "requestor_cid": "7811141"})
    with recorded_sites("cj") as urls:
        for cid in ("cj-1", "cj-2"):
            save_connection(rt.store, Connection(id=cid, source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                                 credentials_path="connections/cj"))
        scrape(rt, "cj-1")  # the provider refuses the old key: marked
        marked = load_connection(rt.store, "cj-1")[0]
        assert not marked.healthy and skip_reason(marked).startswith("skipped: credentials refused at ")

        failed = CliRunner().invoke(app, ["keys", "rotate", "connections/cj"])
        assert isinstance(failed.exception, RotationFailed), failed.output  # amx's main exits 2 on it
        assert load_connection(rt.store, "cj-1")[0] == marked  # the old key back, the mark as it was
        assert load_connection(rt.store, "cj-2")[0].healthy  # a refused new key marks nothing

        rotated = CliRunner().invoke(app, ["keys", "rotate", "connections/cj"])
        assert rotated.exit_code == 0, rotated.output
    for cid in ("cj-1", "cj-2"):
        connection = load_connection(rt.store, cid)[0]
        assert (connection.healthy, connection.health_reason, skip_reason(connection)) == (True, None, None)


def test_a_rotation_refused_by_the_provider_says_so_in_its_error_once(tmp_path, monkeypatch):
    """`amx keys rotate` whose new key the provider refused said "the connection's credentials were refused, or are
    missing or incomplete" (the connections API's words for all) and printed the `connection_test.credentials_refused`
    log line below it, which alone said HTTP 401. The error says the refusal and its status; the line is not
    printed."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites

    cj_mints(monkeypatch, {"api_token": "refused-again-0000"})
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "1")
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    add_key(rt, KeyRecord(path="connections/cj", rotation="provider", owner_source="cj", created_at=NOW),
            dict(RECORDED_CREDENTIALS["cj"]))
    with recorded_sites("cj") as urls:
        save_connection(rt.store, Connection(id="cj-1", source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                             credentials_path="connections/cj"))
        failed = CliRunner().invoke(app, ["keys", "rotate", "connections/cj"])
    assert isinstance(failed.exception, RotationFailed), failed.output
    assert str(failed.exception) == ("key 'connections/cj': version 2 failed and was rolled back: the new version "
                                     "failed verification: cj-1: cj: HTTP 401, the connection's credentials "
                                     "were refused by the provider")
    assert "connection_test." not in failed.output, failed.output


def test_a_rotation_leaves_the_mark_of_a_connection_pointed_elsewhere_while_its_new_key_was_tested(tmp_path,
                                                                                                   monkeypatch):
    """A rotation cleared a connection's mark whenever its reason was the one the new key's test read: a connection
    an admin pointed at another address meanwhile (untested there) was marked healthy and synced again. It is cleared
    only when the connection is still what the test read (connections.mark_healthy, as a connection test is)."""
    from pydantic import HttpUrl

    from affiliate_matrix import keys
    from affiliate_matrix.connections import Connection, load_connection, save_connection, update_connection
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
    from affiliate_matrix.keys import rotate
    from affiliate_matrix.pipeline import scrape

    cj_mints(monkeypatch, RECORDED_CREDENTIALS["cj"])
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    add_key(rt, KeyRecord(path="connections/cj", rotation="provider", owner_source="cj", created_at=NOW),
            {"api_token": "expired-key-1234", "requestor_cid": "7811141"})
    verify = keys._verify

    def verified_then_moved(rt_, path):
        answer = verify(rt_, path)
        update_connection(rt_.store, "cj-1", lambda c: {"base_url": HttpUrl("https://other.example/")}, "its address")
        return answer

    monkeypatch.setattr(keys, "_verify", verified_then_moved)
    with recorded_sites("cj") as urls:
        save_connection(rt.store, Connection(id="cj-1", source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                             credentials_path="connections/cj"))
        scrape(rt, "cj-1")  # the provider refuses the old key: marked
        marked = load_connection(rt.store, "cj-1")[0]
        assert not marked.healthy
        rotate(rt, "connections/cj")
    moved = load_connection(rt.store, "cj-1")[0]
    assert str(moved.base_url) == "https://other.example/"
    assert (moved.healthy, moved.health_reason) == (False, marked.health_reason)  # untested at its new address


@pytest.mark.parametrize("rotated", ["while-it-synced", "between-the-look-at-the-key-and-the-mark", "rolled-back"])
def test_a_refusal_of_a_key_rotated_away_while_it_was_used_does_not_mark_the_connection(tmp_path, monkeypatch,
                                                                                        rotated):
    """A sync reads the connection's key (version 1) and takes minutes; meanwhile a rotation writes version 2, passes
    the connection's test with it and keeps it. The provider's 401 to version 1 then marked the connection refused
    although its key is good, and the schedule passed it over until a person re-tested it. The refusal is recorded
    only while the secret still holds the credentials refused; it is looked at again once marked, so a rotation
    landing between that look and the mark (its test read the connection unmarked: it had no mark to clear) has the
    mark taken back. A rotation rolled back (its new key refused too) writes the old key back as version 3: the same
    key, so its refusal is recorded."""
    from structlog.testing import capture_logs

    from affiliate_matrix import pipeline
    from affiliate_matrix.connections import Connection, load_connection, save_connection
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
    from affiliate_matrix.pipeline import scrape

    minted = {"api_token": "refused-too-5678"} if rotated == "rolled-back" else RECORDED_CREDENTIALS["cj"]
    cj_mints(monkeypatch, minted)
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    add_key(rt, KeyRecord(path="connections/cj", rotation="provider", owner_source="cj", created_at=NOW),
            {"api_token": "expired-key-1234", "requestor_cid": "7811141"})
    real_sync, real_read, armed, outcomes = pipeline.sync, rt.secrets.read, [], []

    def rotation():
        try:
            outcomes.append(rotate(rt, "connections/cj"))
        except RotationFailed:
            outcomes.append("rolled back")

    def refused_then(*args, **kwargs):  # the sync refused the old key; then the rotation, or the next look at the key
        items = real_sync(*args, **kwargs)
        if rotated == "between-the-look-at-the-key-and-the-mark":
            armed.append(True)
        else:
            rotation()
        return items

    def read(path, version=None, **options):
        secret = real_read(path, version, **options)
        if armed:  # the look before the mark has read the old key: the rotation lands before the mark is written
            armed.clear()
            rotation()
        return secret

    monkeypatch.setattr(pipeline, "sync", refused_then)
    monkeypatch.setattr(rt.secrets, "read", read)
    with recorded_sites("cj") as urls, capture_logs() as logs:
        save_connection(rt.store, Connection(id="cj-1", source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                             credentials_path="connections/cj"))
        report = scrape(rt, "cj-1")
    assert "credentials were refused" in report.failures[0].reason
    connection = load_connection(rt.store, "cj-1")[0]
    not_marked = [line for line in logs if line["event"] == "scrape.refusal_not_marked"]
    if rotated == "rolled-back":
        assert outcomes == ["rolled back"] and rt.secrets.metadata("connections/cj").current_version == 3
        assert not connection.healthy and connection.health_reason.startswith("credentials refused at ")
        assert not_marked == []
    else:
        assert outcomes == [(2, ["cj-1"])]  # the new key passed the connection's test
        assert (connection.healthy, connection.health_reason) == (True, None)
        assert [line["reason"] for line in not_marked] == ["its key at connections/cj was replaced while it synced"]
    assert "expired-key-1234" not in str(logs)


@pytest.mark.parametrize("revoked_before", [False, True], ids=["new", "added-again"])
def test_a_key_of_one_source_is_refused_where_another_sources_connections_read(tmp_path, revoked_before):
    """A connection naming another source's key is refused (holes18), but the other way round was accepted: a key
    added for awin at the path cj connections read was stored, and sent to cj. It is refused, naming the
    connections and both sources; nothing is written. A key of their own source, or of none named, is taken."""
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.errors import InvalidInput, NotFoundError
    from affiliate_matrix.keys import revoke

    rt = Runtime("test", Settings(data_dir=tmp_path))
    path = "connections/cj"
    save_connection(rt.store, Connection(id="cj-1", source="cj", credentials_path=path))
    if revoked_before:
        add_key(rt, KeyRecord(path=path, rotation="manual", owner_source="cj", created_at=NOW), {"api_token": "a"})
        revoke(rt, path)
        before = load_record(rt, path)
    with pytest.raises(InvalidInput, match=r"connection 'cj-1' \(source 'cj'\) reads the key at 'connections/cj': "
                                           r"a key of source 'awin' cannot be added there"):
        add_key(rt, KeyRecord(path=path, rotation="manual", owner_source="awin", created_at=NOW),
                {"api_token": "awin-key"})
    if revoked_before:
        assert load_record(rt, path) == before
    else:
        with pytest.raises(NotFoundError):
            load_record(rt, path)
        with pytest.raises(NotFoundError):
            rt.secrets.read(path)
    add_key(rt, KeyRecord(path=path, rotation="manual", owner_source="cj", created_at=NOW), {"api_token": "cj-key"})
    assert load_record(rt, path)[0].owner_source == "cj"


@pytest.mark.parametrize("when", ["verifying", "destroying"])
def test_a_key_revoked_while_it_is_rotated_stays_revoked(rt, monkeypatch, when):
    """A revocation landing while a rotation verified its new version (a rule's rotate_key, the keys cron, beside
    a person's `amx keys revoke` of a leaked key) destroyed every version; the rotation's record write then met the
    revoked record, and its roll-back wrote the old key, the very one revoked, back as the newest live version. The
    revocation is kept now: nothing of the rotation is left live, and the new key is retired at the provider."""
    from affiliate_matrix import keys
    from affiliate_matrix.errors import NotFoundError

    if when == "verifying":
        monkeypatch.setattr(keys, "_verify", lambda rt_, path: (keys.revoke(rt_, path, NOW), ([], []))[1])
    else:  # between the record written and the older versions destroyed
        destroy = LocalSecretStore.destroy

        def revoked_first(self, path, versions):
            monkeypatch.setattr(LocalSecretStore, "destroy", destroy)
            keys.revoke(rt, path, NOW)
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(LocalSecretStore, "destroy", revoked_first)
    with pytest.raises(RotationFailed, match="revoked"):
        rotate(rt, PATH, NOW)
    with pytest.raises(NotFoundError):
        rt.secrets.read(PATH)
    assert all(m["destroyed"] for m in rt.secrets.metadata(PATH).versions.values())
    assert load_record(rt, PATH)[0].revoked_at == NOW
    assert rt.provider.valid == {"first-key-1234"}  # the minted key retired; the revoked one is the person's to retire
    assert [f["old_key_live"] for f in rt.failures] == [False]


def test_each_revocation_and_each_failed_rotation_is_an_event_of_its_own(rt, monkeypatch):
    """Consumers do an event's work once per (source, id) for good (events/done/). key.revoked took its id from the
    path alone, so a key revoked, added again and revoked again announced the second revocation under the first's
    id, and a rule on key.revoked (notify: "a key was revoked") never heard of it; so did key.rotation.failed for two
    rotations that made no new version (a refused write, a provider refusing to mint), days apart. A revocation run
    again as it was (nothing written since) is still the same event."""
    from datetime import timedelta

    from affiliate_matrix.events import KEY_REVOKED
    from affiliate_matrix.keys import revoke

    def ids(kind):
        return [e.id for e in rt.bus.published if e.type == kind]

    revoke(rt, PATH, NOW)
    revoke(rt, PATH, NOW + timedelta(minutes=1))  # run again: nothing new to revoke
    assert len(set(ids(KEY_REVOKED))) == 1
    add_key(rt, KeyRecord(path=PATH, rotation="provider", owner_source="provider_for_tests", created_at=NOW),
            {"api_token": "second-key-5678"})
    revoke(rt, PATH, NOW + timedelta(days=1))
    assert len(ids(KEY_REVOKED)) == 3 and len(set(ids(KEY_REVOKED))) == 2

    add_key(rt, KeyRecord(path=PATH, rotation="provider", owner_source="provider_for_tests", created_at=NOW),
            {"api_token": "third-key-9012"})
    monkeypatch.setattr(LocalSecretStore, "write", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "disk full")))
    for day in (2, 3):
        with pytest.raises(RotationFailed):
            rotate(rt, PATH, NOW + timedelta(days=day))
    assert len(set(ids(KEY_ROTATION_FAILED))) == 2


@pytest.mark.parametrize("rotation", ["kept", "rolled-back"])
def test_a_refusal_of_a_key_rotated_away_while_it_was_used_is_not_that_keys_failure(tmp_path, monkeypatch, rotation):
    """Key usage is per path: `amx keys status` and the key_failures figure show a path's failures beside its current
    version. A sync refused the key it read (version 1) while a rotation wrote version 2 and passed the connection's
    test with it; the connection was rightly not marked, but the refusal was still counted a failure of the key at
    the path, which had not failed. It is not counted now, judged as the mark is (the secret no longer holds the
    values refused). A rotation rolled back writes the refused key back: its refusal is counted."""
    from affiliate_matrix import pipeline
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
    from affiliate_matrix.keys import usage
    from affiliate_matrix.pipeline import scrape
    from tests.support.interleave import interleaved

    minted = RECORDED_CREDENTIALS["cj"] if rotation == "kept" else {"api_token": "refused-too-5678"}
    cj_mints(monkeypatch, minted)
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    add_key(rt, KeyRecord(path="connections/cj", rotation="provider", owner_source="cj", created_at=NOW),
            {"api_token": "expired-key-1234", "requestor_cid": "7811141"})
    real_sync = pipeline.sync

    def held_after_the_refusal(reached, go_on):
        def refused_then_held(*args, **kwargs):
            items = real_sync(*args, **kwargs)
            reached.set()
            go_on.wait(60)
            return items

        monkeypatch.setattr(pipeline, "sync", refused_then_held)

    def rotation_meanwhile():
        try:
            return rotate(rt, "connections/cj")
        except RotationFailed:
            return "rolled back"

    with recorded_sites("cj") as urls:
        save_connection(rt.store, Connection(id="cj-1", source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                             credentials_path="connections/cj"))
        report, rotated = interleaved(held_after_the_refusal, lambda: scrape(rt, "cj-1"), rotation_meanwhile)
    assert "credentials were refused" in report.failures[0].reason
    used = usage(rt, "connections/cj")
    assert used["uses"] == {}
    if rotation == "kept":
        assert rotated == (2, ["cj-1"]) and used["failures"] == {}
    else:
        assert rotated == "rolled back" and sum(used["failures"].values()) == 1


def test_a_refused_connection_synced_while_a_rotation_lands_is_cleared_by_the_rotation(tmp_path, monkeypatch):
    """A connection already marked refused (at 09:00) is synced by hand with its key, version 1, and refused again. The
    look at the key before the mark finds version 1; a rotation then writes version 2 and reads the connection (marked
    09:00) for its test; the new mark (12:00) lands; the rotation's test passed, but it clears only the mark it read,
    so it leaves 12:00; the look after the mark finds version 2 and takes 12:00 back, to 09:00: the connection keeps
    its older refusal although its new key passed its test, and the schedule passes it over. The take-back cannot
    tell this from a rotation still to be rolled back (whose clear never comes: the older refusal is right then), and
    the rotation's clear, declining, writes nothing an ETag would show; so the mark names the key version refused, and
    the rotation's clear clears a refusal of a version before its new one."""
    import threading

    from affiliate_matrix import keys
    from affiliate_matrix.connections import REFUSED, Connection, load_connection, mark_refused, save_connection
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
    from tests.support.interleave import interleaved

    cj_mints(monkeypatch, RECORDED_CREDENTIALS["cj"])
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    refused_key = {"api_token": "expired-key-1234", "requestor_cid": "7811141"}
    add_key(rt, KeyRecord(path="connections/cj", rotation="provider", owner_source="cj", created_at=NOW), refused_key)
    read, rotation_tested, clear = rt.secrets.read, threading.Event(), threading.Event()
    real_clear, rotated = keys._clear_mark, []

    def cleared_after_the_mark(rt_, verified, version):  # the rotation, its test passed on the connection as read
        rotation_tested.set()
        clear.wait(60)
        real_clear(rt_, verified, version)

    def rotation():
        rotated.append(rotate(rt, "connections/cj"))

    rotating = threading.Thread(target=rotation)

    def held_before_the_look_after_the_mark(reached, go_on):
        def look(*args, **options):  # the sync's looks at its key; the rotation's reads go through
            if threading.current_thread() is rotating:
                return read(*args, **options)
            if not rotating.is_alive() and not rotated:  # the look before the mark: then the rotation
                answer = read(*args, **options)
                rotating.start()
                assert rotation_tested.wait(60), "the rotation did not reach its clear"
                return answer
            reached.set()  # the look after the mark
            go_on.wait(60)
            return read(*args, **options)

        monkeypatch.setattr(rt.secrets, "read", look)

    def rotation_clears():
        clear.set()
        rotating.join(60)

    monkeypatch.setattr(keys, "_clear_mark", cleared_after_the_mark)
    with recorded_sites("cj") as urls:
        save_connection(rt.store, Connection(id="cj-1", source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                             credentials_path="connections/cj", healthy=False,
                                             health_reason=REFUSED + "2026-11-21T09:00:00+00:00"))
        synced = load_connection(rt.store, "cj-1")[0]
        interleaved(held_before_the_look_after_the_mark, lambda: mark_refused(rt, synced, refused_key, NOW),
                    rotation_clears)
    assert rotated == [(2, ["cj-1"])]
    connection = load_connection(rt.store, "cj-1")[0]
    assert (connection.healthy, connection.health_reason) == (True, None)


@pytest.mark.parametrize(("marked_since", "tested_key", "cleared"), [
    ("(key version 1)", 2, True),  # a refusal of the key the rotation replaced: its new key passed
    ("(key version 2)", 2, False),  # a refusal of the very key its test passed: the refusal stands
    ("(key version 1)", None, False),  # a connection test, whose key is not said: the mark it read only
    ("", 2, False),  # a mark naming no version (written before marks did): not known to be of an older key
])
def test_a_passing_test_clears_a_refusal_marked_since_only_of_a_key_older_than_the_one_it_tested(
        tmp_path, marked_since, tested_key, cleared):
    from affiliate_matrix.connections import REFUSED, Connection, load_connection, mark_healthy, save_connection

    rt = Runtime("test", Settings(data_dir=tmp_path))
    tested = Connection(id="cj-1", source="cj", credentials_path="connections/cj", healthy=False,
                        health_reason=REFUSED + "2026-11-21T09:00:00+00:00")
    since = REFUSED + "2026-11-21T12:00:00+00:00" + (f" {marked_since}" if marked_since else "")
    save_connection(rt.store, tested.model_copy(update={"health_reason": since}))
    assert mark_healthy(rt.store, tested, tested_key) is cleared
    assert load_connection(rt.store, "cj-1")[0].health_reason == (None if cleared else since)


def test_a_generate_key_registered_with_no_field_to_mint_is_not_rotated_but_warned_about(tmp_path):
    """A key registered before add_key refused it (`generate`, no field to mint): each rotation wrote the same key
    again and pushed its expiry back, and the keys cron did so whenever it came due, so it never changed and no one
    was warned. Its rotation is refused now, and the cron warns of its expiry as of any key it cannot rotate."""
    from datetime import timedelta

    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.events import KEY_EXPIRING
    from affiliate_matrix.keys import run_checks, save_record

    rt = Runtime("test", Settings(data_dir=tmp_path))
    warned = []
    rt.bus.subscribe(KEY_EXPIRING, lambda event: warned.append(event.data["path"]))
    rt.secrets.write(PATH, {"api_token": "first-key-1234"}, cas=0)
    save_record(rt, KeyRecord(path=PATH, rotation="generate", created_at=NOW, expires_at=NOW + timedelta(days=2)),
                create=True)
    with pytest.raises(InvalidInput, match="names no field to mint"):
        rotate(rt, PATH, NOW)
    outcome = run_checks(rt, NOW)
    assert outcome["rotated"] == [] and warned == [PATH], outcome
    assert rt.secrets.metadata(PATH).current_version == 1
    assert load_record(rt, PATH)[0].expires_at == NOW + timedelta(days=2)


def test_a_revocation_run_again_keeps_the_time_of_the_first(tmp_path):
    """`amx keys revoke` run twice moved the revocation's time to the second run's, in the key's record and in the mark
    of its connections (and so in what a sync of one says: "revoked at …"), while its event stayed the first's."""
    from datetime import timedelta

    from affiliate_matrix.connections import Connection, load_connection, save_connection
    from affiliate_matrix.keys import revoke

    rt = Runtime("test", Settings(data_dir=tmp_path))
    add_key(rt, KeyRecord(path=PATH, rotation="manual", created_at=NOW), {"api_token": "first-key-1234"})
    save_connection(rt.store, Connection(id="aw", source="awin", credentials_path=PATH))
    revoke(rt, PATH, NOW)
    revoke(rt, PATH, NOW + timedelta(hours=5))
    assert load_record(rt, PATH)[0].revoked_at == NOW
    # said as every CLI time is (cli/views.utc_text), not as ISO text (2026-11-21T12:00:00+00:00)
    said = load_connection(rt.store, "aw")[0].health_reason
    assert said == f"credentials at {PATH} revoked at 2026-11-21 12:00:00 UTC"


@pytest.mark.parametrize("url, sent", [
    ("https://hooks.example.com/services/T0/x", True),
    ("https://HOOKS.Example.COM:443/other?a=b", True),  # case and the scheme's own port: the same origin
    ("https://bücher.example/x", True),  # an IDNA name, as netguard maps it
    ("https://XN--BCHER-KVA.example/x", True),
    ("http://hooks.example.com/services/T0/x", False),  # another scheme
    ("https://hooks.example.com:8443/services/T0/x", False),  # another port
    ("https://hooks.example.com.evil.example/x", False),
    ("https://evil.example/hooks.example.com", False),
    ("https://hooks.example.com@evil.example/x", False),  # the host is after the @
    ("https://sub.hooks.example.com/x", False),
    ("not a url", False),
])
def test_a_webhook_key_is_sent_only_to_the_exact_origins_it_was_added_for(url, sent):
    """A webhook's key names the origins (scheme, host, port) it may be sent to, its host read as netguard connects to
    it: the comparison is exact, never a suffix or a prefix of the host."""
    from affiliate_matrix.keys import origin, origin_problem

    origins = [origin("https://Hooks.Example.com/services/T0/secret-path"), origin("https://BÜCHER.example")]
    assert origins == ["https://hooks.example.com", "https://xn--bcher-kva.example"]  # the path is never kept
    problem = origin_problem(KeyRecord(path="webhooks/relay", rotation="manual", created_at=NOW, origins=origins), url)
    assert (problem is None) == sent, problem
    if problem:
        assert problem.startswith("the key at 'webhooks/relay' is sent only to https://hooks.example.com, "
                                  "https://xn--bcher-kva.example, not to ")


def test_a_webhook_key_names_its_origins_and_only_a_webhook_key_does(tmp_path):
    """A key under webhooks/ added without an origin would be sent to whatever host a rule names (any admin writes
    rules): refused, nothing stored, as is an origin given to a source's key. The origins are kept in the record and in
    the secret's metadata, from which a revocation's stand-in for a damaged record takes them."""
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.keys import origin, stand_in

    rt = Runtime("test", Settings(data_dir=tmp_path))
    with pytest.raises(InvalidInput, match="a webhook's key is sent only to the webhooks it is added for: name each "
                                           "with --for-url URL"):
        add_key(rt, KeyRecord(path="webhooks/relay", rotation="manual", created_at=NOW), {"value": "Bearer t0k3n"})
    with pytest.raises(InvalidInput, match="--for-url is for a webhook's key"):
        add_key(rt, KeyRecord(path=PATH, rotation="manual", created_at=NOW, origins=["https://example.com"]),
                {"api_token": "a"})
    many = [f"https://hook-{n}.relay.example.com" for n in range(20)]  # more than the secret's metadata holds
    with pytest.raises(InvalidInput, match="its origins take 669 bytes written out; at most 512"):
        add_key(rt, KeyRecord(path="webhooks/relay", rotation="manual", created_at=NOW, origins=many), {"value": "v"})
    assert not (tmp_path / "secrets.json").exists()
    with pytest.raises(ValueError, match="is not an origin as amx keys add --for-url writes it"):
        KeyRecord(path="webhooks/relay", rotation="manual", created_at=NOW, origins=["https://Example.com/x"])
    origins = [origin("https://relay.example.com:8443/hook"), origin("http://[::1]:9000")]
    assert origins == ["https://relay.example.com:8443", "http://[::1]:9000"]
    add_key(rt, KeyRecord(path="webhooks/relay", rotation="manual", created_at=NOW, origins=origins),
            {"value": "Bearer t0k3n"})
    assert load_record(rt, "webhooks/relay")[0].origins == origins
    custom = rt.secrets.metadata("webhooks/relay").custom_metadata
    assert stand_in("webhooks/relay", custom, NOW).origins == origins



def test_a_rotation_raced_by_another_that_stored_first_says_so_and_is_no_failure(rt, monkeypatch):
    """Two rotations of one key at once (the keys cron's event delivered twice, or amx keys rotate beside the cron
    run): the one whose write came second lost its check-and-set, said its new version "could not be stored; the old
    key is still in use" (the other's key is in use, the old one retired) and published key.rotation.failed: the
    cron run failed, a false alarm. Now it says the key was rotated meanwhile by another caller, stores and publishes
    nothing, and the cron run counts it as neither rotated nor failed."""
    import secrets

    from affiliate_matrix.errors import ConflictError
    from affiliate_matrix.keys import run_checks

    path, due = "connections/gen", datetime(2027, 2, 15, tzinfo=UTC)  # within a week of its 90 days
    add_key(rt, KeyRecord(path=path, rotation="generate", generated_fields=["api_token"], created_at=NOW),
            {"api_token": "first-generated-1234"})
    mint, raced = secrets.token_urlsafe, []

    def mint_while_another_rotates(size):
        if not raced:  # this caller has read version 1; another rotates the key whole meanwhile
            raced.append(path)
            raced.append(rotate(rt, path, due))
        return mint(size)

    monkeypatch.setattr(secrets, "token_urlsafe", mint_while_another_rotates)
    with pytest.raises(ConflictError, match="rotated meanwhile by another caller"):
        rotate(rt, path, due)
    assert raced == [path, (2, [])] and rt.failures == [] and rt.secrets.read(path).version == 2

    raced.clear()
    later = datetime(2027, 5, 15, tzinfo=UTC)  # due again, and the cron run meets the same race
    outcome = run_checks(rt, later)
    assert raced == [path, (3, [])] and outcome["failed"] == [] and rt.failures == []
    assert outcome["rotated"] == [] and rt.secrets.read(path).version == 3  # not this run's: the other's


def test_a_rotation_overtaken_by_another_after_its_write_leaves_the_later_one_standing(rt, monkeypatch):
    """Two rotations at once, the second run whole while the first verified its new version: the first's record write
    then lost, and its roll-back (the old key written over the later version) lost too. It said "could NOT be rolled
    back: it is live" of a version already destroyed, published key.rotation.failed, and left the key it replaced
    valid at the provider, used by no one. Now it says the key was rotated meanwhile, leaves the later rotation
    standing, retires the key it replaced and publishes no failure."""
    from affiliate_matrix import keys
    from affiliate_matrix.errors import ConflictError

    verify, raced = keys._verify, []

    def another_rotation_meanwhile(rt_, path):
        if not raced:  # the first caller's new version is written, its record not yet
            raced.append(PATH)
            raced.append(rotate(rt, PATH, NOW))
        return verify(rt_, path)

    monkeypatch.setattr(keys, "_verify", another_rotation_meanwhile)
    with pytest.raises(ConflictError, match="rotated meanwhile by another caller"):
        rotate(rt, PATH, NOW)
    assert raced == [PATH, (3, [])] and rt.failures == []
    assert rt.secrets.read(PATH) == (PATH, {"api_token": "minted-2-secret"}, 3)
    assert rt.provider.valid == {"minted-2-secret"}  # the first key retired, the first rotation's key too
    assert load_record(rt, PATH)[0].rotated_at == NOW


def test_two_rotations_interleaved_the_first_failing_at_its_last_step_leave_a_usable_key(rt, monkeypatch, capsys):
    """Two rotations of one key (the keys cron and a rule's rotate_key, say): the second starts once the first has
    written its new version (2) and writes its own (3); the first then verifies, records, and fails at its last step
    (the bus refusing key.rotated), overtaken by version 3; the second then fails (the record changed under it) and
    rolls back to the key it replaced, the first's. The key ends usable: its newest version the first's key, which the
    provider accepts, its record the first's, the keys replaced retired, no key lost. The first said "the later one
    stands", which it could not know (the later one fell), and its failure went unrecorded: it is logged now, and
    says the later rotation decides."""
    first_failed, outcome, publish = _interleaved_the_first_failing_at_its_last_step(rt, monkeypatch)
    assert "BackendUnavailable: broker: unavailable" in str(first_failed.value)
    assert "the later one stands" not in str(first_failed.value)
    assert "that rotation decides which key is live" in str(first_failed.value)
    logged = capsys.readouterr().err
    assert "key.rotation_overtaken" in logged and "broker: unavailable" in logged
    assert isinstance(outcome["second"], RotationFailed) and "version 3 failed and was rolled back" in \
        str(outcome["second"])
    assert [(f["version"], f["old_key_live"]) for f in rt.failures] == [(3, True)]

    current = rt.secrets.read(PATH)
    assert current.version == 4 and current.data == {"api_token": "minted-1-secret"}  # the first's key, written back
    assert rt.provider.valid == {"minted-1-secret"}  # accepted; the key it replaced and the second's retired
    assert all(rt.secrets.metadata(PATH).versions[n]["destroyed"] for n in (1, 2, 3))  # settled: _settled
    assert load_record(rt, PATH)[0].rotated_at == NOW
    monkeypatch.setattr(rt.bus, "publish", publish)
    assert rotate(rt, PATH, NOW).version == 5  # and the next rotation goes on from it
    assert [n for n, meta in rt.secrets.metadata(PATH).versions.items() if not meta["destroyed"]] == [5]


def _interleaved_the_first_failing_at_its_last_step(rt, monkeypatch):
    """The interleaving above: the first rotation's error (pytest's ExceptionInfo), the second's outcome, and the bus's
    own publish (the first's key.rotated refused until it is put back)."""
    import threading

    from affiliate_matrix import keys
    from affiliate_matrix.errors import BackendUnavailable, ConflictError
    from affiliate_matrix.events import KEY_ROTATED
    from tests.support.interleave import second_held_at

    first, publish = threading.current_thread(), rt.bus.publish

    def bus_down_for_the_first(event):
        if event.type == KEY_ROTATED and threading.current_thread() is first:
            raise BackendUnavailable("broker: unavailable")
        return publish(event)

    monkeypatch.setattr(rt.bus, "publish", bus_down_for_the_first)
    # each rotation verifies right after its write: the first, having written version 2, starts the second there,
    # which writes version 3 and is held at its own verification until the first is done
    with second_held_at(monkeypatch, keys, "_verify", lambda: rotate(rt, PATH, NOW)) as outcome:
        with pytest.raises(ConflictError) as first_failed:
            rotate(rt, PATH, NOW)
    return first_failed, outcome, publish

def test_adding_a_key_where_one_is_stored_is_refused_before_its_values_are_asked_for(tmp_path, monkeypatch):
    """A person typed each secret at the hidden prompt, then learnt a key was stored there already; the path's other
    refusals (its folder, its rotation, a webhook's origins) come before the values, this one now too."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.errors import ConflictError

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    add = ["keys", "add", PATH, "--rotation", "manual", "--field", "api_token"]
    assert CliRunner().invoke(app, add, input="first-key-1234\n").exit_code == 0
    asked = []
    monkeypatch.setattr("affiliate_matrix.cli.keys.secret_fields", lambda *args: asked.append(args) or {})
    again = CliRunner().invoke(app, add)  # (amx's main says a ConflictError in one line, exit 2)
    assert isinstance(again.exception, ConflictError) and asked == [], (again.exception, asked)
    assert f"a key is stored at '{PATH}' already" in str(again.exception)


def test_two_rotations_interleaved_announce_the_key_left_live_and_destroy_the_one_rolled_back(rt, monkeypatch):
    """The interleaving above: the first rotation's key ends live (put back by the second's rollback as version 4), but
    its key.rotated was refused and the second published only its failure, so the consumers of key.rotated (rules,
    functions holding the key) never learnt the live key changed; and version 3, the second's key, retired at the
    provider, stayed live as an older version (a reader of older versions tried a dead key) until the next rotation.
    The rollback, putting back a key another rotation recorded meanwhile, announces it: key.rotated of version 4,
    once, after the failure; and destroys version 3."""
    from affiliate_matrix.events import KEY_ROTATED

    _interleaved_the_first_failing_at_its_last_step(rt, monkeypatch)
    announced = [(e.type, e.data["version"]) for e in rt.bus.published if e.type in (KEY_ROTATED, KEY_ROTATION_FAILED)]
    assert announced == [(KEY_ROTATION_FAILED, 3), (KEY_ROTATED, 4)]
    assert rt.secrets.read(PATH) == (PATH, {"api_token": "minted-1-secret"}, 4)
    live = [n for n, meta in rt.secrets.metadata(PATH).versions.items() if not meta["destroyed"]]
    assert live == [4]  # the first's key as put back; 3 rolled back, and 2 (the same key) once 4 was announced
    assert "minted-2-secret" not in rt.provider.valid


def test_a_rotation_rolled_back_destroys_the_version_it_wrote(rt, monkeypatch):
    """A rotation failing at its last step (the bus refusing key.rotated) put the old key back as version 3 and left
    version 2, its new key retired at the provider, live as an older version until the next rotation. The rollback
    destroys it: the old key, put back, is the one version live (version 1, its first copy, destroyed once it is put
    back, the key settled), and nothing is announced but the failure."""
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.events import KEY_ROTATED

    publish = rt.bus.publish

    def bus_refusing_rotated(event):
        if event.type == KEY_ROTATED:
            raise BackendUnavailable("broker: unavailable")
        return publish(event)

    monkeypatch.setattr(rt.bus, "publish", bus_refusing_rotated)
    with pytest.raises(RotationFailed, match="version 2 failed and was rolled back"):
        rotate(rt, PATH, NOW)
    assert rt.secrets.read(PATH) == (PATH, {"api_token": "first-key-1234"}, 3)
    assert {n: meta["destroyed"] for n, meta in rt.secrets.metadata(PATH).versions.items()} == {
        1: True, 2: True, 3: False}
    assert rt.provider.valid == {"first-key-1234"}
    assert [e.type for e in rt.bus.published if e.type in (KEY_ROTATED, KEY_ROTATION_FAILED)] == [KEY_ROTATION_FAILED]


def test_a_rotation_rolled_back_after_a_persons_edit_of_the_record_announces_nothing_but_its_failure(rt, monkeypatch):
    """A rollback announces the key it puts back only when another rotation recorded that key meanwhile: a record
    changed by a person while the rotation was verified (its lifetime, say) fails the rotation as before, and the key
    put back, the one it replaced, is no rotation's to announce."""
    from affiliate_matrix import keys
    from affiliate_matrix.events import KEY_ROTATED
    from affiliate_matrix.keys import save_record

    def verified_while_a_person_edits(runtime, path):
        record, etag = load_record(runtime, path)
        save_record(runtime, record.model_copy(update={"lifetime_days": 30}), etag)
        return [], []

    monkeypatch.setattr(keys, "_verify", verified_while_a_person_edits)
    with pytest.raises(RotationFailed, match="version 2 failed and was rolled back: ConflictError"):
        rotate(rt, PATH, NOW)
    assert rt.secrets.read(PATH) == (PATH, {"api_token": "first-key-1234"}, 3)
    assert [e.type for e in rt.bus.published if e.type in (KEY_ROTATED, KEY_ROTATION_FAILED)] == [KEY_ROTATION_FAILED]


@pytest.mark.parametrize("second_ends", ["before the first records", "after the first records"])
@pytest.mark.parametrize("first_announces", [True, False], ids=["published", "refused"])
def test_two_rotations_the_second_rolled_back_before_the_first_announces_end_with_the_live_key_announced(
        rt, monkeypatch, second_ends, first_announces):
    """Two rotations of one key, the second (B) starting once the first (A) has written version 2, writing version 3,
    its new key refused by the connection test, so it rolls back to A's key as version 4: here before A's last step,
    publishing key.rotated (the other order, A's publish refused before B's rollback, is the test above). Every order
    of the two that matters (B writes after A's write: before it, one of the two loses its check-and-set and stores
    nothing; B recording first leaves A overtaken, B's key live, and B announces or rolls back as one rotation: the
    test below):

    B rolls back          | A's key.rotated | before                          | now
    ----------------------|-----------------|---------------------------------|-------------------------------------
    before A records      | published       | of version 2 (4 live)           | B announces 4 (a version before A's
    after A records       |                 | of 2, after B's of 4            | live: A unfinished); A's of the live
                          |                 |                                 | version is the same event (one id)
    before A records      | refused         | A "overtaken", gave up: its key | A rolls back from 4 (its key, put
    after A records       |                 | live, announced by no one (or   | back): the old key as 5, announced;
                          |                 | by B, A having recorded)        | 2 and 4 destroyed

    Each ends with the live key announced exactly once after its last change (one id), no live version destroyed, every
    version rolled back destroyed, and the versions before the live one too (the key settled)."""
    import threading

    from affiliate_matrix import keys
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.events import KEY_ROTATED
    from tests.support.interleave import second_held_at

    first, verify, publish, save = threading.current_thread(), keys._verify, rt.bus.publish, keys.save_record
    refused = []

    def refused_for_the_second(runtime, path):
        if threading.current_thread() is first:
            return verify(runtime, path)
        return ["shop: the provider refused the key"], []

    def refused_once_for_the_first(event):
        if event.type == KEY_ROTATED and threading.current_thread() is first and not first_announces and not refused:
            refused.append(event)
            raise BackendUnavailable("broker: unavailable")
        return publish(event)

    def recording(*args, **kwargs):  # A's record written once the second has ended, or the second ended after it
        if threading.current_thread() is first and second_ends == "before the first records":
            outcome["finish"]()
        written = save(*args, **kwargs)
        if threading.current_thread() is first:
            outcome["finish"]()
        return written

    monkeypatch.setattr(keys, "_verify", refused_for_the_second)
    monkeypatch.setattr(rt.bus, "publish", refused_once_for_the_first)
    with second_held_at(monkeypatch, keys, "_verify", lambda: rotate(rt, PATH, NOW)) as outcome:
        monkeypatch.setattr(keys, "save_record", recording)
        try:
            ended = rotate(rt, PATH, NOW)
        except RotationFailed as exc:
            ended = exc
    assert isinstance(outcome["second"], RotationFailed), outcome["second"]
    assert "version 3 failed and was rolled back" in str(outcome["second"])

    events = [e for e in rt.bus.published if e.type in (KEY_ROTATED, KEY_ROTATION_FAILED)]
    said = [("rotated" if e.type == KEY_ROTATED else "failed", e.data["version"]) for e in events]
    live = [n for n, meta in rt.secrets.metadata(PATH).versions.items() if not meta["destroyed"]]
    if first_announces:  # A's key stands, as put back by B
        assert ended.version == 2
        assert said == [("failed", 3), ("rotated", 4), ("rotated", 4)]
        assert len({e.id for e in events if e.type == KEY_ROTATED}) == 1
        assert rt.secrets.read(PATH) == (PATH, {"api_token": "minted-1-secret"}, 4)
        assert live == [4] and rt.provider.valid == {"minted-1-secret"}
        assert load_record(rt, PATH)[0].rotated_at == NOW
    else:  # A rolled back, from the version B put its key back as
        assert isinstance(ended, RotationFailed) and "version 2 failed and was rolled back" in str(ended), ended
        assert said == [("failed", 3), ("rotated", 4), ("failed", 2), ("rotated", 5)]
        assert rt.secrets.read(PATH) == (PATH, {"api_token": "first-key-1234"}, 5)
        assert live == [5] and rt.provider.valid == {"first-key-1234"}
        assert load_record(rt, PATH)[0].rotated_at is None


def test_a_rotation_whose_record_write_landed_with_its_answer_lost_is_rolled_back_whole(rt, monkeypatch):
    """The record's write applied, its answer lost (a timeout on the way back): the rollback put the old key back but
    left the rotation's record (rotated now, its expiry pushed back 90 days for the old key), and, taking that record
    for another rotation's, announced key.rotated of the old key put back. The rollback reads what is stored: the
    record it finds is its own, and it is restored; nothing is announced but the failure."""
    from affiliate_matrix.events import KEY_ROTATED
    from affiliate_matrix.storage.local import LocalObjectStore

    before, put, lost = load_record(rt, PATH)[0], LocalObjectStore.put, []

    def answer_lost(self, key, data, **kwargs):
        etag = put(self, key, data, **kwargs)
        if key.startswith("keys/records/") and not lost:
            lost.append(key)
            raise TimeoutError("no answer")
        return etag

    monkeypatch.setattr(LocalObjectStore, "put", answer_lost)
    with pytest.raises(RotationFailed, match="version 2 failed and was rolled back: TimeoutError"):
        rotate(rt, PATH, NOW)
    assert load_record(rt, PATH)[0] == before
    assert rt.secrets.read(PATH) == (PATH, {"api_token": "first-key-1234"}, 3)
    assert [e.type for e in rt.bus.published if e.type in (KEY_ROTATED, KEY_ROTATION_FAILED)] == [KEY_ROTATION_FAILED]
    assert rt.provider.valid == {"first-key-1234"}


@pytest.mark.parametrize("order", ["the second reads the first's record", "the second records first"])
def test_two_rotations_the_first_ended_before_the_second_rolls_back_to_its_key_end_with_it_announced(
        rt, monkeypatch, order):
    """The orders in which the first rotation (A) ends, overtaken, before the second (B) rolls back to A's key, and B
    could not tell A's key unannounced from its record (the test above it has B read the record before A wrote it):

    order                                                    | the end
    ---------------------------------------------------------|-------------------------------------------------------
    A records; B reads A's record and writes 3; A's          | B, its key refused, rolls back to A's key as 4: it
    key.rotated refused (overtaken, A ends)                  | saw A's record, so announced nothing
    B reads, writes 3, records first; A's record refused     | B's key.rotated refused: B rolls back to A's key as 4,
    (overtaken, A ends)                                      | the record as B read it: nothing announced

    A's key was live and never announced. Now a rotation destroys the versions before its own only once it has
    announced it, so B, finding a version before the key it puts back live (A never finished), announces 4; and once
    announced, the versions before 4 are destroyed (the key is settled)."""
    import threading

    from affiliate_matrix import keys
    from affiliate_matrix.errors import BackendUnavailable, ConflictError
    from affiliate_matrix.events import KEY_ROTATED
    from tests.support.interleave import second_held_at

    first, verify, publish, refused = threading.current_thread(), keys._verify, rt.bus.publish, []
    records_first = order == "the second records first"

    def refused_for_the_second(runtime, path):
        if threading.current_thread() is first or records_first:
            return verify(runtime, path)
        return ["shop: the provider refused the key"], []

    def refused_once(event):  # A's key.rotated, or B's when B records first (A publishes none then)
        if event.type == KEY_ROTATED and not refused:
            refused.append(event)
            raise BackendUnavailable("broker: unavailable")
        return publish(event)

    monkeypatch.setattr(keys, "_verify", refused_for_the_second)
    monkeypatch.setattr(rt.bus, "publish", refused_once)
    # the secret's metadata is read by a rotation first once it has recorded its key (both then held there): B starts
    # there when it reads A's record, else at A's verification
    start = (keys, "_verify") if records_first else (rt.secrets, "metadata")
    with second_held_at(monkeypatch, *start, lambda: rotate(rt, PATH, NOW), held_at=(rt.secrets, "metadata")) \
            as outcome:
        with pytest.raises(ConflictError, match="that rotation decides which key is live"):
            rotate(rt, PATH, NOW)
    assert isinstance(outcome["second"], RotationFailed), outcome["second"]
    assert "version 3 failed and was rolled back" in str(outcome["second"])

    said = [("rotated" if e.type == KEY_ROTATED else "failed", e.data["version"]) for e in rt.bus.published
            if e.type in (KEY_ROTATED, KEY_ROTATION_FAILED)]
    assert said == [("failed", 3), ("rotated", 4)]
    assert rt.secrets.read(PATH) == (PATH, {"api_token": "minted-1-secret"}, 4)
    assert [n for n, meta in rt.secrets.metadata(PATH).versions.items() if not meta["destroyed"]] == [4]
    assert rt.provider.valid == {"minted-1-secret"}
    # A's record, or, A's refused, the one B read and put back (the key's expiry the original's: due sooner, not later)
    assert load_record(rt, PATH)[0].rotated_at == (None if records_first else NOW)


def test_the_keys_cron_says_of_each_key_it_rotated_its_new_version_and_what_verified_it(tmp_path, capsys):
    """The cron's outcome and its log line (keys.checked) listed the rotated keys' paths alone, where amx keys rotate
    says the new version and the connections that verified it: which key was live and whether anything had tested it
    was left to guess. Each rotation is said as amx keys rotate says it now, and no key's value is in the line."""
    from datetime import timedelta

    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
    from affiliate_matrix.handlers.keys import checked
    rt = Runtime("keys", Settings(data_dir=tmp_path, allow_loopback_fetch=True, log_format="json"))
    now = datetime.now(UTC)  # the handler's run reads the clock: the keys are due two days from it
    # a CJ key whose minted field is one CJ's test does not read (a webhook's signing secret): its test passes
    add_key(rt, KeyRecord(path="connections/cj", rotation="generate", owner_source="cj", created_at=now,
                          generated_fields=["signing_secret"], expires_at=now + timedelta(days=2)),
            {**RECORDED_CREDENTIALS["cj"], "signing_secret": "first-secret-1234"})
    add_key(rt, KeyRecord(path="connections/alone", rotation="generate", generated_fields=["api_token"],
                          created_at=now, expires_at=now + timedelta(days=2)), {"api_token": "alone-secret-5678"})
    with recorded_sites("cj") as urls:
        for cid in ("cj-us", "cj-eu"):
            save_connection(rt.store, Connection(id=cid, source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                                 credentials_path="connections/cj"))
        capsys.readouterr()
        checked(rt)
    output = capsys.readouterr()
    logged = output.out + output.err
    [line] = [json.loads(text) for text in logged.splitlines() if '"keys.checked"' in text]
    assert line["rotated"] == ["connections/alone: now version 2, no connection depends on it, so none verified the "
                               "new key", "connections/cj: now version 2, verified by 2 connections: cj-eu, cj-us"]
    assert line["failed"] == [] and line["warned"] == []
    for value in (rt.secrets.read("connections/cj").data["signing_secret"], "first-secret-1234",
                  rt.secrets.read("connections/alone").data["api_token"], "alone-secret-5678",
                  RECORDED_CREDENTIALS["cj"]["api_token"]):
        assert value not in logged, value
