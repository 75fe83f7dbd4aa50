"""The Connections page: each configured connection, its health and its last sync, read as the connections API lists
them to a read token (its Collection's own listing, shown_to). Apart from pages.py, so it loads neither the programs API
nor the index: the store alone answers it."""

from affiliate_matrix.connections import DIRECTORY_CRAWL
from affiliate_matrix.handlers.connections import CONNECTIONS
from affiliate_matrix.handlers.documents import listed_items
from affiliate_matrix.sources import source_titles


def needed_role() -> str:
    """The role the connections API's listing needs (its route's): the page is for the same sessions."""
    return CONNECTIONS.listing_role()


def connections_page(rt) -> dict:
    """Every connection as a read token is shown it, whatever the session's role (never a credential, a base_url's
    secret or a failure's signed link), with its source's title; the damaged ones named as
    the API names them."""
    listing, damaged = listed_items(rt, CONNECTIONS, "read")
    titles = source_titles()
    connections = []
    for item in listing["items"]:
        sync = item["last_sync"]
        # a directory crawl's standing word on what it did not read is no fault (amx connections list: the same)
        incomplete = sync and sync["incomplete"] not in (None, DIRECTORY_CRAWL) and sync["incomplete"]
        connections.append({**item, "title": titles.get(item["source"]),
                            "incomplete": incomplete or None})
    return {"connections": connections, "damaged": damaged}
