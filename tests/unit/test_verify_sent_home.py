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


def test_a_slow_body_holds_up_its_hosts_worker_and_is_counted_so(tmp_path, monkeypatch):
    """Each host's pages are checked one after another by one worker, so a page's time past its spacing holds the
    worker up. It was counted only past its spacing times the fetcher's concurrency (verify's 8 workers): pages
    sending their 9-byte body a byte a second at 1 page a second were charged 2 s each (1 s spacing, 9 s less 8 s)
    and a 100 s function's worker went on for 20 pages, 180 s. Counted past the spacing alone, the worker stops
    within the limit (the last page's read cut where the budget ends), the pages it did not ask left for the
    next run. The server moves the clock; none is slept."""
    from functools import partial

    from affiliate_matrix import verify as verifying
    from affiliate_matrix.fetch import Fetcher
    from affiliate_matrix.polite import HostLimits
    from tests.support.clock import FakeTime

    time = FakeTime()
    server = FaultServer(time=time)
    monkeypatch.setattr(verifying, "Fetcher", partial(Fetcher, **time.options(HostLimits())))
    try:
        rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True, crawl_time_limit_s=100))
        rt.index.ensure_index(PROGRAMS_INDEX)
        programs = [normalize(make_record(f"Slow {n}", f"https://slow{n}.com").model_copy(
            update={"source": "affiliateprograms", "url": f"{server.url}/slow-body/9?n={n}"})) for n in range(20)]
        rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in programs], refresh=True)
        started = time.now
        report = verify(rt, NOW, rate_limit_per_s=1)
    finally:
        server.close()
    assert time.now - started <= 100, f"the worker went on for {time.now - started:.0f} s in a 100 s function"
    # the last page asked may be cut where the budget ends (inconclusive, "body too slow"), as a crawl's is
    assert report.verified > 0 and report.skipped_budget > 0 and report.checked + report.skipped_budget == 20
