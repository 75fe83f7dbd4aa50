"""`amx dead-letters list` and `replay`: the README told an operator to fix a dead letter's cause and publish it again,
and no command found them (files under a hashed name to open one by one, objects in a bucket in the cluster), nor
delivered one again (re-posted to the Broker, a parked tick was refused by its EventPolicy)."""

import json

import pytest
from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.config import Settings
from affiliate_matrix.events import DEAD_LETTERS, dead_letter
from affiliate_matrix.runtime import Runtime


def listed(monkeypatch, tmp_path) -> str:
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["dead-letters", "list"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_each_dead_letter_is_listed_with_whom_it_was_for_and_why(monkeypatch, tmp_path):
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    tick = {"specversion": "1.0", "id": "tick-1", "source": "/pingsources/budget-daily",
            "type": "dev.knative.sources.ping", "time": "2026-12-06T06:00:00+00:00", "data": {}}
    store.put(f"{DEAD_LETTERS}budget-daily/tick-1.json", dead_letter(
        {"event": tick, "subscriber": "budget", "reason": "HTTP 503: AMX_BUDGET_DAILY_TOTAL: not set"}))
    store.put(f"{DEAD_LETTERS}unfit/odd.json", dead_letter(
        {"event": {"id": "odd-1", "type": "dev.affiliatematrix.raw.batch.stored"},
         "refused": "event data: not a JSON object", "destination": "http://index/"}))
    store.put(f"{DEAD_LETTERS}raw.batch.stored/cut.json", b'{"event": {"id": "cu')
    store.put(f"{DEAD_LETTERS}raw.batch.stored/deep.json", b'{"event": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")

    said = listed(monkeypatch, tmp_path)
    assert "raw.batch.stored/deep.json" in said and "damaged: JSON nested too deeply to read" in said
    assert "4 dead letters" in said and "each deleted 30 days after it was parked" in said, said
    assert "budget-daily/tick-1.json" in said and "dev.knative.sources.ping" in said and "tick-1" in said
    assert "budget" in said and "HTTP 503: AMX_BUDGET_DAILY_TOTAL: not set" in said
    assert "odd-1" in said and "event data: not a JSON object" in said and "http://index/" in said
    assert "raw.batch.stored/cut.json" in said and "damaged: not JSON" in said  # listed, not the end of the list
    assert said.endswith("fix the cause, then `amx dead-letters replay LETTER` delivers it again (--all: every one); "
                         "`amx dead-letters delete LETTER` drops one never to be delivered")


def test_a_letters_terminal_controls_are_listed_as_escapes_not_acted_on(monkeypatch, tmp_path):
    """A letter holds its event as its sender wrote it (an unfit one as it came): an escape sequence in it, listed as
    it is, would retitle, clear or recolour the operator's terminal."""
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    store.put(f"{DEAD_LETTERS}unfit/odd.json", dead_letter(
        {"event": {"id": "odd-\x1b]0;owned\x07", "type": "dev.affiliatematrix.raw.batch.stored"},
         "refused": "event data: not a JSON object\x1b[2J\u202e", "destination": "http://index/"}))
    said = listed(monkeypatch, tmp_path)
    assert "\x1b" not in said and "\x07" not in said and "\u202e" not in said
    assert "odd-\\x1b]0;owned\\x07" in said and "not a JSON object\\x1b[2J\\u202e" in said, said


def test_a_letter_never_to_be_delivered_is_deleted_by_its_name_alone(monkeypatch, tmp_path):
    """A letter that can never succeed (a tick dated ahead) could only be deleted by hand in the store, or waited out for
    30 days, while `replay --all` kept failing on it."""
    from affiliate_matrix.errors import InvalidInput, NotFoundError

    store = Runtime("test", Settings(data_dir=tmp_path)).store
    for name in ("ahead", "kept"):
        store.put(f"{DEAD_LETTERS}budget-daily/{name}.json", dead_letter({"event": {"id": name}, "reason": "x"}))
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    deleted = CliRunner().invoke(app, ["dead-letters", "delete", "budget-daily/ahead.json"])
    assert deleted.exit_code == 0 and "deleted budget-daily/ahead.json" in deleted.output, deleted.output
    assert list(store.list(DEAD_LETTERS)) == [f"{DEAD_LETTERS}budget-daily/kept.json"]
    for name, error, said in (("budget-daily/ahead.json", NotFoundError, "no dead letter budget-daily/ahead.json"),
                              ("../connections/x.json", InvalidInput, "is not a dead letter's name")):
        refused = CliRunner().invoke(app, ["dead-letters", "delete", name])
        assert isinstance(refused.exception, error) and said in str(refused.exception), refused.exception
    assert list(store.list(DEAD_LETTERS)) == [f"{DEAD_LETTERS}budget-daily/kept.json"]


def test_no_dead_letters_says_where_it_looked(monkeypatch, tmp_path):
    said = listed(monkeypatch, tmp_path)
    assert said.startswith("no dead letters in ") and "dead-letters" in said, said


# `amx dead-letters replay`: a parked event delivered again to the function it was for (dead_letters.py).

TICK = {"specversion": "1.0", "id": "tick-1", "source": "/apis/v1/namespaces/affiliate-matrix/pingsources/budget-daily",
        "type": "dev.knative.sources.ping", "time": "2026-12-06T06:00:00+00:00", "datacontenttype": "application/json",
        "data": {}}
RUN = "budget/runs/2026-12-07.json"  # what the tick of 2026-12-06 allocates: tomorrow's run


def replayed(monkeypatch, capsys, tmp_path, *args: str, **env: str) -> tuple[int, str]:
    """`amx dead-letters replay` run as `amx` runs it (its errors said as main says them): its exit code, and all it
    said on both streams, its spaces run together."""
    from affiliate_matrix.cli import main

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.delenv("AMX_BUDGET_DAILY_TOTAL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.argv", ["amx", "dead-letters", "replay", *args])
    capsys.readouterr()  # (what came before)
    with pytest.raises(SystemExit) as exited:
        main()
    said = capsys.readouterr()
    return exited.value.code, " ".join((said.out + said.err).split())


def with_campaigns(store_path):
    from affiliate_matrix.budget.campaigns import Campaign, import_csv, save_campaign
    from affiliate_matrix.config import load_settings

    rt = Runtime("test", load_settings(data_dir=store_path))  # the store the environment names
    save_campaign(rt.store, Campaign(id="search-1", name="s", channel="search", currency="USD"), create=True)
    import_csv(rt, "\n".join(["campaign_id,date,spend,clicks,conversions,revenue,currency"] + [
        f"search-1,2026-11-{d:02d},{50 + d},10,1,{200 + 7 * d},USD" for d in range(1, 21)]).encode())
    return rt


def parked_by_the_broker(rt, event: dict, answer: bytes) -> str:
    """Park `event` as `amx up`'s Broker does when its subscriber (budget) refuses it: the letter's name, as listed."""
    from affiliate_matrix.localrun.plan import exact
    from affiliate_matrix.localrun.router import Delivery, Router
    from affiliate_matrix.localrun.runner import PING_DELIVERY
    from affiliate_matrix.localrun.plan import Route
    from tests.support.loopback import Loopback
    from tests.support.wait import wait_until

    budget = Loopback(lambda request: (503, {"Content-Type": "application/json"}, answer))
    router = Router([], {"budget": budget.url + "/"}, rt.store, workers=1)
    try:
        router.submit(Delivery(Route("budget-daily", (exact(type=event["type"]),), "budget", 0, 1.0, True,
                                     PING_DELIVERY.sender), event))
        wait_until(lambda: router.outstanding == 0, "the tick to be parked")
    finally:
        router.close()
        budget.close()
    (key,) = rt.store.list(DEAD_LETTERS)
    return key.removeprefix(DEAD_LETTERS)


def test_a_parked_tick_is_done_once_its_cause_is_fixed_and_its_letter_removed(monkeypatch, capsys, tmp_path):
    """End to end on the embedded defaults: the budget function refused the tick (no daily total set), the Broker
    parked it; replayed before the fix it fails again and stays, with the new reason; after, the run is written and
    the letter is gone. The same letter parked again is done already: removed, the run not written twice."""
    rt = with_campaigns(tmp_path)
    letter = parked_by_the_broker(rt, TICK, b'{"error": {"message": "AMX_BUDGET_DAILY_TOTAL: not set"}}')
    assert letter.startswith("budget-daily/tick-1.")
    parked = rt.store.get(DEAD_LETTERS + letter).data

    code, said = replayed(monkeypatch, capsys, tmp_path, letter)
    assert code == 1 and "failed again" in said and "AMX_BUDGET_DAILY_TOTAL: not set" in said, said
    assert "the letter is kept with that reason" in said and rt.store.head(RUN) is None
    kept = json.loads(rt.store.get(DEAD_LETTERS + letter).data)
    assert kept["event"] == TICK and kept["subscriber"] == "budget"
    assert kept["reason"].startswith("replayed: AMX_BUDGET_DAILY_TOTAL: not set"), kept["reason"]

    code, said = replayed(monkeypatch, capsys, tmp_path, letter, AMX_BUDGET_DAILY_TOTAL="500.00")
    assert code == 0 and f"replayed {letter}: dev.knative.sources.ping event tick-1: done by budget" in said, said
    assert rt.store.head(RUN) is not None and not list(rt.store.list(DEAD_LETTERS))
    run = rt.store.get(RUN)

    rt.store.put(DEAD_LETTERS + letter, parked)  # parked again (a redelivery that failed meanwhile): the same event
    code, said = replayed(monkeypatch, capsys, tmp_path, letter, AMX_BUDGET_DAILY_TOTAL="500.00")
    assert code == 0 and "the letter is removed" in said, said
    assert rt.store.get(RUN).etag == run.etag and not list(rt.store.list(DEAD_LETTERS))

    code, said = replayed(monkeypatch, capsys, tmp_path, letter)
    assert code == 2 and f"no dead letter {letter}: `amx dead-letters list` shows them" in said, said


def test_a_letter_the_cluster_parked_is_replayed_to_the_function_it_names(monkeypatch, capsys, tmp_path):
    """The sink parks our Event's JSON (no specversion, its rule chain a list) with Knative's address of the
    subscriber: read back as the CloudEvent it was, and delivered to that function."""
    from affiliate_matrix.events import Event

    rt = with_campaigns(tmp_path)
    event = Event.model_validate({**{k: v for k, v in TICK.items() if k not in ("specversion", "datacontenttype")},
                                  "rulechain": []}).model_dump(mode="json")
    rt.store.put(f"{DEAD_LETTERS}dev.knative.sources.ping/tick-1.json", dead_letter(
        {"event": event, "destination": "http://budget.affiliate-matrix.svc.cluster.local/"}))
    code, said = replayed(monkeypatch, capsys, tmp_path, "dev.knative.sources.ping/tick-1.json",
                          AMX_BUDGET_DAILY_TOTAL="500.00")
    assert code == 0 and "done by budget" in said, said
    assert rt.store.head(RUN) is not None and not list(rt.store.list(DEAD_LETTERS))


@pytest.mark.parametrize("letter, content, refusal", [
    ("budget-daily/cut.json", b'{"event": {"id": "cu', "is damaged: not JSON"),
    ("budget-daily/list.json", b"[1, 2]", "holds no event"),
    ("budget-daily/none.json", b'{"subscriber": "budget"}', "holds no event"),
    ("budget-daily/odd.json", {"event": {**TICK, "type": "dev.affiliatematrix.no.such"}, "subscriber": "budget"},
     "manifests/base routes no dev.affiliatematrix.no.such events to budget"),
    ("budget-daily/to-index.json", {"event": TICK, "subscriber": "index"},
     "its tick is from /apis/v1/namespaces/affiliate-matrix/pingsources/budget-daily, no PingSource of manifests/base "
     "sending to index"),
    ("budget-daily/to-triggers.json", {"event": TICK, "subscriber": "triggers"}, "sending to triggers"),
    ("raw-batch-to-index/to-budget.json", {"event": {**TICK, "type": "dev.affiliatematrix.raw.batch.stored"},
                                           "subscriber": "budget"},
     "manifests/base routes no dev.affiliatematrix.raw.batch.stored events to budget"),
    ("budget-daily/nobody.json", {"event": TICK}, "names no function"),
    ("budget-daily/elsewhere.json", {"event": TICK, "destination": "http://evil.example.org/"}, "is for 'evil'"),
    ("unfit/text.json", {"event": {**TICK, "data": "not an object"}, "refused": "event data must be a JSON object",
                         "subscriber": "budget"}, "event data must be a JSON object, not a string"),
    ("unfit/old.json", {"event": {**TICK, "specversion": "0.3"}, "subscriber": "budget"},
     "only CloudEvents 1.0 events are taken"),
    ("unfit/no-id.json", {"event": {k: v for k, v in TICK.items() if k != "id"}, "subscriber": "budget"},
     "not replayed"),
])
def test_a_letter_that_cannot_be_replayed_is_refused_naming_why_and_left_as_it_is(monkeypatch, capsys, tmp_path,
                                                                                  letter, content, refusal):
    rt = with_campaigns(tmp_path)
    data = content if isinstance(content, bytes) else dead_letter(content)
    rt.store.put(DEAD_LETTERS + letter, data)
    code, said = replayed(monkeypatch, capsys, tmp_path, letter, AMX_BUDGET_DAILY_TOTAL="500.00")
    assert code == 2 and refusal in said and letter in said and "not replayed" in said, said
    assert rt.store.get(DEAD_LETTERS + letter).data == data  # nothing half-done: the letter as it was,
    assert rt.store.head(RUN) is None and not list(rt.store.list("events/done/"))  # no work, no record of it


def test_data_the_function_refuses_keeps_the_letter_with_its_refusal(monkeypatch, capsys, tmp_path):
    """The index refuses a batch key of no batch's shape: the letter stays with that reason, and the event is not
    recorded as done (a fixed letter can be replayed)."""
    rt = Runtime("test", Settings(data_dir=tmp_path))
    event = {**TICK, "id": "b-1", "source": "/scrape/test", "type": "dev.affiliatematrix.raw.batch.stored",
             "data": {"batch_key": "../../secrets.json"}}
    rt.store.put(f"{DEAD_LETTERS}raw-batch-to-index/b-1.json", dead_letter({"event": event, "subscriber": "index"}))
    code, said = replayed(monkeypatch, capsys, tmp_path, "raw-batch-to-index/b-1.json")
    assert code == 1 and "failed again" in said and "batch_key" in said, said
    kept = json.loads(rt.store.get(f"{DEAD_LETTERS}raw-batch-to-index/b-1.json").data)
    assert kept["reason"].startswith("replayed: ") and "batch_key" in kept["reason"], kept
    assert not list(rt.store.list("events/done/"))


@pytest.mark.parametrize("letter", ["../secrets.json", "budget-daily/../../secrets.json", "/etc/passwd",
                                    "budget-daily/.tick-1.json.meta", ".locks/x", "budget-daily", "a/b/c.json",
                                    "budget-daily/tick\n.json", ""])
def test_a_letter_name_that_is_no_letter_is_refused(monkeypatch, capsys, tmp_path, letter):
    code, said = replayed(monkeypatch, capsys, tmp_path, letter)
    assert code == 2 and "is not a dead letter's name as `amx dead-letters list` shows it" in said, said


def test_replay_takes_one_letter_or_all(monkeypatch, capsys, tmp_path):
    code, said = replayed(monkeypatch, capsys, tmp_path)
    assert code == 2 and "give one letter, or --all for every one" in said, said
    code, said = replayed(monkeypatch, capsys, tmp_path, "budget-daily/tick-1.json", "--all")
    assert code == 2 and "give one letter, or --all for every one" in said, said


def test_all_replays_every_letter_and_keeps_those_it_cannot(monkeypatch, capsys, tmp_path):
    rt = with_campaigns(tmp_path)
    rt.store.put(f"{DEAD_LETTERS}budget-daily/tick-1.json", dead_letter({"event": TICK, "subscriber": "budget"}))
    rt.store.put(f"{DEAD_LETTERS}unfit/cut.json", b"{")
    code, said = replayed(monkeypatch, capsys, tmp_path, "--all", AMX_BUDGET_DAILY_TOTAL="500.00")
    assert code == 1 and "replayed budget-daily/tick-1.json" in said and "unfit/cut.json is damaged" in said, said
    assert "1 dead letter replayed, 1 kept" in said, said
    assert list(rt.store.list(DEAD_LETTERS)) == [f"{DEAD_LETTERS}unfit/cut.json"] and rt.store.head(RUN)


def test_every_function_routed_an_event_has_the_work_its_entry_point_runs():
    """The replay runs a function's event work by its name (handlers.events.work_of): its handler module is the one
    functions/<name>/main.py serves, and every function manifests/base routes an event to has work for it (the rules'
    actions aside, which receive runs wherever they go)."""
    import re

    from affiliate_matrix.events import ACTION_PREFIX
    from affiliate_matrix.handlers.events import HANDLER_OF, work_of
    from tests.support.events import plan
    from tests.support.processes import ROOT

    for main in sorted((ROOT / "functions").glob("*/main.py")):
        function = main.parent.name
        (module,) = re.findall(r"from affiliate_matrix\.handlers import entry_point, (\w+)", main.read_text())
        assert module == HANDLER_OF.get(function, function), function
    sent = {route.subscriber for route in plan().routes
            if not any(dialect == "exact" and dict(attributes).get("type", "").startswith(ACTION_PREFIX)
                       for dialect, attributes in route.filters)}
    sent |= {ping.sink for ping in plan().pings}
    assert sent and all(work_of(function) is not None for function in sent), sent


def test_under_amx_up_the_work_publishes_to_its_broker_as_the_function_it_runs(monkeypatch, capsys, tmp_path):
    """While `amx up` runs on the data dir, the events the replayed work publishes go to its Broker with that
    function's own token (its EventPolicy admits what the function may publish), and on to their Triggers: the index's
    program change reaches the triggers function, as it would from the index function itself."""
    from affiliate_matrix.events import PROGRAM_DELTA
    from affiliate_matrix.localrun.runner import LocalRuntime, held
    from tests.support.factories import make_record
    from tests.support.processes import ROOT
    from tests.support.receiver import Receiver
    from tests.support.wait import wait_until

    up = LocalRuntime(ROOT, tmp_path, port_base=0)  # its Broker and its issuer; no function started
    triggers = Receiver()
    up.router.urls["triggers"] = triggers.url
    lock = held(tmp_path, "up.lock")
    (tmp_path / "up.json").write_text(json.dumps({"router": up.router.url}))
    try:
        rt = Runtime("test", Settings(data_dir=tmp_path))
        batch = rt.store.put_content_addressed("batches/test", make_record(
            "Acme Shop", "https://acmeshop.com").model_dump_json().encode(), suffix=".jsonl")
        event = {**TICK, "id": "batch-1", "source": "/scrape/test", "type": "dev.affiliatematrix.raw.batch.stored",
                 "data": {"batch_key": batch}}
        rt.store.put(f"{DEAD_LETTERS}raw-batch-to-index/batch-1.json", dead_letter(
            {"event": event, "subscriber": "index", "reason": "HTTP 503"}))
        code, said = replayed(monkeypatch, capsys, tmp_path, "raw-batch-to-index/batch-1.json")
        assert code == 0 and "done by index" in said and "reached no function" not in said, said
        wait_until(lambda: up.router.outstanding == 0, "the Broker to deliver the index's events")
    finally:
        lock.close()
        up.stop()
        triggers.close()
    deltas = [body for body in triggers.json_bodies() if body["type"] == PROGRAM_DELTA]
    assert len(deltas) == 1 and deltas[0]["data"]["change"] == "created", triggers.json_bodies()
    assert not list(rt.store.list(DEAD_LETTERS))


@pytest.mark.slow
def test_a_letter_in_a_bucket_is_kept_with_its_new_reason_then_replayed_and_removed(monkeypatch, capsys, tmp_path,
                                                                                     s3_settings):
    """As an operator replays the cluster's letters: the functions' bucket on a real S3 server (moto_server), the
    letter as the sink parks it. Failed again, it is written over the one read (a conditional put on S3); done, it
    is deleted."""
    from affiliate_matrix.events import Event

    s3 = {"AMX_OBJECT_STORE": "s3", "AMX_S3_ENDPOINT_URL": s3_settings.s3_endpoint_url,
          "AMX_S3_BUCKET": s3_settings.s3_bucket,
          "AMX_S3_ACCESS_KEY_ID": s3_settings.s3_access_key_id.get_secret_value(),
          "AMX_S3_SECRET_ACCESS_KEY": s3_settings.s3_secret_access_key.get_secret_value()}
    for name, value in s3.items():
        monkeypatch.setenv(name, value)
    rt = with_campaigns(tmp_path)  # (settings from the environment: the bucket)
    assert rt.settings.object_store == "s3"
    event = Event.model_validate({**{k: v for k, v in TICK.items() if k not in ("specversion", "datacontenttype")},
                                  "rulechain": []}).model_dump(mode="json")
    letter = "dev.knative.sources.ping/tick-1.json"
    rt.store.put(DEAD_LETTERS + letter, dead_letter(
        {"event": event, "destination": "http://budget.affiliate-matrix.svc.cluster.local/", "reason": "HTTP 503"}))

    code, said = replayed(monkeypatch, capsys, tmp_path, letter)
    assert code == 1 and "AMX_BUDGET_DAILY_TOTAL: not set" in said, said
    kept = json.loads(rt.store.get(DEAD_LETTERS + letter).data)
    assert kept["reason"].startswith("replayed: AMX_BUDGET_DAILY_TOTAL: not set") and kept["event"] == event

    code, said = replayed(monkeypatch, capsys, tmp_path, letter, AMX_BUDGET_DAILY_TOTAL="500.00")
    assert code == 0 and "done by budget" in said, said
    assert rt.store.head(RUN) is not None and not list(rt.store.list(DEAD_LETTERS))


@pytest.mark.parametrize("where", ["local", pytest.param("s3", marks=pytest.mark.slow)])
def test_a_letter_too_large_to_read_is_listed_as_damaged_and_refused_by_replay_unread(monkeypatch, capsys, tmp_path,
                                                                                      request, where):
    """A letter larger than any parked (written by hand, or by whoever may write the bucket) was read whole by list and
    replay before its size was looked at: it is refused unread, as damaged, and the rest are listed."""
    from affiliate_matrix.config import load_settings
    from affiliate_matrix.handlers import dead_letters

    if where == "s3":
        request.getfixturevalue("on_s3")
    monkeypatch.setattr(dead_letters, "MAX_LETTER_BYTES", 100_000)  # 8 MiB as shipped: a smaller letter suffices
    store = Runtime("test", load_settings(data_dir=tmp_path)).store
    store.put(f"{DEAD_LETTERS}budget-daily/tick-1.json", dead_letter({"event": TICK, "subscriber": "budget"}))
    large = dead_letter({"event": {**TICK, "id": "large"}, "subscriber": "budget", "reason": "x" * 2_000_000})
    store.put(f"{DEAD_LETTERS}budget-daily/large.json", large)

    said = listed(monkeypatch, tmp_path)
    assert "2 dead letters" in said and "budget-daily/tick-1.json" in said, said
    assert "budget-daily/large.json" in said and (f"damaged: too large to read: {len(large):,} bytes, more than the "
                                                  "100,000 bytes a read of it takes") in said, said
    code, said = replayed(monkeypatch, capsys, tmp_path, "budget-daily/large.json")
    assert code == 2 and (f"dead letter budget-daily/large.json is {len(large):,} bytes, more than any letter parked "
                          "(100,000): not replayed") in said, said
    assert store.head(f"{DEAD_LETTERS}budget-daily/large.json") is not None  # left as it is


@pytest.mark.slow
def test_on_a_cluster_the_work_publishes_with_a_token_the_api_server_mints_for_the_function(monkeypatch, capsys,
                                                                                              tmp_path, kube_cluster):
    """The README's way on a cluster: the operator makes a token of the function's own account for the Broker
    (`kubectl create token fn-index --audience eventing.knative.dev/broker/<namespace>/default`, a real kube-apiserver
    here) and replays with AMX_EVENTS=http. The Broker (amx up's, checking the token against the API server's keys
    and manifests/base's EventPolicies as Knative's does) takes the index's program change and delivers it on; the
    same token of another function's account is refused, and the letter kept."""
    from affiliate_matrix.errors import AccessDenied
    from affiliate_matrix.events import PROGRAM_DELTA
    from affiliate_matrix.events.identity import broker_audience, issuer_for, verify
    from affiliate_matrix.localrun.router import Router
    from tests.support.events import plan
    from tests.support.factories import make_record
    from tests.support.receiver import Receiver
    from tests.support.wait import wait_until

    namespace = "affiliate-matrix"  # the one manifests/base's EventPolicies name their senders in
    kube_cluster.kubectl("create", "namespace", namespace, check=False)  # (made already by another test: taken)
    for account in ("fn-index", "fn-web"):
        kube_cluster.kubectl("create", "serviceaccount", account, "-n", namespace, check=False)
    discovery = json.loads(kube_cluster.kubectl("get", "--raw", "/.well-known/openid-configuration").stdout)
    (tmp_path / "jwks.json").write_text(kube_cluster.kubectl("get", "--raw", "/openid/v1/jwks").stdout)
    (tmp_path / "openid-configuration.json").write_text(json.dumps(
        {**discovery, "jwks_uri": (tmp_path / "jwks.json").as_uri()}))

    def admit(authorization, event):  # as LocalRuntime.admit, with the API server as the issuer
        claims = verify(authorization, issuer_for((tmp_path / "openid-configuration.json").as_uri()),
                        broker_audience(namespace), namespace)
        if event is not None and not plan().may_publish(claims["sub"], event):
            raise AccessDenied(f"{claims['sub']} may not publish {event.get('type')}")

    triggers = Receiver()
    data = tmp_path / "data"
    rt = Runtime("test", Settings(data_dir=data))
    broker = Router([r for r in plan().routes if r.subscriber == "triggers"], {"triggers": triggers.url}, rt.store,
                    admit=admit)
    try:
        batch = rt.store.put_content_addressed("batches/test", make_record(
            "Acme Shop", "https://acmeshop.com").model_dump_json().encode(), suffix=".jsonl")
        event = {**TICK, "id": "batch-1", "source": "/scrape/test", "type": "dev.affiliatematrix.raw.batch.stored",
                 "data": {"batch_key": batch}}
        letter = "raw-batch-to-index/batch-1.json"
        rt.store.put(DEAD_LETTERS + letter, dead_letter({"event": event, "subscriber": "index"}))
        token = tmp_path / "broker.jwt"
        settings = {"AMX_EVENTS": "http", "AMX_BROKER_URL": broker.url, "AMX_BROKER_TOKEN_PATH": str(token)}

        token.write_text(kube_cluster.service_account_token(namespace, "fn-web", broker_audience(namespace)))
        code, said = replayed(monkeypatch, capsys, data, letter, **settings)
        assert code == 1 and "fn-web may not publish dev.affiliatematrix.program.delta" in said, said
        assert rt.store.head(DEAD_LETTERS + letter) and not triggers.requests

        token.write_text(kube_cluster.service_account_token(namespace, "fn-index", broker_audience(namespace)))
        code, said = replayed(monkeypatch, capsys, data, letter, **settings)
        assert code == 0 and "done by index" in said, said
        wait_until(lambda: broker.outstanding == 0, "the Broker to deliver the index's events")
    finally:
        broker.close()
        triggers.close()
    deltas = [body for body in triggers.json_bodies() if body["type"] == PROGRAM_DELTA]
    assert len(deltas) == 1 and deltas[0]["data"]["change"] == "created", triggers.json_bodies()
    assert not list(rt.store.list(DEAD_LETTERS))
