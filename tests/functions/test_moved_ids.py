"""A program whose id moved (programs v16's migration re-keyed a name in another script; an import of a file exported
before it does the same) is still found by its old id: the move is recorded (search.MOVED_INDEX) in the step that
moves it, and GET /programs/{old id} (the API and the explorer) answers a permanent redirect to the id now, the
change feed of the new id has the changes recorded under the old one, and a campaign naming the old id finds it.
On both index backends."""

import re
from datetime import UTC, datetime

import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.deltas import DELTAS_INDEX
from affiliate_matrix.errors import ImportIncomplete, NotFoundError
from affiliate_matrix.deltas import to_document as delta_document
from affiliate_matrix.models import DeltaChange, FieldChange
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import MOVED_INDEX, record_moves
from tests.support.apps import function_client, signed_in_web
from tests.support.factories import make_program
from tests.support.indexing import BACKENDS, indexed_by, keyed_before_v16, on_backend, spec_of


@pytest.fixture(params=BACKENDS)
def rt(request, tmp_path, monkeypatch):
    on_backend(request, tmp_path, monkeypatch)
    return Runtime("test")


def migrated_from_v15(rt):
    """कोमल रसोई stored by v15 under its old key and id, a change recorded under that id, then migrated: (the program
    keyed before, the program now, a program whose id did not move)."""
    kitchen = make_program("कोमल रसोई", commission_text="10% per sale")
    before, kept = keyed_before_v16(kitchen, "क-मल-रस-ई"), make_program("Alpha Hosting")
    rt.index.ensure_index(spec_of(15))
    rt.index.ensure_index(DELTAS_INDEX)
    assert rt.index.bulk_upsert("programs", [indexed_by(15, p) for p in (before, kept)], refresh=True).errors == []
    delta = DeltaChange(id="d_before", program_id=before.id, change="updated", source="test",
                        at=datetime(2026, 11, 21, tzinfo=UTC),
                        fields=[FieldChange(field="cookie_days", old=30, new=90)])
    rt.index.bulk_upsert(DELTAS_INDEX.name, [delta_document(delta, recorded_at=datetime(2026, 11, 22, tzinfo=UTC))],
                         refresh=True)
    rt.index.migrate(PROGRAMS_INDEX)
    assert before.id != kitchen.id and rt.index.get(PROGRAMS_INDEX.name, before.id) is None
    return before, kitchen, kept


def test_the_api_redirects_an_old_id_a_migration_moved_to_the_id_now(rt):
    before, now, kept = migrated_from_v15(rt)
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}

    moved = app.get(f"/programs/{before.id}", headers=auth)
    assert (moved.status_code, moved.headers["Location"]) == (308, f"/programs/{now.id}"), moved.text
    shown = app.get(moved.headers["Location"], headers=auth)
    assert (shown.status_code, shown.json["id"], shown.json["name"]) == (200, now.id, "कोमल रसोई")
    assert app.get(f"/programs/{kept.id}", headers=auth).status_code == 200  # an id that did not move is served
    assert app.get("/programs/p_0000000000000000", headers=auth).status_code == 404  # nor is any other
    assert app.get("/programs/p_not-an-id", headers=auth).status_code == 400  # refused as before, not looked up
    assert app.get(f"/programs/{before.id}").status_code == 401  # a redirect tells no one without a token


def test_the_change_feed_of_the_id_now_has_the_changes_recorded_under_the_old_one(rt):
    before, now, kept = migrated_from_v15(rt)
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    feed = app.get(f"/changes?program_id={now.id}", headers=auth)
    assert [item["id"] for item in feed.json["items"]] == ["d_before"], feed.text
    assert [i["id"] for i in app.get(f"/changes?program_id={kept.id}", headers=auth).json["items"]] == []
    both = app.get(f"/changes?program_id={now.id}&program_id={kept.id}", headers=auth)
    assert [item["id"] for item in both.json["items"]] == ["d_before"]


