"""CloudEvents as Knative delivers them to a function: with the sender's OIDC token. Every test that
posts an event to a function builds it here, with `signed_event` (or posts it with `deliver`).

The issuer is the one `amx up` runs (localrun/issuer.py), made once per test session;
tests/conftest.py points every function at it (AMX_EVENTS_OIDC_DISCOVERY_URL), so a function under
test verifies these tokens exactly as it verifies Knative's in a cluster.
"""

import json
import tempfile
from functools import cache
from pathlib import Path

from affiliate_matrix.events import Event
from affiliate_matrix.events.identity import audience
from affiliate_matrix.localrun.issuer import LocalIssuer, sender

NAMESPACE = "affiliate-matrix"  # the setting's default, which the tests run with


@cache
def issuer() -> LocalIssuer:
    return LocalIssuer(Path(tempfile.mkdtemp(prefix="amx-test-issuer-")))


def token_for(function: str, *, sent_by: str = "test-trigger", namespace: str = NAMESPACE) -> str:
    """A token the Broker would send to `function` for the Trigger `sent_by`."""
    return issuer().token(audience(namespace, function), sender(namespace, sent_by))


def signed_event(event: Event | dict, function: str, *, binary: bool = False,
                 authorization: str | None = None) -> tuple[dict, bytes]:
    """Headers and body of `event` delivered to `function`: structured (binary with `binary`), with
    `Authorization: Bearer <a token for function>` unless `authorization` says otherwise ("" for none).
    A dict is taken as a structured CloudEvent as a broker received it."""
    from cloudevents.conversion import to_binary, to_structured

    if isinstance(event, dict):
        headers, body = {"Content-Type": "application/cloudevents+json"}, json.dumps(event).encode()
    else:
        headers, body = (to_binary if binary else to_structured)(event.to_cloudevent())
        headers = dict(headers)
    bearer = f"Bearer {token_for(function)}" if authorization is None else authorization
    if bearer:
        headers["Authorization"] = bearer
    return headers, body


def deliver(app, event: Event | dict, function: str, *, path: str = "/", binary: bool = False):
    """POST `event` to a functions-framework test client as the Broker delivers it to `function`."""
    headers, body = signed_event(event, function, binary=binary)
    return app.post(path, headers=headers, data=body)


def deliver_event(client, function: str, type: str, data=None, *, path: str = "/", raw_data: str | None = None,
                  **attributes):
    """POST a structured CloudEvent (application/cloudevents+json), signed for `function` as the Broker
    sends it, and return the response. Attributes default to a valid event and may be overridden with
    anything, including values no real producer sends; `raw_data` is spliced in as the JSON text of
    `data` (e.g. nesting too deep for json.dumps)."""
    from datetime import UTC, datetime

    envelope = {"specversion": "1.0", "id": "e-test", "source": "/tests", "type": type,
                "time": datetime(2026, 11, 22, 6, 0, tzinfo=UTC).isoformat(), "datacontenttype": "application/json",
                **attributes}
    if raw_data is None:
        envelope["data"] = {} if data is None else data
        body = json.dumps(envelope)
    else:
        body = json.dumps(envelope)[:-1] + ', "data": ' + raw_data + "}"
    return client.post(path, data=body.encode("utf-8", "surrogatepass"),
                       headers={"Content-Type": "application/cloudevents+json",
                                "Authorization": f"Bearer {token_for(function)}"})
