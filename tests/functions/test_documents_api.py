"""The rules and campaigns APIs: create, read with an ETag, replace only with a fresh If-Match
(a stale one gets 412, none gets 428), dry-run a rule, read activations, record and read a
campaign's days, run and read an allocation."""

import threading

import pytest

from functions_framework import create_app

from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from tests.support.apps import function_client as app
from tests.support.processes import ROOT

RULE = {"id": "gaming-up", "trigger": {"event": "program.delta"}, "condition": 'delta.change == "created"',
        "action": {"type": "alert", "params": {"severity": "info"}}, "cooldown_s": 60}



def test_concurrent_rule_updates_with_a_stale_etag_get_412(env):
    client = app("triggers")
    refused = client.post("/rules", json=RULE, headers=env["read"])  # it said what, never how to get one
    assert refused.status_code == 403 and refused.json["error"]["message"] == (
        "this needs an admin token, and this one is a read token: `amx tokens create --role admin` mints one")
    created = client.post("/rules", json=RULE, headers=env["admin"])
    assert created.status_code == 201 and created.headers["Location"] == "/rules/gaming-up"
    etag = client.get("/rules/gaming-up", headers=env["read"]).headers["ETag"]
    first = client.put("/rules/gaming-up", json={**RULE, "cooldown_s": 120}, headers={**env["admin"], "If-Match": etag})
    second = client.put("/rules/gaming-up", json={**RULE, "cooldown_s": 300}, headers={**env["admin"], "If-Match": etag})
    assert first.status_code == 200 and second.status_code == 412
    assert client.get("/rules/gaming-up", headers=env["read"]).json["cooldown_s"] == 120
    assert client.put("/rules/gaming-up", json=RULE, headers=env["admin"]).status_code == 428
    bad = client.post("/rules", json={**RULE, "id": "bad", "condition": "program.categorie == 1"}, headers=env["admin"])
    assert bad.status_code == 400 and "did you mean 'categories'" in bad.json["error"]["message"]
    assert client.post("/rules", json=RULE, headers=env["admin"]).status_code == 409
    stale = client.delete("/rules/gaming-up", headers={**env["admin"], "If-Match": etag})
    assert stale.status_code == 412


def test_a_rule_delete_refused_keeps_the_rules_state(env, monkeypatch, tmp_path):
    """DELETE /rules/{id} forgot the rule's state (its cool-down's start, its failures), then deleted the rule on the
    ETag read: the rule edited in between was a 412, the rule kept, its cool-down gone (it could fire again at once).
    The state goes after the rule."""
    from affiliate_matrix.rules.store import load_state, state_key
    from affiliate_matrix.storage.local import LocalObjectStore
    from tests.support.events import deliver_event

    client = app("triggers")
    assert client.post("/rules", json={**RULE, "condition": "true"}, headers=env["admin"]).status_code == 201
    assert deliver_event(client, "triggers", "dev.affiliatematrix.program.delta", {"program_id": "p_1"}).status_code \
        == 204
    rt = Runtime("test", Settings(data_dir=tmp_path))
    state = rt.store.get(state_key("gaming-up")).data
    etag = client.get("/rules/gaming-up", headers=env["read"]).headers["ETag"]
    delete = LocalObjectStore.delete

    def edited_first(store, key, **kwargs):
        if key == "rules/gaming-up.json":
            edit = client.put("/rules/gaming-up", json={**RULE, "cooldown_s": 120},
                              headers={**env["admin"], "If-Match": f'"{store.head(key)}"'})
            assert edit.status_code == 200, edit.json
        return delete(store, key, **kwargs)

    monkeypatch.setattr(LocalObjectStore, "delete", edited_first)
    assert client.delete("/rules/gaming-up", headers={**env["admin"], "If-Match": etag}).status_code == 412
    monkeypatch.setattr(LocalObjectStore, "delete", delete)
    assert rt.store.get(state_key("gaming-up")).data == state
    etag = client.get("/rules/gaming-up", headers=env["read"]).headers["ETag"]
    assert client.delete("/rules/gaming-up", headers={**env["admin"], "If-Match": etag}).status_code == 204
    assert load_state(rt.store, "gaming-up")[1] is None


