"""One merchant across every network and directory: a row per source's connection that lists it (its own
claims: commission parsed and verbatim, cookie, payout, network and join link; two accounts of one network are two
rows, as they are two claimants: merge.claimant), the best terms per column marked, and the fields where sources
disagree flagged."""

from affiliate_matrix.errors import DamagedData, NotFoundError
from affiliate_matrix.merge import as_read, claimant, claimant_name, holds
from affiliate_matrix.program_index import PROGRAMS_INDEX, network_titles_of, programs_of
from affiliate_matrix.search import MAX_PAGE, SearchQuery
from affiliate_matrix.wording import ending_in_z

COMPARED = ("commission", "commission_text", "cookie_days", "payout", "networks", "countries")
REPORTED = ("epc_7d", "epc_90d", "approval_rate")  # a network's own figures: a row shows its own source's, none else
DISPUTABLE = ("commission", "cookie_days", "payout")  # the fields a view flags its sources' disagreements on


def _best_value(terms: list[dict], kind: str) -> float | None:
    values = [float(t["value_max"] if t.get("value_max") is not None else t["value_min"])
              for t in terms or [] if t.get("type") == kind and (t.get("value_max") or t.get("value_min")) is not None]
    return max(values) if values else None


def _cookie_rank(days) -> float:
    return float("inf") if days == -1 else -1 if days is None else float(days)


def _flat_by_currency(terms: list[dict]) -> dict[str, float]:
    best: dict[str, float] = {}
    for t in terms or []:
        value = t.get("value_max") if t.get("value_max") is not None else t.get("value_min")
        if t.get("type") == "flat" and value is not None:
            best[t["currency"]] = max(best.get(t["currency"], 0.0), float(value))
    return best


def _mark_best(rows: list[dict]) -> None:
    """Best percent, best flat amount within each currency (no exchange rates are assumed), longest cookie."""
    def mark(column, scores):
        top = max((s for s in scores if s is not None), default=None)
        for score, row in zip(scores, rows):
            if top is not None and score == top and column not in row["best"]:
                row["best"].append(column)

    mark("commission_percent", [_best_value(r["commission"], "percent") for r in rows])
    for currency in {c for r in rows for c in _flat_by_currency(r["commission"])}:
        mark("commission_flat", [_flat_by_currency(r["commission"]).get(currency) for r in rows])
    mark("cookie_days", [_cookie_rank(r["cookie_days"]) if r["cookie_days"] is not None else None for r in rows])


def merchant_view(index, merchant_key: str, readable=lambda docs: list(programs_of(docs))) -> dict:
    """`readable`: the Programs of the documents found, one not of a Program's shape left out
    (program_index.programs_of; the programs API's and `amx compare` name it)."""
    hits = index.search(PROGRAMS_INDEX.name, SearchQuery(filters={"merchant_key": [merchant_key]}, size=100)).hits
    if not hits:
        raise NotFoundError(f"no program for merchant {merchant_key!r}")
    programs = readable([hit.doc for hit in hits])
    if not programs:
        raise DamagedData(f"the programs of merchant {merchant_key!r}", f"none of its {len(hits)} can be read",
                          "index their sources again, or delete them")
    rows, conflicts = [], {}
    for program in programs:
        for field in DISPUTABLE:
            claims = program.provenance.get(field, [])
            # by source; two connections of one source (two accounts, two rows) by connection too, or one hid the other
            several = {c.source for c in claims if sum(d.source == c.source for d in claims) > 1}
            said = {claimant_name(c.source, c.connection_id) if c.source in several else c.source: c.value
                    for c in claims}
            # compared in the field's one form: a figure stored as 130.0 by one source and "130" by another agrees
            if len({as_read(field, value) for value in said.values()}) > 1:
                conflicts.setdefault(program.id, {})[field] = said
        claims: dict[tuple[str, str | None], dict] = {}  # by claimant
        for field in COMPARED + REPORTED:
            for claim in program.provenance.get(field, []):
                row = claims.setdefault(claimant(claim), {"url": claim.url, "held": [],
                                                          "fetched_at": ending_in_z(claim.fetched_at.isoformat())})
                row[field] = claim.value
                if field in DISPUTABLE and holds(program, field, claim):
                    row["held"].append(field)
        for (source, connection_id), row in claims.items():
            networks = row.get("networks") or []
            rows.append({
                "program_id": program.id, "kind": program.kind, "name": program.name, "source": source,
                "connection_id": connection_id, "url": row["url"], "seen_at": row["fetched_at"],
                "commission": row.get("commission") or [], "commission_text": row.get("commission_text"),
                "cookie_days": row.get("cookie_days"),
                "payout": row.get("payout"), "network": networks[0]["network"] if networks else None,
                "network_title": networks[0].get("title") if networks else None,  # named below
                "join_url": networks[0].get("join_url") if networks else None,
                "contract": networks[0].get("contract") if networks else None, "countries": row.get("countries") or [],
                "epc_7d": row.get("epc_7d"), "epc_90d": row.get("epc_90d"),
                "approval_rate": float(row["approval_rate"]) if row.get("approval_rate") is not None else None,
                "last_verified_at": (ending_in_z(program.last_verified_at.isoformat()) if program.last_verified_at
                                     else None),
                "restrictions": program.restrictions, "best": [], "held": row["held"],
                # of its own claims alone: a source that said nothing of a field the others disagree on is no party
                "disputed": [field for field in conflicts.get(program.id, {}) if field in row]})
    _mark_best(rows)
    shown_networks(index, rows)
    first = programs[0]
    return {"merchant_key": merchant_key, "merchant": first.merchant or first.name,
            "domain": first.merchant_domain, "rows": rows, "conflicts": conflicts}


