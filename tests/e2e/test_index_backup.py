"""`amx index backup` and `amx index restore`: what only the index holds (the change feed, the moved ids, the rules'
activations) comes back with the programs into an empty index, on both backends; a backup that is damaged, of
another version, or bound for an index that is not empty is refused before anything is written."""

import hashlib
import json
import uuid

import pytest
from werkzeug.datastructures import MultiDict

from affiliate_matrix.cli import main
from affiliate_matrix.config import Settings
from affiliate_matrix.errors import NotFoundError
from affiliate_matrix.exchange import import_programs, jsonl_chunks
from affiliate_matrix.handlers.programs import changes
from affiliate_matrix.indices import index_specs
from affiliate_matrix.moves import moved_to
from affiliate_matrix.program_index import PROGRAMS_INDEX
from affiliate_matrix.rules.store import activations, record_activation
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import IndexSpec, SearchQuery, record_moves
from tests.support.indexing import BACKENDS, on_backend
from tests.support.synthetic import programs as synthetic_programs


@pytest.fixture
def amx(monkeypatch, capsys):
    """amx run as its console script runs it: (its exit code, what it printed, in one line)."""
    def run(*args: str) -> tuple[int, str]:
        monkeypatch.setattr("sys.argv", ["amx", *args])
        with pytest.raises(SystemExit) as ended:
            main()
        printed = capsys.readouterr()
        return ended.value.code, " ".join((printed.out + printed.err).split())

    return run


def filled(tmp_path) -> Runtime:
    """An index (as the environment names it) holding programs, their change feed (an import's), a moved id and a
    rule's activation."""
    rt = Runtime("test", Settings())
    file = tmp_path / "programs.jsonl"
    file.write_text("".join(jsonl_chunks(synthetic_programs(30))))
    assert import_programs(rt, file, "jsonl").written == 30
    first = rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=1)).hits[0].id
    record_moves(rt.index, PROGRAMS_INDEX.name, {"p_moved_away": first}, "import of a file exported before")
    record_activation(rt, {
        "id": "a_" + "1" * 24, "rule_id": "raised", "trigger": "program.delta", "event_id": "e1", "decision": "fired",
        "action": "notify", "action_event_id": "x", "outcome": "done", "detail": "posted",
        "inputs": {"program_id": first}, "at": "2026-11-22T06:00:00+00:00"})
    return rt


def answers(rt: Runtime) -> dict:
    """What the index answers that a restore must give back: a search, the change feed, a moved id's redirect, the
    activations (of every rule, and of the program), and every document of every index."""
    first = moved_to(rt.index, ["p_moved_away"])["p_moved_away"]["id"]
    found = rt.index.search(PROGRAMS_INDEX.name, SearchQuery(text="partners", size=100))
    return {"search": (found.total, sorted(hit.id for hit in found.hits)),
            "changes": changes(rt, MultiDict({"limit": "100"}))["items"],
            "moved": first,
            "activations": (activations(rt), activations(rt, program_ids=[first])),
            "documents": {name: every_document(rt, name) for name in index_specs()}}


def every_document(rt: Runtime, name: str) -> list[dict]:
    try:
        return sorted(rt.index.documents(name), key=json.dumps)
    except NotFoundError:  # not made yet (a backup makes every index, empty)
        return []


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path, monkeypatch):
    on_backend(request, tmp_path, monkeypatch)
    return request.param


