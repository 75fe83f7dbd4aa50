"""Index versions on both adapters: a migration keeps every document searchable throughout,
and rollback restores the previous mapping."""

import re
import threading

import pytest

from affiliate_matrix.errors import ConfigError, InvalidInput
from affiliate_matrix.search import IndexSpec, MigrationRunning, SearchQuery, lease_holder
from tests.support.things import BACKENDS, SPEC, docs, open_index

V2 = IndexSpec("things", 2, {**SPEC.fields, "tags": "keyword"})


@pytest.fixture(params=BACKENDS)
def index(request, tmp_path):
    idx = open_index(request.param, tmp_path, request)
    idx.ensure_index(SPEC)
    assert idx.bulk_upsert("things", docs(), refresh=True).errors == []
    return idx


def test_documents_reads_every_document_of_the_live_version_as_written(index):
    """What a backup holds (amx index backup): every document once, as written (no folded text OpenSearch indexes
    beside it), a write just acknowledged too; after a migration, the new version's, with its spec."""
    index.bulk_upsert("things", [{**docs()[0], "name": "Written last"}])  # not refreshed
    assert sorted(index.documents("things"), key=lambda doc: doc["id"]) == sorted(
        [{**docs()[0], "name": "Written last"}, *docs()[1:]], key=lambda doc: doc["id"])
    assert index.live_spec("things") == SPEC
    index.migrate(V2)
    assert index.live_spec("things") == V2 and len(list(index.documents("things"))) == len(docs())


def test_a_conditional_write_read_before_a_migration_never_overwrites_a_write_after_it(index):
    """An index run that read a program, then wrote it after a migration swapped the alias: the version it read is
    of the old index (on OpenSearch, a sequence number of another index), so it is a conflict where the program has
    changed since; read again, the write lands."""
    read = index.get_versioned("things", ["doc-00000"])["doc-00000"]
    index.migrate(V2)
    index.bulk_upsert("things", [{**docs()[0], "tags": ["after"]}], refresh=True)  # another run, after the swap
    result = index.write_if_unchanged("things", [({**docs()[0], "network": "cj"}, read.version)], refresh=True)
    assert (result.indexed, result.conflicts) == (0, ["doc-00000"])
    assert index.get("things", "doc-00000")["tags"] == ["after"]
    again = index.get_versioned("things", ["doc-00000"])["doc-00000"]
    result = index.write_if_unchanged("things", [({**again.doc, "network": "cj"}, again.version)], refresh=True)
    assert (result.indexed, result.conflicts) == (1, [])
    assert index.get("things", "doc-00000")["tags"] == ["after"] and index.get("things", "doc-00000")["network"] == "cj"


