"""Key rotation, revocation and expiry against a real OpenBao dev server (Vault's API), with dependents
verified through the recorded Awin API. Every log line, error and event of
these tests is scanned for the secrets' values."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, load_connection, save_connection
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.errors import NotFoundError
from affiliate_matrix.events import KEY_EXPIRING, KEY_REVOKED, KEY_ROTATION_FAILED
from affiliate_matrix.keys import KeyRecord, RotationFailed, add_key, load_record, revoke, rotate, run_checks, save_record
from affiliate_matrix.observability import configure_logging
from affiliate_matrix.runtime import Runtime
from tests.conftest import VAULT_ROOT_TOKEN
from tests.support.minting import cj_mints

pytestmark = pytest.mark.slow  # a real OpenBao server

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
AWIN_TOKEN = "test-awin-token"  # what the recorded API accepts


@pytest.fixture
def rt(tmp_path, openbao, capsys):
    configure_logging("keys", fmt="json")
    runtime = Runtime("test", Settings(data_dir=tmp_path, secrets="vault", vault_addr=openbao.url,
                                       vault_token=VAULT_ROOT_TOKEN, allow_loopback_fetch=True, log_format="json"))
    write, runtime.secrets_seen = runtime.secrets.write, [AWIN_TOKEN]  # this test's own: none left for the next

    def write_seen(path, data, **options):  # each key written, a rolled-back one destroyed since, is never to be logged
        runtime.secrets_seen.extend(value for field, value in data.items() if field == "api_token")
        return write(path, data, **options)

    runtime.secrets.write = write_seen
    runtime.events = []
    for event_type in (KEY_EXPIRING, KEY_REVOKED, KEY_ROTATION_FAILED, "dev.affiliatematrix.key.rotated"):
        runtime.bus.subscribe(event_type, runtime.events.append)
    yield runtime
    output = capsys.readouterr()
    text = output.out + output.err + json.dumps([e.model_dump(mode="json") for e in runtime.events])
    for value in runtime.secrets_seen:
        assert value not in text, "a secret value reached a log line or an event"


def path_for(request) -> str:
    return f"connections/{request.node.name.replace('[', '-').replace(']', '')[:40]}"


def awin_key(rt, path, rotation="generate", expires_in_days=90):
    add_key(rt, KeyRecord(path=path, rotation=rotation, owner_source="awin", generated_fields=["api_token"],
                          created_at=NOW, expires_at=NOW + timedelta(days=expires_in_days)),
            {"api_token": AWIN_TOKEN, "publisher_id": "123456"})


def test_rotation_that_fails_verification_rolls_back(rt, request):
    path = path_for(request)
    awin_key(rt, path)
    with recorded_sites("awin") as urls:
        save_connection(rt.store, Connection(id="aw", source="awin", base_url=urls["awin"], credentials_path=path,
                                             rate_limit_per_s=50))
        with pytest.raises(RotationFailed, match="rolled back") as info:
            rotate(rt, path, NOW)
    assert "aw: " in str(info.value) and "credentials were refused" in str(info.value)
    current = rt.secrets.read(path)
    assert current.data["api_token"] == AWIN_TOKEN and current.version == 3  # new, then the old value again
    versions = rt.secrets.metadata(path).versions  # the refused one destroyed by the rollback, and the old key's
    assert [versions[n]["destroyed"] for n in (1, 2, 3)] == [True, True, False]  # first copy, as it is live as 3
    assert [e.type for e in rt.events] == [KEY_ROTATION_FAILED]


def test_a_check_that_raises_puts_the_old_key_back_and_says_why(rt, request, monkeypatch):
    path = path_for(request)
    awin_key(rt, path)
    save_connection(rt.store, Connection(id="aw", source="awin", credentials_path=path))

    def raising_check(runtime, connection, **how):  # stands in for a defect in a connection test: none raises on cue
        raise TypeError(f"unsupported token {runtime.secrets.read(path).data['api_token']!r}")

    monkeypatch.setattr("affiliate_matrix.connection_test.check", raising_check)
    with pytest.raises(RotationFailed, match="rolled back: TypeError: unsupported token '\\[redacted\\]'"):
        rotate(rt, path, NOW)
    current = rt.secrets.read(path)
    assert current.data["api_token"] == AWIN_TOKEN and current.version == 3
    assert load_record(rt, path)[0].rotated_at is None
    [event] = rt.events
    assert event.type == KEY_ROTATION_FAILED and event.data["old_key_live"] is True and event.data["version"] == 2
    assert event.data["reason"].startswith("TypeError: unsupported token")


def test_a_record_changed_during_the_rotation_rolls_it_back(rt, request, monkeypatch):
    path = path_for(request)
    awin_key(rt, path)
    save_connection(rt.store, Connection(id="aw", source="awin", credentials_path=path))

    def check_while_a_person_edits(runtime, connection, **how):  # a connection test passing while the record changes
        record, etag = load_record(runtime, path)
        save_record(runtime, record.model_copy(update={"lifetime_days": 30}), etag)
        return {"ok": True, "checks": []}

    monkeypatch.setattr("affiliate_matrix.connection_test.check", check_while_a_person_edits)
    with pytest.raises(RotationFailed, match="rolled back: ConflictError"):
        rotate(rt, path, NOW)
    assert rt.secrets.read(path).data["api_token"] == AWIN_TOKEN
    record = load_record(rt, path)[0]
    assert record.lifetime_days == 30 and record.rotated_at is None  # the person's edit kept, no rotation recorded
    assert [e.type for e in rt.events] == [KEY_ROTATION_FAILED]


def test_the_keys_function_answers_an_error_when_a_rotation_failed(rt, request):
    from affiliate_matrix.handlers.keys import checked

    path = path_for(request)
    awin_key(rt, path, expires_in_days=2)  # due
    save_connection(rt.store, Connection(id="aw", source="awin", base_url="http://127.0.0.1:9/",
                                         credentials_path=path))  # nothing listens there: its test fails
    with pytest.raises(RotationFailed, match="1 rotation\\(s\\) failed"):
        checked(rt)
    assert rt.secrets.read(path).data["api_token"] == AWIN_TOKEN
    assert [e.type for e in rt.events] == [KEY_ROTATION_FAILED, KEY_EXPIRING]


def test_rotation_verified_retires_the_old_version(rt, request):
    path = path_for(request)
    awin_key(rt, path)
    version, verified = rotate(rt, path, NOW)  # no dependent connection to fail
    rt.secrets_seen.append(rt.secrets.read(path).data["api_token"])
    assert version == 2 and rt.secrets.read(path).data["api_token"] != AWIN_TOKEN and verified == []
    with pytest.raises(NotFoundError):
        rt.secrets.read(path, version=1)
    record = json.loads(rt.store.get(f"keys/records/{path}.json").data)
    assert record["expires_at"].startswith((NOW + timedelta(days=90)).date().isoformat())


def test_a_rotation_after_one_killed_half_way_retires_every_older_version(rt, request):
    path = path_for(request)
    awin_key(rt, path)
    # a rotation killed (SIGKILL, a pod evicted) once its new version was written: nothing put back, nothing destroyed
    rt.secrets.write(path, {"api_token": "half-way-0123456789", "publisher_id": "123456"}, cas=1)
    rt.secrets_seen.append("half-way-0123456789")
    version, _ = rotate(rt, path, NOW)
    rt.secrets_seen.append(rt.secrets.read(path).data["api_token"])
    assert version == 3
    versions = rt.secrets.metadata(path).versions
    # only version 2 was destroyed: the original key stayed readable for good
    assert [versions[n]["destroyed"] for n in (1, 2, 3)] == [True, True, False]
    with pytest.raises(NotFoundError):
        rt.secrets.read(path, version=1)

def test_two_rotations_interleaved_the_first_failing_at_its_last_step_leave_a_usable_key(rt, request, monkeypatch):
    """As tests/unit/test_keys.py's, on OpenBao's check-and-set: the second rotation starts once the first wrote
    version 2 and writes version 3; the first records and fails at publishing key.rotated, overtaken; the second fails
    (the record changed under it) and rolls back to the first's key. That key is the newest version, the record the
    first's, the original destroyed, the second's failure published, then the key put back announced (key.rotated of
    version 4: the first's own was refused), and the second's version destroyed (its key retired at the provider), the
    first's version 2 too once its key is live and announced as 4."""
    import threading

    from affiliate_matrix import keys
    from affiliate_matrix.errors import BackendUnavailable, ConflictError
    from tests.support.interleave import second_held_at

    path = path_for(request)
    awin_key(rt, path)
    first, publish = threading.current_thread(), rt.bus.publish

    def bus_down_for_the_first(event):
        if event.type == "dev.affiliatematrix.key.rotated" and threading.current_thread() is first:
            raise BackendUnavailable("broker: unavailable")
        return publish(event)

    write, written = rt.secrets.write, []  # the first's key: version 2, destroyed once put back and announced

    def keeping(secret_path, data, **kwargs):
        written.append(data)
        return write(secret_path, data, **kwargs)

    monkeypatch.setattr(rt.bus, "publish", bus_down_for_the_first)
    monkeypatch.setattr(rt.secrets, "write", keeping)
    with second_held_at(monkeypatch, keys, "_verify", lambda: rotate(rt, path, NOW)) as outcome:
        with pytest.raises(ConflictError, match="that rotation decides which key is live"):
            rotate(rt, path, NOW)
    firsts = written[0]["api_token"]
    assert isinstance(outcome["second"], RotationFailed) and "version 3 failed and was rolled back" in \
        str(outcome["second"])
    current = rt.secrets.read(path)
    assert current.version == 4 and current.data == {"api_token": firsts, "publisher_id": "123456"}
    assert rt.secrets.metadata(path).versions[1]["destroyed"] and load_record(rt, path)[0].rotated_at == NOW
    assert [(e.type, e.data["version"]) for e in rt.events] == [(KEY_ROTATION_FAILED, 3),
                                                                 ("dev.affiliatematrix.key.rotated", 4)]
    assert rt.events[0].data["old_key_live"] is True
    assert [n for n, meta in rt.secrets.metadata(path).versions.items() if not meta["destroyed"]] == [4]


def test_revocation_destroys_the_key_and_flags_every_dependent(rt, request):
    path = path_for(request)
    awin_key(rt, path)
    for cid in ("aw-1", "aw-2"):
        save_connection(rt.store, Connection(id=cid, source="awin", credentials_path=path))
    save_connection(rt.store, Connection(id="other", source="affiliateprograms"))
    assert sorted(revoke(rt, path, NOW)) == ["aw-1", "aw-2"]
    with pytest.raises(NotFoundError):
        rt.secrets.read(path)
    flagged = {cid: load_connection(rt.store, cid)[0] for cid in ("aw-1", "aw-2", "other")}
    assert [c.healthy for c in flagged.values()] == [False, False, True]
    assert "revoked" in flagged["aw-1"].health_reason
    assert [e.type for e in rt.events] == [KEY_REVOKED]


def test_a_revocation_interrupted_after_the_destroy_finishes_when_run_again(rt, request, monkeypatch):
    import affiliate_matrix.keys as keys

    path = path_for(request)
    awin_key(rt, path)
    save_connection(rt.store, Connection(id="aw-1", source="awin", credentials_path=path))
    marked = keys.mark_unhealthy

    def interrupted(*args):
        raise ConnectionError("the object store went away")

    monkeypatch.setattr(keys, "mark_unhealthy", interrupted)
    with pytest.raises(ConnectionError):
        revoke(rt, path, NOW)  # the versions are destroyed; the connection and the record not yet marked
    monkeypatch.setattr(keys, "mark_unhealthy", marked)
    assert revoke(rt, path, NOW) == ["aw-1"]
    assert load_record(rt, path)[0].revoked_at == NOW
    assert load_connection(rt.store, "aw-1")[0].healthy is False

def test_the_cron_run_warns_before_expiry_and_is_safe_twice(rt, request):
    manual = path_for(request) + "-m"
    add_key(rt, KeyRecord(path=manual, rotation="manual", created_at=NOW, expires_at=NOW + timedelta(days=2)),
            {"api_token": AWIN_TOKEN})
    generated = path_for(request) + "-g"
    awin_key(rt, generated, expires_in_days=5)
    first = run_checks(rt, NOW)
    second = run_checks(rt, NOW)
    assert first["rotated"] == [f"{generated}: now version 2, no connection depends on it, so none verified the new "
                                "key"] and first["warned"] == [manual]
    assert second["rotated"] == [] and second["warned"] == [manual]  # rotated keys are no longer due
    warnings = [e for e in rt.events if e.type == KEY_EXPIRING]
    assert len({e.id for e in warnings}) == 1 and warnings[0].data["days"] == 3  # the same warning, twice
    rt.secrets_seen.append(rt.secrets.read(generated).data["api_token"])


def test_usage_is_tracked_per_key(rt, request):
    from affiliate_matrix.keys import usage
    from affiliate_matrix.pipeline import scrape

    path = path_for(request)
    awin_key(rt, path)
    with recorded_sites("awin") as urls:
        save_connection(rt.store, Connection(id="aw", source="awin", base_url=urls["awin"], credentials_path=path,
                                             rate_limit_per_s=50))
        scrape(rt, "aw")
    used = usage(rt, path)
    assert sum(used["uses"].values()) == 1 and used["failures"] == {} and used["last_used_at"]


def test_provider_rotation_asks_the_source_plugin(rt, request):
    from affiliate_matrix.sources import ApiSource, register

    @register
    class ProviderForTests(ApiSource):
        """Stub provider: no real provider can mint keys here; this one hands out a fresh token."""

        name = "provider_for_tests"
        title = "Provider for tests"
        base_url = "https://provider.example.org"

        @staticmethod
        def rotate_credentials(old: dict) -> dict:
            return {**old, "api_token": "minted-by-provider-" + old["api_token"][-4:]}

    path = path_for(request)
    add_key(rt, KeyRecord(path=path, rotation="provider", owner_source="provider_for_tests", created_at=NOW),
            {"api_token": AWIN_TOKEN})
    assert rotate(rt, path, NOW).version == 2
    assert rt.secrets.read(path).data["api_token"] == "minted-by-provider-oken"
    manual = path + "-manual"
    add_key(rt, KeyRecord(path=manual, rotation="manual", created_at=NOW), {"api_token": AWIN_TOKEN})
    with pytest.raises(Exception, match="rotates manually"):
        rotate(rt, manual, NOW)


def test_key_figures_go_to_the_metrics_index_once_per_day(rt, request):
    from affiliate_matrix.search import SearchQuery

    path = path_for(request)
    add_key(rt, KeyRecord(path=path, rotation="manual", created_at=NOW, expires_at=NOW + timedelta(days=10)),
            {"api_token": AWIN_TOKEN})
    run_checks(rt, NOW)
    run_checks(rt, NOW + timedelta(hours=2))  # the same day: overwritten, not added
    result = rt.index.search("metrics", SearchQuery(filters={"labels": [f"key={path}"]}, size=10))
    figures = {h.doc["name"]: h.doc["value"] for h in result.hits}
    assert result.total == 4 and figures["key_version"] == 1 and 9.9 < figures["key_days_left"] <= 10


def test_a_refusal_of_a_key_rotated_away_during_the_sync_does_not_mark_the_connection(rt, request, monkeypatch):
    """As on the embedded store (tests/unit/test_keys.py): a sync refused the key it read, version 1, while a rotation
    wrote version 2 and passed the connection's test with it. Vault's read answers with the values the refusal is
    judged by: the connection's key now is not the one refused, so it is not marked."""
    from affiliate_matrix import pipeline
    from affiliate_matrix.demo import RECORDED_CREDENTIALS
    from affiliate_matrix.pipeline import scrape

    stale = "stale-cj-token-1234"
    rt.secrets_seen.append(stale)
    path = path_for(request)
    cj_mints(monkeypatch, RECORDED_CREDENTIALS["cj"])
    add_key(rt, KeyRecord(path=path, rotation="provider", owner_source="cj", created_at=NOW),
            {"api_token": stale, "requestor_cid": "7811141"})
    real_sync, rotated = pipeline.sync, []

    def rotated_meanwhile(*args, **kwargs):
        items = real_sync(*args, **kwargs)
        rotated.append(rotate(rt, path, NOW))
        return items

    monkeypatch.setattr(pipeline, "sync", rotated_meanwhile)
    with recorded_sites("cj") as urls:
        save_connection(rt.store, Connection(id="cj", source="cj", base_url=urls["cj"], credentials_path=path,
                                             rate_limit_per_s=50))
        report = scrape(rt, "cj")
    assert "credentials were refused" in report.failures[0].reason and rotated == [(2, ["cj"])]
    connection = load_connection(rt.store, "cj")[0]
    assert (connection.healthy, connection.health_reason) == (True, None)
