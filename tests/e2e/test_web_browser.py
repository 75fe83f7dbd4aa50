"""The web function in a real browser: Debian's Chromium under Playwright, against the function
served by functions-framework over an index filled by the pipeline from the recorded directory
pages. Signs in, searches with a typo, filters, sorts, pages, opens a program and a merchant,
follows a change, checks accessibility with axe-core, and saves the screenshots the README shows."""

import os
import re
from urllib.parse import urlsplit

import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from tests.support.browser import serious_violations, sign_in, web_server
from tests.support.processes import ROOT
from tests.support.slice import run_slice

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Where screenshots go: docs/screenshots for the README when SAVE_SCREENSHOTS=1 (`./task screenshots`),
    else a temporary folder, so a test run leaves the worktree as it was."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return tmp_path_factory.mktemp("shots")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from affiliate_matrix.demo import recorded_sites

    data = tmp_path_factory.mktemp("web")
    rt = Runtime("test", Settings(data_dir=data, allow_loopback_fetch=True))
    with recorded_sites("affiliateprograms") as urls:
        run_slice(rt, urls["affiliateprograms"])
    server = web_server(data)
    yield server.url, create_token(rt.secrets, "read")
    server.stop()


def signed_in_software_ticked(page, served) -> str:
    """Signed in, the programs page with its Software category ticked (a filter applies on change: app.js); the
    server's base address."""
    base, token = served
    sign_in(page, base, token)
    page.goto(f"{base}/programs")
    with page.expect_navigation(url=re.compile(r"category=software")):
        page.get_by_label(re.compile(r"^Software")).check()
    return base


def names(page) -> list[str]:
    return page.locator("table.programs tbody tr td:first-child a").all_inner_texts()


