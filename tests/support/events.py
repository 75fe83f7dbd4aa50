"""CloudEvents as Knative delivers them to a function: with the sender's OIDC token. Every test that
posts an event to a function builds it here, with `signed_event` (or posts it with `deliver`).

The issuer is the one `amx up` runs (localrun/issuer.py), made once per test session;
tests/conftest.py points every function at it (AMX_EVENTS_OIDC_DISCOVERY_URL), so a function under
test verifies these tokens exactly as it verifies Knative's in a cluster. Each token is signed for
the service account of the route that sends the event there (the manifests' Trigger or PingSource,
as Knative's Broker and PingSource do), and a dead letter for that of a Trigger parking with the sink.
"""

import json
import tempfile
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path

from affiliate_matrix.events import Event
from affiliate_matrix.events.identity import TRIGGER, audience, oidc_service_account, subject
from affiliate_matrix.localrun.issuer import LocalIssuer
from affiliate_matrix.localrun.plan import PING_TYPE, Plan, read_plan
from tests.support.processes import ROOT

NAMESPACE = "affiliate-matrix"  # the setting's default, which the tests run with
UNROUTED = oidc_service_account(TRIGGER, "no-such-trigger")  # sends what no route sends: refused as not routed
DEAD_LETTERS = "/dead-letters"


@cache
def issuer() -> LocalIssuer:
    return LocalIssuer(Path(tempfile.mkdtemp(prefix="amx-test-issuer-")))


@cache
def plan() -> Plan:
    """The manifests every function under test reads (tests/conftest.py sets AMX_EVENTS_ROUTES to them)."""
    return read_plan(ROOT / "manifests" / "base")


def sender_of(function: str, attributes: dict, *, path: str = "/") -> str:
    """The service account of a route that sends an event with these attributes to `function` (on the
    dead-letter path: of a Trigger whose dead letters go there); UNROUTED when none does."""
    accounts = plan().dead_letter_senders(function) if path == DEAD_LETTERS else plan().senders(function, attributes)
    return min(accounts, default=UNROUTED)


def token_for(function: str, attributes: dict | None = None, *, service_account: str | None = None,
              namespace: str = NAMESPACE) -> str:
    """A token for `function`'s audience, as Knative sends an event with `attributes` (a cron tick when
    none are given) there: from the service account of its route, or `service_account`."""
    account = service_account or sender_of(function, attributes or {"type": PING_TYPE})
    return issuer().token(audience(namespace, function), subject(namespace, account))


def attributes_of(event: Event | dict) -> dict:
    attributes = event if isinstance(event, dict) else event.to_cloudevent().get_attributes()
    return {k: v for k, v in attributes.items() if isinstance(v, str)}


def signed_event(event: Event | dict, function: str, *, binary: bool = False, authorization: str | None = None,
                 path: str = "/") -> tuple[dict, bytes]:
    """Headers and body of `event` delivered to `function` (at `path`): structured (binary with `binary`),
    with `Authorization: Bearer <the token of the route sending it there>` unless `authorization` says
    otherwise ("" for none). A dict is taken as a structured CloudEvent as a broker received it."""
    from cloudevents.conversion import to_binary, to_structured

    if isinstance(event, dict):
        headers, body = {"Content-Type": "application/cloudevents+json"}, json.dumps(event).encode()
    else:
        headers, body = (to_binary if binary else to_structured)(event.to_cloudevent())
        headers = dict(headers)
    if authorization is None:
        account = sender_of(function, attributes_of(event), path=path)
        authorization = f"Bearer {token_for(function, service_account=account)}"
    if authorization:
        headers["Authorization"] = authorization
    return headers, body


def budget_tick(day: date) -> Event:
    """The PingSource's daily tick to the budget function, at 06:00 UTC on `day` (keyed by the day, as each
    delivery of one tick is)."""
    tick = Event.make(PING_TYPE, "/cron/budget", {}, key=day.isoformat())
    tick.time = datetime.combine(day, time(6), UTC)
    return tick


def deliver(app, event: Event | dict, function: str, *, path: str = "/", binary: bool = False):
    """POST `event` to a functions-framework test client as the Broker delivers it to `function`."""
    headers, body = signed_event(event, function, binary=binary, path=path)
    return app.post(path, headers=headers, data=body)


def deliver_event(client, function: str, type: str, data=None, *, path: str = "/", raw_data: str | None = None,
                  **attributes):
    """POST a structured CloudEvent (application/cloudevents+json), signed for `function` as the Broker
    sends it, and return the response. Attributes default to a valid event and may be overridden with
    anything, including values no real producer sends; `raw_data` is spliced in as the JSON text of
    `data` (e.g. nesting too deep for json.dumps)."""
    envelope = {"specversion": "1.0", "id": "e-test", "source": "/tests", "type": type,
                "time": datetime(2026, 11, 22, 6, 0, tzinfo=UTC).isoformat(), "datacontenttype": "application/json",
                **attributes}
    if raw_data is None:
        envelope["data"] = {} if data is None else data
        body = json.dumps(envelope)
    else:
        body = json.dumps(envelope)[:-1] + ', "data": ' + raw_data + "}"
    token = token_for(function, service_account=sender_of(function, attributes_of(envelope), path=path))
    return client.post(path, data=body.encode("utf-8", "surrogatepass"),
                       headers={"Content-Type": "application/cloudevents+json", "Authorization": f"Bearer {token}"})
