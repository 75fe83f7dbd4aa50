"""The explorer's paging parameters as a hostile or careless caller writes them (page, limit, back=, cursor): each is
read or refused in the page (400, naming it), never a server error, and never another search's results."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.support.web_pages import pager_link, shown, sign_in

def first_cursor(web_client, path: str, **args) -> str:
    return parse_qs(urlsplit(pager_link(web_client.get(f"{path}?{urlencode(args)}").text, "next")).query)["cursor"][0]


FORGED = [
    {"page": "²"}, {"page": "٣"}, {"page": "0"}, {"page": "-1"}, {"page": "99999999999999999999"}, {"page": "１"},
    {"page": "1e3"}, {"page": " 2"}, {"page": "2 "}, {"limit": "٣"}, {"limit": "²"}, {"limit": "0"}, {"limit": "-5"},
    {"limit": "9" * 30}, {"limit": "3.0"}, {"limit": " 3"}, {"page": "00002", "limit": "1"}, {"page": "10000"},
    {"cursor": "x" * 100_000}, {"cursor": "٣"}, {"cursor": "-1"}, {"cursor": "²"},
]


@pytest.mark.parametrize("path", ["/programs", "/changes", "/merchants"])
@pytest.mark.parametrize("forged", FORGED, ids=lambda forged: repr(forged)[:40])
def test_a_forged_paging_parameter_is_read_or_refused_never_a_server_error(web_client, web_rt, path, forged):
    sign_in(web_client, web_rt)
    answer = web_client.get(f"{path}?{urlencode(forged)}")
    assert answer.status_code in (200, 400), (answer.status_code, shown(answer.text)[:300])


@pytest.mark.parametrize("back", [["²"], ["٣"], ["0"], ["-1"], ["99999"], ["100000"], ["1"] * 51, ["x" * 5000],
                                  ["00003"], ["3", "3"], ["１"]])
def test_a_forged_back_is_read_or_refused_never_a_server_error(web_client, web_rt, back):
    """The programs list's earlier pages (the Changes page pages back by its feed's own cursor: test_web_paging)."""
    sign_in(web_client, web_rt)
    path = "/programs"
    cursor = first_cursor(web_client, path, limit=1)
    answer = web_client.get(f"{path}?{urlencode({'limit': 1, 'cursor': cursor, 'back': back}, doseq=True)}")
    assert answer.status_code in (200, 400), (answer.status_code, shown(answer.text)[:300])
    if answer.status_code == 200:  # its links follow as well
        for rel in ("prev", "next"):
            if link := pager_link(answer.text, rel):
                assert web_client.get(link).status_code in (200, 400), link


def test_another_searchs_cursor_in_back_is_refused(web_client, web_rt):
    sign_in(web_client, web_rt)
    mine, theirs = first_cursor(web_client, "/programs", q="shop", limit=1), first_cursor(web_client, "/programs", q="host", limit=1)
    answer = web_client.get("/programs?" + urlencode({"q": "shop", "limit": 1, "cursor": mine, "back": ["1", theirs]},
                                              doseq=True))
    assert answer.status_code == 400 and "back holds an earlier page's cursor not of this search" in shown(answer.text)
