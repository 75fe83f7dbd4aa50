"""Paging in the explorer as a person pages: the Merchants page's Next and Previous, Previous (the Changes page's
Newer) reaching page 1 however deep, and a relevance search whose view (OpenSearch's point in time, the embedded
index's kept ranking) is gone by the time a Next or Previous link is followed: the same page read again, with a
notice."""

import base64
import html
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from functions_framework import create_app
from werkzeug.datastructures import MultiDict

from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from tests.support.web_pages import filled, pager_link, shown, sign_in
from tests.support.factories import make_program
from tests.support.indexing import BACKENDS, on_backend
from tests.support.processes import ROOT

GONE = "This search's results changed or expired since its first page"

def merchant_keys(page: str) -> list[str]:
    return re.findall(r'<td data-label="Merchant"><a href="/merchants/([^"]+)">', page)


def status(page: str) -> str:
    found = re.search(r'<p role="status">(Merchants [^<]*)</p>', page)
    return found.group(1) if found else ""


def test_the_merchants_page_pages_on_by_next_and_back_by_previous(web_client, web_rt):
    """The Merchants page took a cursor but showed no Next link: a person saw its first 20 merchants only. It pages as
    the programs list does (First, Previous and Next page in the Pages navigation), says which merchants it shows, and
    Previous from each page gives the page before, its words kept."""
    sign_in(web_client, web_rt)
    every = merchant_keys(web_client.get("/merchants").text)
    assert len(every) == 7 and pager_link(web_client.get("/merchants").text, "next") is None  # one page: no link
    visited = [web_client.get("/merchants?limit=2").text]
    while pager_link(visited[-1], "next"):
        assert len(visited) < 10, "no end to the pages"
        visited.append(web_client.get(pager_link(visited[-1], "next")).text)
    assert [merchant_keys(page) for page in visited] == [every[0:2], every[2:4], every[4:6], every[6:]]
    assert [status(page) for page in visited] == ["Merchants 1–2; more on the next page.",
                                                  "Merchants 3–4; more on the next page.",
                                                  "Merchants 5–6; more on the next page.", "Merchants 7."]
    assert pager_link(visited[0], "prev") is None and "First page</a>" not in visited[0]
    for before, page in zip(visited, visited[1:]):
        back = pager_link(page, "prev")
        assert "limit=2" in back and merchant_keys(web_client.get(back).text) == merchant_keys(before), back
        assert "First page</a>" in page
    assert pager_link(visited[1], "prev") == "/merchants?limit=2"  # the first page is the page with no cursor
    shops = web_client.get("/merchants?q=shop&limit=2").text  # the words kept in every link
    assert "q=shop" in pager_link(shops, "next") and "q=shop" in pager_link(web_client.get(pager_link(shops, "next")).text,
                                                                              "prev")


@pytest.mark.parametrize("cursor", ["bm90IGEgY3Vyc29y", "garbage!", "eyJxIjoiMDAwMDAwMDAwMDAwMDAwMCIsIm4iOjJ9"])
def test_a_merchants_cursor_it_cannot_read_is_refused_in_the_page(web_client, web_rt, cursor):
    """A forged cursor (not ours, or another search's) is refused naming it, in the page, the words kept."""
    sign_in(web_client, web_rt)
    answer = web_client.get("/merchants?" + urlencode({"q": "shop", "cursor": cursor}))
    assert answer.status_code == 400 and 'value="shop"' in answer.text
    assert re.search(r"cursor is malformed|cursor belongs to a different query", shown(answer.text))


def test_the_merchants_page_reads_its_cursor_once(web_client, web_rt, monkeypatch):
    """The page read its cursor twice, once for the merchants and once for its place among them: one reading, the
    merchants and the place both of it."""
    from affiliate_matrix import merchants

    real, read = merchants.merchants_after, []

    def counted(cursor, text):
        read.append(cursor)
        return real(cursor, text)

    monkeypatch.setattr(merchants, "merchants_after", counted)
    sign_in(web_client, web_rt)
    first = web_client.get("/merchants?limit=2").text
    page = web_client.get(pager_link(first, "next")).text
    assert status(page) == "Merchants 3–4; more on the next page." and merchant_keys(page) != merchant_keys(first)
    assert len(read) == 2 and read[1], read  # the first page's (no cursor) and the second's


