"""GET /activations (the triggers function) and `amx rules show`: a damaged record does not take its listing down, the
ids a listing takes are bounded, and a filter before the index's migration names what to run. On both index
backends."""

import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.rules.store import ACTIVATIONS_INDEX
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.apps import function_client
from tests.support.indexing import BACKENDS, on_backend, spec_of


@pytest.fixture(params=BACKENDS)
def rt(request, tmp_path, monkeypatch):
    on_backend(request, tmp_path, monkeypatch)
    return Runtime("test")


def activation(activation_id: str, minute: int, **inputs) -> dict:
    return {"id": activation_id, "rule_id": "kitchen", "trigger": "program.delta", "event_id": "e", "decision": "fired",
            "action": "alert", "action_event_id": "x", "outcome": "done", "detail": "", "inputs": inputs,
            "at": f"2026-11-21T12:{minute:02d}:00+00:00"}


def test_a_damaged_activation_is_named_and_the_others_listed(rt):
    """An activation whose inputs are not an object (or a field not of its shape) was a 500 damaged_data for every
    listing it was in: one bad record hid all the good ones. Now the listing answers, the damaged one left out and
    named (its id and what is wrong) as a list of stored documents names one, and logged without its content."""
    from structlog.testing import capture_logs

    from affiliate_matrix.rules.store import ACTIVATIONS_INDEX, with_program

    program_id = "p_00000000000000aa"
    rt.index.ensure_index(ACTIVATIONS_INDEX)
    assert rt.index.bulk_upsert(ACTIVATIONS_INDEX.name, [
        with_program(activation("a_good", 1, program_id=program_id)),  # as mirror_activation writes it
        {**activation("a_inputs", 2), "inputs": ["secret-ish", "not an object"], "program_id": program_id},
        {**activation("a_decision", 3, program_id=program_id), "decision": "exploded", "program_id": program_id},
    ], refresh=True).errors == []
    app, read = function_client("triggers"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    for query in ("", "?rule_id=kitchen", f"?program_id={program_id}"):
        with capture_logs() as logs:
            answer = app.get(f"/activations{query}", headers=read)
        assert answer.status_code == 200, answer.json
        assert [item["id"] for item in answer.json["items"]] == ["a_good"], answer.json
        assert answer.headers["X-Damaged-Items"] == "2"
        named = {bad["key"]: bad["error"] for bad in answer.json["errors"]}
        assert set(named) == {"a_inputs", "a_decision"}, answer.json
        assert "inputs" in named["a_inputs"] and "dictionary" in named["a_inputs"], named
        assert "decision" in named["a_decision"], named
        warned = [line for line in logs if line["event"] == "document.damaged"]
        assert sorted(line["key"] for line in warned) == ["a_decision", "a_inputs"], logs
        assert "secret-ish" not in repr(logs) and "exploded" not in repr(logs) and "secret-ish" not in answer.text
    fine = app.get("/activations?rule_id=other", headers=read)
    assert fine.status_code == 200 and "errors" not in fine.json and "X-Damaged-Items" not in fine.headers


def test_a_program_filter_before_the_migration_tells_the_operator_what_to_run(rt):
    """A 503 whose body said only that a backend was misconfigured: the migration was named in the log alone."""
    app, read = function_client("triggers"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    rt.index.ensure_index(spec_of(7, "activations"))
    behind = app.get("/activations?program_id=p_00000000000000aa", headers=read)
    assert behind.status_code == 503, behind.json
    said = behind.json["error"]["message"]
    wanted = f"v{ACTIVATIONS_INDEX.version}"  # the code's version, whichever came after v7
    assert "`amx index migrate activations`" in said and "v7" in said and wanted in said, said
    assert "Retry-After" not in behind.headers  # waiting does not migrate it


def test_an_activation_mirrored_before_the_migration_names_it_as_a_refusal_does(rt):
    """Its log line worded the migration itself ("once after deploying activations v8", whichever version the code
    needs): now in search.migrate_first's words, as the 503 above."""
    from structlog.testing import capture_logs

    from affiliate_matrix.rules.store import mirror_activation
    from affiliate_matrix.search import migrate_first

    rt.index.ensure_index(spec_of(7, "activations"))
    with capture_logs() as logs:
        mirror_activation(rt, activation("a_before", 1, program_id="p_00000000000000aa"))
    [behind] = [line for line in logs if line["event"] == "activations.index_behind"]
    assert behind["hint"] == migrate_first("activations", 7, ACTIVATIONS_INDEX.version)
    assert [hit.id for hit in rt.index.search(ACTIVATIONS_INDEX.name, SearchQuery()).hits] == ["a_before"]


def test_the_ids_of_a_listing_are_bounded_on_both_routes(rt):
    """GET /activations?program_id= and GET /changes?program_id= took as many ids as the request line held, each
    widened by a query of moved ids per hop. Now past the limit is a 400 naming the limit and the count."""
    from affiliate_matrix.handlers.program_params import MAX_PROGRAM_IDS
    from affiliate_matrix.rules.store import ACTIVATIONS_INDEX

    rt.index.ensure_index(ACTIVATIONS_INDEX)
    read = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    ids = [f"p_{n:016x}" for n in range(MAX_PROGRAM_IDS + 1)]
    for function, path in (("triggers", "/activations"), ("programs", "/changes")):
        app = function_client(function)
        at_limit = app.get(f"{path}?" + "&".join(f"program_id={i}" for i in ids[:-1]), headers=read)
        assert at_limit.status_code == 200, (path, at_limit.json)
        past = app.get(f"{path}?" + "&".join(f"program_id={i}" for i in ids), headers=read)
        assert past.status_code == 400, (path, past.json)
        said = past.json["error"]["message"]
        assert "program_id" in said and str(MAX_PROGRAM_IDS) in said and str(MAX_PROGRAM_IDS + 1) in said, said
        documented = app.get("/openapi.json").json["paths"][path]["get"]["parameters"]
        [param] = [p for p in documented if p["name"] == "program_id"]
        assert f"'maxItems': {MAX_PROGRAM_IDS}" in repr(param["schema"]), param


def test_rules_show_lists_a_programs_activations_as_the_api_does(rt, monkeypatch):
    """`amx rules show` listed a rule's newest activations of every program: which it did on one program could be asked
    of the API alone. --program (repeatable) means what the API's program_id does, read by the same code: with those
    recorded under an id that moved into it, checked as the API checks it, and a damaged one named below."""
    import json

    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.program_index import PROGRAMS_INDEX
    from affiliate_matrix.rules.store import ACTIVATIONS_INDEX, with_program
    from affiliate_matrix.search import record_moves

    monkeypatch.setenv("COLUMNS", "200")
    old, now, other = "p_00000000000000a0", "p_00000000000000a1", "p_00000000000000b0"
    rt.index.ensure_index(PROGRAMS_INDEX)
    record_moves(rt.index, "programs", {old: now}, "test")
    rt.index.ensure_index(ACTIVATIONS_INDEX)
    assert rt.index.bulk_upsert(ACTIVATIONS_INDEX.name, [with_program(a) for a in (
        activation("a_old", 1, program_id=old), activation("a_now", 2, program_id=now),
        activation("a_other", 3, program_id=other),
        {**activation("a_bad", 4, program_id=now), "decision": "exploded"})], refresh=True).errors == []
    rule = {"id": "kitchen", "trigger": {"event": "program.delta"}, "condition": "true",
            "action": {"type": "alert", "params": {"text": "x"}}}
    (path := rt.settings.data_dir / "rule.json").write_text(json.dumps(rule))
    assert CliRunner().invoke(app, ["rules", "add", str(path)]).exit_code == 0

    shown = CliRunner().invoke(app, ["rules", "show", "kitchen", "--program", now])
    assert shown.exit_code == 0, (shown.output, shown.exception)
    assert [line.split()[1] for line in shown.output.splitlines() if line.startswith("  ")] == [
        "12:02:00", "12:01:00"], shown.output  # a_now, then a_old: moved into it
    assert "a_bad" in shown.output and "decision" in shown.output and "exploded" not in shown.output
    read = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    api = function_client("triggers").get(f"/activations?rule_id=kitchen&program_id={now}", headers=read).json
    assert [item["id"] for item in api["items"]] == ["a_now", "a_old"]  # the same answer
    both = CliRunner().invoke(app, ["rules", "show", "kitchen", "--program", now, "--program", other])
    assert both.output.count("\n  2026-11-21 12:0") == 3, both.output
    everything = CliRunner().invoke(app, ["rules", "show", "kitchen"])
    assert everything.output.count("\n  2026-11-21 12:0") == 3, everything.output  # no filter: every program's
    for options, said in ((["--program", "kitchen"], "must be a program's id"),
                          ([a for n in range(51) for a in ("--program", f"p_{n:016x}")], "at most 50")):
        refused = CliRunner().invoke(app, ["rules", "show", "kitchen", *options])
        shown = " ".join(refused.output.replace("│", " ").split())
        assert refused.exit_code == 2 and f"Invalid value for '--program': {said}" in shown, shown
