"""One contract, two adapters: the local directory, and S3 on two real servers (moto_server, and
s3proxy on a local directory), each in its own process."""

import hashlib
import json
import os
import threading
import tracemalloc

import pytest

from affiliate_matrix.config import Settings, load_settings
from affiliate_matrix.errors import ConfigError, ConflictError, DamagedData, NotFoundError, ObjectTooLarge
from affiliate_matrix.runtime import open_object_store
from affiliate_matrix.storage import etag_of, read_json
from tests.conftest import fresh_bucket

S3_SERVERS = ["moto_server", "s3proxy"]  # session fixtures in tests/conftest.py
# s3proxy checks a write's condition and then writes (jclouds has no conditional put), so two racing
# conditional writers can both win there; its conditions hold only for writers one after another.
NOT_ATOMIC = {"s3-s3proxy"}


def skip_unless_conditions_are_atomic(request):
    if request.node.callspec.params["store"] in NOT_ATOMIC:
        pytest.skip("s3proxy's conditional writes are not atomic (check, then write); racing writers run on the others")


@pytest.fixture(params=["local", *(pytest.param(f"s3-{s}", marks=pytest.mark.slow) for s in S3_SERVERS)])
def store(request, tmp_path):
    if request.param == "local":
        return open_object_store(Settings(data_dir=tmp_path))
    server = request.getfixturevalue(request.param.removeprefix("s3-"))
    store = open_object_store(fresh_bucket(server.url))
    store.check()
    return store


def test_put_get_roundtrip_with_etag_and_content_type(store):
    etag = store.put("docs/a.json", b'{"a": 1}', content_type="application/json")
    got = store.get("docs/a.json")
    assert (got.data, got.etag, got.content_type) == (b'{"a": 1}', etag, "application/json")
    assert store.head("docs/a.json") == etag


def test_missing_object_raises_not_found_and_head_is_none(store):
    with pytest.raises(NotFoundError, match="nope/x"):
        store.get("nope/x")
    assert store.head("nope/x") is None


def test_written_at_is_the_stores_date_of_the_last_write_and_none_once_deleted(store):
    """What the retention tick is checked against (retention.apply_tick): the store's own clock."""
    assert store.written_at("connections/w.json") is None
    etag = store.put("connections/w.json", b"{}", content_type="application/json")
    written = store.written_at("connections/w.json")
    assert written is not None and written.utcoffset() is not None
    store.delete("connections/w.json", if_match=etag)  # on S3, a tombstone stands: no object for all that
    assert store.written_at("connections/w.json") is None


def test_list_is_sorted_and_prefix_filtered(store):
    for key in ["raw/b/2", "raw/a/1", "cfg/x", "raw/a/0"]:
        store.put(key, key.encode())
    assert list(store.list("raw/")) == ["raw/a/0", "raw/a/1", "raw/b/2"]


def test_a_listing_is_in_the_byte_order_of_its_keys(store):
    """ObjectStore.stored on S3 reads a listing for a few pages and asks for the keys past the last one listed: that
    holds only while every store lists in the byte order of the keys (S3 promises it; here it is checked of each
    server, on the characters a key may hold, [A-Za-z0-9_.=-]: capitals, and '_' and '=' from discovery's keys)."""
    keys = ["k/a", "k/B", "k/_x", "k/=x", "k/-x", "k/0", "k/Z_", "k/Z=", "k/Z-", "k/Z.", "k/Za", "k/a.b", "k/a-b"]
    for key in keys:
        store.put(key, b"{}")
    assert list(store.list("k/")) == sorted(keys, key=str.encode)


def test_listed_gives_each_key_under_a_prefix_with_the_etag_a_head_gives(store):
    """What a cache checks itself against in one request (the rules an event is judged by): a key deleted
    conditionally (a tombstone on S3) is not listed, nor a key beside the prefix."""
    etags = {key: store.put(key, key.encode()) for key in ["rules/b.json", "rules/a.json", "rules/state/a.json",
                                                            "rulesx/c.json"]}
    gone = store.put("rules/gone.json", b"{}")
    store.delete("rules/gone.json", if_match=gone)
    changed = store.put("rules/b.json", b"changed")
    assert list(store.listed("rules/")) == [("rules/a.json", etags["rules/a.json"]), ("rules/b.json", changed),
                                            ("rules/state/a.json", etags["rules/state/a.json"])]
    assert changed != etags["rules/b.json"] and store.head("rules/b.json") == changed


@pytest.mark.parametrize("asked", [2, 8, 20])  # a HEAD each; enough for the listing on S3 (a page per 8 keys)
def test_stored_gives_the_keys_asked_that_hold_an_object(store, asked):
    """Which of a run's keys are stored, whatever way the adapter finds out: a key deleted conditionally (a tombstone
    on S3) is not stored, a key not asked is not given."""
    keys = [f"rules/{n:02d}.json" for n in range(asked)]
    for key in [*keys[::2], "rules/zz.json", "rulesx/00.json"]:
        store.put(key, b"{}")
    store.delete(keys[0], if_match=store.head(keys[0]))
    assert store.stored([*keys, "rulesx/01.json"]) == set(keys[2::2])


def test_delete_is_idempotent(store):
    store.put("k", b"v")
    store.delete("k")
    store.delete("k")
    assert store.head("k") is None


