"""The index function fed as the pipeline feeds it, and the programs API to read it back: batches of raw records
stored on the real (local) store, indexed by the index function on a raw.batch.stored event (shared by the tests of
the index's answers and of the change feed)."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.events import RAW_BATCH_STORED, Event
from affiliate_matrix.models import RawRecord
from affiliate_matrix.runtime import Runtime
from tests.support.events import deliver
from tests.support.processes import ROOT

# Both search backends, the real OpenSearch node's runs marked slow: a fixture parametrized by these calls on_backend.
BACKENDS = ["sqlite", pytest.param("opensearch", marks=pytest.mark.slow)]


def on_backend(request, tmp_path, monkeypatch) -> None:
    """The environment the functions read their index from: the data directory, and on OpenSearch the node and an
    index prefix of this test's own."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    if request.param == "opensearch":
        node = request.getfixturevalue("opensearch_node")
        monkeypatch.setenv("AMX_SEARCH", "opensearch")
        monkeypatch.setenv("AMX_OPENSEARCH_URL", node.url)
        monkeypatch.setenv("AMX_INDEX_PREFIX", f"t{uuid.uuid4().hex[:10]}")


T1 = datetime(2026, 11, 21, 12, tzinfo=UTC)
T2 = T1 + timedelta(days=1)


class Index:
    """The data directory, the index function to index batches into it, the programs API to read it."""

    def __init__(self, path):
        self.rt = Runtime("test", Settings(data_dir=path))
        self.auth = {"Authorization": f"Bearer {create_token(self.rt.secrets, 'read')}"}
        self.index_app = create_app("handle", str(ROOT / "functions" / "index" / "main.py")).test_client()
        self.api = create_app("handle", str(ROOT / "functions" / "programs" / "main.py")).test_client()

    def batch(self, *records: RawRecord) -> str:
        """Store the batch as scrape does and deliver its event to the index function. The connections the records
        came through are stored, as they are when scrape runs (a deleted one's records are left out)."""
        from affiliate_matrix.connections import Connection, connection_key, save_connection
        from affiliate_matrix.sources import all_sources

        for connection in {(r.connection_id, r.source) for r in records if r.source in all_sources()}:
            if self.rt.store.head(connection_key(connection[0])) is None:
                save_connection(self.rt.store, Connection(id=connection[0], source=connection[1]), create=True)
        key = self.rt.store.put_content_addressed(f"batches/{records[0].source}",
                                                  "\n".join(r.model_dump_json() for r in records).encode(),
                                                  suffix=".jsonl")
        self.again(key, key)
        return key

    def again(self, key: str, event_key: str = "again") -> None:
        """Announce a stored batch (as a replay or another scrape of the same pages does: another event)."""
        event = Event.make(RAW_BATCH_STORED, f"/scrape/{key.split('/')[1]}", {"batch_key": key}, key=event_key)
        assert deliver(self.index_app, event, "index").status_code == 204

    def get(self, path: str) -> dict:
        answer = self.api.get(path, headers=self.auth)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        return as_documented(body) if urlsplit(path).path == "/programs" else body

    def programs(self) -> list[dict]:
        every = "status=active&status=discovered&status=closed_suspected&status=removed"  # a search lists open ones only
        return [self.get(f"/programs/{item['id']}") for item in self.get(f"/programs?limit=100&sort=name&{every}")["items"]]

    def changes(self) -> list[dict]:
        return self.get("/changes?limit=100")["items"]


def as_documented(search_answer: dict) -> dict:
    """A search's answer checked against the model the programs API documents for it (a ValidationError where it
    differs): the route sends it unchecked (handlers/programs.py), so every search these tests read is its guard."""
    from affiliate_matrix.handlers.programs import api

    next(route for route in api().routes if route.label == "GET /programs").answers.validate_python(search_answer)
    return search_answer


def record(source: str, name: str, merchant_url: str | None = None, *, at: datetime = T1, key: str | None = None,
           page: str | None = None, connection: str | None = None, **fields) -> RawRecord:
    """A record of `source`, through the connection named as the source (or `connection`)."""
    key = key or name.lower().replace(" ", "-")
    return RawRecord(source=source, connection_id=connection or source, record_key=key,
                     url=page or f"https://{source}.example.org/p/{key}/",
                     fetched_at=at, raw_key=f"raw/{source}/{key}/{at:%Y%m%d}.html", name=name,
                     merchant_url=merchant_url, **fields)


def spec_of(version: int, name: str = "programs"):
    """An index's spec (the programs index's by default) as that version committed its mapping
    (infra/opensearch/indices)."""
    import json

    from affiliate_matrix.search import IndexSpec

    body = json.loads((ROOT / "infra/opensearch/indices" / f"{name}-v{version}.json").read_text())
    return IndexSpec.from_json(body["mappings"]["_meta"]["spec"])


def indexed_by(version: int, program) -> dict:
    """The document of `program` in the fields of that version's mapping (the programs index's), which refuses a field
    a later version added."""
    from affiliate_matrix.program_index import to_document

    return {k: v for k, v in to_document(program).items() if k in spec_of(version).fields}


def keyed_before_v16(program, key: str):
    """`program` as v15's code stored it: keyed (and its id made) by its name's words without their marks."""
    from affiliate_matrix.normalize import program_id

    return program.model_copy(update={"merchant_key": key, "id": program_id(key, program.kind)})


def disagreed(output: str, field: str) -> tuple[str, str]:
    """`amx compare`'s one "sources disagree on <field>: …" line (`field` in its words: Cookie length), as (what each
    source said, the value the program keeps)."""
    [line] = [line for line in output.splitlines() if line.startswith(f"sources disagree on {field}: ")]
    said, _, kept = line.removeprefix(f"sources disagree on {field}: ").partition("; the program keeps ")
    return said, kept