def test_a_feed_answered_before_a_move_is_not_served_from_the_cache_after_it(rt):
    """The deltas do not change when an id moves: the answer cached for the new id (and its ETag) is kept under the
    records' generation too, so the move is seen at once."""
    kitchen = make_program("कोमल रसोई", commission_text="10% per sale")
    old = keyed_before_v16(kitchen, "क-मल-रस-ई")
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(kitchen)], refresh=True)
    delta = DeltaChange(id="d_old", program_id=old.id, change="created", source="test",
                        at=datetime(2026, 11, 21, tzinfo=UTC), fields=[])
    rt.index.bulk_upsert(DELTAS_INDEX.name, [delta_document(delta, recorded_at=datetime(2026, 11, 22, tzinfo=UTC))],
                         refresh=True)
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    first = app.get(f"/changes?program_id={kitchen.id}", headers=auth)
    assert first.json["items"] == []

    record_moves(rt.index, "programs", {old.id: kitchen.id}, "test")
    again = app.get(f"/changes?program_id={kitchen.id}", headers={**auth, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and [item["id"] for item in again.json["items"]] == ["d_old"]


def test_two_programs_the_migration_merges_into_one_are_each_found_by_their_old_ids(rt):
    """कोमल keyed 'क-मल' and कोमल keyed 'कमल' by v15 land on one id in v16 and are merged (search.Landings): whichever
    the copy met first, both old ids redirect to the one program, and the feed of its id has both ids' changes."""
    from affiliate_matrix.moves import moved_into

    split = keyed_before_v16(make_program("कोमल", commission_text="10% per sale"), "क-मल")
    joined = keyed_before_v16(make_program("कोमल", commission_text="$40 per sale"), "कमल")
    now = make_program("कोमल").id
    rt.index.ensure_index(spec_of(15))
    assert rt.index.bulk_upsert("programs", [indexed_by(15, p) for p in (split, joined)], refresh=True).errors == []
    rt.index.migrate(PROGRAMS_INDEX)

    assert moved_into(rt.index, [now]) == sorted([split.id, joined.id])
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    for old in (split, joined):
        moved = app.get(f"/programs/{old.id}", headers=auth)
        assert (moved.status_code, moved.headers["Location"]) == (308, f"/programs/{now}"), moved.text


def test_the_openapi_document_says_a_program_may_answer_a_redirect(rt):
    document = function_client("programs").get("/openapi.json").json
    answers = document["paths"]["/programs/{program_id}"]["get"]["responses"]
    assert set(answers["308"]["headers"]) == {"Location"} and "content" not in answers["308"]
    assert "308" not in document["paths"]["/programs"]["get"]["responses"]


def test_the_explorer_redirects_an_old_id_to_the_page_of_the_id_now(rt):
    before, now, _ = migrated_from_v15(rt)
    app = signed_in_web(rt.secrets)

    moved = app.get(f"/programs/{before.id}?from=bookmark")
    assert (moved.status_code, moved.headers["Location"]) == (308, f"/programs/{now.id}?from=bookmark")
    shown = app.get(f"/programs/{now.id}")
    assert shown.status_code == 200 and "कोमल रसोई" in shown.text
    # its history has the change recorded under the old id (linked by it: the link redirects here)
    assert "No change recorded." not in shown.text and f'href="/programs/{before.id}"' in shown.text
    assert app.get("/programs/p_0000000000000000").status_code == 404


def test_a_campaign_naming_an_old_id_finds_the_program_under_its_id_now(rt):
    from affiliate_matrix.budget.campaigns import (
        Campaign, checked_against_store, indexed_programs, programs_not_indexed,
    )

    before, now, kept = migrated_from_v15(rt)
    found = indexed_programs(rt, [before.id, kept.id, "p_0000000000000000"])
    assert {asked: program.id for asked, program in found.items()} == {before.id: now.id, kept.id: kept.id}
    campaign = Campaign(id="social", name="Social", channel="social", currency="USD", program_ids=[before.id])
    checked_against_store(rt, campaign)  # named by its old id, it is in the index
    assert programs_not_indexed(rt, [campaign]).missing == {}


def test_a_chain_of_moves_ends_at_the_last_id_and_a_record_never_points_back(rt):
    from affiliate_matrix.moves import moved_into, moved_to

    a, b, c = (make_program(name) for name in ("Alpha", "Bravo", "Charlie"))
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(c)], refresh=True)
    record_moves(rt.index, "programs", {a.id: b.id}, "test")
    record_moves(rt.index, "programs", {b.id: c.id}, "test")
    assert {asked: doc["id"] for asked, doc in moved_to(rt.index, [a.id, b.id]).items()} == {a.id: c.id, b.id: c.id}
    assert moved_into(rt.index, [c.id]) == sorted([a.id, b.id])

    # c moves back to a: a is a program's id again, so its record of moving on is dropped (no cycle a -> b -> c -> a)
    rt.index.delete(PROGRAMS_INDEX.name, c.id, refresh=True)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(a)], refresh=True)
    record_moves(rt.index, "programs", {c.id: a.id}, "test")
    assert rt.index.get(MOVED_INDEX.name, f"programs:{a.id}") is None
    assert {asked: doc["id"] for asked, doc in moved_to(rt.index, [b.id, c.id]).items()} == {b.id: a.id, c.id: a.id}


def test_a_stale_record_of_an_id_that_is_a_programs_again_adds_none_of_its_changes_to_another_feed(rt):
    """A migration that stopped after its alias swap, before it ended the records the swap made stale, leaves the
    record b -> c while b is a program's again: b's own changes are not c's."""
    from affiliate_matrix.moves import moved_into

    b, c = make_program("Bravo"), make_program("Charlie")
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(b), to_document(c)], refresh=True)
    record_moves(rt.index, "programs", {"p_000000000000000a": b.id}, "test", end=False)  # a -> b, b -> c left
    record_moves(rt.index, "programs", {b.id: c.id}, "test", end=False)
    assert moved_into(rt.index, [c.id]) == []
    assert moved_into(rt.index, [b.id]) == ["p_000000000000000a"]


