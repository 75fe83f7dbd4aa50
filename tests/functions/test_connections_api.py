"""The connections function through functions-framework: conditional writes, roles, connection
tests and syncs that run end to end (the connections function publishes to a local broker
receiver, and the captured CloudEvent is delivered to the scrape function)."""

import json
import subprocess
import threading

import pytest
from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.runtime import Runtime
from tests.support.events import deliver
from tests.support.processes import BIN, ROOT
from tests.support.receiver import Receiver

SECRET = "sk-test-secret-value-98765"


@pytest.fixture(autouse=True)
def no_secret_in_any_log_line(capsys):
    """Every log line these tests produce is scanned for the test secret's value."""
    yield
    output = capsys.readouterr()
    assert SECRET not in output.out + output.err


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    return {"rt": rt, "read": {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"},
            "admin": {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}}


def app(name="connections"):
    return create_app("handle", str(ROOT / "functions" / name / "main.py")).test_client()


def body(**overrides):
    return {"id": "ap", "source": "affiliateprograms", "schedule": "0 3 * * *", "rate_limit_per_s": 20, **overrides}


def test_create_read_list(env):
    client = app()
    created = client.post("/connections", json=body(), headers=env["admin"])
    assert created.status_code == 201 and created.headers["Location"] == "/connections/ap"
    read = client.get("/connections/ap", headers=env["read"])
    assert read.headers["ETag"] == created.headers["ETag"] and read.get_json()["version"] == 0
    assert [c["id"] for c in client.get("/connections", headers=env["read"]).get_json()["items"]] == ["ap"]
    assert client.post("/connections", json=body(), headers=env["admin"]).status_code == 409


@pytest.mark.parametrize("payload,fragment", [
    (body(api_key=SECRET), "api_key"),
    (body(source="nope"), "source: 'nope' is not a source plugin"),
    (body(schedule="daily"), "schedule"),
    (body(schedule="99 99 99 99 99"), "schedule: '99 99 99 99 99': its minute field '99' is wrong: a minute is 0 to "
                                      "59"),  # five fields, but no cron
    (body(schedule="0 3 31 2 *"), "schedule: '0 3 31 2 *': its day-of-month field '31' names a day its month "
                                  "field '2' never has"),  # February has no 31st
    # fields apart by a line break or a tab were taken (whitespace to cron), and broke the row of amx connections list
    (body(schedule="0 3 * *\n*"), "schedule: holds U+000A"),
    (body(schedule="0\t3 * * *"), "schedule: holds U+0009"),
    # cron splits fields at any whitespace and upper-cases its names: these were stored and run as 0 3 * * * (SUN)
    (body(schedule="0\u30003 * * *"), "schedule: holds U+3000 (IDEOGRAPHIC SPACE) at character 2: a cron expression is "
                                      "ASCII"),
    (body(schedule="0 3\u00a0* * *"), "schedule: holds U+00A0 (NO-BREAK SPACE) at character 4"),
    (body(schedule="0 3 * * \u017fun"), "schedule: holds U+017F (LATIN SMALL LETTER LONG S) at character 9"),
    (body(id="Bad Id"), "id"),
    (body(version=3), "version: set by the server"),
    (body(generation="g_" + "0" * 32), "generation: set by the server"),
    (body(credentials_path="../../etc"), "credentials_path"),
    # credentials in the address were stored, shown to read tokens and echoed by the connection test
    (body(base_url=f"https://user:{SECRET}@example.com/"), "base_url: holds credentials"),
    (body(base_url=f"https://{SECRET}@example.com/"), "base_url: holds credentials"),
    # as was one in its query, as providers document their keys (?api_key=, ?token=, Google's ?key=)
    (body(base_url=f"https://example.com/v1/?api_key={SECRET}"), "base_url: holds a credential in its query"),
    (body(base_url=f"https://example.com/?page=1&token={SECRET}"), "base_url: holds a credential in its query"),
    (body(base_url=f"https://example.com/?key={SECRET}"), "base_url: holds a credential in its query"),
    # and under the names other providers give it, with a hyphen (?api-key=, ?x-api-key=, Azure's ?subscription-key=)
    # or naming what key it is (?access_key=, ?accessKey=, ?app_key=, ?private_key=): taken and shown to read tokens
    *[(body(base_url=f"https://example.com/v1/?{name}={SECRET}"), "base_url: holds a credential in its query")
      for name in ("api-key", "x-api-key", "Api%2DKey", "subscription-key", "access_key", "accessKey", "app_key",
                   "appkey", "private_key", "consumer_key", "license-key")],
])
def test_bad_connections_are_refused_naming_the_field(env, payload, fragment):
    response = app().post("/connections", json=payload, headers=env["admin"])
    assert response.status_code == 400 and fragment in response.get_json()["error"]["message"]
    assert SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize("rate", [5e-324, 0.001, 0, -1, 50.5, 1e308])
def test_a_rate_limit_outside_its_range_is_refused_naming_the_field_and_the_range(env, rate):
    """Any rate above 0 was taken: 5e-324 requests a second spaces requests by 1/5e-324 = inf seconds, so the
    connection's syncs never fetched a page again, saying nothing. A rate outside 0.01 (a request every 100 s) to
    50 a second is refused, naming the field and the range."""
    client = app()
    created = client.post("/connections", json=body(rate_limit_per_s=rate), headers=env["admin"])
    assert created.status_code == 400, created.get_json()
    assert created.get_json()["error"]["message"] == (
        f"rate_limit_per_s: {float(rate)!r} requests a second is outside 0.01 to 50 (at least one request every 100 s, "
        "at most 50 a second)")
    taken = client.post("/connections", json=body(rate_limit_per_s=0.01), headers=env["admin"])
    assert taken.status_code == 201, taken.get_json()
    patched = client.patch("/connections/ap", json={"rate_limit_per_s": rate},
                           headers={**env["admin"], "If-Match": taken.headers["ETag"]})
    assert patched.status_code == 400 and patched.get_json()["error"]["message"].startswith("rate_limit_per_s: ")
    env["rt"].store.put("connections/old.json", json.dumps({**body(id="old"), "rate_limit_per_s": rate}).encode())
    stored_before = client.get("/connections/old", headers=env["read"]).get_json()["error"]["message"]
    assert f"is damaged (rate_limit_per_s: {float(rate)!r} requests a second is outside 0.01 to 50" in stored_before


@pytest.mark.parametrize(("raw", "status"), [(b"not json", 400), (b"[1, 2]", 400),
                                             (b"{" + b" " * 70_000 + b"}", 413)])  # past the route's 64 KiB
def test_bodies_that_are_not_a_small_json_object_are_refused(env, raw, status):
    response = app().post("/connections", data=raw, headers={**env["admin"], "Content-Type": "application/json"})
    assert response.status_code == status


def test_a_last_sync_failure_quoting_a_credential_is_shown_to_a_read_token_without_it(env):
    """A failure recorded before runs named their requests without credentials (or by a run that named less) quoted a
    key's query parameter or a password whole to every read token; an admin token sees it as stored."""
    failure = f"list https://api.example.com/v1?api_key={SECRET}&page=2: HTTP 500"
    env["rt"].store.put("connections/ap.json", json.dumps({**body(), "last_sync": {
        "status": "failed", "errors": [failure, f"page https://robot:{SECRET}@example.com/: refused"]}}).encode())
    client = app()
    for answer in (client.get("/connections/ap", headers=env["read"]).get_json(),
                   client.get("/connections", headers=env["read"]).get_json()["items"][0]):
        assert answer["last_sync"]["errors"] == ["list https://api.example.com/v1?api_key=[redacted]&page=2: HTTP 500",
                                                 "page https://robot:[redacted]@example.com/: refused"]
    assert client.get("/connections/ap", headers=env["admin"]).get_json()["last_sync"]["errors"][0] == failure


def test_a_last_syncs_word_on_what_it_did_not_read_is_shown_to_a_read_token_without_a_credential(env):
    """A last sync's `incomplete` text (why it cannot tell what the connection no longer lists) may quote the request
    it stopped at, as its errors may: its errors were shown to a read token without credentials, it whole (the
    Connections page shows it); an admin token sees it as stored."""
    stopped = f"stopped at https://api.example.com/v1?api_key={SECRET}&page=3 (https://robot:{SECRET}@example.com/)"
    env["rt"].store.put("connections/ap.json", json.dumps({**body(), "last_sync": {
        "status": "succeeded", "incomplete": stopped}}).encode())
    client = app()
    for answer in (client.get("/connections/ap", headers=env["read"]).get_json(),
                   client.get("/connections", headers=env["read"]).get_json()["items"][0]):
        assert answer["last_sync"]["incomplete"] == ("stopped at https://api.example.com/v1?api_key=[redacted]&page=3 "
                                                     "(https://robot:[redacted]@example.com/)")
    assert client.get("/connections/ap", headers=env["admin"]).get_json()["last_sync"]["incomplete"] == stopped


def test_a_base_url_stored_with_a_credential_in_its_query_is_shown_to_a_read_token_without_it(env):
    """Such an address stored before writes refused it is shown to a read token as the logs show it; an admin token,
    which writes connections back whole, sees it as stored (and its write is refused until the credential is out)."""
    stored = json.loads(json.dumps(body(base_url=f"https://example.com/?api_key={SECRET}&page=1"), default=str))
    env["rt"].store.put("connections/ap.json", json.dumps({**stored, "version": 0}).encode())
    client = app()
    for answer in (client.get("/connections/ap", headers=env["read"]).get_json(),
                   client.get("/connections", headers=env["read"]).get_json()["items"][0]):
        assert answer["base_url"] == "https://example.com/?api_key=[redacted]&page=1"
    assert SECRET in client.get("/connections/ap", headers=env["admin"]).get_json()["base_url"]


def test_writes_need_if_match_and_a_current_etag(env):
    client = app()
    etag = client.post("/connections", json=body(), headers=env["admin"]).headers["ETag"]
    assert client.put("/connections/ap", json=body(enabled=False), headers=env["admin"]).status_code == 428
    assert client.put("/connections/ap", json=body(enabled=False),
                      headers={**env["admin"], "If-Match": '"stale"'}).status_code == 412
    replaced = client.put("/connections/ap", json=body(enabled=False), headers={**env["admin"], "If-Match": etag})
    assert replaced.status_code == 200 and replaced.get_json()["version"] == 1
    patched = client.patch("/connections/ap", json={"schedule": None, "concurrency": 4},
                           headers={**env["admin"], "If-Match": replaced.headers["ETag"]})
    assert patched.status_code == 200
    assert (patched.get_json()["schedule"], patched.get_json()["concurrency"], patched.get_json()["enabled"]) == \
        ("0 3 * * *", 4, False)
    assert client.patch("/connections/ap", json={"concurrency": 2},
                        headers={**env["admin"], "If-Match": replaced.headers["ETag"]}).status_code == 412
    assert client.delete("/connections/ap", headers={**env["admin"], "If-Match": etag}).status_code == 412
    deleted = client.delete("/connections/ap", headers={**env["admin"], "If-Match": patched.headers["ETag"]})
    assert deleted.status_code == 202 and deleted.get_json()["withdrawal"] == "queued"  # the withdrawal: an event
    assert client.get("/connections/ap", headers=env["read"]).status_code == 404


def test_a_connections_source_never_changes_on_put_or_patch(env):
    """A connection switched from one source to another kept its id and generation, so the records, claims, kept API
    answers (api-answers/<id>.json), HTTP cache and complete-run notes of the first were read as the second's. It is
    refused naming the field and the way out, a new connection; the same source written back is taken."""
    client, admin = app(), env["admin"]
    etag = client.post("/connections", json=body(), headers=admin).headers["ETag"]
    said = ("source: connection 'ap' is of source 'affiliateprograms', which never changes: what it collected is that "
            "source's; add a connection of source 'affiliatefix' (POST /connections, amx connections add) and delete "
            "this one")
    written = {**admin, "If-Match": etag}
    for refused in (client.patch("/connections/ap", json={"source": "affiliatefix"}, headers=written),
                    client.put("/connections/ap", json=body(source="affiliatefix"), headers=written)):
        assert refused.status_code == 400 and refused.get_json()["error"]["message"] == said, refused.get_json()
    stored = client.get("/connections/ap", headers=env["read"])
    assert stored.headers["ETag"] == etag and stored.get_json()["source"] == "affiliateprograms"
    kept = client.put("/connections/ap", json=body(concurrency=3), headers={**admin, "If-Match": etag})
    assert kept.status_code == 200 and kept.get_json()["source"] == "affiliateprograms"


def test_a_connection_has_a_generation_of_its_own_kept_by_edits_and_another_once_created_again(env):
    """Which creation of a connection it is: a run, a claim or a deletion's event of the one deleted is never taken
    for the one created again under its id."""
    import re

    client, admin = app(), env["admin"]
    first = client.post("/connections", json=body(), headers=admin)
    generation = first.get_json()["generation"]
    assert re.fullmatch(r"g_[0-9a-f]{32}", generation)
    assert client.get("/connections/ap", headers=env["read"]).get_json()["generation"] == generation
    replaced = client.put("/connections/ap", json=body(enabled=False), headers={**admin, "If-Match": first.headers[
        "ETag"]})
    patched = client.patch("/connections/ap", json={"concurrency": 4},
                           headers={**admin, "If-Match": replaced.headers["ETag"]})
    assert replaced.get_json()["generation"] == patched.get_json()["generation"] == generation
    refused = client.patch("/connections/ap", json={"generation": "g_" + "0" * 32},
                           headers={**admin, "If-Match": patched.headers["ETag"]})
    assert refused.status_code == 400 and "generation: set by the server" in refused.get_json()["error"]["message"]
    assert client.delete("/connections/ap", headers={**admin, "If-Match": patched.headers["ETag"]}).status_code == 202
    again = client.post("/connections", json=body(), headers=admin).get_json()["generation"]
    assert re.fullmatch(r"g_[0-9a-f]{32}", again) and again != generation
    document = client.get("/openapi.json").get_json()
    assert document["components"]["schemas"]["Connection"]["properties"]["generation"]["readOnly"] is True


def test_two_concurrent_patches_with_one_etag_one_wins_nothing_lost(env):
    etag = app().post("/connections", json=body(), headers=env["admin"]).headers["ETag"]
    barrier, results = threading.Barrier(2), {}

    def patcher(field, value):
        client = app()
        barrier.wait()
        results[field] = client.patch("/connections/ap", json={field: value},
                                      headers={**env["admin"], "If-Match": etag}).status_code

    threads = [threading.Thread(target=patcher, args=a) for a in (("concurrency", 5), ("rate_limit_per_s", 3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 412]
    winner = next(f for f, code in results.items() if code == 200)
    final = app().get("/connections/ap", headers=env["read"]).get_json()
    assert final[winner] == {"concurrency": 5, "rate_limit_per_s": 3}[winner] and final["version"] == 1


def test_roles(env):
    client = app()
    assert client.get("/connections").status_code == 401
    assert client.post("/connections", json=body(), headers=env["read"]).status_code == 403
    assert client.get("/connections", headers=env["read"]).status_code == 200
    assert client.get("/connections/ap/test", headers=env["admin"]).status_code == 405


def test_connection_tests_say_what_failed_in_words(env):
    client = app()
    env["rt"].secrets.write("connections/awin", {"api_token": SECRET, "publisher_id": "123456"})
    with recorded_sites("affiliateprograms", "awin") as urls:
        client.post("/connections", json=body(base_url=urls["affiliateprograms"]), headers=env["admin"])
        client.post("/connections", json=body(id="down", base_url="http://127.0.0.1:9"), headers=env["admin"])
        client.post("/connections", json=body(id="aw", source="awin", base_url=urls["awin"],
                                              credentials_path="connections/awin"), headers=env["admin"])
        client.post("/connections", json=body(id="nocreds", source="awin", base_url=urls["awin"], enabled=False,
                                              credentials_path="connections/missing"), headers=env["admin"])
        ok = client.post("/connections/ap/test", headers=env["admin"]).get_json()
        down = client.post("/connections/down/test", headers=env["admin"]).get_json()
        refused = client.post("/connections/aw/test", headers=env["admin"])
        missing = client.post("/connections/nocreds/test", headers=env["admin"]).get_json()
    assert ok["ok"] is True and [c["name"] for c in ok["checks"]] == ["reachable", "read"]  # the plugin read the page
    assert down["ok"] is False and "ConnectError" in down["checks"][0]["detail"]
    refused_body = refused.get_json()
    assert refused_body["ok"] is False and "refused" in refused_body["checks"][-1]["detail"]
    assert SECRET not in refused.get_data(as_text=True)
    # a missing secret path answers exactly as refused credentials do: the test is no oracle for which paths exist
    assert missing["ok"] is False and missing["checks"] == refused_body["checks"]
    assert "were refused, or are missing or incomplete" in missing["checks"][0]["detail"]


def test_a_provider_asking_to_be_asked_later_is_answered_reachable_not_judged_and_when(env):
    """The API's answer and `amx connections test` alike: the credentials neither ok nor failed but not judged (null),
    and the seconds of the provider's Retry-After."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app as amx
    from tests.support.loopback import Loopback

    client = app()
    env["rt"].secrets.write("connections/awin", {"api_token": SECRET, "publisher_id": "123456"})
    with Loopback(lambda request: (429, {"Retry-After": "90"}, b"{}")) as provider:
        client.post("/connections", json=body(id="aw", source="awin", base_url=provider.url,
                                              credentials_path="connections/awin"), headers=env["admin"])
        answer = client.post("/connections/aw/test", headers=env["admin"])
        said = CliRunner().invoke(amx, ["connections", "test", "aw"])
    assert answer.status_code == 200
    tested = answer.get_json()
    assert (tested["ok"], tested["retry_after_s"]) == (False, 90)
    assert [(c["name"], c["ok"]) for c in tested["checks"]] == [("reachable", True), ("credentials accepted", None)]
    assert said.exit_code == 1 and "credentials accepted: not judged — the provider asked to be asked later, " \
        "before judging them; test again in 90 s (its Retry-After)" in " ".join(said.output.split())


@pytest.mark.parametrize("loopback_allowed", [True, False], ids=["loopback-allowed", "loopback-not-allowed"])
def test_a_base_url_written_as_a_non_public_address_is_refused_when_written(env, monkeypatch, loopback_allowed):
    """A connection whose base_url was a private, link-local or loopback address written out (or localhost) was
    stored, and only each fetch refused it: the connection failed every run. It is refused when written (API and
    CLI), naming base_url and the kind of address, as the fetch guard judges it (netguard), with no lookup; loopback
    only where AMX_ALLOW_LOOPBACK_FETCH allows it (recorded sites). A name is still judged when it is resolved."""
    import socket

    from typer.testing import CliRunner

    from affiliate_matrix.cli import app as amx

    def no_lookup(host, *args, **kwargs):
        raise AssertionError(f"looked up {host}")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", str(loopback_allowed).lower())
    client = app()
    refused = {"http://10.0.0.5/": "private or special-purpose", "http://169.254.169.254/latest/": "link-local",
               "http://[::ffff:192.168.1.1]/": "an IPv6 address carrying a private or special-purpose IPv4 one",
               "http://0.0.0.0:8080/": "unspecified", "http://[fe80::1]/": "link-local"}
    loopback = {"http://127.0.0.1:9/": "loopback", "http://localhost:8080/": "loopback",
                "http://LOCALHOST./": "loopback", "http://[::1]/": "loopback", "http://api.localhost/": "loopback"}
    for number, (address, kind) in enumerate({**refused, **({} if loopback_allowed else loopback)}.items()):
        answer = client.post("/connections", json=body(id=f"c{number}", base_url=address), headers=env["admin"])
        assert answer.status_code == 400, (address, answer.get_json())
        # a loopback one says what lets a sync reach a site served on this machine (a newcomer's recorded copy)
        allowed_by = "; AMX_ALLOW_LOOPBACK_FETCH=true where syncs run allows a loopback one" if kind == "loopback" else ""
        assert answer.get_json()["error"]["message"] == (
            f"base_url: its host is a non-public address ({kind}), which a sync never fetches from{allowed_by}"), address
        said = CliRunner().invoke(amx, ["connections", "add", f"c{number}", "--source", "affiliateprograms",
                                        "--base-url", address])  # the same words, named by the option typed
        shown = " ".join(said.output.replace("│", " ").split())
        api_said = answer.get_json()["error"]["message"].removeprefix("base_url: ")
        assert said.exit_code == 2 and f"Invalid value for '--base-url': {api_said}" in shown, (address, shown)
    assert [c["id"] for c in client.get("/connections", headers=env["read"]).get_json()["items"]] == []
    taken = ["https://affiliateprograms.example/", "http://inside.test/"] + (list(loopback) if loopback_allowed else [])
    for number, address in enumerate(taken):  # a name is judged at each fetch, when it is resolved
        assert client.post("/connections", json=body(id=f"ok{number}", base_url=address),
                           headers=env["admin"]).status_code == 201, address


def test_a_connection_test_refusing_a_private_address_names_the_host_not_the_address(env, monkeypatch, capsys):
    """Whoever can add a source must not learn by it what an internal name resolves to, nor whether it resolves: the
    check names the host, and says a name that does not resolve as it says one resolving to an address refused."""
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "nowhere.test":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real("10.1.2.3" if host == "inside.test" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    client = app()
    answers = {}
    for host in ("inside.test", "nowhere.test"):
        client.post("/connections", json=body(id=host[:2], base_url=f"http://{host}/"), headers=env["admin"])
        answers[host] = client.post(f"/connections/{host[:2]}/test", headers=env["admin"])
        (check,) = answers[host].get_json()["checks"]
        assert check["ok"] is False and check["detail"] == (
            f"{host} does not resolve, or resolves to a non-public address, which a sync never fetches from "
            "(AMX_ALLOW_LOOPBACK_FETCH=true where syncs run allows a loopback one)"), check
    assert answers["nowhere.test"].get_json() == json.loads(
        answers["inside.test"].get_data(as_text=True).replace("inside.test", "nowhere.test"))
    logged = capsys.readouterr()
    assert "10.1.2.3" not in answers["inside.test"].get_data(as_text=True) + logged.out + logged.err


@pytest.fixture
def broker(monkeypatch):
    """A local receiver as the functions' Broker: what they publish, captured for a test to deliver."""
    receiver = Receiver()
    monkeypatch.setenv("AMX_EVENTS", "http")
    monkeypatch.setenv("AMX_BROKER_URL", receiver.url)
    yield receiver
    receiver.close()


def test_a_sync_is_accepted_then_runs_and_reports(env, broker):
    client = app()
    with recorded_sites("affiliateprograms") as urls:
        client.post("/connections", json=body(base_url=urls["affiliateprograms"]), headers=env["admin"])
        accepted = client.post("/connections/ap/sync", headers=env["admin"])
        assert accepted.status_code == 202
        location = accepted.headers["Location"]
        assert client.get(location, headers=env["read"]).get_json()["status"] == "queued"
        (delivery,) = broker.requests  # what the broker got, delivered to the scrape function as Knative would
        scrape_app = app("scrape")
        assert deliver(scrape_app, json.loads(delivery.body), "scrape").status_code == 204
    done = client.get(location, headers=env["read"]).get_json()
    assert (done["status"], done["records"], done["pages"]) == ("succeeded", 6, 10)
    assert len(done["errors"]) == 1 and "surfshark" in done["errors"][0]
    last = client.get("/connections/ap", headers=env["read"]).get_json()["last_sync"]
    assert last["status"] == "succeeded" and last["records"] == 6
    assert client.get("/syncs/s_" + "0" * 32, headers=env["read"]).status_code == 404


def test_a_replay_is_accepted_then_parses_the_kept_answers_with_no_network(env, broker):
    """POST /connections/{id}/replay, as `amx replay`: the sync function runs the plugin on the API's kept answers, the
    recorded API stopped by then. An API connection with no answers kept is refused, not queued to fail."""
    from affiliate_matrix.sync_requests import load_sync

    client = app()
    with recorded_sites("clickbank") as urls:
        client.post("/connections", json=body(id="cb", source="clickbank", base_url=urls["clickbank"]),
                    headers=env["admin"])
        refused = client.post("/connections/cb/replay", headers=env["admin"])
        said = refused.get_json()["error"]["message"]
        assert refused.status_code == 400 and "cb has no API answers kept to replay" in said, said
        assert broker.requests == []
        synced = client.post("/connections/cb/sync", headers=env["admin"])
        deliver(app("sync"), json.loads(broker.requests[0].body), "sync")
        assert load_sync(env["rt"], synced.get_json()["id"]).records == 4
    assert client.post("/connections/cb/replay", headers=env["read"]).status_code == 403
    accepted = client.post("/connections/cb/replay", headers=env["admin"])
    assert accepted.status_code == 202 and accepted.get_json()["replay"] is True, accepted.get_json()
    *_, asked = (json.loads(r.body) for r in broker.requests if b"sync.requested" in r.body)
    assert asked["data"]["replay"] is True and asked["data"]["sync_id"] == accepted.get_json()["id"]
    assert deliver(app("sync"), asked, "sync").status_code == 204
    done = client.get(accepted.headers["Location"], headers=env["read"]).get_json()
    assert (done["status"], done["records"], done["errors"], done["replay"]) == ("succeeded", 4, [], True)


def test_a_replay_of_answers_kept_past_their_bound_is_refused_naming_them_and_not_queued(env, broker, monkeypatch):
    """The answers kept were read whole by POST /connections/{id}/replay (checking that there are some) whatever their
    size: past storage.MAX_API_ANSWERS_BYTES they are refused unread, as damaged, in the answer itself (the record, its
    size and the bound, and what makes them anew), and no replay is queued to fail."""
    from affiliate_matrix import sync

    client = app()
    with recorded_sites("clickbank") as urls:
        client.post("/connections", json=body(id="cb", source="clickbank", base_url=urls["clickbank"]),
                    headers=env["admin"])
        client.post("/connections/cb/sync", headers=env["admin"])
        assert deliver(app("sync"), json.loads(broker.requests[0].body), "sync").status_code == 204
    kept = env["rt"].store.get("api-answers/cb.json").data
    monkeypatch.setattr(sync, "MAX_API_ANSWERS_BYTES", len(kept) - 1)  # 32 MiB as shipped: the record as it is suffices
    asked = len(broker.requests)
    refused = client.post("/connections/cb/replay", headers=env["admin"])
    said = refused.get_json()["error"]["message"]
    assert refused.status_code == 500 and said == (
        f"api-answers/cb.json is damaged (too large to read: {len(kept):,} bytes, more than the {len(kept) - 1:,} bytes "
        "a read of it takes): amx scrape cb syncs it again"), refused.get_json()
    assert len(broker.requests) == asked


def test_a_sync_asked_of_a_function_served_alone_on_the_embedded_bus_says_it_is_not_run_and_what_runs_it(env):
    """On the embedded defaults (AMX_EVENTS=inprocess) the connections function served alone has nothing that takes
    a sync's request (only `amx up` runs a Broker): the sync answered 202 queued and stayed queued for good, with no
    word of why. Its record says it is not run, why, and what runs it; it is no run of the connection's."""
    client = app()
    client.post("/connections", json=body(), headers=env["admin"])
    asked = client.post("/connections/ap/sync", headers=env["admin"])
    assert asked.status_code == 202, asked.get_json()
    said = asked.get_json()
    assert said["status"] == "skipped" and said["published_at"] is None, said
    (why,) = said["errors"]
    assert why.startswith("not run: nothing here runs it (the embedded event bus, AMX_EVENTS=inprocess, with this "
                          "function served alone, delivers no sync request)"), why
    assert "`amx scrape ap`" in why and "`amx up`" in why
    assert client.get(asked.headers["Location"], headers=env["read"]).get_json() == said
    assert client.get("/connections/ap", headers=env["read"]).get_json()["last_sync"] is None


def test_a_connection_whose_credentials_were_refused_is_skipped_by_the_schedule_until_a_test_passes(env, monkeypatch):
    """A provider refusing a connection's credentials marks it unhealthy; the scheduled sync then passes it over and
    says so (its provider is not called with refused keys every run: that can lock the account), an edit keeps the
    mark, a person's sync of that one connection still tries it, and a passing test clears the mark."""
    from datetime import UTC, datetime

    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.demo import RECORDED_CREDENTIALS
    from affiliate_matrix.events import SYNC_REQUESTED
    from affiliate_matrix.pipeline import scrape
    from affiliate_matrix.sync_requests import load_sync, request_due

    rt = env["rt"]
    requested = []
    # this runtime's embedded bus, opened before the variables below point the function's at a Broker (a runtime
    # reads its event settings on first use)
    rt.bus.subscribe(SYNC_REQUESTED, requested.append)
    receiver = Receiver()  # the connections function's Broker: takes a person's request
    monkeypatch.setenv("AMX_EVENTS", "http")
    monkeypatch.setenv("AMX_BROKER_URL", receiver.url)
    client, tick = app(), datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
    rt.secrets.write("connections/cj", {"api_token": SECRET, "requestor_cid": "7811141"})
    with recorded_sites("cj") as urls:
        client.post("/connections", json=body(id="cj", source="cj", base_url=urls["cj"], schedule="0 6 * * *",
                                              credentials_path="connections/cj"), headers=env["admin"])
        report = scrape(rt, "cj")  # the provider answers 401
        assert report.records == 0 and "credentials were refused" in report.failures[0].reason
        marked = load_connection(rt.store, "cj")[0]
        assert marked.healthy is False and marked.health_reason.startswith("credentials refused at ")

        (skipped,) = request_due(rt, "api", tick, 15)
        said = f"skipped: {marked.health_reason}; re-test it or re-add its key"
        assert (skipped.status, skipped.errors) == ("skipped", [said]) and requested == []
        assert load_sync(rt, skipped.id).status == "skipped"
        shown = client.get("/connections/cj", headers=env["read"])
        assert shown.get_json()["last_sync"]["status"] == "skipped" and shown.get_json()["last_sync"]["errors"] == [said]
        edited = client.patch("/connections/cj", json={"concurrency": 3},
                              headers={**env["admin"], "If-Match": shown.headers["ETag"]})
        assert edited.status_code == 200 and edited.get_json()["healthy"] is False  # an edit is no cure
        assert client.patch("/connections/cj", json={"healthy": True}, headers={
            **env["admin"], "If-Match": edited.headers["ETag"]}).status_code == 400  # set by the server

        asked = client.post("/connections/cj/sync", headers=env["admin"])  # a person asks for this one: tried
        receiver.close()
        assert asked.status_code == 202 and asked.get_json()["status"] == "queued"
        assert [json.loads(r.body)["data"]["connection_id"] for r in receiver.requests] == ["cj"]
        assert client.post("/connections/cj/test", headers=env["admin"]).get_json()["ok"] is False
        assert load_connection(rt.store, "cj")[0].healthy is False  # a failing test clears nothing

        rt.secrets.write("connections/cj", RECORDED_CREDENTIALS["cj"])  # the key fixed
        passed = client.post("/connections/cj/test", headers=env["admin"]).get_json()
        assert passed["ok"] is True, passed
        assert (load_connection(rt.store, "cj")[0].healthy, load_connection(rt.store, "cj")[0].health_reason) == \
            (True, None)
        (again,) = request_due(rt, "api", tick.replace(day=23), 15)  # its next tick (one tick requests once)
        assert again.status == "queued" and [e.data["connection_id"] for e in requested] == ["cj"]


def test_a_disabled_connection_does_not_sync(env):
    client = app()
    client.post("/connections", json=body(enabled=False), headers=env["admin"])
    assert client.post("/connections/ap/sync", headers=env["admin"]).status_code == 409


def test_credentials_go_only_to_their_sources_own_domain(env, monkeypatch):
    """An admin token could point a connection of an API source at a host of theirs with any stored credential's
    path, and the connection test or a sync sent that credential there. Now such a write is a 400 naming base_url
    (the source's own domain and non-public addresses, the recorded sites, are still fine), and a connection
    stored so before is tested and synced without the host being so much as looked up."""
    import socket

    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.pipeline import scrape

    looked_up = []
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: looked_up.append(host) or real(host, *a, **k))
    client = app()
    env["rt"].secrets.write("connections/awin", {"api_token": SECRET, "publisher_id": "123456"})
    aw = body(id="aw", source="awin", credentials_path="connections/awin")
    for address in ("https://collector.example/", "https://awin.com.collector.example", "http://[::ffff:8.8.8.8]/"):
        refused = client.post("/connections", json={**aw, "base_url": address}, headers=env["admin"])
        assert refused.status_code == 400, address
        assert "base_url: " in refused.get_json()["error"]["message"]
        assert "where the credentials of source 'awin' are sent" in refused.get_json()["error"]["message"]
    assert client.post("/connections", json={**aw, "base_url": "https://sandbox.awin.com/"},
                       headers=env["admin"]).status_code == 201
    assert client.post("/connections", json=body(id="dir", base_url="https://mirror.example/"),
                       headers=env["admin"]).status_code == 201  # a directory sends no credentials: any address
    save_connection(env["rt"].store, Connection(id="old", source="awin", base_url="https://collector.example/",
                                                credentials_path="connections/awin"))
    tested = client.post("/connections/old/test", headers=env["admin"])
    assert tested.status_code == 200 and tested.get_json()["ok"] is False
    with pytest.raises(InvalidInput, match="'collector.example' is outside awin.com"):
        scrape(env["rt"], "old")
    assert "collector.example" not in looked_up


def test_credentials_go_to_their_sources_public_host_only_over_https(env, monkeypatch):
    """A connection of an API source could name its own provider's host over http (http://api.awin.com/), and its
    test and every sync sent the bearer token in the clear, to anyone on the way. Now such a write is a 400 naming
    base_url and https; one stored so before is tested and synced without the host being so much as looked up. A
    non-public address (the recorded sites) is still taken over http."""
    import socket

    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.pipeline import scrape

    looked_up = []
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: looked_up.append(host) or real(host, *a, **k))
    client = app()
    env["rt"].secrets.write("connections/awin", {"api_token": SECRET, "publisher_id": "123456"})
    aw = body(id="aw", source="awin", credentials_path="connections/awin")
    for address in ("http://api.awin.com/", "http://sandbox.awin.com:8080/v1/"):
        refused = client.post("/connections", json={**aw, "base_url": address}, headers=env["admin"])
        assert refused.status_code == 400, address
        assert refused.get_json()["error"]["message"].startswith("base_url: http:// sends the credentials of source "
                                                                 "'awin' unencrypted: give an https:// address")
    assert client.post("/connections", json={**aw, "base_url": "http://127.0.0.1:8080/"},
                       headers=env["admin"]).status_code == 201  # loopback: AMX_ALLOW_LOOPBACK_FETCH, as here
    save_connection(env["rt"].store, Connection(id="old", source="awin", base_url="http://api.awin.com/",
                                                credentials_path="connections/awin"))
    tested = client.post("/connections/old/test", headers=env["admin"])
    assert tested.status_code == 200 and tested.get_json()["ok"] is False
    with pytest.raises(InvalidInput, match="sends the credentials of source 'awin' unencrypted"):
        scrape(env["rt"], "old")
    assert "api.awin.com" not in looked_up


def test_a_connection_naming_another_sources_key_is_refused_on_write_and_reported_on_use(env):
    """A connection of one source could name the key added for another (amx keys add --source awin), and the write
    was taken without a word: the key went to the wrong provider, refused there (never elsewhere: credentials go
    only to the source's own domain). Now a write naming it is a 400 naming the key and both sources; one stored
    so before is still listed, and its test and its sync say what is wrong."""
    from datetime import UTC, datetime

    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.keys import KeyRecord, add_key
    from affiliate_matrix.pipeline import scrape

    rt, client = env["rt"], app()
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    add_key(rt, KeyRecord(path="connections/awin-main", rotation="manual", owner_source="awin", created_at=now),
            {"api_token": SECRET, "publisher_id": "123456"})
    add_key(rt, KeyRecord(path="connections/cj-main", rotation="manual", owner_source="cj", created_at=now),
            {"api_token": SECRET, "requestor_cid": "7811141"})
    said = ("credentials_path: the key at 'connections/awin-main' was added for source 'awin', not 'cj': name a key "
            "added for source 'cj' (amx keys add --source cj)")  # not "source 'awin''s", quotes run together
    cj = body(id="cj", source="cj", credentials_path="connections/awin-main")
    refused = client.post("/connections", json=cj, headers=env["admin"])
    assert (refused.status_code, refused.get_json()["error"]["message"]) == (400, said)
    created = client.post("/connections", json={**cj, "credentials_path": "connections/cj-main"}, headers=env["admin"])
    assert created.status_code == 201
    for write, change in ((client.patch, {"credentials_path": "connections/awin-main"}), (client.put, cj)):
        changed = write("/connections/cj", json=change, headers={**env["admin"], "If-Match": created.headers["ETag"]})
        assert (changed.status_code, changed.get_json()["error"]["message"]) == (400, said)
    assert client.post("/connections", json=body(id="aw", source="awin", credentials_path="connections/awin-main"),
                       headers=env["admin"]).status_code == 201  # its own source's key

    save_connection(rt.store, Connection(id="old", source="cj", credentials_path="connections/awin-main"))
    listed = client.get("/connections", headers=env["read"])
    assert listed.status_code == 200 and [c["id"] for c in listed.get_json()["items"]] == ["aw", "cj", "old"]
    tested = client.post("/connections/old/test", headers=env["admin"]).get_json()
    assert tested["ok"] is False and tested["checks"][0]["detail"] == said.removeprefix("credentials_path: ")
    with pytest.raises(InvalidInput, match="connection 'old': credentials_path: the key at 'connections/awin-main'"):
        scrape(rt, "old")


def test_a_passing_test_clears_only_the_mark_the_connection_had_when_it_was_tested(env, monkeypatch):
    """A test takes seconds (a provider's answer); a sync refused meanwhile marks the connection again, or an admin
    points it at other credentials. The passing test cleared whatever mark was there by then, so the scheduled syncs
    sent the refused key again every run (what the mark exists to stop: it can lock the account). It clears the mark
    it saw, of the connection as it read it; a mark set since, or credentials or an address changed since, stay."""
    from datetime import UTC, datetime

    from affiliate_matrix import connection_test
    from affiliate_matrix.connections import load_connection, mark_refused
    from affiliate_matrix.demo import RECORDED_CREDENTIALS

    rt, client = env["rt"], app()
    real_check = connection_test.check
    rt.secrets.write("connections/cj", RECORDED_CREDENTIALS["cj"])
    rt.secrets.write("connections/cj-other", {"api_token": SECRET, "requestor_cid": "7811141"})
    with recorded_sites("cj") as urls:
        client.post("/connections", json=body(id="cj", source="cj", base_url=urls["cj"], schedule="0 6 * * *",
                                              credentials_path="connections/cj"), headers=env["admin"])
        mark_refused(rt, load_connection(rt.store, "cj")[0], RECORDED_CREDENTIALS["cj"],
                     datetime(2026, 11, 22, 6, 0, tzinfo=UTC))

        def refused_meanwhile(rt_, connection, **how):
            answer = real_check(rt_, connection, **how)
            mark_refused(rt, connection, RECORDED_CREDENTIALS["cj"],
                         datetime(2026, 11, 22, 6, 1, tzinfo=UTC))  # a sync refused while it ran
            return answer

        monkeypatch.setattr(connection_test, "check", refused_meanwhile)
        assert client.post("/connections/cj/test", headers=env["admin"]).get_json()["ok"] is True
        marked = load_connection(rt.store, "cj")[0]
        assert (marked.healthy, marked.health_reason) == (
            False, "credentials refused at 2026-11-22 06:01:00 UTC (key version 1)")  # as the CLI says a time

        def repointed_meanwhile(rt_, connection, **how):
            answer = real_check(rt_, connection, **how)
            etag = client.get("/connections/cj", headers=env["read"]).headers["ETag"]
            assert client.patch("/connections/cj", json={"credentials_path": "connections/cj-other"},
                                headers={**env["admin"], "If-Match": etag}).status_code == 200
            return answer

        monkeypatch.setattr(connection_test, "check", repointed_meanwhile)
        assert client.post("/connections/cj/test", headers=env["admin"]).get_json()["ok"] is True
        assert load_connection(rt.store, "cj")[0].healthy is False  # the key it names now was never tested

        monkeypatch.setattr(connection_test, "check", real_check)
        assert client.post("/connections/cj/test", headers=env["admin"]).get_json()["ok"] is False
        etag = client.get("/connections/cj", headers=env["read"]).headers["ETag"]
        client.patch("/connections/cj", json={"credentials_path": "connections/cj", "concurrency": 3},
                     headers={**env["admin"], "If-Match": etag})
        assert client.post("/connections/cj/test", headers=env["admin"]).get_json()["ok"] is True
        assert load_connection(rt.store, "cj")[0].healthy is True  # nothing changed while this one ran


@pytest.mark.parametrize("change", ["credentials_path", "base_url", "created again"])
def test_a_refused_sync_marks_only_the_connection_it_read(env, monkeypatch, capsys, change):
    """A sync takes minutes; an admin points the connection at a new key or address meanwhile, or deletes it and
    creates it again. The old sync's refusal marked the new settings as refusing, and the schedule stopped syncing
    them until someone re-tested. Its refusal is of the connection it read: one changed since keeps its health, and
    the log says why the refusal was not marked."""
    from affiliate_matrix import pipeline
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.demo import RECORDED_CREDENTIALS

    rt, client = env["rt"], app()
    rt.secrets.write("connections/cj", {"api_token": SECRET, "requestor_cid": "7811141"})  # the provider answers 401
    rt.secrets.write("connections/cj-new", RECORDED_CREDENTIALS["cj"])
    real_sync = pipeline.sync
    with recorded_sites("cj") as urls:
        cj = body(id="cj", source="cj", base_url=urls["cj"], credentials_path="connections/cj")
        client.post("/connections", json=cj, headers=env["admin"])

        def changed_meanwhile(*args, **kwargs):
            items = real_sync(*args, **kwargs)
            etag = client.get("/connections/cj", headers=env["read"]).headers["ETag"]
            if change == "created again":
                assert client.delete("/connections/cj", headers={**env["admin"], "If-Match": etag}).status_code == 202
                assert client.post("/connections", json=cj, headers=env["admin"]).status_code == 201
            else:
                edit = {"credentials_path": "connections/cj-new"} if change == "credentials_path" else {
                    "base_url": urls["cj"].rstrip("/") + "/v2/"}
                assert client.patch("/connections/cj", json=edit,
                                    headers={**env["admin"], "If-Match": etag}).status_code == 200
            return items

        monkeypatch.setattr(pipeline, "sync", changed_meanwhile)
        report = pipeline.scrape(rt, "cj")
    assert "credentials were refused" in report.failures[0].reason
    now = load_connection(rt.store, "cj")[0]
    assert (now.healthy, now.health_reason) == (True, None)
    logged = capsys.readouterr()
    assert "scrape.refusal_not_marked" in logged.out + logged.err
    assert ("generation" if change == "created again" else change) in logged.out + logged.err
    assert SECRET not in logged.out + logged.err


@pytest.mark.parametrize("broker", ["down", "refusing the event", "taking it but answering late"])
def test_a_sync_whose_request_is_not_published_is_recorded_failed_and_answered_503(env, monkeypatch, broker):
    """POST /connections/{id}/sync wrote the sync's record, queued, then published its request; when the broker did
    not take it the caller got an error (a 503 saying only that a backend was unavailable, or a 400 for the broker's
    own refusal) and the record said queued for good, though nothing would ever run it. Now the answer is a 503
    naming the broker and the sync, and the record, and the connection's last_sync, say failed and why; a record
    that the run moved on (the broker took the event after all) is left to the run."""
    from affiliate_matrix import runtime
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.events import EventBus
    from affiliate_matrix.sync_requests import Sync, update_sync

    receiver = None
    if broker != "refusing the event":
        class Down(EventBus):
            def publish(self, event):
                if broker == "taking it but answering late":
                    update_sync(env["rt"], event.data["sync_id"], status="running")
                raise BackendUnavailable(f"broker did not accept event {event.id}: ConnectError")

        monkeypatch.setattr(runtime, "open_event_bus", lambda settings: Down())
    else:
        receiver = Receiver(statuses=[400])  # not retried: the broker's word on the event
        monkeypatch.setenv("AMX_EVENTS", "http")
        monkeypatch.setenv("AMX_BROKER_URL", receiver.url)
    try:
        client = app()
        client.post("/connections", json=body(), headers=env["admin"])
        answer = client.post("/connections/ap/sync", headers=env["admin"])
    finally:
        if receiver:
            receiver.close()
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    message = answer.get_json()["error"]["message"]
    assert message.startswith("the event broker did not take the request of sync s_"), message
    sync_id = message.split("sync ", 1)[1].split(",")[0]
    (key,) = env["rt"].store.list("syncs/")
    record = Sync.model_validate_json(env["rt"].store.get(key).data)
    if broker == "taking it but answering late":
        assert (record.id, record.status, record.errors) == (sync_id, "running", [])
        return
    assert (record.id, record.status, record.finished_at is not None) == (sync_id, "failed", True)
    assert record.errors[0].startswith("its request was not published, so nothing runs it; ask again: ")
    shown = client.get(f"/syncs/{sync_id}", headers=env["read"]).get_json()
    assert shown["status"] == "failed"
    last = client.get("/connections/ap", headers=env["read"]).get_json()["last_sync"]
    assert (last["status"], last["errors"]) == ("failed", record.errors)


def test_a_requested_sync_whose_crawl_stopped_at_its_page_budget_says_so(tmp_path, monkeypatch):
    """A crawl stops at the pages its host's pace fits in the function's time limit, and its report and `amx scrape`
    say it is incomplete and how many pages it left; the requested sync's record (GET /syncs/{id}) and the
    connection's last_sync said succeeded with so many pages and nothing more, as if the directory were read whole.
    Now they say why the run is incomplete. On a fake clock: the waits are asked for, none is waited."""
    from functools import partial

    from affiliate_matrix import pipeline
    from affiliate_matrix.connections import Connection, load_connection, save_connection
    from affiliate_matrix.events import SCRAPE_REQUESTED
    from affiliate_matrix.fetch import Fetcher
    from affiliate_matrix.handlers.scrape import collect
    from affiliate_matrix.polite import HostLimits
    from affiliate_matrix.sync_requests import load_sync, request_sync
    from tests.support.clock import FakeTime

    monkeypatch.setattr(pipeline, "Fetcher", partial(Fetcher, **FakeTime().options(HostLimits())))
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True, crawl_time_limit_s=9))  # 6 pages
    requested = []
    rt.bus.subscribe(SCRAPE_REQUESTED, requested.append)
    with recorded_sites("affiliateprograms") as urls:
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             rate_limit_per_s=1))
        sync = request_sync(rt, load_connection(rt.store, "ap")[0], explicit=True)
        collect(rt, requested[0])
    said = ("stopped at its time budget after 6 pages (the waits the host's pace and its answers' Retry-After asked "
            "for fit no more in the function's time limit) with 4 left queued, asked for first next run")
    done = load_sync(rt, sync.id)
    assert (done.status, done.pages, done.incomplete) == ("succeeded", 6, said)
    assert load_connection(rt.store, "ap")[0].last_sync.incomplete == said