def test_a_backup_restored_into_an_empty_index_answers_as_the_index_did(backend, amx, tmp_path, monkeypatch):
    """The walkthrough's case: the change feed, the moved ids and the activations were in no backup (export holds the
    programs alone). Backed up, restored into a new data directory (SQLite) or a new index prefix (OpenSearch), the
    index answers as before."""
    before = answers(filled(tmp_path))
    assert before["changes"] and before["activations"][0] and before["activations"][1]
    monkeypatch.setattr("affiliate_matrix.index_backup.PART_BYTES", 20_000)  # the programs in several parts
    if backend == "sqlite":  # a local directory, restored into a new data directory
        code, said = amx("index", "backup", "--to", str(tmp_path / "backup"))
        monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "new"))
        where = f"--from {tmp_path / 'backup'}"
        assert len(manifest_of(tmp_path / "backup")["indices"]["programs"]["parts"]) > 2
    else:  # the object store, restored under a new index prefix
        code, said = amx("index", "backup", "--key", "before-upgrade")
        monkeypatch.setenv("AMX_INDEX_PREFIX", f"t{uuid.uuid4().hex[:10]}")
        where = "--key before-upgrade"
    assert code == 0 and "backed up 8 indexes, 62 documents" in said and "programs 30, deltas 30," in said, said
    # spaces aside: a path longer than the console's width is folded inside the word, wherever its length puts the fold
    assert f"restore it into an empty index with `amx index restore {where}`".replace(" ", "") in said.replace(" ", "")
    code, said = amx("index", "restore", *where.split())
    assert code == 0 and "restored 62 documents" in said and "programs 30, deltas 30," in said, said
    assert said.endswith("`amx replay --all` brings the programs up to date with what was fetched since it was taken "
                         "(the stored pages and API answers, with no network)"), said  # the runbook's next step
    assert answers(Runtime("test", Settings())) == before


def elsewhere(backend: str, monkeypatch, place) -> None:
    """The environment moved to an index that does not exist yet: a new data directory (the embedded index), a new
    index prefix (OpenSearch)."""
    if backend == "sqlite":
        monkeypatch.setenv("AMX_DATA_DIR", str(place))
    else:
        monkeypatch.setenv("AMX_INDEX_PREFIX", f"t{uuid.uuid4().hex[:10]}")


def test_a_restore_into_an_index_holding_documents_is_refused_naming_them_unless_replace(backend, amx, tmp_path):
    rt = filled(tmp_path)
    assert amx("index", "backup", "--to", str(tmp_path / "backup"))[0] == 0
    rt.index.bulk_upsert("moved", [{"id": "programs:p_since", "index": "programs", "old": "p_since", "to": "p_x",
                                    "at": "2026-12-01T00:00:00Z", "by": "an import since"}], refresh=True)
    code, said = amx("index", "restore", "--from", str(tmp_path / "backup"))
    assert code == 2 and ("error: the index is not empty: programs holds 30 documents, deltas holds 30 documents, "
                          "activations holds 1 document, moved holds 2 documents; nothing was restored") in said, said
    assert "give --replace" in said
    code, said = amx("index", "restore", "--from", str(tmp_path / "backup"), "--replace")
    assert code == 0, said
    assert rt.index.get("moved", "programs:p_since") is None  # not in the backup: deleted
    assert rt.index.get("moved", "programs:p_moved_away") is not None


@pytest.fixture
def backup(amx, tmp_path, monkeypatch):
    """A backup's directory, taken of a filled index; the environment then names an empty data directory."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    filled(tmp_path)
    assert amx("index", "backup", "--to", str(tmp_path / "backup"))[0] == 0
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "empty"))
    return tmp_path / "backup"


def manifest_of(backup) -> dict:
    return json.loads((backup / "manifest.json").read_text())


def rewritten(backup, name: str, lines: list[bytes]) -> None:
    """A part written anew and its manifest entry made to match (as a forger would, or a hand edit)."""
    data = b"".join(line + b"\n" for line in lines)
    (backup / name).write_bytes(data)
    manifest = manifest_of(backup)
    for entry in manifest["indices"].values():
        for part in entry["parts"]:
            if part["name"] == name:
                entry["documents"] += len(lines) - part["documents"]
                part.update(documents=len(lines), bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (backup / "manifest.json").write_text(json.dumps(manifest))


def held(rt: Runtime) -> dict[str, int]:
    """How many documents each index that exists holds, of those that hold any."""
    counts = {}
    for name in index_specs():
        try:
            counts[name] = rt.index.search(name, SearchQuery(size=0)).total
        except NotFoundError:
            continue
    return {name: count for name, count in counts.items() if count}


@pytest.fixture
def refused(amx):
    def restored(backup, *more: str) -> str:
        """The restore's refusal, in one line; nothing was written (no index exists)."""
        code, said = amx("index", "restore", "--from", str(backup), *more)
        assert code == 2, said
        assert held(Runtime("test", Settings())) == {}
        return said

    return restored