def test_if_none_match_creates_once(store):
    store.put("once", b"first", if_none_match=True)
    with pytest.raises(ConflictError):
        store.put("once", b"second", if_none_match=True)
    assert store.get("once").data == b"first"


def test_if_match_with_stale_etag_conflicts_and_keeps_the_winner(store):
    etag = store.put("doc", b"v1")
    store.put("doc", b"v2-by-a", if_match=etag)
    with pytest.raises(ConflictError):
        store.put("doc", b"v2-by-b", if_match=etag)
    assert store.get("doc").data == b"v2-by-a"


def race(operations) -> list[tuple[str, str]]:
    """Run the operations at once (a barrier releases them together); (outcome, name) for each:
    won, or the error that made it lose."""
    outcomes, barrier = [], threading.Barrier(len(operations))

    def run(name, operation):
        barrier.wait()
        try:
            operation()
            outcomes.append(("won", name))
        except (ConflictError, NotFoundError) as exc:
            outcomes.append((type(exc).__name__, name))

    threads = [threading.Thread(target=run, args=item) for item in operations]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_of_32_concurrent_conditional_puts_one_wins(store, request):
    skip_unless_conditions_are_atomic(request)
    etag = store.put("race", b"v0")
    outcomes = race([(f"w{i}", lambda i=i: store.put("race", f"w{i}".encode(), if_match=etag)) for i in range(32)])
    winners = [name for outcome, name in outcomes if outcome == "won"]
    assert len(winners) == 1 and len(outcomes) == 32
    assert store.get("race").data == winners[0].encode()


def test_conditional_delete_needs_the_current_etag(store):
    etag = store.put("rules/doc", b"v1")
    with pytest.raises(ConflictError):
        store.delete("rules/doc", if_match="0" * 32)
    assert store.get("rules/doc").data == b"v1"
    store.delete("rules/doc", if_match=etag)
    assert store.head("rules/doc") is None and list(store.list("rules/do")) == []
    with pytest.raises(NotFoundError):
        store.get("rules/doc")
    with pytest.raises(NotFoundError):
        store.delete("rules/doc", if_match=etag)
    store.put("rules/doc", b"again", if_none_match=True)  # a deleted key can be created again, once
    with pytest.raises(ConflictError):
        store.put("rules/doc", b"twice", if_none_match=True)
    assert store.get("rules/doc").data == b"again" and list(store.list("rules/do")) == ["rules/doc"]


def test_a_conditional_delete_is_made_only_where_the_tombstone_sweep_looks(store):
    """On S3 a conditional delete leaves a tombstone at its key, and the daily sweep lists only the prefixes
    conditional deletes are made under (storage.TOMBSTONED: the documents' collections, the events' claims), not
    the whole bucket; one made elsewhere would leave a tombstone for good, so both adapters refuse it."""
    etag = store.put("raw/pages/x.html", b"<html>")
    with pytest.raises(ValueError, match="a conditional delete is for keys under api-answers/, budget/campaigns/, "
                                         "budget/metrics/, connections/"):
        store.delete("raw/pages/x.html", if_match=etag)
    assert store.get("raw/pages/x.html").data == b"<html>"
    store.delete("raw/pages/x.html")  # an unconditional one leaves nothing behind: anywhere


def test_of_32_concurrent_conditional_deletes_one_wins(store, request):
    skip_unless_conditions_are_atomic(request)
    etag = store.put("rules/doc", b"v1")
    outcomes = race([(f"d{i}", lambda: store.delete("rules/doc", if_match=etag)) for i in range(32)])
    assert [o for o, _ in outcomes].count("won") == 1 and len(outcomes) == 32
    assert store.head("rules/doc") is None


def test_a_put_and_a_delete_with_one_etag_one_wins(store, request):
    skip_unless_conditions_are_atomic(request)
    for round_ in range(8):  # either may win a round; never both
        etag = store.put("rules/doc", b"v1")
        outcomes = dict((name, outcome) for outcome, name in race([
            ("put", lambda: store.put("rules/doc", f"v2-{round_}".encode(), if_match=etag)),
            ("delete", lambda: store.delete("rules/doc", if_match=etag))]))
        assert sorted(outcomes.values()).count("won") == 1, outcomes
        if outcomes["put"] == "won":
            assert store.get("rules/doc").data == f"v2-{round_}".encode()
        else:
            assert store.head("rules/doc") is None
        store.delete("rules/doc")


def _delete_in_a_process(root, etag, barrier, results):
    from affiliate_matrix.storage.local import LocalObjectStore

    store = LocalObjectStore(root)
    barrier.wait()
    try:
        store.delete("rules/doc", if_match=etag)
        results.put("won")
    except (ConflictError, NotFoundError) as exc:
        results.put(type(exc).__name__)


