"""Retry-After comes as delta-seconds or as an HTTP date; the fetcher and API syncs read it the same
way, and a form they cannot read means "back off on your own schedule", never a failed sync."""

import asyncio
import calendar

import pytest

from affiliate_matrix.fetch import retry_after_seconds
from affiliate_matrix.sources import ApiSource
from affiliate_matrix.storage.local import LocalObjectStore
from affiliate_matrix.sync import Api
from tests.support.fault_server import FaultServer


@pytest.mark.parametrize("value, seconds", [("120", 120.0), (" 7 ", 7.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
                                            (None, None), ("", None), ("soon", None), ("²", None), ("-5", None),
                                            ("Sat, 31 Dec 99999 23:59:59 GMT", None)])
def test_both_forms_are_read_and_anything_else_is_none(value, seconds):
    assert retry_after_seconds(value) == seconds


def test_an_api_answering_429_with_an_http_date_is_retried_not_failed(tmp_path):
    server = FaultServer()
    try:
        source = type("DateLimited", (ApiSource,), {"name": "datelimited", "base_url": server.url})()
        api = Api(source, LocalObjectStore(tmp_path), {}, rate_limit_per_s=50, allow_loopback=True)
        response = asyncio.run(api.get("/limited-until"))
        assert response.data == {"ok": True} and len(server.hits["/limited-until"]) == 2
    finally:
        server.close()


@pytest.mark.parametrize("zone", ["GMT", "-0000", ""])
def test_an_http_date_is_read_in_gmt_whatever_the_machine_s_zone(zone, in_tokyo):
    """HTTP dates are GMT (RFC 9110); one written with "-0000" or no zone is not the machine's local time."""
    limited_until = calendar.timegm((2015, 10, 21, 7, 28, 0))
    assert retry_after_seconds(f"Wed, 21 Oct 2015 07:28:00 {zone}".strip(), now=lambda: limited_until - 90) == 90.0