@pytest.mark.parametrize("damage, said", [
    (lambda m: m.pop("indices"), "manifest.json: indices: Field required"),
    (lambda m: m["indices"]["programs"]["spec"].update(name="deltas"), "programs: its spec is of 'deltas'"),
    (lambda m: m["indices"].update(secrets=m["indices"]["moved"]), "secrets: not an index this code writes"),
    (lambda m: m["indices"]["programs"]["parts"][0].update(name="../../etc/passwd"), "String should match pattern"),
    (lambda m: m["indices"]["programs"]["parts"][0].update(bytes=2**40), "bytes: Input should be less than or equal"),
    (lambda m: m["indices"]["programs"].update(documents=31), "its parts hold other than its 31 documents"),
    (lambda m: m["indices"]["programs"]["spec"]["fields"].update(id="script"), "its spec cannot be read"),
    # said as an escape, not acted on by the operator's terminal (a title set, the screen cleared)
    (lambda m: m["indices"].update({"x\x1b]0;t\x07\x1b[2J": m["indices"]["moved"]}),
     "x\\x1b]0;t\\x07\\x1b[2J: not an index this"),
], ids=["no indices", "another index's spec", "an index unknown", "a path", "a huge part", "a count", "a field kind",
        "a terminal control"])
def test_a_damaged_or_forged_manifest_is_refused_naming_what_is_wrong(backup, refused, damage, said):
    manifest = manifest_of(backup)
    damage(manifest)
    (backup / "manifest.json").write_text(json.dumps(manifest))
    shown = refused(backup)
    assert f"error: the backup {backup} is damaged" in shown and said in shown, shown


def test_a_backup_cut_short_or_changed_since_is_refused(backup, refused):
    (backup / "deltas-1.jsonl").write_bytes((backup / "deltas-1.jsonl").read_bytes()[:-10])
    assert "deltas-1.jsonl is not as its manifest says" in refused(backup)
    (backup / "deltas-1.jsonl").write_bytes(b"x" * 10_000_000)
    assert "deltas-1.jsonl is 10,000,000 bytes, past the" in refused(backup)
    (backup / "manifest.json").unlink()
    assert "it has no manifest.json, which a backup writes last: not a backup, or one cut short" in refused(backup)


@pytest.mark.parametrize("name", ["manifest.json", "deltas-1.jsonl"])
@pytest.mark.parametrize("kind", ["a FIFO", "a device", "a directory"])
def test_a_backup_file_that_is_no_file_is_refused_not_read_for_ever(backup, refused, name, kind):
    """A backup handed over (a copied folder, an archive unpacked) may hold anything under its files' names: a FIFO
    was waited on for ever, and a link to /dev/zero (whose size says 0) read until memory ran out."""
    import os

    (backup / name).unlink()
    if kind == "a FIFO":
        os.mkfifo(backup / name)
    elif kind == "a device":
        (backup / name).symlink_to("/dev/zero")
    else:
        (backup / name).mkdir()
    shown = refused(backup)
    assert f"error: the backup {backup} is damaged ({name} is not a file)" in shown, shown


def test_a_line_not_json_or_a_document_not_fitting_its_index_is_refused_by_where_it_is(backup, refused, monkeypatch):
    lines = (backup / "programs-1.jsonl").read_bytes().splitlines()
    rewritten(backup, "programs-1.jsonl", [lines[0], b"{not json", *lines[2:]])
    assert f"error: the backup {backup}: programs-1.jsonl line 2 is not JSON" in refused(backup)
    stray = json.loads(lines[1]) | {"secret": "x"}
    rewritten(backup, "programs-1.jsonl", [lines[0], json.dumps(stray).encode(), *lines[2:]])
    assert (f"programs-1.jsonl line 2: document {stray['id']!r} does not fit programs v{PROGRAMS_INDEX.version} "
            "(fields not in the programs mapping: ['secret']); nothing was restored") in refused(backup)
    rewritten(backup, "programs-1.jsonl", [lines[0], lines[0], *lines[2:]])
    assert f"programs-1.jsonl line 2: document {json.loads(lines[0])['id']!r} is in it twice" in refused(backup)
    monkeypatch.setattr("affiliate_matrix.index_backup.MAX_LINE", 100)
    rewritten(backup, "programs-1.jsonl", lines)
    assert "programs-1.jsonl line 1 is" in (said := refused(backup)) and "past the 100 a line holds" in said, said