def test_migrate_keeps_every_document_searchable_then_rollback_restores_the_mapping(index):
    seen_totals, failures, done = [], [], threading.Event()

    def reader():
        while not done.is_set():
            try:
                seen_totals.append(index.search("things", SearchQuery(size=1, filters={"active": [True, False]})).total)
            except Exception as exc:  # any failure while migrating is what this test exists to catch
                failures.append(repr(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        copied = index.migrate(V2)
    finally:
        done.set()
        thread.join()
    assert copied == len(docs())
    assert failures == [] and len(seen_totals) > 0 and set(seen_totals) == {len(docs())}

    status = index.status("things")
    assert (status.current, status.versions) == (2, [1, 2])
    index.bulk_upsert("things", [{**docs()[0], "tags": ["new"]}], refresh=True)
    assert [h.id for h in index.search("things", SearchQuery(filters={"tags": ["new"]})).hits] == [docs()[0]["id"]]

    assert index.rollback("things") == 1
    assert index.status("things").current == 1
    with pytest.raises(ConfigError, match=r"things \(v1\) has no field 'tags': .*run `amx index migrate things`"):
        index.search("things", SearchQuery(filters={"tags": ["new"]}))
    assert index.search("things", SearchQuery(size=0)).total == len(docs())
    with pytest.raises(InvalidInput, match="no version older than v1"):
        index.rollback("things")


@pytest.mark.parametrize("spec", [V2, IndexSpec("things", 2, V2.fields, upgrade=lambda doc: doc)],
                         ids=["copied on the node", "upgraded here"])
def test_a_write_acknowledged_before_the_migration_but_not_yet_refreshed_is_copied(index, spec):
    """OpenSearch copies a version by searching it (reindex, scroll), and a search sees what a refresh has made
    visible: a write acknowledged in the second before the migration's write block, not yet refreshed, was left out of
    the new version, lost once the alias moved. (Refreshes are turned off here so that second lasts the test.)"""
    client = getattr(index, "client", None)
    if client is not None:
        client.indices.put_settings(index=index._current("things"), body={"index.refresh_interval": "-1"})
    late = {**docs()[0], "id": "doc-late", "name": "written just before"}
    assert index.bulk_upsert("things", [late], refresh=False).errors == []
    assert index.migrate(spec) == len(docs()) + 1
    assert index.get("things", "doc-late")["name"] == "written just before"
    assert index.search("things", SearchQuery(size=0)).total == len(docs()) + 1


def test_migrating_again_after_a_rollback_copies_the_documents_as_they_are_now(index):
    """A rollback keeps the version it left; migrating to it again (the fix deployed) built on what it held: on SQLite
    a document deleted since the rollback came back (retention's deletes, a removed rule's activations), and on
    OpenSearch the migration failed on the index already there. It is the version's documents afresh either way."""
    index.migrate(V2)
    index.bulk_upsert("things", [{**docs()[0], "tags": ["only-in-v2"]}], refresh=True)
    assert index.search("things", SearchQuery(text="alpha")).total > 0  # v2's words read (the embedded index's)
    assert index.rollback("things") == 1
    index.delete("things", docs()[1]["id"], refresh=True)
    index.bulk_upsert("things", [{**docs()[2], "name": "renamed since"}], refresh=True)

    assert index.migrate(V2) == len(docs()) - 1
    assert index.status("things").current == 2
    assert index.get("things", docs()[1]["id"]) is None
    assert index.search("things", SearchQuery(size=0)).total == len(docs()) - 1
    assert index.search("things", SearchQuery(filters={"tags": ["only-in-v2"]})).total == 0
    assert [h.id for h in index.search("things", SearchQuery(text="renamed since")).hits] == [docs()[2]["id"]]


def test_a_version_built_again_never_repeats_a_generation_of_the_one_before(index):
    """Answers, ETags and facet snapshots are kept by generation. Migrating again after a rollback builds the version
    afresh under the same name; on OpenSearch the generation was the physical index's name and its count of refreshes,
    which started again from 0, so the new build's generations were the old one's, over other documents."""
    def lived() -> set[str]:  # the generations of a build and two writes after it
        seen = {index.generation("things")}
        for n in range(2):
            index.bulk_upsert("things", [{**docs()[n], "tags": [f"write-{n}"]}], refresh=True)
            seen.add(index.generation("things"))
        return seen

    index.migrate(V2)
    first = lived()
    index.rollback("things")
    index.delete("things", docs()[5]["id"], refresh=True)  # the second build holds other documents
    index.migrate(V2)
    assert lived().isdisjoint(first)


def beside(index):
    """The same index opened again, as a second operator's command (or a retried job) opens it."""
    from affiliate_matrix.search.opensearch import OpenSearchIndex
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    if isinstance(index, SqliteSearchIndex):
        return SqliteSearchIndex(index.path, index.prefix)
    return OpenSearchIndex(index.client, index.prefix, index.url)


def test_a_migration_begun_beside_another_is_refused_naming_it(index):
    """`amx index migrate` run twice at once (two operators, a retried job): on OpenSearch the second deleted and made
    again the version the first was copying into, and both swapped the alias; on SQLite the second waited for the
    write lock the first holds for its whole copy, past SQLite's timeout ("database is locked"). The second is
    refused at once while the first holds the index's lease, and the first ends as if alone."""
    copying, go_on, copied = threading.Event(), threading.Event(), []

    def held(doc):  # the first migration stops in its copy, at its first document, until told to go on
        if not copying.is_set():
            copying.set()
            assert go_on.wait(timeout=60)
        return doc

    first = threading.Thread(target=lambda: copied.append(index.migrate(IndexSpec("things", 2, V2.fields,
                                                                                  upgrade=held))))
    first.start()
    try:
        assert copying.wait(timeout=60)
        with pytest.raises(MigrationRunning, match=r"a migration of 'things' to v2 by .+ pid \d+ since .+ is running"):
            beside(index).migrate(V2)
    finally:
        go_on.set()
        first.join()
    assert copied == [len(docs())]
    assert (index.status("things").current, index.status("things").versions) == (2, [1, 2])
    assert index.search("things", SearchQuery(size=0)).total == len(docs())
    with pytest.raises(InvalidInput, match="is at v2"):  # the lease was given back: refused for the version alone
        beside(index).migrate(V2)


def test_a_rollback_and_a_migration_of_one_index_are_refused_beside_each_other(index, monkeypatch):
    """`amx index rollback` took no lease: run beside a migration of the same index (or another rollback), its alias
    swap and the other's copy and swap interleaved, and move records were put back and forgotten under a migration
    writing them. A rollback holds the index's lease as a migration does: a rollback begun during a migration's copy,
    and a migration or another rollback begun during a rollback's alias swap, are refused, naming the holder; the
    holder ends as if alone."""
    refused = []

    def begun_beside(action) -> None:
        with pytest.raises(MigrationRunning) as caught:
            action(beside(index))
        refused.append(str(caught.value))

    def copying(doc):  # the migration to v3, at its first document, meets a rollback begun beside it
        if not refused:
            begun_beside(lambda other: other.rollback("things"))
        return doc

    v3 = IndexSpec("things", 3, V2.fields, upgrade=copying)
    index.migrate(V2)
    assert index.migrate(v3) == len(docs())
    assert len(refused) == 1 and re.fullmatch(r"a migration of 'things' to v3 by .+ pid \d+ since \S+ is running: "
                                              r"wait for it to end.*", refused[0])

    swap = index._point_back

    def swapping(name, version):  # the rollback to v2, at its alias swap, meets a migration and a rollback beside it
        begun_beside(lambda other: other.migrate(v3))
        begun_beside(lambda other: other.rollback("things"))
        swap(name, version)

    monkeypatch.setattr(index, "_point_back", swapping)
    assert index.rollback("things") == 2
    assert len(refused) == 3 and all(re.fullmatch(r"a rollback of 'things' to v2 by .+ pid \d+ since \S+ is running: "
                                                  r"wait for it to end.*", said) for said in refused[1:])
    assert (index.status("things").current, index.status("things").versions) == (2, [1, 2, 3])
    assert index.search("things", SearchQuery(size=0)).total == len(docs())
    monkeypatch.undo()
    assert beside(index).rollback("things") == 1  # the lease was given back


def test_an_embedded_migration_s_lease_ends_with_its_process(tmp_path):
    """A migration whose process dies (killed, out of memory) holding the embedded index's lease: the system releases
    it, so the next migration runs with nothing to clear (SQLite rolled the dead one's copy back)."""
    import subprocess
    import sys

    from tests.support.processes import ROOT

    index = open_index("sqlite", tmp_path, None)
    index.ensure_index(SPEC)
    index.bulk_upsert("things", docs()[:3], refresh=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import os, sys\n"
        "from affiliate_matrix.search.sqlite import SqliteSearchIndex\n"
        "from affiliate_matrix.search import lease_holder\n"
        f"lease = SqliteSearchIndex({str(index.path)!r}, {index.prefix!r})._lease('things', "
        "lease_holder('migration', 2))\n"
        "lease.__enter__()\n"
        "print('held', flush=True)\n"
        "sys.stdin.readline()\n"
        "os._exit(9)\n")], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(MigrationRunning, match="a migration of 'things' to v2 by .+ is running"):
            index.migrate(V2)
    finally:
        holder.communicate("die\n", timeout=60)
    assert holder.returncode == 9
    assert index.unlock("things") is None  # nothing was left to clear
    assert index.migrate(V2) == 3


@pytest.mark.slow
def test_a_lease_left_by_a_migration_that_died_is_cleared_by_unlock(request, tmp_path):
    """On OpenSearch a migration's lease is a document, which a process that dies leaves, with the write block it
    had set on the live version: the next migration is refused saying how to clear it, and unlock clears both."""
    index = open_index("opensearch", tmp_path, request)
    index.ensure_index(SPEC)
    index.bulk_upsert("things", docs()[:3], refresh=True)
    died = index._lease("things", lease_holder("migration", 2))
    died.__enter__()  # taken and never given back: its process died
    index.client.indices.put_settings(index=SPEC.physical(index.prefix), body={"index.blocks.write": True})
    with pytest.raises(MigrationRunning, match=r"is running: .*if its process has died, run `amx index unlock things`"):
        beside(index).migrate(V2)
    assert index.unlock("things")["version"] == 2
    assert index.unlock("things") is None
    assert index.bulk_upsert("things", docs()[3:4], refresh=True).errors == []  # writes go on
    assert beside(index).migrate(V2) == 4
    died.gen.close()  # (while the node is up: its delete finds no lease, as unlock cleared it)


def test_a_migration_keeps_text_searchable_in_its_folded_form(index):
    """Text is searched in its compatibility form (NFKC), indexed beside the document on OpenSearch and left out of
    its _source: a copy of _source alone (the node's reindex) held no folded text, and found nothing by its words."""
    doc = {"id": "bold", "name": "\U0001d407\U0001d428\U0001d42c\U0001d42d\U0001d422\U0001d427\U0001d420 Deals"}
    assert index.bulk_upsert("things", [doc], refresh=True).errors == []
    index.migrate(V2)
    assert [h.id for h in index.search("things", SearchQuery(text="hosting deals")).hits] == ["bold"]
    assert index.get("things", "bold") == doc


@pytest.mark.slow
def test_an_opensearch_index_made_before_text_was_folded_is_behind_the_code_until_migrated(opensearch_node):
    """A version made before its text was folded (programs v13) has no folded text to search: a search of it is the
    index behind the code (naming the migration), not an answer finding nothing; migrated, its text is found."""
    import uuid

    from opensearchpy import OpenSearch

    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import open_search_index
    from affiliate_matrix.search.opensearch import FOLDED, index_body

    prefix = f"t{uuid.uuid4().hex[:10]}"
    body = index_body(SPEC)  # as before: text fields searched as they are, no folded text beside them
    del body["mappings"]["properties"][FOLDED], body["mappings"]["_source"]
    for field in ("name", "description"):
        body["mappings"]["properties"][field] = {"type": "text", "analyzer": "folding"}
    client = OpenSearch(hosts=[opensearch_node.url])
    client.indices.create(index=SPEC.physical(prefix), body=body)
    client.indices.put_alias(index=SPEC.physical(prefix), name=f"{prefix}-things")
    bold = "\U0001d407\U0001d428\U0001d42c\U0001d42d"  # 𝐇𝐨𝐬𝐭
    client.index(index=f"{prefix}-things", id="bold", body={"id": "bold", "name": bold}, refresh="true")
    idx = open_search_index(Settings(search="opensearch", opensearch_url=opensearch_node.url, index_prefix=prefix))
    with pytest.raises(ConfigError, match="amx index migrate things"):
        idx.search("things", SearchQuery(text="host"))
    idx.migrate(V2)
    assert [h.id for h in idx.search("things", SearchQuery(text="host")).hits] == ["bold"]


def test_migrating_to_the_same_or_a_lower_version_is_refused(index):
    with pytest.raises(InvalidInput, match="is at v1; migrating needs a higher version"):
        index.migrate(SPEC)


def test_a_mapping_that_refuses_documents_aborts_before_the_swap(index):
    narrower = IndexSpec("things", 2, {k: v for k, v in SPEC.fields.items() if k != "payload"})
    with pytest.raises(InvalidInput, match="aborted before the swap"):
        index.migrate(narrower)
    assert index.status("things").current == 1
    assert index.search("things", SearchQuery(size=0)).total == len(docs())
    assert index.migrate(V2) == len(docs())  # nothing half-made was left in the way


def _landing_on_the_first(doc):
    """An upgrade moving the second document onto the first one's id (as programs v16 re-keys a program)."""
    return {**doc, "id": docs()[0]["id"]} if doc["id"] == docs()[1]["id"] else doc


def test_a_migration_landing_two_documents_on_one_id_is_refused_naming_them_when_its_spec_cannot_combine(index):
    """An upgrade moving a document onto another's id had one written over the other: one lost, and the migration
    reported success. With no way to combine them given, it is refused before the swap, naming both."""
    first, second = docs()[0]["id"], docs()[1]["id"]
    with pytest.raises(InvalidInput, match=rf"aborted before the swap: documents ({first}, {second}|{second}, "
                                           rf"{first}) all become {first}, one written over another$"):  # (as met)
        index.migrate(IndexSpec("things", 2, V2.fields, upgrade=_landing_on_the_first))
    assert index.status("things").current == 1  # the old version serves on, whole
    assert index.get("things", second) == docs()[1]
    assert index.search("things", SearchQuery(size=0)).total == len(docs())
    assert index.migrate(V2) == len(docs())  # nothing half-made was left in the way


def test_a_migration_landing_two_documents_on_one_id_writes_them_as_its_spec_combines_them(index):
    combined = []

    def together(landed: list[dict]) -> dict:
        combined.append(sorted(doc["name"] for doc in landed))
        return {**landed[0], "tags": combined[-1]}

    from structlog.testing import capture_logs

    with capture_logs() as logs:
        assert index.migrate(IndexSpec("things", 2, V2.fields, upgrade=_landing_on_the_first, combine=together)) == \
            len(docs())  # every document of v1 is in v2, two of them as one
    assert combined == [sorted([docs()[0]["name"], docs()[1]["name"]])]
    (said,) = [log for log in logs if log["event"] == "index.migration_combined"]
    assert (said["id"], sorted(said["documents"])) == (docs()[0]["id"], sorted([docs()[0]["id"], docs()[1]["id"]]))
    assert index.get("things", docs()[0]["id"])["tags"] == combined[0]
    assert index.get("things", docs()[1]["id"]) is None
    assert index.search("things", SearchQuery(size=0)).total == len(docs()) - 1


def test_a_migration_stopped_part_way_leaves_the_old_version_serving(index):
    """A migration stopped in its copy (an operator's Ctrl-C, an exception): the alias still names the old version,
    whole, nothing half-made of the new one is left, and migrating again does the job."""
    copied = []

    def stopped(doc):
        if len(copied) == len(docs()) // 2:
            raise KeyboardInterrupt
        copied.append(doc["id"])
        return doc

    with pytest.raises(KeyboardInterrupt):
        index.migrate(IndexSpec("things", 2, V2.fields, upgrade=stopped))
    assert (index.status("things").current, index.status("things").versions) == (1, [1])
    assert index.search("things", SearchQuery(size=0)).total == len(docs())
    assert index.bulk_upsert("things", docs()[:1], refresh=True).errors == []  # writes go on
    assert index.migrate(V2) == len(docs())


def test_ensure_index_never_moves_a_live_alias(index):
    index.ensure_index(V2)
    assert index.status("things").current == 1


def test_committed_index_mappings_match_the_code():
    import json

    from affiliate_matrix.indices import index_specs
    from affiliate_matrix.search.opensearch import index_body
    from tests.support.processes import ROOT

    for spec in index_specs().values():
        path = ROOT / "infra/opensearch/indices" / f"{spec.name}-v{spec.version}.json"
        assert json.loads(path.read_text()) == index_body(spec), f"{path} is stale: run amx index render"


def test_cli_refuses_a_migration_beside_another_and_says_there_is_no_lease_to_clear(tmp_path):
    import subprocess

    from affiliate_matrix.config import Settings
    from affiliate_matrix.program_index import PROGRAMS_INDEX
    from affiliate_matrix.runtime import open_search_index
    from tests.support.processes import BIN

    def amx(*args):
        return subprocess.run([str(BIN / "amx"), *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    running = open_search_index(Settings(data_dir=tmp_path / ".amx"))
    running.ensure_index(IndexSpec("programs", 1, PROGRAMS_INDEX.fields))  # behind the code: a migration is due
    with running._lease("programs", lease_holder("migration", PROGRAMS_INDEX.version)):  # a migration of programs under way in another process
        refused = amx("index", "migrate", "programs")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "conflict: a migration of 'programs' to v" in " ".join(refused.stderr.split())
    unlocked = amx("index", "unlock", "programs")
    assert unlocked.returncode == 0 and "programs: no lease of a migration or rollback left to clear" in unlocked.stdout


def test_cli_migrates_a_v1_programs_index_to_the_code_version_and_back(tmp_path):
    import subprocess

    from affiliate_matrix.config import Settings
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from affiliate_matrix.runtime import open_search_index
    from tests.support.processes import BIN
    from tests.support.factories import make_program

    def amx(*args):
        return subprocess.run([str(BIN / "amx"), *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    v1 = IndexSpec("programs", 1, {k: v for k, v in PROGRAMS_INDEX.fields.items()
                                   if k not in ("epc_7d", "last_changed_at")})
    old = open_search_index(Settings(data_dir=tmp_path / ".amx"))
    old.ensure_index(v1)
    doc = {k: v for k, v in to_document(make_program("Alpha", "https://alpha.com")).items() if k in v1.fields}
    old.bulk_upsert("programs", [doc], refresh=True)

    status = amx("index", "status")
    assert status.returncode == 0 and "v1" in status.stdout and f"v{PROGRAMS_INDEX.version}" in status.stdout
    migrated = amx("index", "migrate", "programs")
    assert migrated.returncode == 0 and f"now v{PROGRAMS_INDEX.version}, 1 document copied" in migrated.stdout
    # Run again (a deploy script running it every time): nothing to do is done, not an error.
    again = amx("index", "migrate", "programs")
    assert again.returncode == 0 and "nothing to migrate" in again.stdout, (again.stdout, again.stderr)
    assert "now v1" in amx("index", "rollback", "programs").stdout
    assert "no version older than v1" in amx("index", "rollback", "programs").stderr
    past = IndexSpec("programs", PROGRAMS_INDEX.version + 1, PROGRAMS_INDEX.fields)  # newer data, older code
    old.ensure_index(past)
    old.migrate(past)
    behind = amx("index", "migrate", "programs")
    assert behind.returncode == 2 and "migrating needs a higher version" in behind.stderr, behind.stderr
    assert amx("index", "migrate", "nope").returncode == 2


def test_cli_migrates_every_index_behind_the_code_at_once(tmp_path):
    # After a deploy a user had to know which indices a release moved to a new version, and run `amx index migrate`
    # for each (programs v11 and budget v2 in one release): without a name it migrates every index behind the code.
    import subprocess

    from affiliate_matrix.config import Settings
    from affiliate_matrix.deltas import DELTAS_INDEX
    from affiliate_matrix.program_index import PROGRAMS_INDEX
    from affiliate_matrix.runtime import open_search_index
    from tests.support.processes import BIN

    def amx(*args):
        return subprocess.run([str(BIN / "amx"), *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    old = open_search_index(Settings(data_dir=tmp_path / ".amx"))
    for spec in (PROGRAMS_INDEX, DELTAS_INDEX):
        old.ensure_index(IndexSpec(spec.name, 1, spec.fields))
    status = " ".join(amx("index", "status").stdout.split())
    assert "amx index migrate programs" in status and "amx index migrate deltas" in status
    assert "amx index migrate budget" not in status  # created at the code's version: nothing to do
    migrated = amx("index", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert f"programs: now v{PROGRAMS_INDEX.version}" in migrated.stdout
    assert f"deltas: now v{DELTAS_INDEX.version}" in migrated.stdout and "budget:" not in migrated.stdout
    again = amx("index", "migrate")
    assert again.returncode == 0 and "nothing to migrate" in again.stdout
    assert "amx index migrate" not in amx("index", "status").stdout


def _held_before_its_write_lock(index, reached: threading.Event, go_on: threading.Event) -> None:
    """The embedded index's next write held just before it takes SQLite's write lock (BEGIN IMMEDIATE)."""
    execute = index.db.execute

    def holding(sql, *args):
        if sql == "BEGIN IMMEDIATE" and not reached.is_set():
            reached.set()
            assert go_on.wait(60), "the migration did not finish"
        return execute(sql, *args)

    index.db.execute = holding


@pytest.mark.parametrize("write", ["bulk_upsert", "write_if_unchanged", "delete"])
def test_a_write_beside_a_migration_lands_in_the_index_the_alias_names_once_it_writes(tmp_path, write):
    """The embedded index looked up the alias's table before taking the write lock: a migration (another process)
    swapping the alias in that instant had the write go to the old table, lost once the alias named the new one (on
    OpenSearch a migration blocks writes to the old index instead). The table is looked up inside the write."""
    from affiliate_matrix.search.sqlite import SqliteSearchIndex
    from tests.support.interleave import interleaved

    writer, migrator = (SqliteSearchIndex(tmp_path / "search.db") for _ in range(2))  # two processes' connections
    writer.ensure_index(SPEC)
    writer.bulk_upsert("things", docs()[:3], refresh=True)
    read = writer.get_versioned("things", ["doc-00000"])["doc-00000"]
    changed = {**docs()[0], "network": "cj" if docs()[0]["network"] != "cj" else "awin"}
    writes = {"bulk_upsert": lambda: writer.bulk_upsert("things", [changed], refresh=True),
              "write_if_unchanged": lambda: writer.write_if_unchanged("things", [(changed, read.version)]),
              "delete": lambda: writer.delete("things", "doc-00000", refresh=True)}
    interleaved(lambda reached, go_on: _held_before_its_write_lock(writer, reached, go_on), writes[write],
                lambda: migrator.migrate(V2))
    assert migrator.status("things").current == 2
    assert migrator.get("things", "doc-00000") == (None if write == "delete" else changed)


def test_a_migration_another_process_finished_first_is_refused_not_made_again_from_the_old_table(tmp_path):
    """A migration checked the live version and looked up its table before taking the write lock: two at once (two
    operators, a deploy job run twice), the later, once the first had swapped the alias, dropped the live new table
    and filled it again from the old one, losing every write made since the swap. It checks under the lock now.
    (Two migrations at once are refused by the lease first: the first runs here without it, as the code of a release
    from before leases runs beside this one in a rolling deploy.)"""
    from affiliate_matrix.search.sqlite import SqliteSearchIndex
    from tests.support.interleave import interleaved

    late, first = (SqliteSearchIndex(tmp_path / "search.db") for _ in range(2))
    late.ensure_index(SPEC)
    late.bulk_upsert("things", docs()[:3], refresh=True)
    since = {**docs()[0], "tags": ["since"]}

    def migrated_first():
        first._migrate(V2)
        first.bulk_upsert("things", [since], refresh=True)

    def migrated_late():
        with pytest.raises(InvalidInput, match="is at v2"):
            late.migrate(V2)

    interleaved(lambda reached, go_on: _held_before_its_write_lock(late, reached, go_on), migrated_late,
                migrated_first)
    assert first.get("things", "doc-00000") == since