def test_previous_reaches_the_first_page_from_deep_in_the_programs_list(web_client, web_rt, monkeypatch):
    """Next carried at most 5 earlier pages (back=): a person eight pages in could not page back to the first. The
    stack keeps its bound (an address a proxy takes), but past it the oldest cursor gives way to its page's number,
    which the search takes: Previous reaches page 1 from any depth, each page as it was."""
    from affiliate_matrix.web import pages

    monkeypatch.setattr(pages, "BACK_KEPT", 3)  # seven programs a page each: a bound of 3 is passed at the fourth
    sign_in(web_client, web_rt)
    visited = [web_client.get("/programs?sort=name&limit=1").text]
    while pager_link(visited[-1], "next"):
        visited.append(web_client.get(pager_link(visited[-1], "next")).text)
    assert len(visited) == 7
    back = parse_qs(urlsplit(pager_link(visited[-2], "next")).query)["back"]
    assert len(back) == 3 and back[0] == "4"  # pages 1 to 3 folded into page 4's number, then two cursors
    page = visited[-1]
    for before in reversed(visited[:-1]):
        page = web_client.get(pager_link(page, "prev")).text
        assert names(page) == names(before) and count(page) == count(before)
    assert pager_link(page, "prev") is None and pager_link(page, "next") == pager_link(visited[0], "next")
    assert "further back than" not in page


def names(page: str) -> list[str]:
    return re.findall(r'<a href="/programs/p_[0-9a-f]{16}">([^<]+)</a>', page)


def count(page: str) -> str:
    return " ".join(re.search(r'id="result-count" role="status">([^<]*)</p>', page).group(1).split())


@pytest.fixture(params=BACKENDS)
def on_either(request, tmp_path, monkeypatch):
    """The seven programs of test_web's, on each backend (the real OpenSearch node's run slow), and the web app."""
    on_backend(request, tmp_path, monkeypatch)
    index_rt = filled(Runtime("test"))
    return index_rt, create_app("handle", str(ROOT / "functions/web/main.py")).test_client()


def forget_view(web_rt, link: str) -> None:
    """Drop the view the cursor of `link` pages in, as its keep-alive passing (OpenSearch) or newer views (the
    embedded index) drop it: no clock is waited on."""
    cursor = parse_qs(urlsplit(link).query)["cursor"][0]
    point = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["p"]
    if getattr(web_rt.index, "client", None):
        web_rt.index.client.delete_pit(body={"pit_id": [point]})
    else:
        assert web_rt.index.db.execute("DELETE FROM amx_view WHERE view = ?", (point,)).rowcount == 1


def test_a_relevance_page_whose_view_is_gone_is_read_again_with_a_notice(on_either):
    """A search by relevance pages in one view of the index; once it is gone (OpenSearch's point in time past its
    keep-alive or closed by the last page, the embedded index's dropped by newer ones), Next and Previous still show
    their page, read from the index as it is now after the cursor's place, and say so in one line with the way to
    start again; never an error."""
    web_rt, web_client = on_either
    sign_in(web_client, web_rt)
    first = web_client.get("/programs?q=shop&limit=2").text
    assert names(first) and GONE not in first
    second_link = pager_link(first, "next")
    second = web_client.get(second_link).text  # in the view
    third = web_client.get(pager_link(second, "next")).text
    assert sorted(names(first) + names(second) + names(third)) == [f"Shop {i}" for i in range(5)]
    assert GONE not in second + third

    forget_view(web_rt, second_link)
    again = web_client.get(second_link)  # Next, followed once the view is gone
    assert again.status_code == 200 and names(again.text) == names(second)
    assert GONE in shown(again.text) and 'href="/programs?q=shop&amp;limit=2">First page</a> starts again' in again.text
    previous = web_client.get(pager_link(third, "prev"))  # Previous from the last page, to a page of the gone view
    assert previous.status_code == 200 and names(previous.text) == names(second) and GONE in shown(previous.text)
    assert names(web_client.get(pager_link(previous.text, "next")).text) == names(third)
    assert GONE not in web_client.get(pager_link(previous.text, "prev")).text  # the first page: no view to lose