def test_a_marketer_signs_in_searches_filters_sorts_pages_and_follows_links(page, served, shots):
    base, token = served
    page.goto(f"{base}/signin")
    page.screenshot(path=shots / "signin.png")
    sign_in(page, base, token)
    assert "Hostinger" in names(page)  # "hostng": the API's typo tolerance
    page.get_by_label("Search programs").fill("")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    everything = names(page)
    assert len(everything) == 6
    with page.expect_navigation(url=re.compile(r"category=software")):
        page.get_by_label(re.compile(r"^Software")).check()  # filters apply on change (app.js)
    assert set(names(page)) == {"Canva Pro", "Tiny Notes", "Semrush"}
    with page.expect_navigation(url=re.compile(r"sort=name")):
        page.get_by_label("Sort by").select_option("name")
    assert names(page) == ["Canva Pro", "Semrush", "Tiny Notes"]
    page.screenshot(path=shots / "programs.png", full_page=True)

    page.goto(f"{base}/programs?sort=name&limit=4")
    first = names(page)
    with page.expect_navigation(url=re.compile(r"cursor=")):
        page.get_by_role("link", name="Next page").click()
    assert len(first) == 4 and len(names(page)) == 2 and sorted(first + names(page)) == sorted(everything)
    # back by the keyboard: Previous page is a link of the Pages navigation, as Next is
    previous = page.get_by_role("navigation", name="Pages").get_by_role("link", name="Previous page")
    previous.focus()
    with page.expect_navigation(url=re.compile(r"limit=4$")):
        page.keyboard.press("Enter")
    assert names(page) == first

    page.goto(f"{base}/programs?q=nordvpn")
    with page.expect_navigation():
        page.locator("table.programs tbody td:first-child a", has_text="NordVPN").click()
    assert page.get_by_role("heading", level=1).inner_text() == "NordVPN"
    assert page.get_by_role("heading", name="Every field and what each source said").is_visible()
    assert page.locator("table.fields").get_by_text("affiliateprograms").count() > 0
    page.screenshot(path=shots / "program.png", full_page=True)
    with page.expect_navigation(url=re.compile(r"/merchants/nordvpn.com$")):
        page.locator(".crumbs a").nth(1).click()
    assert page.locator("table.merchant").get_by_text("★ best").count() >= 1
    page.screenshot(path=shots / "merchant.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # two EPC columns made it 1,344 wide

    page.goto(f"{base}/changes?change=created")
    link = page.locator("table.changes tbody a").first
    program_id = link.get_attribute("href").removeprefix("/programs/")
    with page.expect_navigation(url=re.compile(f"/programs/{program_id}$")):
        link.click()
    assert page.locator("table.changes").get_by_text("created").count() == 1
    page.goto(f"{base}/changes")
    page.screenshot(path=shots / "changes.png", full_page=True)
    page.goto(f"{base}/graph")
    assert page.locator("svg a").count() >= 2
    page.screenshot(path=shots / "graph.png", full_page=True)
    assert page.csp_violations == []


def test_the_back_button_shows_the_filters_and_sort_of_the_page_it_returns_to(page, served):
    # A browser refills a form from its history on Back unless told not to: the page sorted by relevance and
    # unfiltered came back with "Commission" selected and the category still ticked, so what it showed was not
    # what it listed, and the next change sent the stale state.
    base = signed_in_software_ticked(page, served)
    with page.expect_navigation(url=re.compile(r"sort=name")):
        page.get_by_label("Sort by").select_option("name")
    with page.expect_navigation(url=re.compile(r"sort=relevance")):
        page.go_back()
    assert page.get_by_label("Sort by").input_value() == "relevance"
    with page.expect_navigation(url=re.compile(r"/programs$")):
        page.go_back()
    ticked = page.locator("input[type=checkbox]:checked").evaluate_all("boxes => boxes.map(b => `${b.name}=${b.value}`)")
    assert sorted(ticked) == ["status=active", "status=discovered"]  # the default: open programs, no category
    page.goto(f"{base}/changes?change=created")
    with page.expect_navigation(url=re.compile(r"change=updated")):
        page.get_by_label("Change type").select_option("updated")
        page.get_by_role("button", name="Filter").click()
    with page.expect_navigation(url=re.compile(r"change=created")):
        page.go_back()
    assert page.get_by_label("Change type").input_value() == "created"


def test_an_identifier_in_the_changes_table_is_kept_whole(browser, served):
    """The Changes page broke "affiliationlis/t" in its Source column at 1280 px: every cell broke anywhere, so the
    table's layout could narrow a column below its one word. An identifier's cell keeps it whole (td.id), at the
    common desktop widths; a long scraped name still wraps rather than widen the page (the test below)."""
    base, token = served
    for width in (1280, 1024):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        sign_in(page, base, token)
        page.goto(f"{base}/changes")
        cells = page.evaluate("""() => [...document.querySelectorAll(
            'table.changes td[data-label=Source], table.changes td[data-label=Change]')].map(td => {
                const text = document.createRange();
                text.selectNodeContents(td);
                return [td.textContent.trim(), new Set([...text.getClientRects()].map(r => r.top)).size,
                        getComputedStyle(td).overflowWrap];
            })""")
        assert cells and all(lines == 1 and wrap == "break-word" for _, lines, wrap in cells), (width, cells)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        context.close()


def test_an_identifier_on_the_merchant_and_program_pages_is_kept_whole(browser, served):
    """The merchant page's Source and Network and the program page's claim sources could break mid-word (a cell's
    words broke anywhere), as the Changes table did before td.id: they keep their words whole too (one style, .id),
    and the program page still fits the window."""
    base, token = served
    for width in (1280, 1024):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        sign_in(page, base, token)
        program = page.locator("table.programs tbody tr td:first-child a").first.get_attribute("href")
        merchant = page.locator("table.programs tbody tr td[data-label=Merchant] a").first.get_attribute("href")
        for path, cells in ((merchant, "table.merchant th[data-label=Source], table.merchant td[data-label=Network]"),
                            (program, "table.fields .claim .source")):
            page.goto(f"{base}{path}")
            # each cell's words split over two lines (a cell of two words, "affiliateprograms (ap)", may take two)
            shown = page.evaluate("""cells => [...document.querySelectorAll(cells)].map(cell => {
                const split = [], texts = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                for (let text; (text = texts.nextNode());) {
                    for (const word of text.data.matchAll(/\\S+/g)) {
                        const range = document.createRange();
                        range.setStart(text, word.index);
                        range.setEnd(text, word.index + word[0].length);
                        if (new Set([...range.getClientRects()].map(r => r.top)).size > 1) split.push(word[0]);
                    }
                }
                return [cell.textContent.trim(), split, getComputedStyle(cell).overflowWrap];
            })""", cells)
            assert shown and all(not split and wrap == "break-word" for _, split, wrap in shown), (width, path, shown)
        # (the merchant page's ten columns, each at least 6rem, are wider than 1024 px as they were before .id)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        context.close()


def test_a_long_scraped_name_wraps_instead_of_widening_the_page(browser, tmp_path):
    # One program named with a 240-letter word (a scraped title without spaces) made the programs list, its own
    # page and its merchant's three times wider than the window, on a desktop and on a phone alike.
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.index.ensure_index(PROGRAMS_INDEX)
    long = make_program("Supercalifragilistic" * 12, "https://longname.com", commission_text="10% per sale")
    rt.index.bulk_upsert("programs", [to_document(long), to_document(make_program(
        "Bluehost", "https://bluehost.com", commission_text="$65 per sale"))], refresh=True)
    server = web_server(tmp_path)
    try:
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            page.goto(f"{server.url}/signin")
            page.get_by_label("API token").fill(create_token(rt.secrets, "read"))
            with page.expect_navigation():
                page.get_by_role("button", name="Sign in").click()
            for path in ("/programs", f"/programs/{long.id}", "/merchants/longname.com", "/merchants?q=longname"):
                page.goto(server.url + path)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (width, path)
            page.goto(f"{server.url}/programs?sort=name")
            short = page.get_by_role("link", name="Bluehost", exact=True).first.bounding_box()
            assert short["height"] < 30  # a short name is not broken up to make room
            context.close()
    finally:
        server.stop()


def assert_fits_narrow_windows(browser, tmp_path, rt, path: str, shown: str) -> None:
    """The page at `path`, signed in with a read token at a phone's width and a laptop's half screen, shows `shown`
    and never scrolls sideways."""
    server = web_server(tmp_path)
    try:
        for width in (390, 800):
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            page.goto(server.url + path)
            page.get_by_label("API token").fill(create_token(rt.secrets, "read"))
            with page.expect_navigation(url=re.compile(re.escape(path) + "$")):
                page.get_by_role("button", name="Sign in").click()
            assert page.get_by_text(shown).is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= width, width
            context.close()
    finally:
        server.stop()


def test_the_connections_page_fits_a_narrow_window(browser, tmp_path):
    """A connection's long id, its source's title, a schedule and a failed sync's failures (each a request's whole URL)
    fit a phone's width and a laptop's half screen: the page never scrolls sideways."""
    from affiliate_matrix.connections import Connection, save_connection

    rt = Runtime("test", Settings(data_dir=tmp_path))
    failure = "list https://api.awin.com/publishers/ACCOUNT/programmes?relationship=joined&countryCode=" + "GB" * 60
    save_connection(rt.store, Connection(id="awin-" + "agency" * 9, source="awin", schedule="0,15,30,45 */2 * * 1-5",
                                         enabled=False, disabled_reason="paused while the agency's account moves",
                                         healthy=False, health_reason="the provider refused its credentials",
                                         last_sync={"status": "failed", "pages": 3, "records": 0,
                                                    "finished_at": "2026-12-02T07:01:00Z",
                                                    "errors": [failure + ": HTTP 401"] * 3}), create=True)
    save_connection(rt.store, Connection(id="ap", source="affiliateprograms"), create=True)
    assert_fits_narrow_windows(browser, tmp_path, rt, "/connections", shown="3 failed")


def test_the_rules_page_fits_a_narrow_window(browser, tmp_path):
    """A rule's long id, a long CEL condition (a word of 200 characters), an alert's long text, a failure's message
    and a warning fit a phone's width and a laptop's half screen: the page never scrolls sideways."""
    import json

    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule, state_key

    rt = Runtime("test", Settings(data_dir=tmp_path))
    long_id = "commission-" + "rises" * 10
    save_rule(rt.store, Rule.model_validate({
        "id": long_id, "description": "Tell the team " * 20, "trigger": {"event": "program.delta"},
        "condition": "delta.commission_new > delta.commission_old && program.name == '" + "x" * 200 + "'",
        "action": {"type": "alert", "params": {"severity": "warning", "text": "{program_name}" + "-more" * 60}},
    }), create=True)
    save_rule(rt.store, Rule.model_validate({
        "id": "relay", "trigger": {"schedule": "0,15,30,45 */2 * * 1-5"}, "condition": "true",
        "action": {"type": "notify",
                   "params": {"webhook_url": "https://amx:pw@hooks." + "relay" * 20 + ".example.com/x"}},
    }), create=True)
    rt.store.put(state_key(long_id), json.dumps({"last_fired_at": "2026-12-01T10:00:00+00:00", "failures": 2,
                                                 "last_error": "EvalError: " + "no_such_key" * 20}).encode())
    assert_fits_narrow_windows(browser, tmp_path, rt, "/rules", shown="Failed 2 times in a row")


def test_a_window_between_a_phone_and_a_desktop_never_scrolls_the_page_sideways(browser, served):
    """From 761 pixels (past the phone's cards) to about 1,100 the programs list (1,100 wide), a merchant's (1,180),
    the Changes page and a program's page were wider than the window: the whole page, header and filters with it,
    scrolled sideways. A table wider than its window now scrolls in its own box."""
    base, token = served
    context = browser.new_context(viewport={"width": 800, "height": 900})
    page = context.new_page()
    sign_in(page, base, token)
    page.goto(f"{base}/programs?q=nordvpn")
    program = page.locator("table.programs tbody td:first-child a", has_text="NordVPN").get_attribute("href")
    for path in ("/programs", "/merchants/nordvpn.com", "/changes", program):
        page.goto(base + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 800, path
    context.close()


def test_the_table_reads_as_cards_on_a_phone(browser, served, shots):
    base, token = served
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{base}/signin")  # the token's field within the page's margin (1rem), as its left edge is: it ran past
    field = page.get_by_label("API token").bounding_box()
    assert field["x"] == 16 and field["x"] + field["width"] <= 390 - 16, field
    sign_in(page, base, token)
    row = page.locator("table.programs tbody tr").first
    assert row.bounding_box()["width"] <= 390  # no sideways scrolling for a row
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert row.bounding_box()["y"] < 844 and not page.get_by_label("Minimum cookie (days)").is_visible()
    page.screenshot(path=shots / "programs-phone.png", full_page=True)
    page.get_by_text("Filters", exact=True).click()  # folded on a phone, one tap away
    assert page.get_by_label("Minimum cookie (days)").is_visible()
    # a cell of several elements (a change's fields, a field's claims, a merchant row's tags) keeps each in the value's
    # column: the second and later went to the label's, under "Fields", where they overlapped it and read as labels
    page.goto(f"{base}/changes?change=created")
    label = page.locator("table.changes tbody td[data-label=Fields]").first
    fields = label.locator(":scope > div")
    assert fields.count() > 1
    lefts = {round(fields.nth(i).bounding_box()["x"]) for i in range(fields.count())}
    assert len(lefts) == 1 and lefts.pop() > label.bounding_box()["x"] + 100, lefts
    context.close()


def test_a_refused_search_keeps_the_filters_open_on_a_phone_where_what_to_change_is(browser, served):
    # A minimum flat commission without its currency said "tick one under Flat commission currency" above a folded
    # Filters panel: on a phone that currency was hidden a tap away, with nothing saying where.
    base, token = served
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, base, token)
    page.goto(f"{base}/programs?min_commission_flat=50")
    assert page.get_by_role("alert").inner_text().startswith("Minimum flat commission needs a currency")
    assert page.get_by_label(re.compile(r"^USD")).first.is_visible()
    page.goto(f"{base}/programs?flat_currency=USD&min_commission_flat=50")  # a search that is not refused: folded
    assert not page.get_by_label(re.compile(r"^USD")).first.is_visible()
    context.close()


def test_the_pages_work_from_the_keyboard(page, served):
    base, token = served
    page.goto(f"{base}/signin")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")  # the site's name, a link home
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.type(token)
    with page.expect_navigation(url=re.compile(r"/programs$")):
        page.keyboard.press("Enter")
    page.get_by_label("Search programs").focus()
    page.keyboard.type("semrush")
    with page.expect_navigation(url=re.compile(r"q=semrush")):
        page.keyboard.press("Enter")
    assert names(page) == ["Semrush"]


def test_the_filters_summary_shows_the_keyboards_focus_as_every_control_does(page, served):
    # The Filters panel's summary had the browser's thin default ring, where every other control has the site's own.
    base, token = served
    sign_in(page, base, token)
    page.get_by_role("button", name="Search").focus()
    page.keyboard.press("Tab")
    ring = "[document.activeElement.tagName, getComputedStyle(document.activeElement).outline]"
    assert page.evaluate(ring) == ["SUMMARY", "rgb(240, 165, 0) solid 3px"]
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(ring) == ["BUTTON", "rgb(240, 165, 0) solid 3px"]


def test_the_sort_is_chosen_with_the_arrow_keys_and_applied_on_enter(page, served):
    # The list applied on every change, and an arrow key on a closed list is one: the first ArrowDown reloaded the
    # page sorted by commission and took the focus away, so no keyboard could reach "Cookie length" or "Name".
    base, token = served
    sign_in(page, base, token)
    page.goto(f"{base}/programs")
    # count the form's submissions and hold them, so what each key does is seen before any page loads
    page.evaluate("window.sent = []; document.getElementById('search').addEventListener('submit', (event) => {"
                  " window.sent.push(document.getElementById('sort').value); event.preventDefault(); })")
    page.get_by_label("Sort by").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("window.sent") == [] and page.get_by_label("Sort by").input_value() == "cookie"
    page.keyboard.press("Enter")
    assert page.evaluate("window.sent") == ["cookie"]
    page.goto(f"{base}/programs")
    page.get_by_label("Sort by").focus()
    page.keyboard.press("ArrowDown")
    with page.expect_navigation(url=re.compile(r"sort=commission")):
        page.keyboard.press("Tab")  # leaving the list applies it too
    with page.expect_navigation(url=re.compile(r"sort=name")):
        page.get_by_label("Sort by").select_option("name")  # a pointer's choice applies at once, as before


def test_a_filter_or_sort_applied_from_the_keyboard_keeps_the_focus_on_it(page, served):
    # Each ticked filter reloaded the page with the focus at its start: the next filter was sixteen Tabs away.
    base, token = served
    sign_in(page, base, token)
    page.goto(f"{base}/programs")
    focused = "[document.activeElement.name, document.activeElement.value, document.activeElement.checked]"
    page.get_by_label(re.compile(r"^Software")).focus()
    with page.expect_navigation(url=re.compile(r"category=software")):
        page.keyboard.press("Space")
    assert page.evaluate(focused) == ["category", "software", True]
    page.keyboard.press("Tab")
    following = page.evaluate(focused)[1]
    with page.expect_navigation(url=re.compile(f"category=software&category={following}")):
        page.keyboard.press("Space")
    assert page.evaluate(focused) == ["category", following, True]
    page.get_by_label("Sort by").focus()
    page.keyboard.press("ArrowDown")
    with page.expect_navigation(url=re.compile(r"sort=commission")):
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "sort"
    page.goto(f"{base}/programs")  # a page the script did not apply starts at its top, as any
    assert page.evaluate("document.activeElement.tagName") == "BODY"


def test_a_search_forms_address_holds_only_the_fields_that_hold_something(page, served):
    # Every filter ticked made an address of "q=&min_commission_percent=&min_commission_flat=&min_cookie_days=&min_epc="
    # (and the Changes page's "field=&since="): what a person copies or bookmarks.
    base = signed_in_software_ticked(page, served)
    assert urlsplit(page.url).query == "sort=relevance&epc_window=7d&status=active&status=discovered&category=software"
    page.goto(f"{base}/changes")
    page.get_by_label("Change type").select_option("updated")
    with page.expect_navigation(url=re.compile(r"change=updated")):
        page.get_by_role("button", name="Filter").click()
    assert urlsplit(page.url).query == "change=updated"


def test_no_serious_accessibility_violations(page, served):
    base, token = served
    sign_in(page, base, token)
    program = page.locator("table.programs tbody a").first.get_attribute("href")
    for path in ("/programs", "/programs?category=software&sort=name", program, "/merchants?q=vpn",
                 "/merchants/nordvpn.com", "/changes", "/graph", "/connections", "/rules", "/programs?sort=nonsense"):
        page.goto(base + path)
        assert serious_violations(page) == [], path
    page.context.clear_cookies()
    page.goto(f"{base}/signin")
    assert serious_violations(page) == [], "/signin"