def shown_networks(index, rows: list[dict]) -> None:
    """Each row's `network_title`: its network as people read it (sources.network_shown), by the name the row's own
    claim wrote where it has one, else as the index's programs title it (program_index.network_titles_of: one search
    for the rows' networks nothing names, none where each is named or titled by its claim)."""
    from affiliate_matrix.sources import network_shown

    for row in rows:  # (a claim's title not a name: a hand-edited document's, not shown)
        row["network_title"] = row["network_title"] if isinstance(row["network_title"], str) else None
    titles = network_titles_of(index, [row["network"] for row in rows if row["network"] and not row["network_title"]])
    for row in rows:
        if row["network"]:
            row["network_title"] = network_shown(row["network"], row["network_title"] or titles.get(row["network"]))


# Programs find_merchants reads at most in each of its two steps (a page at a time): past it, the answer says it was cut.
MERCHANT_SCAN = 10_000


def merchants_cursor(text: str | None, after: int) -> str:
    """Where a listing of merchants goes on: past its first `after` merchants, of the search for `text` (GET /merchants'
    next_cursor, opaque as every listing's)."""
    import base64
    import json

    mark = {"q": SearchQuery(text=text, prefix=True).fingerprint(), "n": after}
    return base64.urlsafe_b64encode(json.dumps(mark, separators=(",", ":")).encode()).decode().rstrip("=")


def merchants_after(cursor: str | None, text: str | None) -> int:
    """How many merchants a cursor (merchants_cursor's) goes on past; 0 for none. One that is no cursor of ours, or of
    another search, is refused as every listing's is."""
    import base64
    import json

    from affiliate_matrix.errors import CURSOR_OF_ITS_QUERY, InvalidInput, malformed_cursor

    if not cursor:
        return 0
    try:
        mark = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = mark["n"]
        if set(mark) != {"q", "n"} or type(after) is not int or not 0 < after <= MERCHANT_SCAN:
            raise ValueError(after)
    except (ValueError, TypeError, KeyError, RecursionError):  # not base64, not JSON, not a cursor's shape
        raise malformed_cursor() from None
    if mark["q"] != SearchQuery(text=text, prefix=True).fingerprint():
        raise InvalidInput(f"cursor belongs to a different query: {CURSOR_OF_ITS_QUERY}")
    return after


def find_merchants(index, text: str | None, limit: int = 20, readable=lambda docs: docs, after: int = 0) -> dict:
    """Merchants whose programs match `text` (its last word as the start of a word too: "host" finds Hostinger),
    in the order of their most relevant program, each with how many matching programs it has and on which networks.

    Two steps, each reading a page at a time and at most MERCHANT_SCAN programs: the matches in order of relevance
    until a merchant past the first `limit` shows (`more`), then every matching program of those merchants, whose
    counts and networks they are. So the work is the programs of the merchants shown, not of every match; `cut`
    says a bound stopped a step (a merchant with thousands of matching programs). `readable`: the documents of a page
    read (the programs API's leaves one not of a program's summary out and names it). `after`: the merchants of the
    pages before, left out (each page reads from the first match again: merchants_cursor says how many to pass)."""
    from affiliate_matrix.search import SortKey
    from affiliate_matrix.sources import network_shown

    query = SearchQuery(text=text, prefix=True, size=min(MAX_PAGE, 5 * limit), paged=True)
    first: dict[str, dict] = {}  # merchant key -> its most relevant program, of the merchants past `after`
    met: set[str] = set()  # the merchants met, those of the pages before too
    more, read = False, 0
    while not more:
        result = index.search(PROGRAMS_INDEX.name, query)
        for doc in readable([hit.doc for hit in result.hits]):
            if doc["merchant_key"] in met:
                continue
            if len(met) == after + limit:
                more = True
                break
            met.add(doc["merchant_key"])
            if len(met) > after:
                first[doc["merchant_key"]] = doc
        read += len(result.hits)
        if result.next_cursor is None or read >= MERCHANT_SCAN:
            break
        query = query.replaced(cursor=result.next_cursor)
    cut = not more and result.next_cursor is not None
    merchants = {key: {"merchant_key": key, "merchant": doc.get("merchant") or doc["name"],
                       "domain": doc.get("merchant_domain"), "programs": 0, "networks": set()}
                 for key, doc in first.items()}
    # in the order of the merchants' own key, not by relevance: nothing to score
    query = SearchQuery(text=text, prefix=True, filters={"merchant_key": list(first)},
                        sort=[SortKey(field="merchant_key")], size=MAX_PAGE)
    read = 0
    while merchants:
        result = index.search(PROGRAMS_INDEX.name, query)
        for doc in readable([hit.doc for hit in result.hits]):
            merchants[doc["merchant_key"]]["programs"] += 1
            merchants[doc["merchant_key"]]["networks"].update(doc.get("networks") or [])
        read += len(result.hits)
        if result.next_cursor is None:
            break
        if read >= MERCHANT_SCAN:
            cut = True
            break
        query = query.replaced(cursor=result.next_cursor)
    # each network as people read it too (sources.network_shown), in one search for all of them (network_titles_of)
    titles = network_titles_of(index, sorted({network for m in merchants.values() for network in m["networks"]}))
    return {"items": [{**m, "networks": sorted(m["networks"]),
                       "network_titles": {network: network_shown(network, titles.get(network))
                                          for network in sorted(m["networks"])}}
                      for m in merchants.values()], "more": more, "cut": cut,
            "next_cursor": merchants_cursor(text, after + limit) if more else None}
