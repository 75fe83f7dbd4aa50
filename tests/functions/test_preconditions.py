"""HTTP preconditions through the functions' own HTTP stack (RFC 9110 sections 13.1.1, 13.1.2 and 8.8.3.2), as
every API reads them (handlers/preconditions.py): If-Match is `*` or a list of tags compared strongly (a weak tag
never matches); If-None-Match on a GET is `*` or a list compared weakly; any other value is a 400 naming the
header."""

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.documents import save_document
from affiliate_matrix.runtime import Runtime
from tests.support.apps import function_client as app

RULE = {"id": "gaming-up", "trigger": {"event": "program.delta"}, "condition": 'delta.change == "created"',
        "action": {"type": "alert", "params": {"severity": "info"}}, "cooldown_s": 60}
CONNECTION = {"id": "ap", "source": "affiliateprograms", "schedule": "0 3 * * *", "rate_limit_per_s": 20}


def test_if_match_star_or_a_list_holding_the_current_etag_writes_a_rule(env):
    client = app("triggers")
    etag = client.post("/rules", json=RULE, headers=env["admin"]).headers["ETag"]
    star = client.put("/rules/gaming-up", json={**RULE, "cooldown_s": 120}, headers={**env["admin"], "If-Match": "*"})
    assert star.status_code == 200, star.get_json()
    assert client.put("/rules/gaming-up", json=RULE, headers={**env["admin"], "If-Match": etag}).status_code == 412
    listed = client.put("/rules/gaming-up", json={**RULE, "cooldown_s": 300},
                        headers={**env["admin"], "If-Match": f'"other", {etag} ,, {star.headers["ETag"]}'})
    assert listed.status_code == 200, listed.get_json()
    assert client.get("/rules/gaming-up", headers=env["read"]).json["cooldown_s"] == 300
    assert client.delete("/rules/gaming-up", headers={**env["admin"], "If-Match": f'"a", {etag}'}).status_code == 412
    assert client.delete("/rules/gaming-up", headers={**env["admin"], "If-Match": "*"}).status_code == 204
    # * holds only for a resource that exists: none is a 404, as for any tag
    assert client.put("/rules/gaming-up", json=RULE, headers={**env["admin"], "If-Match": "*"}).status_code == 404
    assert client.delete("/rules/gaming-up", headers={**env["admin"], "If-Match": "*"}).status_code == 404


def test_a_weak_tag_never_matches_in_if_match(env):
    client = app("triggers")
    etag = client.post("/rules", json=RULE, headers=env["admin"]).headers["ETag"]
    weak = {**env["admin"], "If-Match": f"W/{etag}"}
    assert client.put("/rules/gaming-up", json={**RULE, "cooldown_s": 120}, headers=weak).status_code == 412
    assert client.delete("/rules/gaming-up", headers=weak).status_code == 412
    assert client.get("/rules/gaming-up", headers=env["read"]).json["cooldown_s"] == 60


@pytest.mark.parametrize("value", ['abc', '"a" "b"', '"a", *', 'W/', '"unclosed', 'w/"a"', '"a b"', '"a";'])
def test_a_malformed_if_match_is_a_400_naming_it(env, value):
    client = app("triggers")
    client.post("/rules", json=RULE, headers=env["admin"])
    answer = client.put("/rules/gaming-up", json=RULE, headers={**env["admin"], "If-Match": value})
    assert answer.status_code == 400 and answer.get_json()["error"]["message"].startswith("If-Match: ")
    assert client.delete("/rules/gaming-up", headers={**env["admin"], "If-Match": value}).status_code == 400


@pytest.mark.parametrize("value", [None, "", " ", ", ,"])
def test_no_if_match_or_an_empty_list_is_still_a_428(env, value):
    client = app("triggers")
    client.post("/rules", json=RULE, headers=env["admin"])
    headers = env["admin"] if value is None else {**env["admin"], "If-Match": value}
    assert client.put("/rules/gaming-up", json=RULE, headers=headers).status_code == 428


def test_a_patch_with_if_match_star_is_conditional_on_what_it_changed(env, monkeypatch, tmp_path):
    """`*` replaces whatever is current, and only that: a write landing between the read a merge patch is computed
    from and its own write makes it a 412, not a silent overwrite of that write."""
    from affiliate_matrix.handlers import documents

    client = app("connections")
    client.post("/connections", json=CONNECTION, headers=env["admin"])
    assert client.patch("/connections/ap", json={"concurrency": 4},
                        headers={**env["admin"], "If-Match": "*"}).status_code == 200
    rt = Runtime("test", Settings(data_dir=tmp_path))
    validated = documents.validated

    def another_writer_first(collection, data):
        from affiliate_matrix.connections import load_connection

        current, etag = load_connection(rt.store, "ap")
        save_document(rt.store, collection.key("ap"), current.model_copy(update={"concurrency": 2}), if_match=etag)
        return validated(collection, data)

    monkeypatch.setattr(documents, "validated", another_writer_first)
    answer = client.patch("/connections/ap", json={"enabled": False}, headers={**env["admin"], "If-Match": "*"})
    assert answer.status_code == 412
    monkeypatch.undo()
    kept = client.get("/connections/ap", headers=env["read"]).get_json()
    assert (kept["concurrency"], kept["enabled"]) == (2, True)


@pytest.fixture
def programs(tmp_path, env):
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.index.ensure_index(PROGRAMS_INDEX)
    program = make_program("Alpha", "https://alpha.com")
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    return app("programs"), program.id, env["read"]


def test_if_none_match_star_or_a_list_gives_304_on_the_programs_api(programs):
    client, program_id, auth = programs
    etag = client.get("/programs?q=alpha", headers=auth).headers["ETag"]
    for value in ("*", f'"x", {etag}', f"W/{etag}", f' "x" ,W/"y",{etag} '):
        answer = client.get("/programs?q=alpha", headers={**auth, "If-None-Match": value})
        assert answer.status_code == 304, value
    assert client.get("/programs?q=alpha", headers={**auth, "If-None-Match": '"x", W/"y"'}).status_code == 200
    assert client.get(f"/programs/{program_id}", headers={**auth, "If-None-Match": "*"}).status_code == 304
    assert client.head(f"/programs/{program_id}", headers={**auth, "If-None-Match": "*"}).status_code == 304
    # * is false for what does not exist: the 404 it would have had
    missing = f"/programs/p_{'f' * 16}"
    assert client.get(missing, headers={**auth, "If-None-Match": "*"}).status_code == 404


@pytest.mark.parametrize("value", ["abc", '"a" "b"', "*, \"a\"", '"a'])
def test_a_malformed_if_none_match_is_a_400_naming_it(programs, value):
    client, _, auth = programs
    answer = client.get("/programs?q=alpha", headers={**auth, "If-None-Match": value})
    assert answer.status_code == 400 and answer.get_json()["error"]["message"].startswith("If-None-Match: ")

