"""Field-level conflict resolution. Every field keeps each claimant's latest claim (its provenance; a claimant is a
source's connection, see claimant); the value shown is the one most sources agree on (a source votes once; claims read
as one value, 15 and "15.0", agree: as_read), then the one from the higher-priority source, then the one shown unless
another was newly said since (_deciding), then the most recent; the
commission's text is one a source of the kept commission said, none when none did (another source's words describe a figure not shown). List fields take the
union of what sources say now: a claim a source no longer makes, seen again later, is withdrawn. A source saying the
program is over (its status claim) closes it only while no other source lists it as open. A connection that stops listing the program (a complete run of it without the
program, the connection deleted) withdraws every claim it made (see withdraw); a program no source lists any more
is closed_suspected until one lists it again. Discovery's claims say a page existed, not that the program is open:
once a source has listed it, they keep it open no more. Several records of one source's run that are one program
(one merchant's offers, listed apart) are one sighting of it first, keeping what each says (see combined)."""

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

from pydantic import TypeAdapter, ValidationError

from affiliate_matrix import taxonomy
from affiliate_matrix.models import MAX_ITEMS, FieldSource, NetworkListing, Payout, Program
from affiliate_matrix.observability import get_logger

log = get_logger()

VOTED = ("name", "merchant_domain", "description", "commission", "commission_text", "cookie_days", "payout")
UNION = ("categories", "networks", "countries", "countries_unread", "domains", "restrictions", "aliases", "records",
         "deeplink_domains")
# Figures a network measures about its own program (EPC, gravity, …): the newest report stands (but YES_FROM_ANY).
# A field that is the words of another: its value comes from a source whose claim on the other was kept (the kept
# commission and the text shown beside it agree), none when none of them said it; voted as any field when the other
# has no claim.
WORDS_OF = {"commission_text": "commission"}
REPORTED = ("epc_7d", "epc_90d", "conversion_rate", "approval_rate", "validation_days", "average_payment_days",
            "deeplinks_allowed", "gravity")
# Reported yes-or-no figures where one network's yes is the program's: deep links allowed through any of its networks
# are allowed to a user who joins there (the merchant's rows say which). The newest report alone flipped the filter
# with the order networks synced in, and hid a program a user could deep link to.
YES_FROM_ANY = ("deeplinks_allowed",)
FRESH_FOR = timedelta(days=30)
# A countries claim of no country is a source saying the program takes every one (its Worldwide, or a region we cannot
# bound: normalize), so the union of the claims is every country (no list): a claim of nothing is never recorded.
TAKES_EVERY_COUNTRY: list = []
DISCOVERY = "discovery"  # the source of programs found by discovery (discovery/run.py), status `discovered`


@cache
def _adapter(field: str) -> TypeAdapter:
    """Validates a claimed (JSON) value back into the field's type."""
    return TypeAdapter(Program.model_fields[field].annotation)