@pytest.mark.parametrize("connection_id", ["E-S401", "impact_main", "-x", "a" * 64])
def test_a_connection_id_is_refused_in_words_not_as_a_pattern(env, tmp_path, connection_id):
    """A connection id with a capital or an underscore was refused as "id: String should match pattern
    '^[a-z0-9][a-z0-9-]{0,62}$'" (the API) or "invalid id: String should match …" (`amx connections add`), a regular
    expression for a newcomer to decode; rule ids were said in words already."""
    refused = app().post("/connections", json=body(id=connection_id), headers=env["admin"])
    said = refused.get_json()["error"]["message"]
    assert refused.status_code == 400 and "pattern" not in said, said
    assert f"'{connection_id[:20]}" in said and "lower-case letters, digits and '-'" in said, said
    added = subprocess.run([str(BIN / "amx"), "connections", "add", "--source", "impact", "--", connection_id],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    told = " ".join(added.stderr.split())
    assert added.returncode == 2 and "pattern" not in told and "lower-case letters, digits and '-'" in told, told


def test_a_connection_naming_no_usable_key_is_refused_when_written_not_at_its_first_sync(env):
    """A credentials_path with no key there (or a key lacking a field its source reads) was stored: the user learnt it
    at the first sync, perhaps hours later from a cron tick. Refused when written, naming the path, the fields the
    source reads and how to add them, the same words whether the key is missing or incomplete (as the connection test
    tells them apart no more); written disabled it is taken (a caller provisioning the connection before its key), and
    enabling it checks the key. An edit that does not point it at another key keeps working once the key is gone."""
    client, admin, rt = app(), env["admin"], env["rt"]
    awin = {"id": "aw", "source": "awin", "credentials_path": "connections/aw"}
    refusal = ("credentials_path: no key at 'connections/aw' holds what source 'awin' reads (api_token, publisher_id): "
               "add it first (amx keys add connections/aw --rotation manual --source awin), or write the connection "
               "disabled (enabled: false; amx connections add --disabled) until it is there")
    missing = client.post("/connections", json=awin, headers=admin)
    assert missing.status_code == 400 and missing.get_json()["error"]["message"] == refusal
    rt.secrets.write("connections/aw", {"api_token": SECRET})
    lacking = client.post("/connections", json=awin, headers=admin)
    assert lacking.status_code == 400 and lacking.get_json()["error"]["message"] == refusal
    assert SECRET not in lacking.get_data(as_text=True)
    assert client.get("/connections/aw", headers=env["read"]).status_code == 404  # nothing written
    disabled = client.post("/connections", json={**awin, "enabled": False}, headers=admin)
    assert disabled.status_code == 201, disabled.get_json()
    enabling = client.patch("/connections/aw", json={"enabled": True},
                            headers={**admin, "If-Match": disabled.headers["ETag"]})
    assert enabling.status_code == 400 and enabling.get_json()["error"]["message"] == refusal
    rt.secrets.write("connections/aw", {"api_token": SECRET, "publisher_id": "12345"})
    enabled = client.patch("/connections/aw", json={"enabled": True},
                           headers={**admin, "If-Match": disabled.headers["ETag"]})
    assert enabled.status_code == 200, enabled.get_json()
    rt.secrets.write("connections/aw", {"api_token": SECRET})  # a field lost since: an edit of its schedule stands
    assert client.patch("/connections/aw", json={"schedule": "0 4 * * *"},
                        headers={**admin, "If-Match": enabled.headers["ETag"]}).status_code == 200


def test_amx_connections_add_refuses_a_key_that_is_not_there_and_takes_it_disabled(env):
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app as amx
    from affiliate_matrix.connections import load_connection

    add = ["connections", "add", "cj1", "--source", "cj", "--credentials-path", "connections/cj1"]
    refused = CliRunner().invoke(amx, add)
    shown = " ".join(refused.output.replace("│", " ").split())  # named by the option typed
    assert refused.exit_code == 2 and (
        "Invalid value for '--credentials-path': no key at 'connections/cj1' holds what source 'cj' reads (api_token, "
        "requestor_cid): add it first (amx keys add connections/cj1 --rotation manual --source cj)") in shown, shown
    assert env["rt"].store.head("connections/cj1.json") is None
    assert CliRunner().invoke(amx, [*add, "--disabled"]).exit_code == 0
    assert load_connection(env["rt"].store, "cj1")[0].enabled is False


def test_a_connections_disabled_reason_is_kept_only_while_it_is_disabled_and_shown_as_written(env):
    """A disabled connection says why (the demo's: its recorded site is gone); enabled again, it has no reason. A
    reason that would show other than it is written (a control character) is refused, naming the field."""
    client = app()
    etag = client.post("/connections", json=body(), headers=env["admin"]).headers["ETag"]
    refused = client.patch("/connections/ap", json={"enabled": False, "disabled_reason": "gone\x1b[2J"},
                           headers={**env["admin"], "If-Match": etag})
    assert refused.status_code == 400 and "disabled_reason" in refused.get_json()["error"]["message"]
    paused = client.patch("/connections/ap", json={"enabled": False, "disabled_reason": "its site is down"},
                          headers={**env["admin"], "If-Match": etag})
    assert paused.status_code == 200 and paused.get_json()["disabled_reason"] == "its site is down"
    enabled = client.patch("/connections/ap", json={"enabled": True},
                           headers={**env["admin"], "If-Match": paused.headers["ETag"]})
    assert enabled.status_code == 200 and enabled.get_json()["disabled_reason"] is None
