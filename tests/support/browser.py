"""Browser tests' tools: Debian's Chromium under Playwright (Playwright's own browser download does
not work on this network), launched with the flags that keep it off the closed network, and
axe-core's single script, fetched once from the npm registry with `npm pack`."""

import re
import subprocess
import tarfile
from pathlib import Path

from tests.support.processes import BIN, ROOT, Server, free_port

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium's many calls home are refused by this closed network.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE_VERSION = "4.14.1"
AXE = ROOT / "build" / f"axe-core-{AXE_VERSION}" / "axe.min.js"


def launch(playwright):
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `./task setup:chromium` installs Debian's chromium package")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)


def axe_script() -> str:
    """axe.min.js from the axe-core package on the npm registry, kept under build/ after the first fetch."""
    if not AXE.exists():
        AXE.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(AXE.parent)],
                       check=True, capture_output=True)
        with tarfile.open(AXE.parent / f"axe-core-{AXE_VERSION}.tgz") as archive:
            AXE.write_bytes(archive.extractfile("package/axe.min.js").read())
    return AXE.read_text()


def serious_violations(page) -> list[dict]:
    """axe-core's WCAG 2 A/AA findings of serious or critical impact on the page as it is now.
    Evaluated through the DevTools protocol, which the page's CSP (no inline script) does not govern."""
    page.evaluate(axe_script())
    result = page.evaluate("axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


# The explorer's browser tests' steps (test_web_browser.py, test_web_paging_browser.py; their fixtures: conftest.py)
def web_server(data) -> Server:
    port = free_port()
    return Server([str(BIN / "amx-function"), "--source", str(ROOT / "functions/web/main.py"),
                   "--target", "handle", "--host", "127.0.0.1", "--port", str(port)],
                  f"http://127.0.0.1:{port}", data / "web.log", ready_path="/healthz", env={"AMX_DATA_DIR": str(data)})


def sign_in(page, base, token):
    page.goto(f"{base}/programs?q=hostng")
    assert page.url.startswith(f"{base}/signin")
    page.get_by_label("API token").fill(token)
    with page.expect_navigation(url=re.compile(r"/programs\?q=hostng$")):
        page.get_by_role("button", name="Sign in").click()
