"""Delivering CloudEvents to a function in-process, the one way tests do it: whatever an event must carry
to be accepted (e.g. the Broker's credentials, once events are authenticated) is added here."""

import json
from datetime import UTC, datetime


def deliver_event(client, type: str, data=None, *, path: str = "/", raw_data: str | None = None, **attributes):
    """POST a structured CloudEvent (application/cloudevents+json) and return the response. Attributes
    default to a valid event and may be overridden with anything, including values no real producer sends;
    `raw_data` is spliced in as the JSON text of `data` (e.g. nesting too deep for json.dumps)."""
    envelope = {"specversion": "1.0", "id": "e-test", "source": "/tests", "type": type,
                "time": datetime(2026, 11, 22, 6, 0, tzinfo=UTC).isoformat(), "datacontenttype": "application/json",
                **attributes}
    if raw_data is None:
        envelope["data"] = {} if data is None else data
        body = json.dumps(envelope)
    else:
        body = json.dumps(envelope)[:-1] + ', "data": ' + raw_data + "}"
    return client.post(path, data=body.encode("utf-8", "surrogatepass"),
                       headers={"Content-Type": "application/cloudevents+json"})