def test_a_damaged_record_never_redirects_outside_the_api_nor_loops(rt):
    """Records written by hand (or damaged): a cycle of ids no program holds, and a target that is not a program's id,
    are each a 404, never a redirect elsewhere or a request that does not end."""
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(MOVED_INDEX)
    x, y, z = "p_000000000000000a", "p_000000000000000b", "p_000000000000000c"
    rt.index.bulk_upsert(MOVED_INDEX.name, [
        {"id": f"programs:{x}", "index": "programs", "old": x, "to": y, "at": "2026-12-01T00:00:00Z", "by": "hand"},
        {"id": f"programs:{y}", "index": "programs", "old": y, "to": x, "at": "2026-12-01T00:00:00Z", "by": "hand"},
        {"id": f"programs:{z}", "index": "programs", "old": z, "to": "//evil.example/p", "at": "2026-12-01T00:00:00Z",
         "by": "hand"}], refresh=True)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [{**to_document(make_program("Evil")), "id": "//evil.example/p"}],
                         refresh=True)
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    for program_id in (x, y, z):
        answer = app.get(f"/programs/{program_id}", headers=auth)
        assert answer.status_code == 404 and "Location" not in answer.headers, (program_id, answer.headers)


def test_an_import_of_a_file_exported_before_v16_records_the_ids_it_moves(rt, tmp_path):
    from affiliate_matrix.exchange import import_programs, jsonl_chunks

    kitchen = make_program("कोमल रसोई", commission_text="10% per sale")
    exported = keyed_before_v16(kitchen, "क-मल-रस-ई")
    path = tmp_path / "programs.jsonl"
    path.write_text("".join(jsonl_chunks([exported])))
    assert import_programs(rt, path, "jsonl").errors == []

    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    moved = app.get(f"/programs/{exported.id}", headers=auth)
    assert (moved.status_code, moved.headers["Location"]) == (308, f"/programs/{kitchen.id}"), moved.text
    assert import_programs(rt, path, "jsonl").errors == []  # imported again: the same record, still one move
    assert app.get(f"/programs/{exported.id}", headers=auth).headers["Location"] == f"/programs/{kitchen.id}"


def test_a_rule_sees_the_program_an_old_id_moved_to_in_a_dry_run_and_a_delivery(rt):
    """A rule's dry run by the old id was a 404, and a delta naming it (recorded before the move, delivered again or
    dry-run after) was evaluated against an empty program: the rule held for nothing, and its activation (an alert's
    subject) named an id no program has. Now the rule sees the program the id moved to, recorded under its id now."""
    from affiliate_matrix.events import PROGRAM_DELTA, Event
    from affiliate_matrix.rules.engine import on_event
    from affiliate_matrix.rules.store import activations

    before, now, _ = migrated_from_v15(rt)
    app = function_client("triggers")
    admin, read = ({"Authorization": f"Bearer {create_token(rt.secrets, role)}"} for role in ("admin", "read"))
    rule = {"id": "kitchen", "trigger": {"event": "program.delta"}, "condition": 'program.name == "कोमल रसोई"',
            "action": {"type": "alert", "params": {"text": "{program_name} changed"}}, "cooldown_s": 0}
    assert app.post("/rules", json=rule, headers=admin).status_code == 201

    tried = app.post(f"/rules/kitchen/test/programs/{before.id}", headers=read)
    assert tried.status_code == 200 and tried.json["holds"] is True, tried.json
    assert tried.json["inputs"]["program_id"] == now.id and tried.json["inputs"]["delta_id"] == "d_before"
    assert tried.json["inputs"]["program_name"] == "कोमल रसोई" and "categories" in tried.json["inputs"], tried.json
    old_delta = {"id": "d_before", "program_id": before.id, "change": "updated", "fields": []}
    trial = app.post("/rules/kitchen/test", headers=read, json={"type": "program.delta", "data": old_delta})
    assert trial.json["holds"] is True and trial.json["program_missing"] is None, trial.json

    on_event(rt, Event.make(PROGRAM_DELTA, "/index", old_delta, key="d_before"))
    [fired] = activations(rt, rule_id="kitchen")
    assert fired["decision"] == "fired" and fired["inputs"]["program_id"] == now.id, fired


