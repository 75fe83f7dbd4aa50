"""A flag gates a new behaviour for real: the quality ranking of GET /programs, both paths, and a
change made while the programs function runs (its own process) is seen at its next request."""

import os
import subprocess

import httpx

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.flag_config import Flag, update
from affiliate_matrix.program_index import OPEN_STATUSES, PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from tests.support.processes import BIN, ROOT, free_port
from tests.support.synthetic import programs
from tests.support.wait import wait_until


def test_the_quality_ranking_flag_both_paths_and_live_at_the_next_request(tmp_path):
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.index.ensure_index(PROGRAMS_INDEX)
    docs = [to_document(p) for p in programs(40)]
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, docs, refresh=True)
    listed = [d for d in docs if d["status"] in OPEN_STATUSES]  # a search with no status lists the open ones
    by_id = [d["id"] for d in sorted(listed, key=lambda d: d["id"])][:10]
    by_quality = [d["id"] for d in sorted(listed, key=lambda d: (-d["quality_score"], d["id"]))][:10]
    assert by_id != by_quality
    token, other_token = create_token(rt.secrets, "read"), create_token(rt.secrets, "read")
    port = free_port()
    server = subprocess.Popen([str(BIN / "amx-function"), "--source", str(ROOT / "functions/programs/main.py"),
                               "--target", "handle", "--host", "127.0.0.1", "--port", str(port)],
                              env={**os.environ, "AMX_DATA_DIR": str(tmp_path)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def first_ten(as_token=token, **params) -> list[str]:
        reply = httpx.get(f"http://127.0.0.1:{port}/programs", params={"limit": 10, **params},
                          headers={"Authorization": f"Bearer {as_token}"}, timeout=30)
        assert reply.status_code == 200, reply.text
        return [item["id"] for item in reply.json()["items"]]

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, "the programs function to answer")
        assert first_ten() == by_id  # the flag is off: the old order
        update(rt.store, "quality_ranking", lambda flag: Flag(enabled=True))
        # Seen by the running process at its next request, with no restart: it checks the document's ETag each time
        # (the programs answer cache is keyed by the flags that are on, so no cached answer hides it)
        assert first_ten() == by_quality
        assert first_ten(sort="name") != by_quality  # an explicit sort is the caller's choice
        update(rt.store, "quality_ranking", lambda flag: Flag(kind="percentage", enabled=True, percentage=0,
                                                                allow=[token.split("_")[1]]))
        assert first_ten(other_token) == by_id
        assert first_ten() == by_quality  # on for this token by the allow-list, off for everyone else
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_commands(tmp_path):
    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path)}

    def amx(*args):
        return subprocess.run([str(BIN / "amx"), "flags", *args], capture_output=True, text=True, env=env, timeout=60)

    assert "quality_ranking" in amx("list").stdout
    assert amx("set", "quality_ranking", "--on", "--percentage", "25", "--allow", "abc123").stdout.strip() == \
        "quality_ranking: on for 25%, always for abc123"
    assert "25%" in amx("list").stdout
    # off, a percentage is said as what --on would make it: "off for 10%" read as on for a tenth
    assert " ".join(amx("set", "quality_ranking", "--off", "--percentage", "10").stdout.split()) == \
        "quality_ranking: off (on for 10% once turned on: amx flags set quality_ranking --on), always for abc123"
    refused = amx("set", "no_such_flag", "--on")
    assert refused.returncode == 2 and "not a flag the code reads" in refused.stderr


def test_an_allow_list_takes_ids_only_and_never_keeps_a_token(tmp_path):
    """`--allow 'bad id!'` was taken: no caller has such an id, so the flag was on for no one and nothing said so; a
    whole token pasted for its id was kept in the flags document and printed by `amx flags list`."""
    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path), "COLUMNS": "200"}

    def amx(*args):
        return subprocess.run([str(BIN / "amx"), "flags", *args], capture_output=True, text=True, env=env, timeout=60)

    token = "amx_3f2a9c1d0b7e_sz8fRBi76Qy9t_bi-a5dg7uV15sd6YCl2jeGF8YF67U"
    pasted = amx("set", "quality_ranking", "--on", "--allow", token)
    assert pasted.returncode == 2 and "the 12 characters after amx_" in pasted.stderr
    assert "sz8fRBi76Qy9t" not in pasted.stderr + pasted.stdout + amx("list").stdout
    odd = amx("set", "quality_ranking", "--on", "--allow", "bad id!")
    assert odd.returncode == 2 and "'bad id!' is no token id" in odd.stderr, odd.stderr
    assert "bad id!" not in amx("list").stdout  # nothing written
    assert amx("set", "quality_ranking", "--on", "--allow", "3f2a9c1d0b7e", "--allow", "awin-agency").returncode == 0


def test_only_a_request_whose_answer_a_flag_can_change_reads_the_flags(tmp_path):
    """Every cached answer's ETag named the flags on for the caller, so every request to the programs API (a 304
    too) asked the store for the flags document's ETag (a HEAD), though only a search without words or a sort of its
    own is ordered by a flag (quality_ranking). Only such a search reads them now, and still at every request: a flag
    changed is seen by the next one (no copy is kept; the test above)."""
    import flask

    from affiliate_matrix.flags import FLAGS_KEY
    from affiliate_matrix.handlers import programs as api
    from tests.support.counting import CountingStore

    rt = Runtime("programs", Settings(data_dir=tmp_path))
    rt.index.ensure_index(PROGRAMS_INDEX)
    docs = [to_document(p) for p in programs(5)]
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, docs, refresh=True)
    update(rt.store, "quality_ranking", lambda flag: Flag(enabled=True))
    headers = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    store = CountingStore(rt.store)
    rt.__dict__["store"] = store  # Runtime.store is a cached_property; the flags are read through it
    app = flask.Flask(__name__)
    app.add_url_rule("/<path:path>", view_func=lambda path: api.handle(rt, flask.request))
    client = app.test_client()

    def flag_reads(path: str) -> int:
        reply = client.get(path, headers=headers)
        assert reply.status_code == 200, reply.text
        reads = store.asked.count(("head", FLAGS_KEY))
        store.counted()
        return reads

    assert flag_reads(f"/programs/{docs[0]['id']}") == 0
    assert flag_reads(f"/merchants/{docs[0]['merchant_key']}") == 0
    assert flag_reads("/merchants?q=a") == 0
    assert flag_reads("/changes") == 0
    assert flag_reads(f"/programs?q={docs[0]['name'].split()[0]}") == 0  # words: ranked by them
    assert flag_reads("/programs?sort=name") == 0  # the caller's own order
    assert flag_reads("/programs") == 1 and flag_reads("/programs") == 1  # ordered by the flag: read each time
