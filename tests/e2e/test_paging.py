"""A listing an API pages by page number (CJ, Rakuten, Impact) that changes while it is paged: a program removed
from a page already read moves the next page's first one back onto it, unseen. Such a run must not count as complete,
or the program it did not see would be withdrawn (closed) though the network still lists it. A real HTTP server on
loopback whose data changes between one page request and the next."""

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.events import RAW_BATCH_STORED
from affiliate_matrix.pipeline import index_announced, scrape
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.recorded_expected import EXPECTED


class LiveApi:
    """Answers each request with `answer(method, path, query)` → (status, content type, body), from data the test
    may change between one request and the next."""

    def __init__(self, answer):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self):
                if length := int(self.headers.get("Content-Length") or 0):
                    self.rfile.read(length)
                url = urlsplit(self.path)
                status, content_type, body = answer(self.command, url.path,
                                                    {k: v[0] for k, v in parse_qs(url.query).items()})
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = reply

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rt(tmp_path):
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    rt.bus.subscribe(RAW_BATCH_STORED, lambda e: index_announced(rt, e.data))
    return rt


def synced(rt, source: str, answer):
    rt.secrets.write(f"connections/{source}", EXPECTED[source]["credentials"])
    api = LiveApi(answer)
    try:
        save_connection(rt.store, Connection(id=source, source=source, base_url=api.url, rate_limit_per_s=50,
                                             credentials_path=f"connections/{source}"))
        return scrape(rt, source)
    finally:
        api.close()


def closed(rt) -> list[str]:
    hits = rt.index.search("programs", SearchQuery(filters={"status": ["closed_suspected"]}, size=100)).hits
    return sorted(hit.doc["name"] for hit in hits)


def served(listing: list, page_of, moving: bool):
    """Each page asked for, `page_of(listing, query)` → (answer, page number); `moving`: the listing's first item
    removed once page 1 is answered, as a network's listing changes between two of our page requests."""
    removed = not moving

    def answer(query):
        nonlocal removed
        body, number = page_of(listing, query)
        if number == 1 and not removed:
            removed = True
            del listing[0]
        return body
    return answer


def name(number: int) -> str:
    """A merchant name of its own (names alike would be resolved to one merchant)."""
    return hashlib.sha256(str(number).encode()).hexdigest()[:10]


def cj_page(advertisers: list[int], query: dict) -> tuple[bytes, int]:
    size, number = int(query["records-per-page"]), int(query["page-number"])
    page = advertisers[(number - 1) * size:number * size]
    return (f'<cj-api><advertisers total-matched="{len(advertisers)}" records-returned="{len(page)}" '
            f'page-number="{number}">' + "".join(
                f"<advertiser><advertiser-id>{a}</advertiser-id><advertiser-name>{name(a)}</advertiser-name>"
                f"<account-status>Active</account-status><program-url>https://{name(a)}.com</program-url>"
                "</advertiser>" for a in page) + "</advertisers></cj-api>").encode(), number


def cj(advertisers: list[int], moving: bool):
    page = served(advertisers, cj_page, moving)

    def answer(method, path, query):
        return 200, "application/xml", page(query)
    return answer


def test_a_cj_advertiser_moved_onto_a_page_already_read_is_not_withdrawn(rt):
    """101 advertisers, 100 a page: Advertiser 1 leaves once page 1 is read, so Advertiser 101 moves onto page 1
    and page 2 is empty. The total CJ counts says so: the run is incomplete and withdraws nothing."""
    report = synced(rt, "cj", cj(list(range(1, 102)), moving=False))
    assert report.incomplete is None and report.records == 101 and closed(rt) == []
    report = synced(rt, "cj", cj(list(range(1, 102)), moving=True))
    assert closed(rt) == [] and report.records == 100 and report.incomplete
    (failure,) = report.failures
    assert "changed while it was paged" in failure.reason and "101 on the first page, 100 on page 2" in failure.reason
    report = synced(rt, "cj", cj(list(range(2, 102)), moving=False))  # read whole: Advertiser 1 is gone
    assert report.incomplete is None and closed(rt) == [name(1)]


