"""What a complete sync's withdrawal costs at the real size: 100,000 programs on the embedded index, 20,000 of them
listed by one source. Finding the programs the source claims (the index's `sources` field) and checking them against
the run's listing, when the run lists them all (the daily case: nothing withdrawn), and when it lists none."""

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from affiliate_matrix.config import Settings
from affiliate_matrix.models import RawRecord
from affiliate_matrix.normalize import normalize
from affiliate_matrix.pipeline import withdrawn_from
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime

PROGRAMS, OF_SOURCE = 100_000, 20_000


def run() -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime("bench", Settings(data_dir=Path(tmp), log_level="warning"))
        rt.index.ensure_index(PROGRAMS_INDEX)
        template = {}
        for source in ("awin", "other"):  # normalized once each, copied with new ids: normalizing 100k takes minutes
            template[source] = normalize(RawRecord(
                source=source, connection_id=source, record_key="x", url=f"https://{source}.example/p/x",
                fetched_at=at, raw_key=f"raw/{source}/x", name="Program", merchant_url="https://merchant.com/",
                commission_text="8% per sale", network=source, network_program_id="1"))
        listed = set()
        for start in range(0, PROGRAMS, 5000):
            documents = []
            for i in range(start, start + 5000):
                source = "awin" if i < OF_SOURCE else "other"
                program = template[source].model_copy(update={"id": f"p_{i:016x}", "name": f"Program {i}"})
                documents.append(to_document(program))
                if source == "awin":
                    listed.add(program.id)
            rt.index.bulk_upsert(PROGRAMS_INDEX.name, documents, refresh=False)
        rt.index.refresh(PROGRAMS_INDEX.name)
        for name, kept in (("all_listed", listed), ("none_listed", set())):
            began = time.perf_counter()
            changed = withdrawn_from(rt, "awin", [("awin", "awin")], at + timedelta(days=1), kept)
            print(f"BENCH withdraw_{name}_of_{OF_SOURCE}_in_{PROGRAMS} {time.perf_counter() - began:.2f} s "
                  f"({len(changed.documents)} programs changed)")