def at_once(requests) -> list[int]:
    """Send the requests together (a barrier releases them), each from its own client; their statuses, in order."""
    flask_app = create_app("handle", str(ROOT / "functions" / "triggers" / "main.py"))
    statuses, barrier = [0] * len(requests), threading.Barrier(len(requests))

    def send(i, request):
        client = flask_app.test_client()
        barrier.wait()
        statuses[i] = request(client).status_code

    threads = [threading.Thread(target=send, args=item) for item in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_a_webhook_url_is_shown_only_to_an_admin_token(env):
    """A webhook's address is its credential (whoever has it posts to the channel): a read token sees its
    host only, in the rule, the list and a dry run; an admin token, which writes rules back, sees it all."""
    hook = "https://hooks.example.com/services/T000/B000/hook-secret-4711"
    rule = {**RULE, "id": "hooked", "action": {"type": "notify", "params": {"webhook_url": hook}}}
    client = app("triggers")
    assert client.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    trial = {"type": "dev.affiliatematrix.program.delta", "data": {"change": "created", "program_id": "p_0"}}
    for headers in (env["read"], env["admin"]):
        answers = [client.get("/rules/hooked", headers=headers), client.get("/rules", headers=headers),
                   client.post("/rules/hooked/test", json=trial, headers=headers)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        shown = [answers[0].get_json()["action"]["params"]["webhook_url"],
                 answers[1].get_json()["items"][0]["action"]["params"]["webhook_url"],
                 answers[2].get_json()["would_dispatch"]["params"]["webhook_url"]]
        assert shown == [hook] * 3 if headers is env["admin"] else shown == ["https://hooks.example.com/…"] * 3
        assert headers is env["admin"] or not any("hook-secret-4711" in a.get_data(as_text=True) for a in answers)


def test_of_32_concurrent_deletes_with_one_etag_exactly_one_succeeds(env):
    client = app("triggers")
    client.post("/rules", json=RULE, headers=env["admin"])
    etag = client.get("/rules/gaming-up", headers=env["read"]).headers["ETag"]
    headers = {**env["admin"], "If-Match": etag}
    statuses = at_once([lambda c: c.delete("/rules/gaming-up", headers=headers)] * 32)
    assert statuses.count(204) == 1 and set(statuses) <= {204, 404, 412}, statuses
    assert client.get("/rules/gaming-up", headers=env["read"]).status_code == 404


def test_a_put_and_a_delete_with_one_etag_never_both_succeed(env):
    client = app("triggers")
    for round_ in range(6):
        assert client.post("/rules", json=RULE, headers=env["admin"]).status_code == 201
        headers = {**env["admin"], "If-Match": client.get("/rules/gaming-up", headers=env["read"]).headers["ETag"]}
        put, delete = at_once([lambda c: c.put("/rules/gaming-up", json={**RULE, "cooldown_s": 99}, headers=headers),
                               lambda c: c.delete("/rules/gaming-up", headers=headers)])
        assert sorted([put // 100, delete // 100]) == [2, 4], (put, delete)
        after = client.get("/rules/gaming-up", headers=env["read"])
        if after.status_code == 200:  # the PUT won: its change is there, not lost
            assert after.json["cooldown_s"] == 99
            client.delete("/rules/gaming-up", headers={**env["admin"], "If-Match": after.headers["ETag"]})
        else:
            assert after.status_code == 404


def test_a_costly_condition_is_refused_naming_the_limit_and_a_stored_rule_is_never_judged_again(env, tmp_path,
                                                                                               monkeypatch):
    client = app("triggers")
    nested = {**RULE, "id": "nested", "condition": "program.countries.all(a, program.countries.all(b, a != b))"}
    refused = client.post("/rules", json=nested, headers=env["admin"])
    assert refused.status_code == 400 and "over the limit of 10,000" in refused.json["error"]["message"]
    huge = {**RULE, "id": "huge", "condition": "program.name in [" + ", ".join(['"x"'] * 700) + "]"}
    refused = client.post("/rules", json=huge, headers=env["admin"])
    assert refused.status_code == 400 and "at most 2000 characters" in refused.json["error"]["message"]

    # written when the limits were looser (or by an older version): stored rules are trusted as written
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule

    save_rule(Runtime("test", Settings(data_dir=tmp_path)).store, Rule.model_validate(nested), create=True)
    assert client.post("/rules", json=RULE, headers=env["admin"]).status_code == 201
    monkeypatch.setattr("affiliate_matrix.rules.conditions.COST_LIMIT", 1)  # limits tightened since
    listed = client.get("/rules", headers=env["read"])
    assert listed.status_code == 200 and [r["id"] for r in listed.json["items"]] == ["gaming-up", "nested"]
    assert client.get("/rules/nested", headers=env["read"]).status_code == 200


def test_a_rule_dry_run_and_the_activation_log(env):
    client = app("triggers")
    client.post("/rules", json=RULE, headers=env["admin"])
    verdict = client.post("/rules/gaming-up/test", headers=env["read"], json={
        "type": "dev.affiliatematrix.program.delta", "data": {"id": "d1", "program_id": "p_1", "change": "created",
                                                             "fields": []}})
    assert verdict.status_code == 200 and verdict.json["holds"] is True
    assert verdict.json["would_dispatch"] == {"type": "alert", "params": {"severity": "info"}}
    other = client.post("/rules/gaming-up/test", headers=env["read"], json={"type": "dev.affiliatematrix.sync.failed"})
    assert other.json["triggered_by_this_event"] is False and other.json["would_dispatch"] is None
    for number in (1763424000, "1763424000000"):  # a time the API took as seconds or milliseconds since 1970
        dated = client.post("/rules/gaming-up/test", headers=env["read"],
                            json={"type": "dev.affiliatematrix.sync.failed", "time": number})
        assert dated.status_code == 400 and "time" in dated.json["error"]["message"], dated.json
        assert "not a number" in dated.json["error"]["message"]
    for unzoned in ("2026-12-01T10:00:00", "2026-12-01"):  # refused in pydantic's words: "Input should have timezone info"
        dated = client.post("/rules/gaming-up/test", headers=env["read"],
                            json={"type": "dev.affiliatematrix.sync.failed", "time": unzoned})
        assert dated.status_code == 400 and dated.json["error"]["message"] == (
            "time: must be an ISO 8601 time such as 2026-06-01T12:00:00Z, with its zone (Z or +01:00)"), dated.json
    assert client.get("/activations", headers=env["read"]).json == {"items": []}  # a dry run records nothing
    assert client.get("/activations?limit=0", headers=env["read"]).status_code == 400


def test_campaigns_metrics_and_allocations(env):
    client = app("budget")
    campaign = {"id": "search-1", "name": "Brand search", "channel": "search", "currency": "USD", "max_budget": "200.00"}
    assert client.post("/campaigns", json=campaign, headers=env["admin"]).status_code == 201
    assert client.post("/campaigns", json={**campaign, "id": "social-1", "channel": "social", "max_budget": None},
                       headers=env["admin"]).status_code == 201
    etag = client.get("/campaigns/search-1", headers=env["read"]).headers["ETag"]
    assert client.put("/campaigns/search-1", json={**campaign, "min_budget": "10.00"},
                      headers={**env["admin"], "If-Match": etag}).status_code == 200
    assert client.put("/campaigns/search-1", json=campaign, headers={**env["admin"], "If-Match": etag}).status_code == 412
    days = [{"date": f"2026-11-{d:02d}", "spend": 50 + d, "revenue": 200 + 3 * d} for d in range(1, 11)]
    assert client.post("/campaigns/search-1/metrics", json={"days": days}, headers=env["admin"]).json == {
        "campaign_id": "search-1", "days_written": 10, "dropped": None}
    read = client.get("/campaigns/search-1/metrics", headers=env["read"]).json
    assert [d["date"] for d in read["days"]][:2] == ["2026-11-01", "2026-11-02"] and len(read["days"]) == 10
    run = client.post("/allocations", json={"day": "2026-11-12"}, headers=env["admin"])
    assert run.status_code == 201 and run.headers["Location"] == "/allocations/2026-11-12"
    amounts = {a["campaign_id"]: a["amount"] for a in run.json["parts"][0]["result"]["allocations"]}
    assert round(sum(amounts.values()), 2) == 300.0 and 10 <= amounts["search-1"] <= 200
    assert client.post("/allocations", json={"day": "2026-11-12"}, headers=env["admin"]).status_code == 200
    assert client.get("/allocations", headers=env["read"]).json["items"] == [
        {"day": "2026-11-12", "href": "/allocations/2026-11-12"}]
    assert client.get("/allocations/2026-11-12", headers=env["read"]).json["parts"] == run.json["parts"]
    assert client.get("/allocations/2026-11-13", headers=env["read"]).status_code == 404
    for day in ("tomorrow", "2026-11-1", "2026-02-30", "2026-11-12T00:00", "20261112"):  # YYYY-MM-DD, a real day
        refused = client.post("/allocations", json={"day": day}, headers=env["admin"])
        assert refused.status_code == 400 and f"day: {day!r} is not a date (YYYY-MM-DD, e.g. 2026-01-05)" in \
            refused.get_data(as_text=True), (day, refused.get_data(as_text=True))


def test_a_rules_disabled_reason_is_kept_only_while_it_is_disabled(env):
    """A client could give an enabled rule a disabled_reason, and a disabled rule PUT back enabled (as read, its reason
    in it) kept the reason: `amx rules show` said "disabled (…)" of a rule that ran. An enabled rule has none."""
    client = app("triggers")
    created = client.post("/rules", json={**RULE, "disabled_reason": "made up"}, headers=env["admin"])
    assert created.status_code == 201 and created.json["disabled_reason"] is None
    read = client.get("/rules/gaming-up", headers=env["read"])
    assert (read.json["enabled"], read.json["disabled_reason"]) == (True, None)
    hidden = {**read.json, "enabled": False, "disabled_reason": "paused\u202e"}  # would show other than it is written
    refused = client.put("/rules/gaming-up", json=hidden, headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert refused.status_code == 400 and "disabled_reason" in refused.json["error"]["message"]
    paused = {**read.json, "enabled": False, "disabled_reason": "paused for the sale week"}
    put = client.put("/rules/gaming-up", json=paused, headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert put.status_code == 200 and put.json["disabled_reason"] == "paused for the sale week"
    read = client.get("/rules/gaming-up", headers=env["read"])
    put = client.put("/rules/gaming-up", json={**read.json, "enabled": True},
                     headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert put.status_code == 200, put.json
    read = client.get("/rules/gaming-up", headers=env["read"])
    assert (read.json["enabled"], read.json["disabled_reason"]) == (True, None)


def test_every_collections_listing_fits_its_documented_model(env, tmp_path):
    """A GET of a whole collection sends its answer unchecked (handlers/documents.py: its items are dumps of documents
    just read through their model): these reads are its guard, a document and a damaged one listed to each role."""
    from affiliate_matrix.handlers import budget, connections, triggers

    hook = {"type": "notify", "params": {"webhook_url": "https://hooks.example.com/services/T000/B000/hook"}}
    written = {"connections": ("/connections", "connections/", {"id": "ap", "source": "affiliateprograms"},
                               connections.api),
               "triggers": ("/rules", "rules/", {**RULE, "action": hook}, triggers.api),
               "budget": ("/campaigns", "budget/campaigns/", {"id": "search-1", "name": "Brand search",
                                                             "channel": "search", "currency": "USD",
                                                             "max_budget": "200.00"}, budget.api)}
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    for function, (path, prefix, document, api) in written.items():
        client = app(function)
        assert client.post(path, json=document, headers=env["admin"]).status_code == 201
        store.put(f"{prefix}damaged.json", b'{"id": "damaged"')
        documented = next(route for route in api().routes if route.label == f"GET {path}").answers
        for headers in (env["read"], env["admin"]):
            listed = client.get(path, headers=headers)
            assert listed.status_code == 200 and len(listed.json["items"]) == 1 and len(listed.json["errors"]) == 1
            documented.validate_python(listed.json)


def test_an_id_in_a_path_that_is_none_is_refused_in_words_and_its_pattern_documented(env):
    """GET /connections/Bad_Id, /rules/Bad_Id and /syncs/x answered "connection_id: String should match pattern
    '^(?:[a-z0-9][a-z0-9-]{0,62})$'", a regular expression to decode, where the same id in a body was refused in words;
    and the document showed no body id's pattern (it stood after the words' validator, where pydantic's schema drops
    it)."""
    asked = [("connections", "GET", "/connections/Bad_Id", "connection_id: 'Bad_Id' is not a connection id: lower-case "
                                                             "letters, digits and '-'"),
             ("connections", "DELETE", "/connections/Bad_Id", "connection_id: 'Bad_Id' is not a connection id"),
             ("connections", "POST", "/connections/Bad_Id/test", "connection_id: 'Bad_Id' is not a connection id"),
             ("connections", "GET", "/syncs/Bad_Id", "sync_id must be a sync's id, s_ and 32 hex digits"),
             ("triggers", "GET", "/rules/Bad_Id", "rule_id: 'Bad_Id' is not a rule id: lower-case letters"),
             ("triggers", "POST", "/rules/Bad_Id/test/programs/p_0123456789abcdef", "rule_id: 'Bad_Id' is not a "
                                                                                   "rule id"),
             ("budget", "GET", "/campaigns/-x", "campaign_id: '-x' is not a campaign id (letters, digits")]
    for function, method, path, said in asked:
        answer = app(function).open(path, method=method, headers={**env["admin"], "If-Match": "*"})
        message = answer.json["error"]["message"]
        assert answer.status_code == 400 and message.startswith(said) and "pattern" not in message, (path, message)
    for function, path, schema in (("connections", "/connections/{connection_id}", "ConnectionInput"),
                                   ("triggers", "/rules/{rule_id}", "RuleInput"),
                                   ("budget", "/campaigns/{campaign_id}", "CampaignInput")):
        document = app(function).get("/openapi.json").json
        address = document["paths"][path]["get"]["parameters"][0]["schema"]
        assert address["pattern"] == document["components"]["schemas"][schema]["properties"]["id"]["pattern"], path



def test_a_document_no_id_has_is_said_one_way_by_the_api_the_store_and_the_commands(env, tmp_path):
    """GET /rules/nope answered "rule 'nope' does not exist" where the rule store and `amx rules` said "there is no rule
    'nope'": one wording (documents.no_document) for a read and a delete of any collection's document. Each names what
    lists the ids, as `amx rules` named `amx rules list` and no other did: a command its list command, a route the
    route listing them (documents.listed_by), the store, which cannot know who asked, neither."""
    from typer.testing import CliRunner

    from affiliate_matrix.budget.campaigns import load_campaign
    from affiliate_matrix.cli import app as amx
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.rules.store import load_rule

    store = Runtime("test", Settings(data_dir=tmp_path)).store
    written = {**env["admin"], "If-Match": "*"}
    for function, kind, load, commands, own in (
            ("triggers", "rule", load_rule, (["rules", "show", "nope"], ["rules", "delete", "nope"]),
             ("POST", "/rules/nope/enable", {})),
            ("connections", "connection", load_connection, (
                ["connections", "edit", "nope", "--schedule", "0 5 * * *"], ["connections", "test", "nope"],
                ["connections", "delete", "nope"]), ("POST", "/connections/nope/test", None)),
            ("budget", "campaign", load_campaign, (["budget", "campaigns", "pause", "nope"],
                                                   ["budget", "campaigns", "resume", "nope"],
                                                   ["budget", "campaigns", "show", "nope"],
                                                   ["budget", "campaigns", "delete", "nope"]),
             ("GET", "/campaigns/nope/metrics", None))):
        said = f"there is no {kind} 'nope'"
        client, path = app(function), f"/{kind}s/nope"
        method, own_path, body = own  # a route of the collection's own beyond reads and writes: said alike
        for answer in (client.get(path, headers=env["read"]), client.delete(path, headers=written),
                       client.open(own_path, method=method, json=body, headers=written)):
            assert (answer.status_code, answer.json["error"]["message"]) == (
                404, f"{said} (GET /{kind}s lists them)"), (path, answer.json)
        with pytest.raises(NotFoundError, match=f"^{said}$"):
            load(store, "nope")
        list_command = "amx budget campaigns list" if kind == "campaign" else f"amx {kind}s list"
        for command in commands:
            refused = CliRunner().invoke(amx, command).exception  # main() prints it
            assert isinstance(refused, NotFoundError) and str(refused) == f"{said} ({list_command})", (command, refused)
    tried = app("triggers").post("/rules/nope/test/programs/p_0123456789abcdef", headers=written)
    assert tried.json["error"]["message"] == "there is no rule 'nope' (GET /rules lists them)", tried.json
    sync_id = "s_" + "0" * 32  # a sync's record, which the server writes: read, never deleted
    answer = app("connections").get(f"/syncs/{sync_id}", headers=env["read"])
    assert (answer.status_code, answer.json["error"]["message"]) == (
        404, f"there is no sync {sync_id} (POST /connections/{{connection_id}}/sync answers one's id, in Location)"), \
        answer.json