def test_a_cursor_naming_a_view_that_never_was_is_read_as_a_gone_one_or_refused(on_either):
    """A cursor is not signed: one naming a view of a view's shape that no search made reads as one gone (the
    embedded index) or is refused by the node (OpenSearch); one of no cursor's shape is refused, in the page."""
    from affiliate_matrix.handlers.programs import SearchParameters, parameters, search_query
    from affiliate_matrix.search import encode_cursor

    web_rt, web_client = on_either
    sign_in(web_client, web_rt)
    first = web_client.get("/programs?q=shop&limit=2").text
    query = search_query(parameters(SearchParameters, MultiDict({"q": "shop", "limit": "2"}), {}), apart=True)
    real = parse_qs(urlsplit(pager_link(first, "next")).query)["cursor"][0]
    after = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))["a"]
    for point in ("0" * 24, "AAAA"):  # the shape of a view of the embedded index's; a point in time of no shard
        forged = web_client.get("/programs?" + urlencode({"q": "shop", "limit": "2",
                                                   "cursor": encode_cursor(query, after, point)}))
        if getattr(web_rt.index, "client", None):  # refused in the page as every cursor the node cannot read
            assert forged.status_code == 400 and "cursor is malformed" in html.unescape(forged.text), point
            assert '<p id="result-count" class="error" role="alert">' in forged.text
        elif len(point) == 24:
            assert forged.status_code == 200 and GONE in shown(forged.text)
        else:
            assert forged.status_code == 400 and "cursor is malformed" in html.unescape(forged.text)
    refused = web_client.get("/programs?q=shop&limit=2&cursor=bm90IGEgY3Vyc29y")
    assert refused.status_code == 400 and "cursor is malformed" in html.unescape(refused.text)
    assert 'value="shop"' in refused.text


def test_a_search_sorted_by_a_field_has_no_view_to_lose(on_either):
    """Only a relevance sort pages in a view: a field's sort pages the live index by its values, and never says so."""
    web_rt, web_client = on_either
    sign_in(web_client, web_rt)
    web_rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(make_program("Shop 9", "https://shop9.com",
                                                                        commission_text="9%"))], refresh=True)
    page = web_client.get("/programs?q=shop&sort=name&limit=2").text
    while pager_link(page, "next"):
        page = web_client.get(pager_link(page, "next")).text
        assert GONE not in page


