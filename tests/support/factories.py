"""Records and programs for tests: a directory listing as a source plugin would emit it, and the
program normalize makes of it, fetched at one fixed moment."""

from datetime import UTC, datetime

from affiliate_matrix.models import Program, RawRecord
from affiliate_matrix.normalize import normalize

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def make_record(name, merchant_url=None, **fields) -> RawRecord:
    return RawRecord(source="test", connection_id="c", record_key=name.lower().replace(" ", "-"),
                     url="https://dir.example.org/p/x/", fetched_at=NOW, raw_key="raw/test/ab/abc.html", name=name,
                     merchant_url=merchant_url, **fields)


def make_program(name, merchant_url=None, **fields) -> Program:
    return normalize(make_record(name, merchant_url, **fields))
