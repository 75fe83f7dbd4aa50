"""The spine's first slice in one process: a recorded directory scraped into the raw store, each
batch event indexed as it is published (tests/e2e/test_first_slice.py, the browser tests, the web
benchmark)."""

from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.events import RAW_BATCH_STORED
from affiliate_matrix.pipeline import index_batch, scrape


def run_slice(rt, site_url):
    """The scrape report of connection "ap" on the affiliateprograms site at `site_url`, and the index
    reports of the batches it stored."""
    indexed = []
    rt.bus.subscribe(RAW_BATCH_STORED, lambda e: indexed.append(index_batch(rt, e.data["batch_key"])))
    save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=site_url, rate_limit_per_s=50))
    return scrape(rt, "ap"), indexed
