"""verify on a real local server: a listing whose page now redirects to its site's home page was removed."""

from datetime import UTC, datetime

from affiliate_matrix.config import Settings
from affiliate_matrix.normalize import normalize
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, to_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.verify import sent_home, verify
from tests.support.factories import make_record
from tests.support.fault_server import FaultServer

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def test_a_listing_redirected_home_is_missing_not_verified(tmp_path):
    # A directory that deletes a listing often sends its page home: the home page's 200 counted as the listing
    # verified, so a removed program stayed active for good.
    server = FaultServer()
    try:
        rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
        rt.index.ensure_index(PROGRAMS_INDEX)
        listed = {name: normalize(make_record(name, f"https://{name.lower()}.com").model_copy(
            update={"source": "affiliateprograms", "url": f"{server.url}{path}"}))
            for name, path in (("Gone", "/listing-removed"), ("Kept", "/ok"))}
        rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in listed.values()], refresh=True)
        report = verify(rt, NOW, suspect_after=1, rate_limit_per_s=50)
        assert (report.verified, report.missed, report.inconclusive) == (1, 1, 0)
        now = {name: from_document(rt.index.get(PROGRAMS_INDEX.name, p.id)) for name, p in listed.items()}
        assert (now["Gone"].status, now["Gone"].misses) == ("closed_suspected", 1)
        assert (now["Kept"].status, now["Kept"].last_verified_at) == ("active", NOW)
    finally:
        server.close()


def test_only_a_page_below_the_root_answered_by_the_root_is_sent_home():
    assert sent_home("https://dir.example.org/p/x/", "https://dir.example.org/?removed=1")
    assert sent_home("https://dir.example.org/p/x/", "https://www.dir.example.org")
    assert not sent_home("https://dir.example.org/", "https://dir.example.org/")  # the listing is the home page
    assert not sent_home("https://dir.example.org/p/x/", "https://dir.example.org/p/x-renamed/")  # moved, not home
