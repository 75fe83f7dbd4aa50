"""A listing an API pages by page number (CJ, Rakuten, Impact) that changes while it is paged: a program removed
from a page already read moves the next page's first one back onto it, unseen. Such a run must not count as complete,
or the program it did not see would be withdrawn (closed) though the network still lists it. A real HTTP server on
loopback whose data changes between one page request and the next."""

import hashlib
import json

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.events import RAW_BATCH_STORED
from affiliate_matrix.pipeline import index_announced, scrape
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.loopback import Loopback
from tests.support.recorded_expected import EXPECTED


@pytest.fixture
def rt(tmp_path):
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    rt.bus.subscribe(RAW_BATCH_STORED, lambda e: index_announced(rt, e.data))
    return rt


def synced(rt, source: str, answer):
    rt.secrets.write(f"connections/{source}", EXPECTED[source]["credentials"])
    with Loopback(answer) as api:
        save_connection(rt.store, Connection(id=source, source=source, base_url=api.url, rate_limit_per_s=50,
                                             credentials_path=f"connections/{source}"))
        return scrape(rt, source)


def closed(rt) -> list[str]:
    hits = rt.index.search("programs", SearchQuery(filters={"status": ["closed_suspected"]}, size=100)).hits
    return sorted(hit.doc["name"] for hit in hits)


JSON = {"Content-Type": "application/json"}


def served(listing: list, moving: bool, page_of, render, headers: dict[str, str] = JSON):
    """An answer serving `listing` a page at a time: `page_of(query)` → (page size, page number), `render(page,
    number, size, total)` → body. `moving`: the listing's first item removed once page 1 is answered, as a
    network's listing changes between two of our page requests."""
    removed = not moving

    def answer(request):
        nonlocal removed
        size, number = page_of({k: v[0] for k, v in request.query.items()})
        body = render(listing[(number - 1) * size:number * size], number, size, len(listing))
        if number == 1 and not removed:
            removed = True
            del listing[0]
        return 200, headers, body
    return answer


def moved_while_paged(rt, source: str, answer_for, listing: list, records: int) -> str:
    """Synced whole, `listing` gives `records` and withdraws nothing; synced again while its first item leaves once
    page 1 is read, the run is incomplete, one fewer, and still withdraws nothing: a failure says so, whose
    reason it returns."""
    report = synced(rt, source, answer_for(list(listing), moving=False))
    assert report.incomplete is None and report.records == records and closed(rt) == []
    report = synced(rt, source, answer_for(list(listing), moving=True))
    assert closed(rt) == [] and report.records == records - 1 and report.incomplete
    (failure,) = report.failures
    assert "changed while it was paged" in failure.reason
    return failure.reason


def name(number: int) -> str:
    """A merchant name of its own (names alike would be resolved to one merchant)."""
    return hashlib.sha256(str(number).encode()).hexdigest()[:10]


def cj_page(advertisers: list[int], number: int, size: int, total: int) -> bytes:
    return (f'<cj-api><advertisers total-matched="{total}" records-returned="{len(advertisers)}" '
            f'page-number="{number}">' + "".join(
                f"<advertiser><advertiser-id>{a}</advertiser-id><advertiser-name>{name(a)}</advertiser-name>"
                f"<account-status>Active</account-status><program-url>https://{name(a)}.com</program-url>"
                "</advertiser>" for a in advertisers) + "</advertisers></cj-api>").encode()


def cj(advertisers: list[int], moving: bool):
    return served(advertisers, moving, lambda query: (int(query["records-per-page"]), int(query["page-number"])),
                  cj_page, {"Content-Type": "application/xml"})


def test_a_cj_advertiser_moved_onto_a_page_already_read_is_not_withdrawn(rt):
    """101 advertisers, 100 a page: Advertiser 1 leaves once page 1 is read, so Advertiser 101 moves onto page 1
    and page 2 is empty. The total CJ counts says so: the run is incomplete and withdraws nothing."""
    reason = moved_while_paged(rt, "cj", cj, list(range(1, 102)), records=101)
    assert "101 on the first page, 100 on page 2" in reason
    report = synced(rt, "cj", cj(list(range(2, 102)), moving=False))  # read whole: Advertiser 1 is gone
    assert report.incomplete is None and closed(rt) == [name(1)]


def rakuten_page(offers: list[tuple[int, int]], number: int, size: int, total: int) -> bytes:
    return json.dumps({"_metadata": {"page": number, "limit": size, "total": total}, "offers": [{
        "advertiser": {"id": advertiser, "network": "United States", "name": name(advertiser)},
        "goid": goid, "name": f"Offer {goid}", "offer_rules": [{"commissions": [{
            "commission_type": "percentage", "tiers": [{"commission": 5}]}]}]} for advertiser, goid in offers]
    }).encode()


def rakuten(offers: list[tuple[int, int]], moving: bool):
    pages = served(offers, moving, lambda query: (int(query["limit"]), int(query["page"])), rakuten_page)

    def answer(request):
        if request.path == "/token":
            return 200, JSON, json.dumps({"access_token": "test-rakuten-access-token"}).encode()
        if request.path.startswith("/v2/advertisers/"):
            advertiser = int(request.path.rsplit("/", 1)[1])
            return 200, JSON, json.dumps({"advertiser": {
                "id": advertiser, "name": name(advertiser), "url": f"https://{name(advertiser)}.com"}
            }).encode()
        return pages(request)
    return answer


def test_a_rakuten_advertiser_moved_onto_a_page_already_read_is_not_withdrawn(rt):
    """200 offers a page: 20 advertisers' 10 offers each fill page 1, Advertiser 21's one offer is page 2's. One of
    Advertiser 1's offers ends once page 1 is read: Advertiser 21 moves onto page 1, unseen."""
    offers = [(goid // 10 + 1, goid) for goid in range(200)] + [(21, 200)]
    assert "201 on the first page, 200 on page 2" in moved_while_paged(rt, "rakuten", rakuten, offers, records=21)


def impact_page(campaigns: list[int], number: int, size: int, total: int) -> bytes:
    more = number * size < total
    return json.dumps({
        "@page": str(number), "@pagesize": str(size), "@total": str(total),
        "@nextpageuri": f"/Mediapartners/IRtestSID/Campaigns?PageSize={size}&Page={number + 1}" if more else "",
        "Campaigns": [{"CampaignId": str(c), "CampaignName": name(c), "CampaignUrl": f"https://{name(c)}.com"}
                      for c in campaigns]}).encode()


def impact(campaigns: list[int], moving: bool):
    return served(campaigns, moving, lambda query: (int(query["PageSize"]), int(query.get("Page", "1"))),
                  impact_page)


def test_an_impact_campaign_moved_onto_a_page_already_read_is_not_withdrawn(rt):
    """Impact's next page is the next page number: a campaign leaving page 1 once it is read moves the first of
    page 2 onto it. Its `@total` says so."""
    reason = moved_while_paged(rt, "impact", impact, list(range(1, 102)), records=101)
    assert "101 on the first page, 100 on page 2" in reason