def test_a_programs_activations_are_listed_by_its_id_with_those_recorded_under_an_id_that_moved_into_it(rt):
    """GET /activations listed a rule's activations alone: which rules fired on a program could not be asked (its id
    sat in each activation's inputs, stored, not searchable). Activations v8 holds it, filled by its migration for
    those v7 holds; `program_id` lists a program's, with those recorded under an id that moved into it. Before the
    migration, the filter is refused (naming it in the log), and an activation recorded then is still mirrored."""
    from affiliate_matrix.rules.store import ACTIVATIONS_INDEX, activations, mirror_activation
    from affiliate_matrix.search import IndexBehind

    before, now, kept = migrated_from_v15(rt)
    app, read = function_client("triggers"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}

    def activation(activation_id: str, rule_id: str, minute: int, **inputs) -> dict:
        return {"id": activation_id, "rule_id": rule_id, "trigger": "program.delta", "event_id": "e", "decision": "fired",
                "action": "alert", "action_event_id": "x", "outcome": "done", "detail": "", "inputs": inputs,
                "at": f"2026-11-21T12:{minute:02d}:00+00:00"}

    rt.index.ensure_index(spec_of(7, "activations"))
    assert rt.index.bulk_upsert(ACTIVATIONS_INDEX.name, [
        activation("a_old", "kitchen", 1, program_id=before.id), activation("a_now", "kitchen", 2, program_id=now.id),
        activation("a_price", "price", 3, program_id=now.id), activation("a_kept", "kitchen", 4, program_id=kept.id),
        activation("a_key", "keys", 5, key_path="cj/api"), activation("a_odd", "odd", 6, program_id={"not": "an id"}),
        {**activation("a_damaged", "damaged", 0), "inputs": ["not", "an object"]},  # not in the way of the migration
    ], refresh=True).errors == []
    behind = app.get(f"/activations?program_id={now.id}", headers=read)
    assert behind.status_code == 503, behind.json  # not an empty list, as if no rule had fired on it
    with pytest.raises(IndexBehind, match="run `amx index migrate activations`"):  # what the log says
        activations(rt, program_ids=[now.id])
    mirror_activation(rt, activation("a_between", "kitchen", 7, program_id=now.id))  # recorded before the migration
    rt.index.migrate(ACTIVATIONS_INDEX)

    def listed(query: str) -> list[str]:
        answer = app.get(f"/activations?{query}", headers=read)
        assert answer.status_code == 200, answer.json
        return [item["id"] for item in answer.json["items"]]

    assert listed(f"program_id={now.id}") == ["a_between", "a_price", "a_now", "a_old"]
    assert listed(f"program_id={now.id}&rule_id=kitchen") == ["a_between", "a_now", "a_old"]
    assert listed(f"program_id={now.id}&program_id={kept.id}&limit=2") == ["a_between", "a_kept"]
    assert listed(f"program_id={before.id}") == ["a_old"]  # an old id's own, never widened to where it went
    assert listed("program_id=p_0000000000000000") == []
    assert listed("rule_id=keys") == ["a_key"] and listed("rule_id=odd") == ["a_odd"]  # of no program: as before
    mirror_activation(rt, activation("a_after", "price", 8, program_id=kept.id))
    assert listed(f"program_id={kept.id}") == ["a_after", "a_kept"]
    [shown] = app.get(f"/activations?program_id={before.id}", headers=read).json["items"]
    assert (shown["program_id"], shown["inputs"]["program_id"]) == (before.id, before.id), shown
    for wrong in ("kitchen", "P_0000000000000000", ""):
        refused = app.get(f"/activations?program_id={wrong}", headers=read)
        assert refused.status_code == 400 and "program_id" in refused.json["error"]["message"], (wrong, refused.json)


def test_an_import_stopped_before_its_programs_are_written_leaves_no_move_naming_one(rt, tmp_path):
    """The import stops at its first write of a batch (its pending deltas cannot be kept: the store's folder for them is
    a file). Its moves were recorded before the programs, so the old id's record named a program not written. Now
    nothing is recorded until the programs are: the old id answers as before the import (404), and the same import
    again finishes it, redirect and all."""
    from affiliate_matrix.exchange import import_programs, jsonl_chunks

    kitchen = make_program("कोमल रसोई", commission_text="10% per sale")
    exported = keyed_before_v16(kitchen, "क-मल-रस-ई")
    path = tmp_path / "programs.jsonl"
    path.write_text("".join(jsonl_chunks([exported])))
    blocked = tmp_path / "objects" / "pending"
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("a file where the store keeps its folder of pending work")
    with pytest.raises(ImportIncomplete, match="0 of 1 programs were written"):
        import_programs(rt, path, "jsonl")

    assert rt.index.get(PROGRAMS_INDEX.name, kitchen.id) is None
    try:
        assert rt.index.get(MOVED_INDEX.name, f"programs:{exported.id}") is None
    except NotFoundError:  # no move recorded ever: the index is not made
        pass
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    stopped = app.get(f"/programs/{exported.id}", headers=auth)
    assert stopped.status_code == 404 and "Location" not in stopped.headers

    blocked.unlink()
    assert import_programs(rt, path, "jsonl").errors == []
    moved = app.get(f"/programs/{exported.id}", headers=auth)
    assert (moved.status_code, moved.headers["Location"]) == (308, f"/programs/{kitchen.id}"), moved.text