def test_a_backup_holding_a_rollback_under_way_is_refused(backup, refused):
    """No backup is taken while a rollback is under way: one holding its marker is forged or damaged, and restored it
    left the index mid-rollback (`amx index status`, backup and migrate then failed on a marker naming no version)."""
    lines = (backup / "moved-1.jsonl").read_bytes().splitlines()
    marker = {"id": "programs@rollback", "index": "programs@rollback", "old": "x", "to": "1",
              "at": "2026-12-01T00:00:00+00:00", "by": "forged"}
    rewritten(backup, "moved-1.jsonl", [*lines, json.dumps(marker).encode()])
    assert f"moved-1.jsonl line {len(lines) + 1}: 'programs@rollback' says a rollback is under way" in refused(backup)


def test_a_backup_of_a_newer_version_is_refused_with_the_build_to_restore_it(backup, refused):
    manifest = manifest_of(backup)
    manifest["indices"]["deltas"]["spec"]["version"] += 1
    (backup / "manifest.json").write_text(json.dumps(manifest))
    version = manifest["indices"]["deltas"]["spec"]["version"]
    assert (f"the backup's deltas is v{version}, newer than this code's v{version - 1}: restore it with a build whose "
            f"deltas is at v{version} or later") in refused(backup)


THINGS_V1 = IndexSpec("things", 1, {"id": "keyword", "name": "text"})
THINGS_V2 = IndexSpec("things", 2, {"id": "keyword", "name": "text", "tags": "keyword"},
                      upgrade=lambda doc: {**doc, "tags": ["upgraded"]})


def test_a_backup_of_an_older_version_is_restored_at_it_then_migrated(backend, amx, tmp_path, monkeypatch):
    """Where the index does not exist yet, the backup's version is made, filled, then migrated as `amx index migrate`
    migrates (the older version kept); where it exists at another version, refused, saying where to restore it."""
    monkeypatch.setattr("affiliate_matrix.indices.index_specs", lambda: {"things": THINGS_V1})
    rt = Runtime("test", Settings())
    rt.index.ensure_index(THINGS_V1)
    rt.index.bulk_upsert("things", [{"id": "t1", "name": "Acme"}], refresh=True)
    assert amx("index", "backup", "--to", str(tmp_path / "backup"))[0] == 0
    monkeypatch.setattr("affiliate_matrix.indices.index_specs", lambda: {"things": THINGS_V2})
    elsewhere(backend, monkeypatch, tmp_path / "new")
    code, said = amx("index", "restore", "--from", str(tmp_path / "backup"))
    assert code == 0 and "things: restored at v1, now v2, 1 document migrated" in said, said
    rt = Runtime("test", Settings())
    assert rt.index.get("things", "t1") == {"id": "t1", "name": "Acme", "tags": ["upgraded"]}
    assert (rt.index.status("things").current, rt.index.status("things").versions) == (2, [1, 2])
    elsewhere(backend, monkeypatch, tmp_path / "newer")
    Runtime("test", Settings()).index.ensure_index(THINGS_V2)
    code, said = amx("index", "restore", "--from", str(tmp_path / "backup"))
    assert code == 2 and "things is at v2 here and the backup holds v1: restore it where things does not exist yet" \
        in said, said


def _refusing_forged(doc: dict) -> dict:
    if doc["name"] == "Forged":
        raise ValueError("no thing is named Forged")
    return {**doc, "tags": ["upgraded"]}


ANIMALS = IndexSpec("animals", 1, {"id": "keyword", "name": "text"})
THINGS_V2_REFUSING = IndexSpec("things", 2, THINGS_V2.fields, upgrade=_refusing_forged)
THINGS_V2_ONE_ID = IndexSpec("things", 2, THINGS_V2.fields, upgrade=lambda doc: {**doc, "id": "t1", "tags": []})


