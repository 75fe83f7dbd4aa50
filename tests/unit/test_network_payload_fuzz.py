"""The network API plugins' readers, fed mutated versions of their own recorded answers, raise nothing
but what the sync records as a parse failure: ValueError from decoding (the body is not the API's
format), ParseError from reading, or a ValidationError when a listing does not fit a RawRecord."""

import io
import json
import random
import zipfile
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from affiliate_matrix.models import RawRecord
from affiliate_matrix.sources import ParseError, get_source
from affiliate_matrix.sources.cj import read_page
from affiliate_matrix.sources.clickbank import listing as clickbank_listing
from affiliate_matrix.sources.rakuten import listing as rakuten_listing
from affiliate_matrix.sources.rakuten import read_offers
from tests.support.hostile import mutate

RECORDED = {name: get_source(name).recorded_dir() for name in ("cj", "rakuten", "clickbank")}
XML_JUNK = ["<", "</advertiser>", "<advertiser-id>", "&amp;", "%", "USD", "N/A", "-1", "<!ENTITY x 'y'>", "\x00"]


def as_records(listings) -> None:
    """As the sync does: every listing made a RawRecord (a ValidationError is the API's fault, recorded)."""
    for listing in listings:
        if isinstance(listing, Exception):  # what reading an item raised (read on its own, by `attempt`)
            raise listing
        try:
            RawRecord(source="fuzz", connection_id="fuzz", url="https://api.example/x", fetched_at=datetime.now(UTC),
                      raw_key="raw/fuzz/x", **vars(listing))
        except ValidationError:
            pass


def mutate_json(value, rng: random.Random):
    """Swap a random value somewhere in a JSON document for one of the wrong type or range."""
    replacements = [None, "", "x", -1, 10 ** 20, 1.5e300, True, [], {}, [1], {"a": 1}, "1" * 400]
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(sorted(value))
        return {**value, key: mutate_json(value[key], rng)} if rng.random() < 0.7 else {
            k: v for k, v in value.items() if k != key}
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        return value[:index] + [mutate_json(value[index], rng)] + value[index + 1:]
    return rng.choice(replacements)


@pytest.mark.parametrize("page", ["advertisers-1.xml", "advertisers-2.xml"])
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32), cuts=st.integers(1, 10))
def test_mutated_cj_pages_fail_only_as_parse_failures(page, seed, cuts):
    cj = get_source("cj")()
    text = mutate((RECORDED["cj"] / page).read_text(), seed, cuts)
    for junk in random.Random(seed).sample(XML_JUNK, 2):
        text = text.replace(">", ">" + junk, 1)
    try:
        advertisers, _ = read_page(cj.decode(text.encode()), "https://api.example/cj")
        as_records(advertisers)
    except (ValueError, ParseError):
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32), rounds=st.integers(1, 4), details_too=st.booleans())
def test_mutated_rakuten_answers_fail_only_as_parse_failures(seed, rounds, details_too):
    rng = random.Random(seed)
    offers = json.loads((RECORDED["rakuten"] / "offers-1.json").read_text())
    details = json.loads((RECORDED["rakuten"] / "advertiser-36342.json").read_text())
    for _ in range(rounds):
        offers = mutate_json(offers, rng)
        if details_too:
            details = mutate_json(details, rng)
    try:
        read, _ = read_offers(offers, "https://api.example/offers")
        first = read[0][1] if read else None  # (its advertiser's id, the offer or what reading it raised)
        as_records([first if isinstance(first, Exception) or first is None else
                    rakuten_listing([first], details, "https://api.example/advertiser")] if read else [])
    except ParseError:
        pass


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32), cuts=st.integers(1, 10))
def test_mutated_clickbank_feeds_fail_only_as_parse_failures(seed, cuts):
    clickbank = get_source("clickbank")()
    xml = mutate((RECORDED["clickbank"] / "marketplace_feed_v2.xml").read_text("iso-8859-1"), seed, cuts)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("marketplace_feed_v2.xml", xml.encode("iso-8859-1", errors="replace"))
    body = buffer.getvalue()
    if random.Random(seed).random() < 0.2:  # a damaged archive as well
        body = mutate(body.decode("latin-1"), seed, 2).encode("latin-1", errors="replace")
    try:
        as_records([clickbank_listing(site, "https://api.example/feed") for site in clickbank.decode(body)])
    except (ValueError, ParseError):
        pass
