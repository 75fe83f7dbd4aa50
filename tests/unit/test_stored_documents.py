"""A document as stored holds the fields a client is never shown (Connection.fenced), and only the store does."""

import json

from affiliate_matrix.connections import Connection
from affiliate_matrix.documents import stored_json


def test_a_field_kept_from_clients_is_stored_and_read_back_but_never_dumped():
    fenced = Connection(id="cj", source="cj", fenced='"abc"')
    stored = json.loads(stored_json(fenced))
    assert stored["fenced"] == '"abc"' and Connection.model_validate(stored) == fenced
    assert "fenced" not in fenced.model_dump(mode="json") and "fenced" not in fenced.model_dump_json()
    plain = Connection(id="cj", source="cj")
    assert stored_json(plain) == plain.model_dump_json(indent=2).encode()  # unset: stored as shown, byte for byte
    assert "fenced" not in json.dumps(Connection.model_json_schema())