def test_the_cli_shows_a_program_and_a_campaigns_program_named_by_an_old_id(rt):
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    before, now, _ = migrated_from_v15(rt)
    runner = CliRunner()
    shown = runner.invoke(app, ["show", before.id], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert f"moved to {now.id}" in shown.output and "कोमल रसोई" in shown.output
    added = runner.invoke(app, ["budget", "campaigns", "add", "social-hi", "--name", "Social", "--channel", "social",
                                "--currency", "USD", "--program", before.id])
    assert added.exit_code == 0, added.output
    campaign = runner.invoke(app, ["budget", "campaigns", "show", "social-hi"], env={"COLUMNS": "200"})
    assert campaign.exit_code == 0, campaign.output
    assert f"कोमल रसोई (moved to {now.id})" in campaign.output and "not in the index" not in campaign.output


def moved_on_before_v16(rt):
    """v15 holds कोमल रसोई under its old key and id, and Alpha Hosting; the id the migration moves कोमल रसोई to had itself
    moved on before (an import's record: that id -> Alpha Hosting's), and a change is recorded under each of the two
    ids: (the program keyed before, its id after the migration, Alpha Hosting)."""
    kitchen = make_program("कोमल रसोई", commission_text="10% per sale")
    before, elsewhere = keyed_before_v16(kitchen, "क-मल-रस-ई"), make_program("Alpha Hosting")
    rt.index.ensure_index(spec_of(15))
    rt.index.ensure_index(DELTAS_INDEX)
    assert rt.index.bulk_upsert("programs", [indexed_by(15, p) for p in (before, elsewhere)], refresh=True).errors == []
    record_moves(rt.index, "programs", {kitchen.id: elsewhere.id}, "an import")
    deltas = [DeltaChange(id=f"d_{i}", program_id=program_id, change="updated", source="test",
                          at=datetime(2026, 11, 21, tzinfo=UTC), fields=[FieldChange(field="cookie_days", old=30, new=90)])
              for i, program_id in enumerate((before.id, kitchen.id))]
    rt.index.bulk_upsert(DELTAS_INDEX.name, [delta_document(d, recorded_at=datetime(2026, 11, 22, tzinfo=UTC))
                                             for d in deltas], refresh=True)
    return before, kitchen, elsewhere


def seen(rt, *program_ids: str) -> dict:
    """What the API answers for each id (its status and redirect, its change feed), and every move record."""
    from affiliate_matrix.search import SearchQuery

    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    answers = {}
    for program_id in program_ids:
        shown = app.get(f"/programs/{program_id}", headers=auth)
        feed = app.get(f"/changes?program_id={program_id}", headers=auth)
        assert feed.status_code == 200, feed.text
        answers[program_id] = (shown.status_code, shown.headers.get("Location"),
                               sorted(item["id"] for item in feed.json["items"]))
    records = rt.index.search(MOVED_INDEX.name, SearchQuery(size=100)).hits
    return {"answers": answers, "records": sorted((hit.id, hit.doc["to"], hit.doc["by"]) for hit in records)}


def test_a_rollback_leaves_the_moved_ids_as_before_the_migration_and_migrating_again_moves_them_again(rt):
    """The migration ended the import's record of the id it moved कोमल रसोई to (that id is a program's now), and its
    rollback put none back: that id was a 404 where it was a redirect, and Alpha Hosting's feed lost the change
    recorded under it. Now a rollback puts back the records as they were: the API answers as before the migration."""
    before, kitchen, elsewhere = moved_on_before_v16(rt)
    ids = (before.id, kitchen.id, elsewhere.id)
    as_before = seen(rt, *ids)
    assert as_before["answers"] == {before.id: (200, None, ["d_0"]),
                                    kitchen.id: (308, f"/programs/{elsewhere.id}", ["d_1"]),
                                    elsewhere.id: (200, None, ["d_1"])}

    rt.index.migrate(PROGRAMS_INDEX)
    migrated = seen(rt, *ids)
    assert migrated["answers"] == {before.id: (308, f"/programs/{kitchen.id}", ["d_0"]),
                                   kitchen.id: (200, None, ["d_0", "d_1"]), elsewhere.id: (200, None, [])}
    assert rt.index.finish_migration(PROGRAMS_INDEX) == 0  # nothing left to finish

    assert rt.index.rollback(PROGRAMS_INDEX.name) == 15
    assert seen(rt, *ids) == as_before

    rt.index.migrate(PROGRAMS_INDEX)  # and again: the same moves
    assert seen(rt, *ids)["answers"] == migrated["answers"]


def moved_on_and_back_before_v16(rt):
    """moved_on_before_v16, and the old id of कोमल रसोई had itself moved on once to Alpha Hosting's (an import's record,
    stale: that id is a program's again, so not followed), which the migration writes over with its own move."""
    before, kitchen, elsewhere = moved_on_before_v16(rt)
    record_moves(rt.index, "programs", {before.id: elsewhere.id}, "an earlier import")
    return before, kitchen, elsewhere


def test_a_rollback_puts_back_a_stale_record_the_migration_wrote_over(rt):
    """The migration moves the id of कोमल रसोई, which had a record already (stale: the id is a program's), and writes
    its own over it; the rollback deleted the migration's record, so the one before it was gone, not restored. Now the
    migration keeps it for its rollback as it keeps the records it ends, and the rollback puts it back once its alias
    swap makes the id a program's again: every record as before the migration."""
    before, kitchen, elsewhere = moved_on_and_back_before_v16(rt)
    ids = (before.id, kitchen.id, elsewhere.id)
    as_before = seen(rt, *ids)
    assert (f"programs:{before.id}", elsewhere.id, "an earlier import") in as_before["records"]

    rt.index.migrate(PROGRAMS_INDEX)
    assert seen(rt, *ids)["answers"][before.id] == (308, f"/programs/{kitchen.id}", ["d_0"])
    assert rt.index.rollback(PROGRAMS_INDEX.name) == 15
    assert seen(rt, *ids) == as_before


def stopped(*args, **kwargs):
    raise RuntimeError("stopped")


def rollback_stopped_at(rt, stop: str) -> None:
    """A rollback of programs stopped at its alias swap, or after it at the records' last step."""
    # A stub: a real stop between one step of the rollback and the next cannot be caused from outside it.
    with pytest.MonkeyPatch.context() as patch:
        if stop == "the alias swap":
            patch.setattr(rt.index, "_point_back", stopped)
        else:
            patch.setattr("affiliate_matrix.search.forget_moves", stopped)
        with pytest.raises(RuntimeError, match="stopped"):
            rt.index.rollback(PROGRAMS_INDEX.name)


@pytest.mark.parametrize("stop", ["the alias swap", "the records after the swap"])
def test_a_rollback_stopped_part_way_is_finished_by_the_next_which_rolls_back_no_further(rt, stop):
    """A rollback from v22 to v15 stops at its alias swap or after it, before it put back the records the migration
    wrote over and deleted its own. Run again, it took the index one version further back (to v14), and the records
    stayed as the migration left them. Now the rollback records that it is under way (programs@rollback) before its
    first step, and the next finishes it: v15, every record as before the migration; the one after rolls back on."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    rt.index.ensure_index(spec_of(14))
    rt.index.migrate(spec_of(15))  # a version below v15 to roll back to
    before, kitchen, elsewhere = moved_on_and_back_before_v16(rt)
    ids = (before.id, kitchen.id, elsewhere.id)
    as_before = seen(rt, *ids)
    rt.index.migrate(PROGRAMS_INDEX)

    rollback_stopped_at(rt, stop)
    assert rt.index.status(PROGRAMS_INDEX.name).current == (22 if stop == "the alias swap" else 15)

    again = CliRunner().invoke(app, ["index", "rollback", "programs"])
    assert again.exit_code == 0, again.output
    assert "programs: now v15" in again.output
    assert rt.index.status(PROGRAMS_INDEX.name).current == 15
    assert seen(rt, *ids) == as_before  # (programs@rollback gone with the rest)

    assert rt.index.rollback(PROGRAMS_INDEX.name) == 14  # the next is a rollback of its own


@pytest.mark.parametrize("stop", ["the alias swap", "the records after the swap"])
def test_a_migration_after_a_rollback_stopped_part_way_finishes_it_first(rt, stop):
    """A deploy runs `amx index migrate` every time: one after a rollback that stopped part-way finishes that rollback
    first, then migrates from the version it went back to (not left at it, with the code a version ahead, when the
    stop came before the swap), and the migration's own rollback is whole again."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    before, kitchen, elsewhere = moved_on_and_back_before_v16(rt)
    ids = (before.id, kitchen.id, elsewhere.id)
    as_before = seen(rt, *ids)
    rt.index.migrate(PROGRAMS_INDEX)
    migrated = seen(rt, *ids)
    rollback_stopped_at(rt, stop)

    deploy = CliRunner().invoke(app, ["index", "migrate", "programs"])
    assert deploy.exit_code == 0, deploy.output
    assert "programs: finished the rollback to v15 that had stopped part-way" in deploy.output
    assert "programs: now v22, 2 documents copied" in deploy.output
    assert seen(rt, *ids) == migrated
    assert rt.index.rollback(PROGRAMS_INDEX.name) == 15
    assert seen(rt, *ids) == as_before


def retention_deletes(rt, version: int) -> None:
    """The programs index's `version` deleted, as OpenSearch's retention policy deletes one 30 days after the alias left
    it (the embedded index has none: its drop)."""
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    if isinstance(rt.index, SqliteSearchIndex):
        rt.index._drop(spec_of(version))
    else:
        rt.index.client.indices.delete(index=spec_of(version).physical(rt.index.prefix))


def test_a_rollback_whose_version_was_deleted_before_its_swap_is_named_and_given_up_by_abandon(rt):
    """A rollback from v22 to v15 stopped before its alias swap, and v15 was deleted since (the retention policy):
    every `amx index migrate` (each deploy) failed at the swap until its record was deleted by hand, and on the
    embedded index pointed the alias at the missing version. Now the rollback and the migration refuse before any
    step, naming what is wrong and `amx index rollback programs --abandon`, which gives it up (refused while it can
    still finish): the index stays at v22, every record as the migration left them, and deploys go on. `amx index
    status` showed neither the rollback left unfinished nor, once stuck, the command that gives it up: it shows both."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.errors import ConflictError, InvalidInput

    before, kitchen, elsewhere = moved_on_and_back_before_v16(rt)
    ids = (before.id, kitchen.id, elsewhere.id)
    rt.index.migrate(PROGRAMS_INDEX)
    migrated = seen(rt, *ids)
    # A stub: a real stop between one step of the rollback and the next cannot be caused from outside it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rt.index, "_point_back", stopped)
        with pytest.raises(RuntimeError, match="stopped"):
            rt.index.rollback(PROGRAMS_INDEX.name)
    runner = CliRunner()

    def to_do() -> tuple[str, str]:  # `amx index status`'s programs row, its "to do", and the words below the table
        shown = runner.invoke(app, ["index", "status"], env={"COLUMNS": "80"})
        assert shown.exit_code == 0, shown.output
        [row] = [line for line in shown.output.splitlines() if line.startswith("│ programs ")]
        below = " ".join(shown.output.split("┘")[-1].split())
        return row.split("│")[-2].strip(), below[below.find("programs: "):] if "programs: " in below else ""

    assert to_do() == ("amx index rollback programs", "programs: the rollback from v22 to v15 is running or stopped "
                                                      "part-way: run again, the command finishes it")
    early = runner.invoke(app, ["index", "rollback", "programs", "--abandon"])
    assert isinstance(early.exception, InvalidInput), early.output
    assert "the rollback of 'programs' from v22 to v15 can still finish" in str(early.exception)

    retention_deletes(rt, 15)
    for command in (["index", "migrate", "programs"], ["index", "rollback", "programs"]):
        refused = runner.invoke(app, command)
        assert isinstance(refused.exception, ConflictError), refused.output
        said = str(refused.exception)
        assert said.startswith("the rollback of 'programs' from v22 to v15 cannot finish: v15 was deleted"), said
        assert "run `amx index rollback programs --abandon` to give it up (the index stays at v22)" in said
        status = rt.index.status(PROGRAMS_INDEX.name)
        assert (status.current, status.versions) == (22, [22])

    assert to_do() == ("amx index rollback programs --abandon", "programs: the rollback from v22 to v15 cannot finish "
                                                                "(v15 was deleted): the command gives it up, the index "
                                                                "staying at v22")
    given_up = runner.invoke(app, ["index", "rollback", "programs", "--abandon"])
    assert given_up.exit_code == 0, given_up.output
    assert "programs: gave up the rollback from v22 to v15 (v15 was deleted); still at v22" in given_up.output
    assert seen(rt, *ids) == migrated  # (programs@rollback gone, the records a first attempt put back ended again)
    deploy = runner.invoke(app, ["index", "migrate", "programs"])
    assert deploy.exit_code == 0 and "nothing to migrate" in deploy.output, deploy.output
    assert to_do() == ("", "")
    assert "no rollback under way to give up" in runner.invoke(app, ["index", "rollback", "programs", "--abandon"]).output


def test_the_copies_kept_for_a_rollback_go_once_the_version_it_would_go_back_to_is_deleted(rt):
    """The records a migration replaced are kept (programs@v22:<old id>) for its rollback, and outlived the version it
    rolls back to (deleted by OpenSearch's retention policy 30 days on). `amx index migrate`, which a deploy runs every
    time, deletes them once no version below the live one is left; until then they are kept."""
    from affiliate_matrix.search import SearchQuery

    def copies() -> list[str]:
        hits = rt.index.search(MOVED_INDEX.name, SearchQuery(filters={"index": ["programs@v22"]}, size=100)).hits
        return sorted(hit.id for hit in hits)

    before, kitchen, elsewhere = moved_on_and_back_before_v16(rt)
    rt.index.migrate(PROGRAMS_INDEX)
    rt.index.finish_migration(PROGRAMS_INDEX)
    assert copies() == sorted([f"programs@v22:{kitchen.id}", f"programs@v22:{before.id}"])

    retention_deletes(rt, 15)
    assert rt.index.status(PROGRAMS_INDEX.name).versions == [22]
    assert rt.index.finish_migration(PROGRAMS_INDEX) == 0
    assert copies() == []
    assert seen(rt, before.id, kitchen.id)["answers"] == {before.id: (308, f"/programs/{kitchen.id}", ["d_0"]),
                                                         kitchen.id: (200, None, ["d_0", "d_1"])}


@pytest.fixture(params=[pytest.param("opensearch", marks=pytest.mark.slow)])
def rt_opensearch(request, tmp_path, monkeypatch):
    """On OpenSearch alone: the embedded index records the moves in its swap's transaction, so it cannot stop
    between them."""
    on_backend(request, tmp_path, monkeypatch)
    return Runtime("test")


@pytest.mark.parametrize("stop", ["recording the moves", "the alias swap"])
def test_a_migration_stopped_before_its_swap_loses_no_move_and_the_same_migration_finishes_it(rt_opensearch, stop):
    """The id कोमल रसोई's migration moves it to had itself moved on before (an import's record: now -> Alpha Hosting).
    The migration deleted that record before its swap, so one that stopped there left the id no program's and its move
    gone: a 404 where a redirect was. Now the records are written before the swap and none is deleted until after it:
    stopped at either step, every id answers as before the migration, and the migration run again finishes it."""
    rt = rt_opensearch
    kitchen = make_program("कोमल रसोई", commission_text="10% per sale")
    before, elsewhere = keyed_before_v16(kitchen, "क-मल-रस-ई"), make_program("Alpha Hosting")
    rt.index.ensure_index(spec_of(15))
    assert rt.index.bulk_upsert("programs", [indexed_by(15, p) for p in (before, elsewhere)], refresh=True).errors == []
    record_moves(rt.index, "programs", {kitchen.id: elsewhere.id}, "an import")
    auth = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}

    def answers() -> dict[str, tuple[int, str | None]]:
        app = function_client("programs")
        shown = {program_id: app.get(f"/programs/{program_id}", headers=auth) for program_id in (before.id, kitchen.id)}
        return {program_id: (answer.status_code, answer.headers.get("Location")) for program_id, answer in shown.items()}

    as_before = {before.id: (200, None), kitchen.id: (308, f"/programs/{elsewhere.id}")}
    assert answers() == as_before

    def stopped(*args, **kwargs):
        raise RuntimeError("stopped")

    # A stub: a real stop between one request of the migration and the next cannot be caused from outside it.
    with pytest.MonkeyPatch.context() as patch:
        if stop == "the alias swap":
            patch.setattr(rt.index.client.indices, "update_aliases", stopped)
        else:
            write = rt.index.bulk_upsert
            patch.setattr(rt.index, "bulk_upsert", lambda name, docs, **kw: (
                stopped() if name == MOVED_INDEX.name else write(name, docs, **kw)))
        with pytest.raises(RuntimeError, match="stopped"):
            rt.index.migrate(PROGRAMS_INDEX)
    assert rt.index.status(PROGRAMS_INDEX.name).current == 15
    assert answers() == as_before

    assert rt.index.migrate(PROGRAMS_INDEX) == 2
    assert answers() == {before.id: (308, f"/programs/{kitchen.id}"), kitchen.id: (200, None)}
    assert rt.index.get(MOVED_INDEX.name, f"programs:{kitchen.id}") is None  # the id now a program's moves no more


def test_a_migration_stopped_after_its_swap_is_finished_by_migrate_run_again(rt_opensearch):
    """The migration stops after its alias swap, before it ends the import's record of the id it moved कोमल रसोई to
    (the record is not followed: that id is a program's). Running it again was refused (the index is at its version)
    and the record stayed; `amx index migrate` now ends it, once, and a rollback still puts it back."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    rt = rt_opensearch
    before, kitchen, elsewhere = moved_on_before_v16(rt)
    ids = (before.id, kitchen.id, elsewhere.id)
    as_before = seen(rt, *ids)

    def stopped(*args, **kwargs):
        raise RuntimeError("stopped")

    # A stub: a real stop between one request of the migration and the next cannot be caused from outside it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("affiliate_matrix.search.opensearch.end_moves", stopped)
        rt.index.migrate(PROGRAMS_INDEX)  # (the swap is done: the stop is a warning, index.moves_not_ended)
    assert rt.index.get(MOVED_INDEX.name, f"programs:{kitchen.id}") is not None  # left

    runner = CliRunner()
    finished = runner.invoke(app, ["index", "migrate", "programs"])
    assert finished.exit_code == 0, finished.output
    assert "finished its migration: 1 move records it made stale ended" in finished.output
    assert rt.index.get(MOVED_INDEX.name, f"programs:{kitchen.id}") is None
    assert seen(rt, *ids)["answers"] == {before.id: (308, f"/programs/{kitchen.id}", ["d_0"]),
                                         kitchen.id: (200, None, ["d_0", "d_1"]), elsewhere.id: (200, None, [])}
    again = runner.invoke(app, ["index", "migrate", "programs"])
    assert again.exit_code == 0 and "nothing to migrate" in again.output and "finished" not in again.output

    assert rt.index.rollback(PROGRAMS_INDEX.name) == 15
    assert seen(rt, *ids) == as_before


def test_a_rollback_that_died_holding_its_lease_is_named_and_its_lease_cleared_by_unlock(rt_opensearch):
    """A rollback holds the index's lease; on OpenSearch one whose process died leaves it (a document). The migration a
    deploy runs is refused naming the rollback and how to clear its lease; `amx index unlock` clears it saying it was
    a rollback's and what finishes it, which then does."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.search import MigrationRunning, begin_rollback, lease_holder

    rt = rt_opensearch
    before, kitchen, elsewhere = moved_on_and_back_before_v16(rt)
    ids = (before.id, kitchen.id, elsewhere.id)
    as_before = seen(rt, *ids)
    rt.index.migrate(PROGRAMS_INDEX)
    # A rollback whose process died after recording that it is under way: its lease and its record left.
    died = rt.index._lease("programs", lease_holder("rollback", 15))
    died.__enter__()  # (held by a name: a generator collected would give it back)
    begin_rollback(rt.index, "programs", PROGRAMS_INDEX.version, 15)

    runner = CliRunner()
    deploy = runner.invoke(app, ["index", "migrate", "programs"])
    assert isinstance(deploy.exception, MigrationRunning), deploy.output
    assert re.fullmatch(r"a rollback of 'programs' to v15 by .+ pid \d+ since \S+ is running: wait for it to end; if "
                        r"its process has died, run `amx index unlock programs`, then `amx index rollback programs` "
                        r"to finish it", str(deploy.exception)), str(deploy.exception)
    unlocked = runner.invoke(app, ["index", "unlock", "programs"])
    assert unlocked.exit_code == 0, unlocked.output
    assert re.search(r"programs: cleared the lease of the rollback to v15 by .+ pid \d+ since \S+; run `amx index "
                     r"rollback programs` to finish it", " ".join(unlocked.output.split())), unlocked.output
    finished = runner.invoke(app, ["index", "rollback", "programs"])
    assert finished.exit_code == 0 and "programs: now v15" in finished.output, finished.output
    assert seen(rt, *ids) == as_before
    died.gen.close()  # (while the node is up: its delete finds no lease, as unlock cleared it)