def _key(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def as_read(field: str, value) -> str:
    """A claimed (JSON) value in the field's one form, as a key: claims a reader reads as one value (`130`, `130.0`,
    `"130.00"`; a term naming no tiers and one with `tiers: []`) are one key."""
    return _key(_adapter(field).dump_python(_adapter(field).validate_python(value), mode="json"))


def holds(program: Program, field: str, claim: FieldSource) -> bool:
    """Whether the program's value of `field` is what `claim` said: a voted or reported field's value is one claim's
    (or none: WORDS_OF), a list field's holds every value of each claim (but what merging settled away: "other" beside
    a category), and a program taking every country (a claim of none won) takes what each claim named."""
    held = _adapter(field).dump_python(getattr(program, field), mode="json")
    try:
        said = _adapter(field).dump_python(_adapter(field).validate_python(claim.value), mode="json")
    except ValidationError:  # a claim stored in a shape no longer the field's: not what the program holds
        return False
    if field == "countries" and held == TAKES_EVERY_COUNTRY:
        return True
    if field in UNION:
        return {_key(value) for value in said} <= {_key(value) for value in held} if said else not held
    return _key(said) == _key(held)


def claims_of(program: Program, field: str) -> list[FieldSource]:
    return program.provenance.get(field, [])


Claimant = tuple[str, str | None]  # (source, connection id): who made a claim; None: the source's, made before claims
                                   # named their connection


def claimant(claim: FieldSource) -> Claimant:
    """Who made a claim and may withdraw it: its source's connection (two connections of one source, two accounts of
    a network, list and stop listing apart). A claim recorded before claims named a connection is its source's."""
    return claim.source, claim.connection_id


def claimant_name(source: str, connection_id: str | None, title: str | None = None) -> str:
    """How a claimant is named to a reader: its source (by `title` where the reader names it so: the explorer's),
    and the connection it came through where that is not named as the source (`cj (cj-agency)`: two accounts of one
    network are two claimants)."""
    named = title or source
    if connection_id in (None, source):
        return named
    return f"{named} ({connection_id})"


def _current(known: Program, seen: Program, withdrawals: dict[Claimant, datetime]):
    """A function giving a field's current claims: those each claimant made at its latest sighting of the program,
    the same claim made twice counted once. A claimant seen again later without a claim on the field has withdrawn
    it (it no longer says it), and an older sighting replayed after a newer one claims nothing. (By claimant, not by
    page: a page's address may change, a recorded site's port or an API's page number, and the claimant's older
    claims would stand beside its newer ones.) A claim naming no connection is its source's: any later sighting of
    the source, through any connection, replaces it. `withdrawals`: sightings of claimants that claim nothing (see
    withdraw)."""
    sighted: dict[Claimant, datetime] = dict(withdrawals)
    for program in (known, seen):
        for claims in program.provenance.values():
            for claim in claims:
                for who in {claimant(claim), (claim.source, None)}:
                    if who not in sighted or claim.fetched_at > sighted[who]:
                        sighted[who] = claim.fetched_at

    def live(claim: FieldSource) -> bool:
        return claim.fetched_at == sighted[claimant(claim)]

    def current(field: str) -> list[FieldSource]:
        claims: dict[tuple, FieldSource] = {}
        for claim in filter(live, claims_of(known, field) + claims_of(seen, field)):
            claims[(*claimant(claim), claim.url, _key(claim.value))] = claim
        return list(claims.values())

    return current, live


def withdraw(known: Program, claimants: Iterable[Claimant], at: datetime) -> Program:
    """The program once `claimants` (a connection of a source, or the source's claims naming none), seen at `at`, no
    longer list it (a complete run of the connection did not, or the connection was deleted): a sighting of each
    claiming nothing, so each of its claims older than `at` is withdrawn as merge withdraws a claim a source seen
    again no longer makes, its reported figures too. Listed by no one after that, the program is closed_suspected,
    until a source lists it again (merge restores it)."""
    return merge(known, known.model_copy(update={"provenance": {}, "last_verified_at": None}),
                 dict.fromkeys(claimants, at))


def merge(known: Program, seen: Program, withdrawals: dict[Claimant, datetime] | None = None) -> Program:
    """Fold two observations of the same program into one, field by field. A field's value comes from its current
    claims alone (see _current): one no source claims any more is cleared, its provenance with it; a field that
    never had a claim (an alias, a program imported without provenance) keeps what it held. Each claimant's claim is
    kept, but a source votes once (its latest claim), however many of its connections list the program."""
    from affiliate_matrix.sources import priority_of

    withdrawals = withdrawals or {}
    merged = known.model_copy(deep=True)
    current, live = _current(known, seen, withdrawals)

    def standing(claim: FieldSource) -> bool:  # not withdrawn by a later sighting of its claimant claiming nothing
        return claim.fetched_at >= withdrawals.get(claimant(claim), claim.fetched_at)

    def withdrawn(field: str) -> bool:
        if not (claims_of(known, field) or claims_of(seen, field)):
            return False  # never claimed (an imported program's fields): kept
        if not Program.model_fields[field].is_required():  # a name stays, its claims gone (only a withdrawal does it)
            setattr(merged, field, Program.model_fields[field].get_default(call_default_factory=True))
        merged.provenance.pop(field, None)
        return True

    kept_from: dict[str, set[str]] = {}  # a voted field -> the sources whose claim was kept
    for field in VOTED:
        latest: dict[Claimant, FieldSource] = {}  # each claimant's latest claim, kept in the provenance
        for claim in current(field):
            if claimant(claim) not in latest or claim.fetched_at >= latest[claimant(claim)].fetched_at:
                latest[claimant(claim)] = claim
        if not latest:
            withdrawn(field)
            continue
        votes: dict[str, FieldSource] = {}  # one vote a source (not one a connection): its latest claim
        for claim in latest.values():
            if claim.source not in votes or claim.fetched_at >= votes[claim.source].fetched_at:
                votes[claim.source] = claim
        voters = list(votes.values())
        if WORDS_OF.get(field) in kept_from:  # the words of a figure shown: only its sources' describe it
            voters = [c for c in voters if c.source in kept_from[WORDS_OF[field]]]
        if not voters:  # none of them said it in words: another's would describe a figure not shown
            setattr(merged, field, None)
            merged.provenance[field] = sorted(latest.values(), key=lambda c: (c.source, c.connection_id or ""))
            continue
        by_value: dict[str, list[FieldSource]] = {}  # claims read as one value (130 and "130.0") are one side
        for claim in voters:
            by_value.setdefault(as_read(field, claim.value), []).append(claim)
        kept, winner = max(by_value.items(), key=_deciding(field, known, seen, by_value))
        kept_from[field] = {c.source for c in winner}
        setattr(merged, field, _adapter(field).validate_python(winner[0].value))
        merged.provenance[field] = sorted(latest.values(), key=lambda c: (
            c.source not in kept_from[field] or as_read(field, c.value) != kept, c.source, c.connection_id or ""))
    for field in UNION:  # the union of what the current claims say
        claims = current(field)
        if claims:
            newest_last = sorted(claims, key=lambda c: (c.fetched_at, priority_of(c.source), c.source,
                                                        c.connection_id or "", c.url))
            said = [v for claim in newest_last for v in _adapter(field).validate_python(claim.value)]
            if field == "countries" and any(claim.value == TAKES_EVERY_COUNTRY for claim in claims):
                said = []  # one source's every country and another's US: the program takes every country
            merged.provenance[field] = sorted(claims, key=lambda c: (c.source, c.connection_id or "", c.url))
        elif withdrawn(field):
            continue
        else:
            said = [*getattr(known, field), *getattr(seen, field)]
        setattr(merged, field, _union(field, said))
    for field in REPORTED:  # the newest report stands (a report without the figure erases nothing), credited
        reports: dict[Claimant, FieldSource] = {}  # each claimant's latest
        for claim in filter(standing, claims_of(known, field) + claims_of(seen, field)):
            if claimant(claim) not in reports or claim.fetched_at >= reports[claimant(claim)].fetched_at:
                reports[claimant(claim)] = claim
        credited = {source for source, connection in reports if connection is not None}
        reports = {who: c for who, c in reports.items() if who[1] is not None or who[0] not in credited}
        if reports:  # (a report naming no connection is its source's until one of the source's connections reports)
            # the claimant shown stands while it reports: two networks reporting one program's figure each sync would
            # otherwise take turns, a change in the feed (and a rule's trigger) at every sync
            shown = next((claimant(c) for c in claims_of(known, field)[:1] if getattr(known, field) is not None
                          and as_read(field, c.value) == as_read(field, getattr(known, field))), None)
            candidates = reports
            if field in YES_FROM_ANY:  # a yes from any network stands over a newer no
                candidates = {who: c for who, c in reports.items()
                              if _adapter(field).validate_python(c.value)} or reports
            newest = candidates.get(shown) or max(candidates.values(), key=lambda c: (
                c.fetched_at, priority_of(c.source), c.source, c.connection_id or ""))
            setattr(merged, field, _adapter(field).validate_python(newest.value))
            merged.provenance[field] = sorted(reports.values(), key=lambda c: (c is not newest, c.source,
                                                                               c.connection_id or ""))
        elif withdrawals and withdrawn(field):
            continue
        elif getattr(seen, field) is not None:  # a figure stored before its claims were kept
            setattr(merged, field, getattr(seen, field))
    merged.merchant = merged.name  # the merchant is named as the program is (normalize's rule), not as it was first
    merged.aliases = within_bounds("aliases", sorted((set(merged.aliases) | {known.name, seen.name})
                                                     - {merged.name}))
    merged.first_seen_at = min(known.first_seen_at, seen.first_seen_at)
    merged.last_seen_at = max(known.last_seen_at, seen.last_seen_at)
    verified = [t for t in (known.last_verified_at, seen.last_verified_at) if t]
    merged.last_verified_at = max(verified) if verified else None
    if seen.last_verified_at and seen.last_verified_at >= (known.last_verified_at or seen.last_verified_at):
        merged.misses = 0  # seen again: whatever was missing is back
        if known.status in ("closed_suspected", "removed") and seen.status != "discovered":
            merged.status = "active"  # listed again (discovery finding its page again says nothing of the program)
    if known.status == "discovered" and seen.status == "active":
        merged.status = "active"  # found by discovery, now listed by a source: confirmed (the discovery evidence stays)
    # A source's word that the program is over (a network's deactivated advertiser: normalize's
    # status claim) stands while every source that lists the program says so at its latest sighting; one still
    # listing it as open (its latest sighting claims no status) keeps it active, the other's word kept, credited.
    closing = current("status")
    merged.provenance.pop("status", None)
    if closing:
        merged.provenance["status"] = sorted(closing, key=lambda c: (c.source, c.connection_id or "", c.url))
    listing = {claimant(c) for p in (known, seen) for claims in p.provenance.values() for c in claims if live(c)}
    sourced = {who for who in listing if who[0] != DISCOVERY}
    if sourced or merged.status != "discovered":
        # Discovery's claims are evidence its page existed, not that the program is open: once a source has listed
        # it (it is no longer `discovered`), its sources alone say whether it is, a withdrawal or a closing word too.
        listing = sourced
    if closing and set(map(claimant, closing)) == listing and \
            merged.status in ("active", "closed_suspected", "discovered"):
        merged.status = "closed_suspected"
    elif merged.status == "closed_suspected" and claims_of(known, "status") and not merged.misses:
        merged.status = "active"  # closed on a source's word (not on missed pages), which no longer holds
    if withdrawals and not listing and merged.status == "active":
        merged.status = "closed_suspected"  # no source lists it any more
    merged.quality_score = quality(merged)
    return merged


def _deciding(field: str, known: Program, seen: Program, sides: dict[str, list[FieldSource]]):
    """The order of a voted field's sides (its values, each with its claims): the most votes, then the highest
    priority, then the value shown now, unless another side tied with it was newly said since (its claimant said
    nothing, or another value, before this sighting, which is newer than every claim of the value shown), then the
    most recent claim. Two sources that disagree and restate their values at each sync (two network APIs) keep the
    value shown: by the latest sighting alone they took turns, a change in the feed (and a rule's trigger) each sync;
    a source saying a new value is news, as before."""
    from affiliate_matrix.sources import priority_of

    def standing(claims: list[FieldSource]) -> tuple:
        return len(claims), max(priority_of(c.source) for c in claims)

    said_before = {claimant(c): as_read(field, c.value) for c in claims_of(known, field)}
    new_claims = {id(c) for c in claims_of(seen, field)}

    def newly_said(claim: FieldSource) -> bool:
        return id(claim) in new_claims and said_before.get(claimant(claim)) != as_read(field, claim.value)

    top = max(map(standing, sides.values()))
    shown = as_read(field, getattr(known, field)) if claims_of(known, field) else None
    shown_side = sides.get(shown) if shown in sides and standing(sides[shown]) == top else None

    def order(side: tuple[str, list[FieldSource]]) -> tuple:
        value, claims = side
        if shown_side is None:
            held = 0
        elif value == shown:
            held = 1
        else:  # news newer than every claim of the value shown displaces it
            held = 2 * any(newly_said(c) and c.fetched_at > max(s.fetched_at for s in shown_side) for c in claims)
        return standing(claims), held, max(c.fetched_at for c in claims), value

    return order


def _union(field: str, said: list) -> list:
    """A list field's values said (oldest first), each once, in one order whoever said them. A record is one whatever
    batch it was read from (two connections listing one offer: the newest said stands)."""
    if field == "categories":  # "other" (none of ours fits) not beside a category another source gave
        said = taxonomy.settled(said)
    identity = (lambda r: _key(r.model_copy(update={"batch_key": None}))) if field == "records" else _key
    values = {identity(v): v for v in (one_listing_each(said) if field == "networks" else said)}
    return within_bounds(field, [values[k] for k in sorted(values)])


def within_bounds(field: str, items: list) -> list:
    """A merged program's list `field` cut to the most a program written from outside may hold (models.MAX_ITEMS), the
    cut logged: several records' lists together (every offer's name among the aliases, a merchant's offers on every
    source among the records) may hold more than any one does, and a program stored past them would be one its own
    export does not import. The items in one order (_union's), so the same lists keep the same ones."""
    if len(items) > (most := MAX_ITEMS[field]):
        log.warning("merge.list_cut", field=field, items=len(items), kept=most)
    return items[:most]


def combined(listed: list[Program]) -> Program:
    """One claimant's records of one program in one run (several offers of one merchant a source lists apart, each a
    record of its own: normalized, one program id) as one sighting of it, in any order the same: each field as the
    records say it together, one claim a field, as of the run's latest fetch of them, its evidence every record's.
    The commission is every record's terms merged as the terms extractor merges a text's (one entry per distinct
    offer: terms.merged_terms), its text every record's in turn; a list field (countries, categories, networks,
    payout methods, restrictions, the records themselves) the union, the other records' names among the aliases;
    the cookie the widest; deep links allowed where any record allows them (YES_FROM_ANY); any other single value
    (the name, description, payout frequency and minimum, EPC and the network's other figures) the first record's
    that states one, records taken in the order of the source's own ids
    (record_key): the same offers give the same program, run after run, whatever order they came in. The source
    says the program is over only when it says so of every record. A later run's sighting replaces this one whole
    (merge), so an offer the source no longer lists takes its terms, countries and record with it; an API's sync that
    is not complete has the offers it did not reach among its records (pipeline.unreached_offers)."""
    from affiliate_matrix import terms

    if len(listed) == 1:
        return listed[0]
    ordered = sorted(listed, key=lambda p: ([r.record_key for r in p.records], _key(p.model_dump(mode="json"))))
    first = ordered[0]

    def stated(field: str):
        return next((v for p in ordered if (v := getattr(p, field)) is not None), None)

    cookies = [p.cookie_days for p in ordered if p.cookie_days is not None]
    texts = list(dict.fromkeys(p.commission_text for p in ordered if p.commission_text))
    values = {field: stated(field) for field in ("merchant_domain", "description", *REPORTED)} | {
        field: _union(field, [v for p in ordered for v in getattr(p, field)]) for field in UNION} | {
        "commission": terms.merged_terms([t for p in ordered for t in p.commission]),
        "commission_text": "; ".join(texts) or None,
        "cookie_days": (-1 if -1 in cookies else max(cookies)) if cookies else None,
        "payout": Payout(methods=list(dict.fromkeys(m for p in ordered for m in p.payout.methods)),
                         frequency=next((p.payout.frequency for p in ordered if p.payout.frequency), None),
                         minimum=next((p.payout.minimum for p in ordered if p.payout.minimum), None)),
    }
    values |= {field: True for field in YES_FROM_ANY if any(getattr(p, field) is True for p in ordered)}
    values["aliases"] = within_bounds("aliases", sorted((set(values["aliases"]) | {p.name for p in ordered})
                                                        - {first.name}))
    every_country = any(claim.value == TAKES_EVERY_COUNTRY for p in ordered for claim in claims_of(p, "countries"))
    if every_country:  # an offer taking every country: the program does
        values["countries"] = []
    closed = all("status" in p.provenance for p in ordered)
    one = first.model_copy(update=values | {
        "first_seen_at": min(p.first_seen_at for p in ordered), "last_seen_at": max(p.last_seen_at for p in ordered),
        "last_verified_at": max((p.last_verified_at for p in ordered if p.last_verified_at), default=None),
        # the first open record's status (active, or discovered for discovery's), the closing one's if none is open
        "status": next((p.status for p in ordered if "status" not in p.provenance), first.status), "provenance": {}})
    for field in sorted({f for p in ordered for f in p.provenance} - ({"status"} if not closed else set())):
        claims = [p.provenance[field][0] for p in ordered if field in p.provenance]
        value = _adapter(field).dump_python(getattr(one, field), mode="json")
        if value in (None, [], Payout().model_dump(mode="json")) and not (field == "countries" and every_country):
            continue
        one.provenance[field] = [claims[0].model_copy(update={
            "fetched_at": one.last_seen_at, "value": value,
            "evidence": within_bounds("evidence", list(dict.fromkeys(e for c in claims for e in c.evidence)))})]
    one.quality_score = quality(one)
    return one


def one_listing_each(listings: list[NetworkListing]) -> list[NetworkListing]:
    """One listing a network program (the network and the program's id there, if known): two join URLs for one (a
    tracking link with another query string) are one listing. Given oldest first, the last URL named stands, and the
    network's name as a source first wrote it (its title: 'MyAffiliateNet', where nothing else names it)."""
    kept: dict[tuple[str, str | None], NetworkListing] = {}
    for listing in listings:
        key = (listing.network, listing.program_id)
        earlier = kept.get(key)
        if earlier is None or listing.join_url:  # one naming no URL keeps the URL named before
            title = earlier.title if earlier is not None and earlier.title else listing.title
            kept[key] = listing if title == listing.title else listing.model_copy(update={"title": title})
        elif not earlier.title and listing.title:
            kept[key] = earlier.model_copy(update={"title": listing.title})
    return list(kept.values())


def quality(program: Program) -> float:
    """0..1: half completeness of the compared fields, three tenths agreement among sources (one each),
    two tenths freshness (claims seen within 30 days of the latest sighting)."""
    compared = ("name", "merchant_domain", "description", "networks", "categories", "commission", "cookie_days",
                "payout", "countries")
    # a field a source claims is complete, though its value may be empty (every country: no list)
    completeness = sum(getattr(program, f) not in (None, [], Payout()) or f in program.provenance
                       for f in compared) / len(compared)
    shares, fresh, total = [], 0, 0
    for field in VOTED:
        claims = claims_of(program, field)
        if claims and getattr(program, field) is not None:  # (a commission's text none of its sources said: none)
            winner = as_read(field, claims[0].value)
            votes: dict[str, FieldSource] = {}  # a source agrees once, however many of its connections claim
            for claim in claims:
                votes.setdefault(claim.source, claim)
            shares.append(sum(as_read(field, c.value) == winner for c in votes.values()) / len(votes))
        for claim in claims:
            total += 1
            fresh += program.last_seen_at - claim.fetched_at <= FRESH_FOR
    agreement = sum(shares) / len(shares) if shares else 0.0
    freshness = fresh / total if total else 0.0
    return round(0.5 * completeness + 0.3 * agreement + 0.2 * freshness, 3)
