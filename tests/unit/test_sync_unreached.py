"""A sync's word on a host it found no address to connect to, as every read token sees it (its record, GET /syncs/{id},
the connection's last_sync): one way whether the name does not resolve or resolves to a non-public address, as the
connection test says it (netguard.unreached_said), the reason logged; an admin cannot map internal names by
it."""

import json

import pytest
from structlog.testing import capture_logs

from affiliate_matrix.config import Settings
from affiliate_matrix.netguard import unreached_said
from affiliate_matrix.connections import Connection, load_connection, save_connection
from affiliate_matrix.events import Event
from affiliate_matrix.handlers.scrape import collect
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.sync_requests import load_sync, request_sync
from tests.support.loopback import Loopback

SECRET = "awin-token-not-to-be-shown-4242"


@pytest.fixture
def rt(tmp_path, monkeypatch):
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # inside. names a private address, nowhere. none
        if host.startswith("nowhere."):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real("10.1.2.3" if host.startswith("inside.") else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.secrets.write("connections/awin", {"api_token": SECRET, "publisher_id": "123456"})
    return rt


def synced(rt, source: str, host: str, base_url: str | None = None) -> tuple[dict, dict]:
    """The sync record and the connection's last_sync of a sync of a connection at `host` (or at `base_url`, which
    leads there), as the API shows them."""
    connection = Connection(id="c", source=source, base_url=base_url or f"https://{host}/", rate_limit_per_s=50,
                            credentials_path="connections/awin" if source == "awin" else None)
    save_connection(rt.store, connection)
    sync = request_sync(rt, connection, explicit=True)
    event = Event.make("scrape.requested", "/connections", {"connection_id": "c", "sync_id": sync.id}, key=sync.id)
    try:
        collect(rt, event)
    except Exception:  # noqa: BLE001 - a run that ended in an error: its record says it
        pass
    record = load_sync(rt, sync.id).model_dump(mode="json")
    last = load_connection(rt.store, "c")[0].model_dump(mode="json")["last_sync"]
    return ({name: record[name] for name in ("status", "errors", "records")},
            {name: last[name] for name in ("status", "errors", "records")})


# an API's credentials go to its own domain alone, and its requests follow no redirect off it
@pytest.mark.parametrize("source,domain,redirected", [("affiliateprograms", "test", False),
                                                      ("affiliateprograms", "test", True), ("awin", "awin.com", False)])
def test_a_sync_says_a_name_that_does_not_resolve_as_one_resolving_to_a_private_address(rt, monkeypatch, source, domain,
                                                                                        redirected):
    unresolved, private = f"nowhere.{domain}", f"inside.{domain}"
    if redirected:  # the directory's pages redirect there (its robots.txt too)
        rt.settings = rt.settings.model_copy(update={"allow_loopback_fetch": True})
    with capture_logs() as logs:
        answers = {}
        for host in (unresolved, private):
            with Loopback(lambda request, host=host: (302, {"Location": f"http://{host}/p/"}, b"")) as site:
                answers[host] = synced(rt, source, host, site.url if redirected else None)
                if redirected:
                    answers[host] = json.loads(json.dumps(answers[host]).replace(site.url.rstrip("/"), "SITE"))
    for host, (record, last) in answers.items():
        assert record["status"] == "failed" and record["errors"], record
        assert all(unreached_said(host) in error for error in record["errors"]), record
        assert last["errors"] == record["errors"][:20], last
    said = json.dumps(answers[unresolved])
    assert said == json.dumps(answers[private]).replace(private, unresolved)
    assert "cannot resolve" not in said and "(private" not in said and "address policy" not in said, said
    reasons = " ".join(line.get("reason", "") for line in logs if line["event"] == "sync.name_unreached")
    assert f"cannot resolve '{unresolved}'" in reasons and f"{private} resolves to a non-public address" in reasons
    assert SECRET not in json.dumps(logs, default=str)


def test_amx_scrape_keeps_its_last_sync_in_the_same_one_way(rt, tmp_path, monkeypatch):
    """`amx scrape` keeps its run in the connection's last_sync, which the API's callers read as a sync's."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    last = {}
    for host in ("nowhere.test", "inside.test"):
        save_connection(rt.store, Connection(id="c", source="affiliateprograms", base_url=f"https://{host}/",
                                             rate_limit_per_s=50))
        CliRunner().invoke(app, ["scrape", "c"])
        last[host] = load_connection(rt.store, "c")[0].last_sync.errors
        assert last[host] and all(unreached_said(host) in error for error in last[host]), last[host]
    assert json.dumps(last["nowhere.test"]) == json.dumps(last["inside.test"]).replace("inside.test", "nowhere.test")


def test_an_item_request_finding_no_address_is_that_items_failure_said_one_way():
    """An API's item request (a programme's details) whose host is found at no address mid-sync (its DNS changed under
    the sync) is that item's failure, the error's type kept on it (Failure.unreached), so that the sync's record says it
    one way as it says the first request's; the reason stays on the failure, for the log and amx scrape's lines."""
    from affiliate_matrix.netguard import NameUnreached
    from affiliate_matrix.pipeline import ScrapeReport
    from affiliate_matrix.sources import ItemFailed, get_source
    from affiliate_matrix.sync import listing_record
    from affiliate_matrix.sync_requests import outcome

    url = "https://api.awin.com/publishers/123456/programmedetails?advertiserId=1001"
    refusal = NameUnreached("cannot resolve 'api.awin.com': Name or service not known", host="api.awin.com")
    failure = listing_record(get_source("awin")(None), Connection(id="c", source="awin"), None,
                             ItemFailed(url, refusal, None, unanswered=True))
    assert failure.unreached == "api.awin.com" and str(refusal) in failure.reason, failure
    report = ScrapeReport("c", "raw/batch", "e", 0, failures=[failure], source="awin")
    (error,) = outcome(report)["errors"]  # its request named without the account (requests_named_in)
    assert error.startswith("fetch https://api.awin.com/") and error.endswith(f": {unreached_said('api.awin.com')}")
    assert "cannot resolve" not in error, error
