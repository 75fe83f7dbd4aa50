"""The browser tests' fixtures (test_web_browser.py, test_web_paging_browser.py): Debian's Chromium under Playwright,
once a module, and a page of a new context each test. `page` needs the module's own `served` fixture: (the web
function's address, a read token)."""

import pytest

from tests.support.browser import launch


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    yield page
    context.close()