def test_local_conditional_deletes_from_several_processes_one_wins(tmp_path):
    """`amx up` runs every function as its own process on one directory: the lock must hold across them."""
    import multiprocessing

    from affiliate_matrix.storage.local import LocalObjectStore

    etag = LocalObjectStore(tmp_path).put("rules/doc", b"v1")
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(8), context.Queue()
    processes = [context.Process(target=_delete_in_a_process, args=(tmp_path, etag, barrier, results))
                 for _ in range(8)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    outcomes = [results.get() for _ in processes]
    assert outcomes.count("won") == 1 and len(outcomes) == 8



_PUT_PAST_THE_FILE_LIMIT = """
import resource, signal, sys
from pathlib import Path
from affiliate_matrix.storage.local import LocalObjectStore
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as a full disk with ENOSPC
store = LocalObjectStore(Path(sys.argv[1]))
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
try:
    store.put("docs/a", b"<html>" * 10_000, content_type="text/html")
except OSError as exc:
    print(exc.errno)
"""


def test_a_local_put_that_fails_half_way_leaves_the_object_as_it_was(tmp_path):
    """A put is one step on S3. The local adapter wrote the content type, then the bytes: a put failing on the
    bytes (a full disk) left the old bytes served under the new content type."""
    import subprocess
    import sys

    from affiliate_matrix.storage.local import LocalObjectStore

    store = LocalObjectStore(tmp_path)
    etag = store.put("docs/a", b'{"v": 1}', content_type="application/json")
    child = subprocess.run([sys.executable, "-c", _PUT_PAST_THE_FILE_LIMIT, str(tmp_path)], capture_output=True,
                           text=True, timeout=60)
    assert child.stdout.strip() == "27", child.stderr  # EFBIG: the bytes' write failed part of the way
    assert store.get("docs/a") == ("docs/a", b'{"v": 1}', etag, "application/json")
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == [".a.meta", "a"]


_KILLED_MID_PUT = _PUT_PAST_THE_FILE_LIMIT.replace("signal.SIG_IGN)", "signal.SIG_DFL)  # here it kills, as SIGKILL")

_STAGES_AND_WAITS = """
import sys
from pathlib import Path
from affiliate_matrix.storage.local import LocalObjectStore
print(LocalObjectStore._staged(Path(sys.argv[1]) / "docs" / "c", b"being written"), flush=True)
sys.stdin.read()  # a put's write done, its rename not yet: the writer is running until this ends
"""


def test_a_local_put_killed_before_its_rename_leaves_files_the_next_put_there_removes_once_the_writer_is_gone(
        tmp_path):
    """A put stages its files, then renames them: a process killed between left its `.tmp-*` files for ever (the
    listing passes over them). They name their writer now, and a put into the folder removes those of a writer no
    longer running on this host; a running writer's stays, and so do another host's and one of an earlier version,
    whose writers it cannot tell."""
    import signal
    import subprocess
    import sys

    from affiliate_matrix.storage.local import LocalObjectStore

    LocalObjectStore(tmp_path).put("docs/a", b"a", content_type="text/plain")
    unknown = tmp_path / "docs" / ".tmp-x1y2z3ab"  # as an earlier version named a staged file
    unknown.write_bytes(b"whose?")
    killed = subprocess.Popen([sys.executable, "-c", _KILLED_MID_PUT, str(tmp_path)], stderr=subprocess.PIPE,
                              text=True)
    said = killed.communicate(timeout=60)[1]
    assert killed.returncode == -signal.SIGXFSZ, said  # killed by the write past the limit: no cleanup ran
    left = list((tmp_path / "docs").glob(f".tmp-{killed.pid}@*"))
    assert len(left) == 2, left  # its metadata, staged whole, and its bytes, cut short
    elsewhere = tmp_path / "docs" / f".tmp-{killed.pid}@elsewhere.example+4026531836~x1y2z3ab"  # not this host's pid
    elsewhere.write_bytes(b"another host's")
    writer = subprocess.Popen([sys.executable, "-c", _STAGES_AND_WAITS, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        running = writer.stdout.readline().strip()
        assert running.startswith(str(tmp_path / "docs" / ".tmp-")), running

        store = LocalObjectStore(tmp_path)
        store.put("docs/b", b"b", content_type="text/plain")
        staged = sorted(p.name for p in (tmp_path / "docs").iterdir() if p.name.startswith(".tmp-"))
        # the killed writer's gone
        assert staged == sorted([os.path.basename(running), unknown.name, elsewhere.name]), staged
        assert list(store.list("docs/")) == ["docs/a", "docs/b"]
    finally:
        writer.stdin.close()
        writer.wait(timeout=60)
    LocalObjectStore(tmp_path).put("docs/a", b"a2", content_type="text/plain")  # the writer gone: its file too
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == sorted(
        [".a.meta", ".b.meta", unknown.name, elsewhere.name, "a", "b"])
    assert LocalObjectStore(tmp_path).get("docs/a").data == b"a2"

def test_a_local_put_syncs_the_bytes_before_the_rename_that_publishes_them(tmp_path, monkeypatch):
    """The staged files were renamed into place unsynced: a crash (a power loss) after the rename and before the
    page cache was written back could publish an empty object, or its metadata, in place of the old one. Each is
    synced before its rename now, and the folder after, so a crash leaves the old object or the new one."""
    from affiliate_matrix.storage.local import LocalObjectStore

    store, steps = LocalObjectStore(tmp_path), []
    fsync, replace = os.fsync, os.replace

    def synced(fd):
        steps.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    def renamed(src, dst):
        steps.append(("replace", str(src), str(dst)))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", synced)
    monkeypatch.setattr(os, "replace", renamed)
    store.put("docs/a", b"the bytes", content_type="text/plain")
    renames = [i for i, step in enumerate(steps) if step[0] == "replace"]
    assert len(renames) == 2
    for i in renames:
        assert ("fsync", steps[i][1]) in steps[:i], steps  # the staged file synced before it is published
    assert steps[-1] == ("fsync", str(tmp_path / "docs")), steps  # and the renames themselves
    assert store.get("docs/a").data == b"the bytes"


def _crash_at_the_second_rename(monkeypatch):
    """os.replace raising at a put's second rename. A stub: no process can be killed between two syscalls on cue."""
    replace, renames = os.replace, []

    def crashing(src, dst):
        renames.append(dst)
        if len(renames) == 2:
            raise SystemExit("killed")  # what the put would do no more of
        replace(src, dst)

    monkeypatch.setattr(os, "replace", crashing)
    return lambda: monkeypatch.setattr(os, "replace", replace)


def test_a_local_put_cut_between_its_two_renames_leaves_the_old_object_whole(tmp_path, monkeypatch):
    """A put renamed the metadata into place, then the bytes: cut between the two, the old bytes were served under the
    new content type. The metadata now describes both the old bytes and the new, each by its ETag, and a reader takes
    the content type of the bytes it read, so a put cut there leaves the old object whole."""
    from affiliate_matrix.storage.local import LocalObjectStore

    store = LocalObjectStore(tmp_path)
    old = store.put("rules/a.json", b'{"v": 1}', content_type="application/json")
    restore = _crash_at_the_second_rename(monkeypatch)
    with pytest.raises(SystemExit):
        store.put("rules/a.json", b"<p>v2</p>", content_type="text/html", if_match=old)
    restore()
    reopened = LocalObjectStore(tmp_path)  # as the next process finds it
    assert reopened.get("rules/a.json") == ("rules/a.json", b'{"v": 1}', old, "application/json")
    assert reopened.head("rules/a.json") == old and list(reopened.list("rules/")) == ["rules/a.json"]
    with pytest.raises(ConflictError):  # the put that did not happen gave no ETag to write on
        reopened.put("rules/a.json", b"v3", if_match=etag_of(b"<p>v2</p>"))
    third = reopened.put("rules/a.json", b"v3", content_type="text/plain", if_match=old)
    assert reopened.get("rules/a.json") == ("rules/a.json", b"v3", third, "text/plain")
    reopened.delete("rules/a.json", if_match=third)
    assert reopened.head("rules/a.json") is None and list(reopened.list("rules/")) == []


def test_a_local_create_cut_between_its_two_renames_leaves_no_object(tmp_path, monkeypatch):
    from affiliate_matrix.storage.local import LocalObjectStore

    store, key = LocalObjectStore(tmp_path), "rules/" + "n" * 300  # a long part: listed by the key in its metadata
    restore = _crash_at_the_second_rename(monkeypatch)
    with pytest.raises(SystemExit):
        store.put(key, b"new", content_type="text/plain", if_none_match=True)
    restore()
    reopened = LocalObjectStore(tmp_path)
    with pytest.raises(NotFoundError):
        reopened.get(key)
    assert reopened.head(key) is None and list(reopened.list("rules/")) == []
    etag = reopened.put(key, b"again", content_type="text/csv", if_none_match=True)
    assert reopened.get(key) == (key, b"again", etag, "text/csv")
    assert list(reopened.list("rules/")) == [key]


def test_a_local_read_takes_the_content_type_of_the_bytes_it_read_while_a_put_renames(tmp_path, monkeypatch):
    """Readers take no lock: one reading between a put's two renames read the old bytes and the new metadata."""
    from affiliate_matrix.storage.local import LocalObjectStore

    store = LocalObjectStore(tmp_path)
    old = store.put("docs/a", b"old", content_type="text/plain")
    replace, seen = os.replace, []

    def read_between(src, dst):
        replace(src, dst)
        if str(dst).endswith(".meta"):
            seen.append(store.get("docs/a"))  # on this thread: the put holds the key's lock, the read takes none first

    monkeypatch.setattr(os, "replace", read_between)
    new = store.put("docs/a", b"<b>new</b>", content_type="text/html")
    assert seen == [("docs/a", b"old", old, "text/plain")]
    assert store.get("docs/a") == ("docs/a", b"<b>new</b>", new, "text/html")


@pytest.mark.parametrize("key", ["rules/long/" + "p" * 300, "rules/" + "f" * 256 + "/x",
                                 "rules/" + "f" * 250 + "/" + "n" * 250, "rules/" + "b" * 800 + ".json",
                                 "rules/" + "Q" * 130])  # fits a file name, but not with its capitals marked
def test_a_key_with_a_part_longer_than_a_file_name_is_stored_and_listed(request, store, key):
    """S3 takes a key of up to 1,024 bytes in one part; the local adapter made each part a file name, and a name
    has at most 255 bytes (249 for an object's own: its metadata file is .<name>.meta), so such a put failed with
    OSError (ENAMETOOLONG) locally only. A long part now has a file name of its own and the key lists as given."""
    if request.node.callspec.params["store"] == "s3-s3proxy":
        pytest.skip("s3proxy here keeps each key part as a file name (jclouds filesystem, 255 bytes); moto_server "
                    "takes S3's long keys")
    neighbour = key[:-1] + ("q" if key[-1] != "q" else "r")  # shares the long part's start
    etag = store.put(key, b"one", content_type="application/json")
    store.put(neighbour, b"two")
    assert store.get(key) == (key, b"one", etag, "application/json") and store.head(key) == etag
    assert store.get(neighbour).data == b"two"
    assert list(store.list(key.split("/")[0] + "/")) == sorted([key, neighbour])
    assert list(store.list(key)) == [key]
    with pytest.raises(ConflictError):
        store.put(key, b"three", if_none_match=True)
    store.delete(key, if_match=etag)
    assert store.head(key) is None and list(store.list(key.split("/")[0] + "/")) == [neighbour]


def test_content_addressed_put_is_stable_and_written_once(store):
    key1 = store.put_content_addressed("raw/pages", b"<html>same</html>", suffix=".html")
    key2 = store.put_content_addressed("raw/pages", b"<html>same</html>", suffix=".html")
    other = store.put_content_addressed("raw/pages", b"<html>other</html>", suffix=".html")
    assert key1 == key2 != other
    assert list(store.list("raw/pages/")) == sorted([key1, other])
    assert store.get(key1).data == b"<html>same</html>"
    assert store.get_content_addressed("raw/pages", key1, max_bytes=17) == b"<html>same</html>"


@pytest.mark.parametrize("said,kept", [("text/html; charset=utf-8", "text/html; charset=utf-8"),
                                        ("text/h\u00e9ml", "application/octet-stream"),
                                        ("text/html\tx", "application/octet-stream"),
                                        ("text/" + "x" * 5000, "application/octet-stream")])
def test_a_content_addressed_body_keeps_its_content_type_only_when_a_header_can_carry_it(store, said, kept):
    """The raw copies of pages and API answers are kept with the Content-Type the site sent, which it chooses: one
    past ASCII (a byte HTTP allows, read as Latin-1) or of kilobytes cannot be sent to S3 as a header, and the put
    raised out of the crawl, failing every run of the source. Such a type is kept as no type in particular."""
    key = store.put_content_addressed("raw/pages", said.encode("utf-8"), suffix=".html", content_type=said)
    assert store.get(key).content_type.replace("; ", ";") == kept.replace("; ", ";")  # s3proxy drops the space


def test_large_object_roundtrip(store):
    data = os.urandom(9 * 1024 * 1024)  # past boto3's 8 MB multipart threshold, should the adapter ever use it
    etag = store.put("big/blob", data)
    got = store.get("big/blob")
    assert hashlib.sha256(got.data).digest() == hashlib.sha256(data).digest() and got.etag == etag
    assert list(store.list("big/")) == ["big/blob"]


def _refused(store, key: str, max_bytes: int) -> tuple[ObjectTooLarge, int]:
    """The error a get past `max_bytes` raises, and the most memory the get took meanwhile."""
    tracemalloc.start()
    try:
        with pytest.raises(ObjectTooLarge) as refused:
            store.get(key, max_bytes=max_bytes)
        return refused.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_read_past_its_bound_is_refused_before_the_body_is_read(store):
    """Whoever can write the bucket could leave an object of gigabytes under a key read as JSON, and a get read it
    whole before any caller looked at its size: a function of 512 MiB died on it. Its size is known before its body
    is read (S3's Content-Length, the file's size): past the bound it is refused as damaged, naming the key, its size
    and the bound, and no more of it is held than a small part of its size."""
    size = 4 * 1024 * 1024
    etag = store.put("dead-letters/big.json", b"[" + b" " * (size - 2) + b"]", content_type="application/json")
    store.put("dead-letters/small.json", b"[]")
    store.get("dead-letters/small.json", max_bytes=2)  # the client's first read made (S3: its models loaded)
    refused, most_held = _refused(store, "dead-letters/big.json", 1024)
    assert str(refused).startswith(f"object dead-letters/big.json is damaged (too large to read: {size:,} bytes, "
                                   "more than the 1,024 bytes a read of it takes): delete it")
    assert isinstance(refused, DamagedData) and (refused.size, refused.most, refused.etag) == (size, 1024, etag)
    assert most_held < size // 4
    assert store.get("dead-letters/big.json", max_bytes=size).data[-1:] == b"]"  # a bound it fits in reads it


@pytest.mark.slow
@pytest.mark.parametrize("server", S3_SERVERS)
def test_a_read_past_its_bound_is_not_sent_over_the_network(request, server):
    """Holding little of a refused object is not enough: a get reading its body to the end and dropping it would hold
    little too, and still take every byte of it from S3. Counted on the wire (a proxy between the store and S3): a get
    refused on its Content-Length is sent a few buffers of the body at most, where a get that reads it is sent it
    all."""
    from urllib.parse import urlsplit

    from tests.support.counting_proxy import CountingProxy

    server_url = urlsplit(request.getfixturevalue(server).url)
    proxy = CountingProxy((server_url.hostname, server_url.port))
    try:
        settings = fresh_bucket(server_url.geturl()).model_copy(update={"s3_endpoint_url": proxy.url})
        store = open_object_store(settings)
        size = 16 * 1024 * 1024
        store.put("dead-letters/big.json", b" " * size, content_type="application/json")
        before = proxy.sent
        with pytest.raises(ObjectTooLarge, match=f"^object dead-letters/big.json is damaged \\(too large to read: "
                                                 f"{size:,} bytes, more than the 1,024 bytes"):
            store.get("dead-letters/big.json", max_bytes=1024)
        refused = proxy.sent - before
        assert len(store.get("dead-letters/big.json", max_bytes=size).data) == size
        read = proxy.sent - before - refused
    finally:
        proxy.close()
    assert refused < size // 16 and read >= size, (refused, read)


def test_a_read_at_its_bound_is_read_whole(store):
    store.put("docs/a.json", b"0123456789")
    assert store.get("docs/a.json", max_bytes=10).data == b"0123456789"
    with pytest.raises(ObjectTooLarge, match="10 bytes, more than the 9 bytes"):
        store.get("docs/a.json", max_bytes=9)


def test_a_json_document_past_its_bound_is_damaged_in_its_own_words(store):
    """read_json, through which most documents are read, tells its caller what is wrong with a damaged one: a document
    too large to read is one more kind, said so, with its ETag (a caller writes over a damaged one If-Match)."""
    etag = store.put("keys/usage/a.json", b'{"uses": {}, "failures": {}, "padding": "' + b"x" * 5000 + b'"}')
    value, got, problem = read_json(store, "keys/usage/a.json", lambda doc: isinstance(doc, dict), "an object",
                                    max_bytes=1000)
    assert (value, got) == (None, etag)
    assert problem == "too large to read: 5,043 bytes, more than the 1,000 bytes a read of it takes"
    assert read_json(store, "keys/usage/a.json", lambda doc: isinstance(doc, dict), "an object")[2] is None


def test_a_content_addressed_read_is_bounded_too(store):
    key = store.put_content_addressed("raw/pages", b"<html>" + b"x" * 2000 + b"</html>", suffix=".html")
    with pytest.raises(ObjectTooLarge, match=f"object {key} .*2,013 bytes, more than the 2,000 bytes"):
        store.get_content_addressed("raw/pages", key, max_bytes=2000)
    assert len(store.get_content_addressed("raw/pages", key, max_bytes=2013)) == 2013


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/../b", "sp ace", "", "a/b\n", "a\n/b"])
def test_traversal_and_odd_keys_are_refused(store, key):
    with pytest.raises(ValueError, match="object key"):
        store.put(key, b"x")


@pytest.mark.parametrize("key", [".", "..", ".hidden", "a/.hidden", ".locks/00", "a/.b.meta", "a/./b", "a/.."])
def test_a_key_part_starting_with_a_dot_is_refused(store, key):
    """S3 takes these; locally ".locks/00" was the adapter's lock file and "a/.b.meta" the metadata of a/b."""
    store.put("a/b", b"x")
    for attempt in (lambda: store.put(key, b"y"), lambda: store.get(key), lambda: store.head(key),
                    lambda: store.delete(key)):
        with pytest.raises(ValueError, match=r"object key .*starts with '\.'"):
            attempt()
    assert store.get("a/b").data == b"x"


@pytest.mark.slow
@pytest.mark.parametrize("server", S3_SERVERS)
def test_wrong_bucket_fails_at_startup_naming_the_setting(request, server):
    url = request.getfixturevalue(server).url
    settings = Settings(object_store="s3", s3_endpoint_url=url, s3_bucket="no-such-bucket",
                        s3_access_key_id="test", s3_secret_access_key="test")
    with pytest.raises(ConfigError, match="AMX_S3_BUCKET.*no-such-bucket.*does not exist"):
        open_object_store(settings).check()


def test_unreachable_s3_fails_naming_the_endpoint_setting():
    settings = Settings(object_store="s3", s3_endpoint_url="http://127.0.0.1:9", s3_bucket="b",
                        s3_access_key_id="test", s3_secret_access_key="test")
    with pytest.raises(ConfigError, match="AMX_S3_ENDPOINT_URL"):
        open_object_store(settings).check()


def test_unknown_backend_is_a_config_error_naming_the_setting(monkeypatch):
    monkeypatch.setenv("AMX_OBJECT_STORE", "ftp")
    with pytest.raises(ConfigError, match="AMX_OBJECT_STORE.*'ftp'"):
        load_settings()


@pytest.mark.slow
def test_the_retention_job_removes_s3_tombstones_older_than_its_shortest_window(moto_server, tmp_path):
    """A conditional delete on S3 leaves a tombstone (storage/s3.py); none was ever removed, so every deleted rule,
    campaign or connection and every event claim let go of stayed in the bucket for good. The daily retention job
    removes those older than its shortest window, by the date the store recorded for them (their LastModified),
    counted from the day it is given."""
    from datetime import timedelta

    from affiliate_matrix.retention import apply
    from affiliate_matrix.runtime import Runtime

    from affiliate_matrix.storage import TOMBSTONED

    settings = fresh_bucket(moto_server.url).model_copy(update={"data_dir": tmp_path,
                                                                "retention_days": "queries=30,deltas=400"})
    rt = Runtime("index", settings)
    for key in ("rules/gone.json", "rules/back.json", "events/claims/c1.json"):
        rt.store.delete(key, if_match=rt.store.put(key, b"{}"))
    rt.store.put("rules/back.json", b"{}", if_none_match=True)  # created again over its tombstone
    rt.store.put("rules/kept.json", b"{}")
    s3, bucket = rt.store.client, rt.store.bucket
    deleted_on = s3.head_object(Bucket=bucket, Key="rules/gone.json")["LastModified"]
    listed = []  # the sweep listed the whole bucket, raw pages and batches (most of it) included, every day
    s3.meta.events.register("before-parameter-build.s3.ListObjectsV2",
                            lambda params, **_: listed.append(params.get("Prefix", "")))

    assert apply(rt, deleted_on + timedelta(days=29))["tombstones"] == 0  # within the window: kept
    # the dead letters, discovery's decisions, the marks of connection deletes, the connections, then where conditional
    # deletes are made only
    assert listed == ["dead-letters/", "discovery/seen/", "pending/deletions/", "connections/", *TOMBSTONED]
    assert s3.head_object(Bucket=bucket, Key="rules/gone.json")["Metadata"] == {"amx-deleted": "1"}
    assert apply(rt, deleted_on + timedelta(days=31))["tombstones"] == 2
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["rules/back.json",
                                                                                       "rules/kept.json"]
    assert rt.store.get("rules/back.json").data == b"{}"
    rt.store.put("rules/gone.json", b"{}", if_none_match=True)  # the key can be created again


def test_remove_before_keeps_an_object_written_again_after_it_was_listed(store, request):
    """S3's removal of old objects (the dead letters' retention) deleted each key it listed unconditionally, so an
    object written again between the listing and the delete (a dead letter parked again) went too. The delete is
    now conditional on the ETag listed (S3's If-Match on DeleteObject, which moto_server and s3proxy decide); the
    local adapter compares the object's date again under the key's lock, as it did."""
    from datetime import UTC, datetime, timedelta

    key = "dead-letters/t/a.json"
    store.put(key, b'{"parked": 1}', content_type="application/json")
    if request.node.callspec.params["store"] == "local":
        os.utime(store.root / key, (0, 0))  # parked long ago; its rewrite below is dated now
        lock = store._locked

        def written_again_then_locked(locked_key):  # between the listing and the delete, under the key's lock
            store._locked = lock  # once
            store.put(key, b'{"parked": 2}', content_type="application/json")
            return lock(locked_key)

        store._locked = written_again_then_locked
        assert store.remove_before("dead-letters/", datetime.now(UTC) - timedelta(days=1)) == 0
    else:
        events = store.client.meta.events

        def written_again(**_):  # between the listing and the delete; None: the call goes on as it was
            events.unregister("before-call.s3.DeleteObject", unique_id="rewrite")
            store.put(key, b'{"parked": 2}')

        events.register_first("before-call.s3.DeleteObject", written_again, unique_id="rewrite")
        # every object counts as old: what decides is that it is no longer the one listed
        assert store.remove_before("dead-letters/", datetime.now(UTC) + timedelta(days=1)) == 0
    assert store.get(key).data == b'{"parked": 2}'


def test_remove_before_deletes_what_the_store_dated_earlier_under_the_prefix_only(store):
    """The retention job's removal of dead letters: by the date each adapter records for an object's last write
    (a file's modification time, S3's LastModified), under the prefix given and nowhere else."""
    from datetime import UTC, datetime, timedelta

    for key in ("dead-letters/t/a.json", "dead-letters/t/b.json", "rules/r.json"):
        store.put(key, b"{}", content_type="application/json")
    written = datetime.now(UTC)
    assert store.remove_before("dead-letters/", written - timedelta(days=1)) == 0  # written since
    assert list(store.list("dead-letters/")) == ["dead-letters/t/a.json", "dead-letters/t/b.json"]
    assert store.remove_before("dead-letters/", written + timedelta(days=1)) == 2
    assert list(store.list("dead-letters/")) == [] and store.head("rules/r.json") is not None
    store.put("dead-letters/t/a.json", b"{}", if_none_match=True)  # parked again


CASE_KEYS = ["budget/campaigns/Summer.json", "budget/campaigns/summer.json", "budget/campaigns/SUMMER.json",
             "keys/records/connections/Awin/main.json", "keys/records/connections/awin/main.json"]


def test_keys_that_differ_only_by_case_are_distinct_objects(store, request, tmp_path):
    """S3 keeps `Summer` and `summer` apart. The local adapter named each file as its key's part, and on a file system
    that folds case (macOS's APFS, Windows' NTFS, by default) those are one file: two campaigns, or two keys' records,
    whose names differed only by case overwrote each other. No two of its file names differ only by case now."""
    etags = {key: store.put(key, key.encode(), content_type="application/json") for key in CASE_KEYS}
    assert [store.get(key) for key in CASE_KEYS] == [(key, key.encode(), etags[key], "application/json")
                                                     for key in CASE_KEYS]
    assert list(store.list("")) == sorted(CASE_KEYS)
    assert list(store.list("keys/records/connections/Awin/")) == ["keys/records/connections/Awin/main.json"]
    store.delete("budget/campaigns/summer.json", if_match=etags["budget/campaigns/summer.json"])
    assert [store.head(key) for key in CASE_KEYS] == [None if key == "budget/campaigns/summer.json" else etags[key]
                                                      for key in CASE_KEYS]
    if request.node.callspec.params["store"] == "local":  # what a file system folding case would make one file
        names = [str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*")]
        assert len({name.casefold() for name in names}) == len(names), sorted(names)


def _put_as_before(root, key: str, data: bytes, *, with_key: bool = True) -> None:
    """An object as versions before case-safe names wrote it: each part its own file name (a part longer than a name
    takes, its start and hash), metadata beside it (its key only since long parts were named by their hash)."""
    parts = [part if len(part) <= 249 else f"{part[:100]}~{hashlib.sha256(part.encode()).hexdigest()}"
             for part in key.split("/")]
    path = root.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    meta = {"etag": hashlib.md5(data).hexdigest(), "content_type": "application/json"}
    path.with_name(f".{path.name}.meta").write_text(json.dumps(meta | ({"key": key} if with_key else {})))


BEFORE_CASE_SAFE_NAMES = {"budget/campaigns/Summer.json": True, "budget/campaigns/winter.json": True,
                          "keys/records/connections/Awin/Main.json": False,
                          "keys/records/" + "K" * 200 + ".json": False,  # too long a name once its capitals are marked
                          "keys/records/" + "F" * 130 + "/usage.json": False,  # a folder so, above an object that is not
                          "rules/" + "r" * 300 + "/Deep.json": True}


def _a_store_written_before_case_safe_names(root):
    for key, with_key in BEFORE_CASE_SAFE_NAMES.items():
        _put_as_before(root, key, key.encode(), with_key=with_key)


def _assert_every_object_is_read_and_listed(store, root):
    assert {key: store.get(key).data for key in BEFORE_CASE_SAFE_NAMES} == {
        key: key.encode() for key in BEFORE_CASE_SAFE_NAMES}
    assert store.get("budget/campaigns/Summer.json").content_type == "application/json"
    assert list(store.list("")) == sorted(BEFORE_CASE_SAFE_NAMES)
    assert list(store.list("keys/records/connections/Awin/")) == ["keys/records/connections/Awin/Main.json"]
    names = [str(path.relative_to(root)) for path in root.rglob("*")]
    assert len({name.casefold() for name in names}) == len(names), sorted(names)
    assert not [name for name in names if "~" not in name and any(c.isupper() for c in name)], sorted(names)


def test_a_store_written_before_case_safe_names_is_renamed_in_place_and_read_as_before(tmp_path):
    """An earlier version's files named a key's capitals as they are: opened, the store renames them once to the
    names it uses now, the metadata with them, and every object is read and listed by its key as before (one whose
    name is too long once its capitals are marked gets its key in its metadata, which listing reads)."""
    from affiliate_matrix.storage.local import LocalObjectStore

    _a_store_written_before_case_safe_names(tmp_path)
    _assert_every_object_is_read_and_listed(LocalObjectStore(tmp_path), tmp_path)
    _assert_every_object_is_read_and_listed(LocalObjectStore(tmp_path), tmp_path)  # opened again: as it was


def test_renaming_to_case_safe_names_cut_short_loses_nothing_and_is_finished_at_the_next_start(tmp_path, monkeypatch):
    """A start that stops part of the way through the renames (Ctrl-C, a crash) leaves each object under its old name
    or its new one; the next start finishes the work, and every object is read and listed by its key."""
    from affiliate_matrix.storage.local import LocalObjectStore

    rename, replace = os.rename, os.replace
    cut_at, cuts = 0, 0
    while True:
        root = tmp_path / str(cut_at)
        _a_store_written_before_case_safe_names(root)
        done = []

        def cut(real):
            def step(src, dst):
                if len(done) == cut_at:
                    raise KeyboardInterrupt
                done.append(dst)
                real(src, dst)
            return step

        monkeypatch.setattr(os, "rename", cut(rename))
        monkeypatch.setattr(os, "replace", cut(replace))
        try:
            LocalObjectStore(root)
        except KeyboardInterrupt:
            cuts += 1
        else:
            break
        finally:
            monkeypatch.setattr(os, "rename", rename)
            monkeypatch.setattr(os, "replace", replace)
        _assert_every_object_is_read_and_listed(LocalObjectStore(root), root)
        cut_at += 1
    assert cuts >= len(BEFORE_CASE_SAFE_NAMES)  # each object renamed (and so cut short) once at least


def _open_and_read_in_a_process(root, barrier, results):
    from affiliate_matrix.storage.local import LocalObjectStore

    barrier.wait()
    try:
        store = LocalObjectStore(root)
        results.put(sorted((key, store.get(key).data) for key in store.list("")))
    except Exception as exc:  # noqa: BLE001 - reported to the test, which names it
        results.put(repr(exc))


def test_processes_opening_a_store_written_before_case_safe_names_at_once_rename_it_once(tmp_path):
    """`amx up` starts every function as its own process on one directory: the first to open an earlier version's
    store renames its files while the others wait, and each then reads every object."""
    import multiprocessing

    _a_store_written_before_case_safe_names(tmp_path)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(4), context.Queue()
    processes = [context.Process(target=_open_and_read_in_a_process, args=(tmp_path, barrier, results))
                 for _ in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    expected = sorted((key, key.encode()) for key in BEFORE_CASE_SAFE_NAMES)
    assert [results.get() for _ in processes] == [expected] * 4
