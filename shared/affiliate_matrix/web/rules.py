"""The Rules page: each trigger rule, as the rules API lists them to a read token (its Collection's own listing,
shown_to, warnings and state: last firing, failures in a row). Apart from pages.py, so it loads neither the programs
API nor the index, nor the rules' engine and its CEL: the store alone answers it."""

from affiliate_matrix.handlers.documents import listed_items
from affiliate_matrix.handlers.triggers import RULES
from affiliate_matrix.rules.state import FAILURES_TO_DISABLE


def needed_role() -> str:
    """The role the rules API's listing needs (its route's): the page is for the same sessions."""
    return RULES.listing_role()


def rules_page(rt) -> dict:
    """Every rule as a read token is shown it, whatever the session's role (a webhook as its host alone, never a key's
    value), with its warnings and its state; the damaged ones named as the API names them."""
    listing, damaged = listed_items(rt, RULES, "read")
    return {"rules": listing["items"], "damaged": damaged, "failures_to_disable": FAILURES_TO_DISABLE}