def add_changes(web_rt, count: int) -> None:
    """`count` changes of the filled index's program, each observed at an hour of its own, recorded three at a time
    (a tie the feed orders by id)."""
    from datetime import UTC, datetime, timedelta

    from affiliate_matrix.deltas import to_document as delta_document
    from affiliate_matrix.models import DeltaChange, FieldChange

    start = datetime(2026, 11, 1, tzinfo=UTC)
    web_rt.index.bulk_upsert("deltas", [delta_document(
        DeltaChange(id=f"d_deep{n:03}", program_id=web_rt.hosting_id, change="updated", source="test",
                    at=start + timedelta(hours=n), fields=[FieldChange(field="cookie_days", old=n, new=n + 1)]),
        recorded_at=start + timedelta(days=n // 3)) for n in range(count)], refresh=True)


def observed(page: str) -> list[str]:
    """A Changes page's rows, each by when its change was observed (each change's own here)."""
    return re.findall(r'<td data-label="When"><time datetime="([^"]+)">', page)


def test_newer_reaches_the_newest_changes_from_any_depth_each_page_as_it_was(on_either):
    """The Changes page's Newer link was a stack of the earlier pages' cursors in the address, which dropped its oldest
    past 25 to 40 pages (saying so): a person deeper could not page back to the newest. Newer is the feed's own
    cursor of the page before, read backwards from the page's first change: from the last of 45 pages it gives each
    page as Older gave it, to the newest, and no address grows on the way."""
    web_rt, web_client = on_either
    add_changes(web_rt, 44)
    sign_in(web_client, web_rt)
    visited = [web_client.get("/changes?limit=1").text]
    while pager_link(visited[-1], "next"):
        assert len(visited) < 60, "no end to the pages"
        visited.append(web_client.get(pager_link(visited[-1], "next")).text)
    assert len(visited) == 45 and len({row for page in visited for row in observed(page)}) == 45
    assert pager_link(visited[0], "prev") is None and "Newest</a>" not in visited[0]
    page, addresses = visited[-1], []
    for before in reversed(visited[:-1]):
        addresses.append(pager_link(page, "prev"))
        page = web_client.get(addresses[-1]).text
        assert observed(page) == observed(before), addresses[-1]
        assert "back=" not in addresses[-1] and len(addresses[-1]) < 300
    # the newest page reached back: no Newer, and no Newest leading to the same changes (its address holds a cursor)
    assert pager_link(page, "prev") is None and "Newest</a>" not in page and "further back than" not in page
    assert observed(web_client.get(pager_link(page, "next")).text) == observed(visited[1])


def test_an_address_of_the_old_newer_stack_is_read_without_it(web_client, web_rt):
    """A Changes address bookmarked while Older carried the earlier pages (back=) shows its page, its links the
    feed's."""
    add_changes(web_rt, 3)
    sign_in(web_client, web_rt)
    first = web_client.get("/changes?limit=1").text
    second = pager_link(first, "next")
    answer = web_client.get(second + "&" + urlencode({"back": "1"}))
    assert answer.status_code == 200 and observed(answer.text) == observed(web_client.get(second).text)
    assert observed(web_client.get(pager_link(answer.text, "prev")).text) == observed(first)


def forged_feed_cursors() -> dict[str, str]:
    """Cursors of the Changes page's feed (limit aside) no page gave: a backward one of the wrong shape, holding text
    for a time, too many values, or a direction not ours, and a real one of another filter."""
    from affiliate_matrix.handlers.programs import changes_params, changes_query, parameters
    from affiliate_matrix.search import encode_cursor

    def query(**args):
        return changes_query(None, parameters(changes_params(), MultiDict(args), {}))

    def raw(cursor: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")

    mine = query(field="cookie_days")  # the page's below
    return {"text for a time": encode_cursor(mine, ["yesterday", "d_1", "d_1"], backward=True),
            "too many values": encode_cursor(mine, [1763424000000, "d_1", "d_1", "d_2"], backward=True),
            "a direction not ours": raw({"q": mine.fingerprint(), "a": [1763424000000, "d_1", "d_1"], "b": "yes"}),
            "another filter's": encode_cursor(query(change="created"), [1763424000000, "d_1", "d_1"], backward=True)}


def test_a_forged_cursor_of_the_changes_page_is_refused_naming_it(on_either):
    """Each is a 400 in the page naming the cursor, its filters kept; never a server error, nor another feed's page."""
    web_rt, web_client = on_either
    add_changes(web_rt, 3)
    sign_in(web_client, web_rt)
    for what, cursor in forged_feed_cursors().items():
        answer = web_client.get("/changes?" + urlencode({"field": "cookie_days", "cursor": cursor}))
        assert answer.status_code == 400, (what, shown(answer.text)[:300])
        said = "cursor belongs to a different query" if what == "another filter's" else "cursor is malformed"
        assert said in shown(answer.text), what
        assert '<option value="cookie_days" selected>' in answer.text, what