def rakuten_page(offers: list[tuple[int, int]], query: dict) -> tuple[bytes, int]:
    size, number = int(query["limit"]), int(query["page"])
    page = offers[(number - 1) * size:number * size]
    return json.dumps({"_metadata": {"page": number, "limit": size, "total": len(offers)}, "offers": [{
        "advertiser": {"id": advertiser, "network": "United States", "name": name(advertiser)},
        "goid": goid, "name": f"Offer {goid}", "offer_rules": [{"commissions": [{
            "commission_type": "percentage", "tiers": [{"commission": 5}]}]}]} for advertiser, goid in page]
    }).encode(), number


def rakuten(offers: list[tuple[int, int]], moving: bool):
    page = served(offers, rakuten_page, moving)

    def answer(method, path, query):
        if path == "/token":
            return 200, "application/json", json.dumps({"access_token": "test-rakuten-access-token"}).encode()
        if path.startswith("/v2/advertisers/"):
            advertiser = int(path.rsplit("/", 1)[1])
            return 200, "application/json", json.dumps({"advertiser": {
                "id": advertiser, "name": name(advertiser), "url": f"https://{name(advertiser)}.com"}
            }).encode()
        return 200, "application/json", page(query)
    return answer


def test_a_rakuten_advertiser_moved_onto_a_page_already_read_is_not_withdrawn(rt):
    """200 offers a page: 20 advertisers' 10 offers each fill page 1, Advertiser 21's one offer is page 2's. One of
    Advertiser 1's offers ends once page 1 is read: Advertiser 21 moves onto page 1, unseen."""
    offers = [(goid // 10 + 1, goid) for goid in range(200)] + [(21, 200)]
    report = synced(rt, "rakuten", rakuten(list(offers), moving=False))
    assert report.incomplete is None and report.records == 21 and closed(rt) == []
    report = synced(rt, "rakuten", rakuten(list(offers), moving=True))
    assert closed(rt) == [] and report.records == 20 and report.incomplete
    (failure,) = report.failures
    assert "changed while it was paged" in failure.reason and "201 on the first page, 200 on page 2" in failure.reason


def impact_page(campaigns: list[int], query: dict) -> tuple[bytes, int]:
    size, number = int(query["PageSize"]), int(query.get("Page", "1"))
    page = campaigns[(number - 1) * size:number * size]
    more = number * size < len(campaigns)
    return json.dumps({
        "@page": str(number), "@pagesize": str(size), "@total": str(len(campaigns)),
        "@nextpageuri": f"/Mediapartners/IRtestSID/Campaigns?PageSize={size}&Page={number + 1}" if more else "",
        "Campaigns": [{"CampaignId": str(c), "CampaignName": name(c), "CampaignUrl": f"https://{name(c)}.com"}
                      for c in page]}).encode(), number


def impact(campaigns: list[int], moving: bool):
    page = served(campaigns, impact_page, moving)
    return lambda method, path, query: (200, "application/json", page(query))


def test_an_impact_campaign_moved_onto_a_page_already_read_is_not_withdrawn(rt):
    """Impact's next page is the next page number: a campaign leaving page 1 once it is read moves the first of
    page 2 onto it. Its `@total` says so."""
    report = synced(rt, "impact", impact(list(range(1, 102)), moving=False))
    assert report.incomplete is None and report.records == 101 and closed(rt) == []
    report = synced(rt, "impact", impact(list(range(1, 102)), moving=True))
    assert closed(rt) == [] and report.records == 100 and report.incomplete
    (failure,) = report.failures
    assert "changed while it was paged" in failure.reason and "101 on the first page, 100 on page 2" in failure.reason