@pytest.mark.parametrize("code, said", [
    (THINGS_V2_REFUSING, "things-1.jsonl line 2: things document 't2' cannot be upgraded to v2 (ValueError: no thing "
                         "is named Forged); nothing was restored"),
    (THINGS_V2_ONE_ID, "migration of 'things' to v2 aborted before the swap: documents t1, t2 all become t1, one "
                       "written over another; nothing was restored"),
], ids=["refused", "landing on one id"])
def test_a_document_the_upgrade_of_an_older_backup_refuses_refuses_the_restore_before_any_index_is_written(
        backend, amx, refused, tmp_path, monkeypatch, code, said):
    """The upgrade ran as the restore migrated what it had written: a document it refused (a forged or damaged one)
    stopped the restore after the indexes before it were written, and this one at the backup's version."""
    monkeypatch.setattr("affiliate_matrix.indices.index_specs", lambda: {"animals": ANIMALS, "things": THINGS_V1})
    rt = Runtime("test", Settings())
    for spec, docs in ((ANIMALS, [{"id": "a1", "name": "Cat"}]),
                       (THINGS_V1, [{"id": "t1", "name": "Acme"}, {"id": "t2", "name": "Forged"}])):
        rt.index.ensure_index(spec)
        rt.index.bulk_upsert(spec.name, docs, refresh=True)
    assert amx("index", "backup", "--to", str(tmp_path / "backup"))[0] == 0
    monkeypatch.setattr("affiliate_matrix.indices.index_specs", lambda: {"animals": ANIMALS, "things": code})
    elsewhere(backend, monkeypatch, tmp_path / "new")
    shown = refused(tmp_path / "backup")
    rt = Runtime("test", Settings())
    for name in ("animals", "things"):  # (not among the indexes `held` counts)
        with pytest.raises(NotFoundError):
            rt.index.status(name)
    assert f"error: the backup {tmp_path / 'backup'}: {said}" in shown, shown


def test_documents_an_older_backups_upgrade_lands_on_one_id_are_restored_combined_as_the_migration_combines_them(
        backend, amx, tmp_path, monkeypatch):
    """(The check before the write combines them as the migration will, and refuses nothing it takes.)"""
    combining = IndexSpec("things", 2, THINGS_V2.fields, upgrade=lambda doc: {**doc, "id": "t1", "tags": [doc["id"]]},
                          combine=lambda docs: {**docs[0], "tags": sorted(t for doc in docs for t in doc["tags"])})
    monkeypatch.setattr("affiliate_matrix.indices.index_specs", lambda: {"things": THINGS_V1})
    rt = Runtime("test", Settings())
    rt.index.ensure_index(THINGS_V1)
    rt.index.bulk_upsert("things", [{"id": "t1", "name": "Acme"}, {"id": "t2", "name": "Acme"}], refresh=True)
    assert amx("index", "backup", "--to", str(tmp_path / "backup"))[0] == 0
    monkeypatch.setattr("affiliate_matrix.indices.index_specs", lambda: {"things": combining})
    elsewhere(backend, monkeypatch, tmp_path / "new")
    code, said = amx("index", "restore", "--from", str(tmp_path / "backup"))
    assert code == 0 and "things: restored at v1, now v2, 2 documents migrated" in said, said
    assert Runtime("test", Settings()).index.get("things", "t1") == {"id": "t1", "name": "Acme", "tags": ["t1", "t2"]}


def test_a_forged_program_of_an_older_backup_is_refused_naming_it_before_anything_is_written(backup, refused):
    """Of the programs' own upgrade (as_written_now): a document the older version's mapping takes, and no program."""
    manifest = manifest_of(backup)
    manifest["indices"]["programs"]["spec"]["version"] -= 1
    (backup / "manifest.json").write_text(json.dumps(manifest))
    lines = (backup / "programs-1.jsonl").read_bytes().splitlines()
    forged = json.loads(lines[1])
    forged["program"]["commission"] = "a great deal"  # stored as it is: no field the mapping reads
    rewritten(backup, "programs-1.jsonl", [lines[0], json.dumps(forged).encode(), *lines[2:]])
    shown = refused(backup)
    assert (f"programs-1.jsonl line 2: programs document {forged['id']!r} cannot be upgraded to "
            f"v{PROGRAMS_INDEX.version} (") in shown and shown.endswith("; nothing was restored"), shown


