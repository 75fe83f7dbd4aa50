"""`amx demo`: the story, scene by scene (see the package's docstring)."""

from affiliate_matrix.cli.common import quiet_logs
from affiliate_matrix.config import load_settings
from affiliate_matrix.demo import screens
from affiliate_matrix.demo.collect import Story
from affiliate_matrix.errors import ConflictError
from affiliate_matrix.localrun.runner import held
from affiliate_matrix.runtime import Runtime, data_dir


def run(console) -> None:
    # Recorded sites listen on loopback, which the fetcher otherwise refuses; the story (a delta firing a
    # rule, its notification shown) happens in this one process. The demo explains its failures itself,
    # so logs show only errors unless AMX_LOG_LEVEL asks for more.
    rt = Runtime("demo", load_settings(**quiet_logs({"allow_loopback_fetch": True, "events": "inprocess"}, "error")))
    # Two demos on one data dir would each point the demo's connections at their own recorded sites, mid-story
    folder = data_dir(rt.settings)
    lock = held(folder, "demo.lock")
    if lock is None:
        raise ConflictError(f"another amx demo is running on {folder}; run it again once that one has finished")
    try:
        tell(console, rt)
    finally:
        lock.close()


def tell(console, rt) -> None:
    story = Story(rt)
    screens.title(console, rt)
    with story.sites():
        screens.heading(console, 1, "Scrape every recorded source (served over HTTP on 127.0.0.1)")
        story.scrape_all(console)
        screens.scraped(console, story)
        screens.heading(console, 2, "Index and resolve: one merchant across sources")
        screens.resolved(console, story)
        screens.heading(console, 3, "Provenance: which source said what")
        screens.provenance(console, story)
        screens.heading(console, 4, "A change, detected and acted on")
        story.change()
        screens.changed(console, story)
        story.discover()  # told after the unreadable pages: its sites are served only in here
    screens.heading(console, 5, "A page the parser could not read, kept for replay")
    screens.parse_failures(console, story)
    screens.heading(console, 6, "Discovery: new programs found by search-engine dorks")
    screens.discovery(console, story)
    screens.heading(console, 7, "What to try next")
    screens.next_steps(console, story)
