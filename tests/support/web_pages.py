"""The web function through functions-framework's test client, as tests/functions/test_web*.py drive it: a data
directory filled with a few programs and a change, the app, signing in, and reading a page as a person does."""

import html
import re
from datetime import UTC, datetime

from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.deltas import DELTAS_INDEX
from affiliate_matrix.deltas import to_document as delta_document
from affiliate_matrix.merge import merge
from affiliate_matrix.models import DeltaChange, FieldChange
from affiliate_matrix.normalize import normalize
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from tests.support.factories import make_program, make_record
from tests.support.processes import ROOT

HOSTILE = '<script>alert("x")</script> & Co'


def web_runtime(tmp_path, monkeypatch):
    """The `rt` fixture of the web tests: an embedded data directory, the functions' too, filled()."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    return filled(Runtime("test", Settings(data_dir=tmp_path)))


def web_app():
    """The `app` fixture of the web tests: the web function's test client."""
    return create_app("handle", str(ROOT / "functions/web/main.py")).test_client()


def filled(rt):
    """Seven programs (one listed by two sources that disagree, one with hostile text) and a change."""
    for spec in (PROGRAMS_INDEX, DELTAS_INDEX):
        rt.index.ensure_index(spec)
    hosting = normalize(make_record("Hosting Co", "https://hosting.com", commission_text="50% per sale",
                                    cookie_text="90 days", join_url="https://hosting.sjv.io/c/1/2/3"))
    other = make_record("Hosting Co", "https://hosting.com", commission_text="40% per sale", cookie_text="30 days")
    merged = merge(hosting, normalize(other.model_copy(update={"source": "otherdir"})))
    hostile = make_program(HOSTILE, "https://hostile.com", commission_text="5%")
    for claims in hostile.provenance.values():  # a source's page address is any text it gave
        for claim in claims:
            claim.url = "javascript:alert(1)"
    programs = [merged, hostile]
    programs += [make_program(f"Shop {i}", f"https://shop{i}.com", commission_text=f"{i}% per sale") for i in range(5)]
    rt.index.bulk_upsert("programs", [to_document(p) for p in programs], refresh=True)
    delta = DeltaChange(id="d_1", program_id=merged.id, change="updated", source="test",
                        at=datetime(2026, 11, 21, tzinfo=UTC),
                        fields=[FieldChange(field="cookie_days", old=30, new=90)])
    rt.index.bulk_upsert("deltas", [delta_document(delta, recorded_at=datetime(2026, 11, 22, 6, tzinfo=UTC))],
                         refresh=True)
    rt.hosting_id = merged.id
    return rt


def csrf_of(app) -> str:
    page = app.get("/signin")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in(app, rt, role: str = "read") -> str:
    token = create_token(rt.secrets, role)
    answer = app.post("/signin", data={"token": token, "csrf": csrf_of(app), "next": "/programs"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/programs"
    return token


def pager_link(page: str, rel: str) -> str | None:
    """The address of a page's Pages navigation link `rel` (next, prev), or None where it has none."""
    found = re.search(rf'<nav class="pager" aria-label="Pages">.*?<a rel="{rel}" href="([^"]+)">', page, re.S)
    return html.unescape(found.group(1)) if found else None


def shown(page: str) -> str:
    """A page's text as a person reads it: no tags (nor their attributes), entities read."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