@pytest.mark.parametrize("key", ["../elsewhere", "a/b", ".hidden", "x" * 101, "é"])
def test_a_backup_key_that_is_not_one_name_is_a_usage_error(amx, tmp_path, monkeypatch, key):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    for command in (["index", "backup", "--key", key], ["index", "restore", "--key", key]):
        code, said = amx(*command)
        assert code == 2 and "Invalid value for '--key'" in said and "is not a backup's name" in said, said
    assert not (tmp_path / "objects" / "backups").exists() and not (tmp_path / "objects" / "elsewhere").exists()


def test_a_backup_goes_only_where_none_is(amx, tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    code, said = amx("index", "backup", "--to", str(tmp_path / "taken"))
    assert code == 2 and f"--to {tmp_path / 'taken'} exists and is not an empty directory" in said, said
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine" and len(list(tmp_path.iterdir())) == 2
    assert amx("index", "backup", "--key", "nightly")[0] == 0
    code, said = amx("index", "backup", "--key", "nightly")
    assert code == 2 and "a backup named nightly exists already" in said, said
    code, said = amx("index", "restore", "--key", "weekly")
    assert code == 2 and "error: no backup named weekly in the object store" in said, said


def test_a_restore_given_no_backup_names_those_stored_newest_first(amx, tmp_path, monkeypatch):
    """The damaged index's message says to restore the newest backup, but no command named the backups stored: the
    operator listed the store by hand."""
    import os

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    code, said = amx("index", "restore")
    assert code == 2 and "(a backup in the object store: it holds none: `amx index backup` takes one)" in said, said
    for name, taken in (("weekly", 1_800_000_000), ("nightly", 1_800_086_400)):
        assert amx("index", "backup", "--key", name)[0] == 0
        os.utime(tmp_path / "objects" / "backups" / "index" / name / "manifest.json", (taken, taken))
    (tmp_path / "objects" / "backups" / "index" / "cut-short").mkdir()  # no manifest: no backup to restore
    code, said = amx("index", "restore")
    assert code == 2 and ("(a backup in the object store: nightly (2027-01-16 08:00:00 UTC), weekly (2027-01-15 "
                          "08:00:00 UTC), newest first)") in said, said


@pytest.mark.parametrize("name,most", [("deltas-1.jsonl", None), ("manifest.json", "4,194,304")],
                         ids=["a part", "the manifest"])
@pytest.mark.parametrize("store", ["local", pytest.param("s3", marks=pytest.mark.slow)])
def test_a_stored_backups_object_written_over_larger_is_refused_on_its_size(amx, tmp_path, monkeypatch, request, store,
                                                                           name, most):
    """A part in the object store is read no further than the size its manifest says (a part of 48 MiB at most), the
    manifest no further than index_backup.MAX_MANIFEST: one written over with more is refused on its size, as damaged,
    before its body is read (storage's get, whose contract tests show it), and nothing is restored."""
    if store == "s3":
        request.getfixturevalue("on_s3")
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    rt = filled(tmp_path)
    assert amx("index", "backup", "--key", "nightly")[0] == 0
    before = held(rt)
    rt.store.put(f"backups/index/nightly/{name}", b"x" * 10_000_000)
    code, said = amx("index", "restore", "--key", "nightly", "--replace")
    assert code == 2 and said.startswith("error: the backup ") and "backups/index/nightly/ is damaged (" in said, said
    assert f"{name} is 10,000,000 bytes, past the {most or ''}" in said and "it may hold" in said, said
    assert held(Runtime("test", Settings())) == before


def test_a_backup_whose_manifest_a_restore_would_refuse_is_not_taken(amx, tmp_path, monkeypatch):
    """A manifest past what a restore reads (MAX_MANIFEST: an index of some 700 GiB) would make a backup that no
    restore takes back: the backup says so instead, and leaves no manifest (a backup cut short)."""
    from affiliate_matrix import index_backup

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    filled(tmp_path)
    monkeypatch.setattr(index_backup, "MAX_MANIFEST", 1000)
    code, said = amx("index", "backup", "--key", "nightly")
    assert code == 2 and "error: the backup's manifest.json would be " in said, said
    assert "bytes, past the 1,000 a restore reads: the index is larger than a backup holds" in said, said
    assert Runtime("test", Settings()).store.head("backups/index/nightly/manifest.json") is None
