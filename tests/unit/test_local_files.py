"""The embedded backends' files as a local user's commands leave them: private, whole, never half-written."""

import os

from typer.testing import CliRunner

from affiliate_matrix.cli import app


def test_the_data_dir_is_private_whatever_the_umask(tmp_path, monkeypatch):
    """Under umask 0 the data directory was made 0777: any local user could rename secrets.json away and put a
    file of their own in its place (an admin token of theirs), or swap a connection document or the key set
    `amx up` signs events with. It and the folders made for it are 0700 now."""
    data_dir = tmp_path / "home" / "amx"
    monkeypatch.setenv("AMX_DATA_DIR", str(data_dir))
    old = os.umask(0)
    try:
        for command in (["tokens", "create"], ["rules", "list"], ["search"]):
            result = CliRunner().invoke(app, command)
            assert result.exit_code == 0, (command, result.output, result.exception)
    finally:
        os.umask(old)
    for folder in (tmp_path / "home", data_dir):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert (data_dir / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_a_data_dir_an_older_version_made_0777_is_made_private_when_opened(tmp_path, monkeypatch):
    """A data dir made 0777 by an older version (under umask 0) stayed so: only folders made now were set to
    0700, so any local user could still swap secrets.json. Opened, it is made 0700 now; a shared folder with
    the sticky bit (/tmp, say, named as the data dir) is left as it is."""
    data_dir = tmp_path / "amx"
    data_dir.mkdir()
    data_dir.chmod(0o777)
    monkeypatch.setenv("AMX_DATA_DIR", str(data_dir))
    result = CliRunner().invoke(app, ["tokens", "create"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert data_dir.stat().st_mode & 0o777 == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import data_dir as open_data_dir

    open_data_dir(Settings(data_dir=shared))
    assert shared.stat().st_mode & 0o7777 == 0o1777



def test_the_folders_an_older_version_made_0777_in_the_data_dir_are_made_private_when_opened(tmp_path, monkeypatch):
    """Only the data dir itself was made 0700 when opened: the folders in it an older version made under umask 0
    (the object store's, amx up's logs, key set and dead letters) stayed 0777, so a local user holding one open
    (a shell's working directory, made when the data dir was 0777) could still swap the documents in it. The
    folders of ours in it are made 0700 when it is opened, and the object store makes its own 0700 whatever the
    umask. Anything else in the data dir, and what a symbolic link in it points to, is left as it is."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    data_dir = tmp_path / "amx"
    ours = [data_dir / "objects" / "connections", data_dir / "objects" / "raw" / "ap" / "0f", data_dir / "logs",
            data_dir / "oidc", data_dir / "dead-letters" / "index-batches"]
    elsewhere = tmp_path / "elsewhere"
    for folder in [*ours, data_dir / "notes", elsewhere]:
        folder.mkdir(parents=True)
    (data_dir / "objects" / "raw" / "elsewhere").symlink_to(elsewhere)
    for folder in [*ours, *(f.parent for f in ours), data_dir / "notes", elsewhere]:
        folder.chmod(0o777)
    data_dir.chmod(0o700)  # as the version before this one left it
    monkeypatch.setenv("AMX_DATA_DIR", str(data_dir))
    result = CliRunner().invoke(app, ["rules", "list"])
    assert result.exit_code == 0, (result.output, result.exception)
    for folder in [*ours, *(f.parent for f in ours)]:
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert (data_dir / "notes").stat().st_mode & 0o777 == 0o777 and elsewhere.stat().st_mode & 0o777 == 0o777

    old = os.umask(0)
    try:
        Runtime("test", Settings(data_dir=data_dir)).store.put("budget/campaigns/c1.json", b"{}")
    finally:
        os.umask(old)
    for folder in (data_dir / "objects" / "budget", data_dir / "objects" / "budget" / "campaigns"):
        assert folder.stat().st_mode & 0o777 == 0o700, folder


def _index_programs(tmp_path, monkeypatch, count: int):
    from affiliate_matrix.config import Settings
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from affiliate_matrix.runtime import Runtime
    from tests.support.factories import make_program

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(make_program(f"Program {n}", f"https://shop{n}.com"))
                                               for n in range(count)], refresh=True)


def test_an_export_that_fails_half_way_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    """`amx export programs --out FILE` truncated FILE first and wrote as it went: an export failing half-way (a
    full disk, the index failing on a later page) lost the previous export and left the first pages in its place,
    which import back as a whole file when the cut falls between two lines."""
    import affiliate_matrix.exchange as exchange
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    _index_programs(tmp_path, monkeypatch, 3)
    out = tmp_path / "programs.jsonl"
    out.touch(mode=0o600)
    assert CliRunner().invoke(app, ["export", "programs", "--out", str(out)]).exit_code == 0
    before = out.read_bytes()
    assert len(before.splitlines()) == 3 and out.stat().st_mode & 0o777 == 0o600  # the file's own permissions kept

    search, pages = SqliteSearchIndex.search, []

    def failing_on_the_second_page(self, name, query):
        pages.append(query.cursor)
        if len(pages) == 2:
            raise OSError(28, "No space left on device")
        return search(self, name, query)

    monkeypatch.setattr(exchange, "PAGE", 1)
    monkeypatch.setattr(SqliteSearchIndex, "search", failing_on_the_second_page)
    result = CliRunner().invoke(app, ["export", "programs", "--out", str(out)])
    assert result.exit_code != 0 and len(pages) == 2
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("programs", ".programs"))) == [out.name]


def test_a_full_disk_under_an_index_write_is_named_as_such(tmp_path):
    """SQLite rolls a write back by itself when the disk is full; the adapter's ROLLBACK after it then raised
    "cannot rollback - no transaction is active", which hid why (amx scrape named that as the indexing's failure).
    A full disk is shown here by the file's page limit, which fails a write with the same SQLITE_FULL."""
    import sqlite3

    import pytest

    from affiliate_matrix.search import IndexSpec
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    index = SqliteSearchIndex(tmp_path / "search.sqlite3")
    index.ensure_index(IndexSpec(name="t", version=1, fields={"id": "keyword", "name": "text"}, id_field="id"))
    index.bulk_upsert("t", [{"id": "a", "name": "kept"}])
    pages = index.db.execute("PRAGMA page_count").fetchone()[0]
    index.db.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(sqlite3.OperationalError) as failed:
        index.bulk_upsert("t", [{"id": f"b{n}", "name": "word " * 200} for n in range(300)])
    assert failed.value.sqlite_errorcode == sqlite3.SQLITE_FULL, failed.value
    index.db.execute("PRAGMA max_page_count = 1073741823")
    assert index.bulk_upsert("t", [{"id": "c", "name": "written"}]).indexed == 1
    assert index.get("t", "a") == {"id": "a", "name": "kept"} and index.get("t", "b0") is None


def test_amx_keys_add_stopped_between_the_secret_and_its_record_is_run_again(tmp_path, monkeypatch):
    """`amx keys add` writes the secret (create-only), then its record. Stopped between the two (a full disk, a
    kill), it could never be run again: the secret was there, so every later add was refused as a conflict, and
    with no record the key could not be rotated, listed or revoked either. Run again with the same values, it
    finishes the add; with other values it is still refused."""
    from affiliate_matrix.errors import ConflictError
    from affiliate_matrix.storage.local import LocalObjectStore

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    add = ["keys", "add", "connections/awin", "--rotation", "manual", "--field", "api_token"]
    put = LocalObjectStore.put

    def disk_full_for_records(self, key, data, **kwargs):
        if key.startswith("keys/records/"):
            raise OSError(28, "No space left on device")
        return put(self, key, data, **kwargs)

    monkeypatch.setattr(LocalObjectStore, "put", disk_full_for_records)
    failed = CliRunner().invoke(app, add, input="tok-1234567\n")
    assert isinstance(failed.exception, OSError), failed.output
    monkeypatch.setattr(LocalObjectStore, "put", put)
    other = CliRunner().invoke(app, add, input="another-value\n")
    assert isinstance(other.exception, ConflictError), other.output
    again = CliRunner().invoke(app, add, input="tok-1234567\n")
    assert again.exit_code == 0, (again.output, again.exception)
    status = CliRunner().invoke(app, ["keys", "status"], env={"COLUMNS": "300"})
    assert "connections/awin" in status.output and "manual" in status.output, status.output


def test_amx_up_that_fails_once_started_stops_the_functions_it_started(tmp_path, monkeypatch):
    """`amx up` stopped its functions on Ctrl-C only. Failing once they were started (a function never ready in
    120 s, up.json not written on a full disk), it removed up.json and left every function running in its own
    session: the ports held, and `amx down` saying nothing was running. Here no function is ever ready, on a
    clock that moves a minute at each look."""
    import signal
    import subprocess
    import sys

    import pytest

    from affiliate_matrix.localrun import runner
    from tests.support.processes import ROOT

    started = []

    def start(function):  # a real process in its own session, as amx-function is, waiting on its standard input
        function.process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                                            stdin=subprocess.PIPE, start_new_session=True)
        started.append(function.process)

    class Minutes:  # the readiness wait's clock: each look a minute later, and no real wait
        now = 0.0

        def monotonic(self):
            self.now += 60
            return self.now

        def sleep(self, seconds):
            pass

    monkeypatch.setattr(runner.Function, "start", start)
    monkeypatch.setattr(runner.Function, "ready", lambda function: False)
    monkeypatch.setattr(runner, "time", Minutes())
    handler = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(RuntimeError, match="did not become ready"):
            runner.up(ROOT, tmp_path, speed=1.0, start=None, port_base=0)
        assert started and [p.poll() is not None for p in started] == [True] * len(started)
    finally:
        signal.signal(signal.SIGTERM, handler)
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait()


_UP_KILLED_WRITING_ITS_STATE = """
import resource, signal, subprocess, sys
from pathlib import Path
from affiliate_matrix.localrun import runner
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it; by default it ends the process, as a kill would

def start(function):  # a process in its own session, as amx-function is; it ends when this one's pipe closes
    function.process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                                        stdin=subprocess.PIPE, start_new_session=True)
    print(function.process.pid, flush=True)

def ready(function):  # every function ready: from here a file write past 20 bytes kills this process (SIGXFSZ)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20, resource.RLIM_INFINITY))
    return True

runner.Function.start, runner.Function.ready = start, ready
runner.up(Path(sys.argv[1]), Path(sys.argv[2]), speed=1.0, start=None, port_base=0)
"""


def test_amx_up_killed_while_writing_up_json_leaves_none_cut_short(tmp_path):
    """up.json was written in place: `amx up` killed mid-write (here by SIGXFSZ, at the write itself) left it cut
    short, and `amx down` then failed on it with a JSONDecodeError traceback; `amx up --detach`, reading it as soon
    as it exists, could read it empty. It is whole or absent now."""
    import os
    import signal
    import subprocess
    import sys

    from affiliate_matrix.localrun.runner import down
    from tests.support.processes import ROOT

    child = subprocess.run([sys.executable, "-c", _UP_KILLED_WRITING_ITS_STATE, str(ROOT), str(tmp_path)],
                           capture_output=True, text=True, timeout=120)
    for pid in map(int, child.stdout.split()):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert child.returncode == -signal.SIGXFSZ, child.stderr
    assert down(tmp_path) is False  # nothing recorded as running


def test_amx_down_after_amx_up_died_signals_no_other_process(tmp_path):
    """up.json outlives an `amx up` killed with SIGKILL, or a reboot, and its pid then names whatever process has
    it since: `amx down` sent that one SIGTERM. It signals only an `amx up` still running on the data dir (one
    holding its lock); a stale up.json is removed, and nothing was running."""
    import json
    import subprocess
    import sys

    from affiliate_matrix.localrun.runner import down

    other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE,
                             start_new_session=True)
    try:
        (tmp_path / "up.json").write_text(json.dumps({"pid": other.pid, "functions": {}}))
        assert down(tmp_path) is False
        assert other.poll() is None and not (tmp_path / "up.json").exists()
    finally:
        other.kill()
        other.wait()


def test_a_second_amx_up_detach_keeps_the_running_ones_up_json(tmp_path, monkeypatch):
    """`amx up --detach` removed up.json before starting its own: run while another `amx up` was running on the data
    dir, it removed that one's, then its own failed (the data dir taken), and `amx down` said nothing was running
    while every function went on. It is refused before it touches anything."""
    import json
    import subprocess
    import sys

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    holder = subprocess.Popen([sys.executable, "-c", _HOLDS_THE_DATA_DIR, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    spawned = []
    monkeypatch.setattr(subprocess, "Popen", lambda *args, **kwargs: spawned.append(args) or _exited())
    try:
        assert holder.stdout.readline().strip() == "holding"
        (tmp_path / "up.json").write_text(json.dumps({"pid": holder.pid, "functions": {}}))
        result = CliRunner().invoke(app, ["up", "--detach"])
        assert result.exit_code != 0
        assert "already running" in f"{result.output}{result.exception}", (result.output, result.exception)
        assert (tmp_path / "up.json").exists() and not spawned
    finally:
        holder.kill()
        holder.wait()


_HOLDS_THE_DATA_DIR = """
import fcntl, sys
lock = open(sys.argv[1] + "/up.lock", "a")
fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running amx up holds it
print("holding", flush=True)
sys.stdin.read()
"""


def _exited():
    class Exited:
        returncode = 1

        def poll(self):
            return 1

    return Exited()


def test_an_import_writes_the_file_it_checked_when_it_is_replaced_meanwhile(tmp_path, monkeypatch):
    """`amx import programs` checks every line, then reads the file again to write it. Replaced between the two
    (an export renamed onto it), the second read was of a file no one had checked: a bad line there raised a
    ValidationError traceback with the batches before it written. The file checked is the file written."""
    import os

    import affiliate_matrix.exchange as exchange
    from affiliate_matrix.search.sqlite import SqliteSearchIndex
    from tests.support.factories import make_program

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    checked = [make_program(f"Checked {n}", f"https://checked{n}.com") for n in range(2)]
    path = tmp_path / "programs.jsonl"
    path.write_text("".join(p.model_dump_json() + "\n" for p in checked))
    replacement = tmp_path / "other.jsonl"
    replacement.write_text(make_program("Other", "https://other.com").model_dump_json() + '\n{"id": "bad"}\n')
    ensure_index = SqliteSearchIndex.ensure_index

    def replaced_meanwhile(self, spec):  # the write pass begins here
        if replacement.exists():
            os.replace(replacement, path)
        return ensure_index(self, spec)

    monkeypatch.setattr(exchange, "BATCH", 1)
    monkeypatch.setattr(SqliteSearchIndex, "ensure_index", replaced_meanwhile)
    result = CliRunner().invoke(app, ["import", "programs", str(path)])
    assert result.exit_code == 0 and "imported 2 of 2" in result.output, (result.output, result.exception)
    names = CliRunner().invoke(app, ["export", "programs"]).output
    assert "Checked 0" in names and "Checked 1" in names and "Other" not in names


def test_an_index_delete_that_fails_half_way_leaves_no_write_open(tmp_path, monkeypatch):
    """A delete on the SQLite index began its write (BEGIN IMMEDIATE) and had no way back: failing half-way (an
    interrupt, an I/O error SQLite does not roll back by itself) it left the write open, so the process's next write
    failed ("cannot start a transaction within a transaction") and every other process waited on the file's lock
    for as long as it lived. It is rolled back, the document kept."""
    import pytest

    from affiliate_matrix.search import IndexSpec
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    index = SqliteSearchIndex(tmp_path / "search.sqlite3")
    index.ensure_index(IndexSpec(name="t", version=1, fields={"id": "keyword", "name": "text"}, id_field="id"))
    index.bulk_upsert("t", [{"id": "a", "name": "kept"}])
    bump = SqliteSearchIndex._bump

    def interrupted(self, table):
        raise KeyboardInterrupt

    monkeypatch.setattr(SqliteSearchIndex, "_bump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        index.delete("t", "a")
    monkeypatch.setattr(SqliteSearchIndex, "_bump", bump)
    assert not index.db.in_transaction
    assert index.get("t", "a") == {"id": "a", "name": "kept"}
    assert index.bulk_upsert("t", [{"id": "b", "name": "written"}]).indexed == 1


def test_an_index_write_waiting_past_another_writers_lock_is_unavailable_not_a_500(tmp_path, monkeypatch):
    """A migration of the embedded index holds its write lock for its whole copy; a write waiting past the busy
    timeout failed with sqlite3's OperationalError ("database is locked"), a 500 with nothing to retry. It is the
    index unavailable for now: a 503 with a Retry-After, and an event delivered again. The lock is held here by a
    second connection's open write; the busy timeout is 0 so the wait ends at once."""
    import sqlite3

    import pytest

    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.search import IndexSpec
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    monkeypatch.setattr(SqliteSearchIndex, "BUSY_TIMEOUT_S", 0)
    index = SqliteSearchIndex(tmp_path / "search.sqlite3")
    index.ensure_index(IndexSpec(name="t", version=1, fields={"id": "keyword", "name": "text"}, id_field="id"))
    index.bulk_upsert("t", [{"id": "a", "name": "kept"}])
    holder = sqlite3.connect(tmp_path / "search.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(BackendUnavailable, match="search.sqlite3 is busy: database is locked") as busy:
            index.bulk_upsert("t", [{"id": "b", "name": "waiting"}])
        assert busy.value.retry_after and "busy" in busy.value.cause
        assert index.get("t", "a") == {"id": "a", "name": "kept"}  # reads go on beside the write lock (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert index.bulk_upsert("t", [{"id": "b", "name": "written"}]).indexed == 1


def _locks_held_on(path, pid: int) -> list[str]:
    """The POSIX locks process `pid` holds on the file (/proc/locks: `1: POSIX ADVISORY READ <pid> <dev>:<inode>`)."""
    found = os.stat(path)
    file = f"{os.major(found.st_dev):02x}:{os.minor(found.st_dev):02x}:{found.st_ino}"
    with open("/proc/locks") as locks:
        return [line for line in locks if line.split()[4:6] == [str(pid), file]]


def test_a_forked_child_reads_the_index_holding_its_own_lock_on_the_file(tmp_path):
    """gunicorn's master opens the embedded index as it imports the function (the start checks it), then forks the
    worker, which read and wrote through the master's connection. SQLite's locks are a process's own: the worker held
    none on the file (the one that keeps a checkpoint from removing the WAL under a reader; howtocorrupt §2.6), and a
    connection it opened itself took none either while the master's stayed open in it. Its first query holds its own."""
    import json

    from affiliate_matrix.search import IndexSpec
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    path = tmp_path / "search.sqlite3"
    index = SqliteSearchIndex(path)
    index.ensure_index(IndexSpec(name="t", version=1, fields={"id": "keyword", "name": "text"}, id_field="id"))
    index.bulk_upsert("t", [{"id": "a", "name": "kept"}])
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child sends what it read and the locks it holds then, and ends without pytest's teardown
        try:
            os.close(read)
            os.write(write, json.dumps([index.get("t", "a"), _locks_held_on(path, os.getpid())]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        got, locks = json.loads(answer.read() or "[null, []]")
    os.waitpid(child, 0)
    assert got == {"id": "a", "name": "kept"}
    assert locks, "the child read the index holding no lock of its own on the file"


def test_each_stop_of_the_programs_function_leaves_no_index_wal_to_grow(tmp_path):
    """Each start of the programs function writes its search to the query log (the queries index) as it stops.
    gunicorn's master kept the connection it opened before the fork until it ended, never closed, so no process was
    ever the file's last to close it, the point where SQLite checkpoints the WAL into the file and removes it: the WAL
    grew by each start's write (37 KB) and each start read it whole. Each stop now leaves none."""
    import httpx

    from affiliate_matrix.auth import create_token
    from affiliate_matrix.config import Settings
    from affiliate_matrix.query_log import QUERIES_INDEX
    from affiliate_matrix.runtime import open_secret_store
    from affiliate_matrix.search import SearchQuery
    from affiliate_matrix.search.sqlite import SqliteSearchIndex
    from tests.support.processes import BIN, ROOT, Server, free_port

    token = create_token(open_secret_store(Settings(data_dir=tmp_path)), "read")
    wal = tmp_path / "search.sqlite3-wal"
    sizes = []
    for start in range(4):
        port = free_port()
        server = Server([str(BIN / "amx-function"), "--source", str(ROOT / "functions/programs/main.py"),
                         "--target", "handle", "--host", "127.0.0.1", "--port", str(port)],
                        f"http://127.0.0.1:{port}", tmp_path / f"programs-{start}.log", ready_path="/healthz",
                        env={"AMX_DATA_DIR": str(tmp_path)})
        try:
            answer = httpx.get(f"{server.url}/programs?q=x", headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert answer.status_code == 200, answer.text
        finally:
            server.stop()
        sizes.append(wal.stat().st_size if wal.exists() else 0)
    assert sizes == [0] * len(sizes), f"the WAL left by each stop: {sizes} bytes"
    logged = SqliteSearchIndex(tmp_path / "search.sqlite3").search(QUERIES_INDEX.name, SearchQuery(size=0))
    assert logged.total == 4  # each start's search was written, and kept


def test_amx_up_refuses_a_port_something_else_listens_on_at_once_naming_it(tmp_path, monkeypatch):
    """A port taken (another `amx up` elsewhere, any server on 8100…) was found only by waiting 120 s for that
    function to answer, then a RuntimeError's traceback."""
    import socket

    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.errors import ConflictError

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["up", "--port-base", str(port)])  # programs on it
    assert isinstance(result.exception, ConflictError), (result.output, result.exception)
    assert str(result.exception).startswith(f"port {port} on 127.0.0.1, programs's, is taken"), str(result.exception)
    assert not (tmp_path / "logs").exists() or not any((tmp_path / "logs").iterdir())  # nothing was started


def test_where_a_command_says_an_object_is_kept_is_the_file_that_holds_it(tmp_path):
    """The commands name the file of what they stored (`kept raw: …`, a batch) for a person to open: the local store
    names a key's capitals "+" and the small letter (so that no two names differ only by case), and the path shown
    is that file, not the key joined to the store's folder."""
    from pathlib import Path

    from affiliate_matrix.cli.common import stored_at
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    for key in ("budget/campaigns/Summer.json", "budget/campaigns/summer.json"):
        rt.store.put(key, key.encode())
        assert Path(stored_at(rt, key)).read_bytes() == key.encode()


_UP_STARTING_ONE_FUNCTION = """
import os, sys
from pathlib import Path
from affiliate_matrix.localrun.runner import Function
logs = Path(sys.argv[2]) / "logs"
logs.mkdir(parents=True)
function = Function("programs", Path(sys.argv[1]), int(sys.argv[3]), {**os.environ, "AMX_DATA_DIR": sys.argv[2]}, logs)
function.start()
print(function.process.pid, flush=True)
sys.stdin.read()
"""


def test_a_function_amx_up_started_stops_when_amx_up_dies(tmp_path):
    """Each function runs in a session of its own (so that a Ctrl-C reaches amx up alone, which stops them): an `amx
    up` killed with SIGKILL (or by the OOM killer) left all eleven running, holding their ports, and `amx down` said
    "nothing was running". A function is told to stop (SIGTERM) when the `amx up` that started it dies."""
    import signal
    import subprocess
    import sys

    from tests.support.processes import ROOT, free_port
    from tests.support.wait import wait_until

    port = free_port()
    up = subprocess.Popen([sys.executable, "-c", _UP_STARTING_ONE_FUNCTION, str(ROOT), str(tmp_path), str(port)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    function = int(up.stdout.readline())

    def running(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().rpartition(")")[2].split()[0] not in ("Z", "X")  # a zombie has ended
        except FileNotFoundError:
            return False

    try:
        assert running(function)
        up.kill()
        up.wait()
        wait_until(lambda: not running(function), "the function to stop once amx up died")
    finally:
        up.kill()
        try:
            os.killpg(function, signal.SIGKILL)
        except ProcessLookupError:
            pass
