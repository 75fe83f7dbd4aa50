"""Where a program whose id moved is now: the records of moved ids (search.MOVED_INDEX: old id -> new id, written by
the migration or the import that moved the program, in the same step) read forward, for what names an old id (a
link to GET /programs/{id}, a campaign), and backward, for the change feed of the new id (its deltas recorded under
the ids that moved into it). A record is followed only from an id the programs index does not hold: one left by a
migration that aborted, or rolled back, names an id that is still (or again) a program's, which is served as it is."""

from affiliate_matrix.errors import NotFoundError
from affiliate_matrix.observability import get_logger
from affiliate_matrix.program_index import PROGRAMS_INDEX
from affiliate_matrix.search import MAX_PAGE, MOVED_INDEX, SearchQuery

log = get_logger()
MAX_HOPS = 10  # moves in a chain followed: each migration or import moves an id once; a longer chain is damage


def moved_to(index, program_ids) -> dict[str, dict]:
    """Of `program_ids` (ids the programs index does not hold), each that moved, with the document of the program its
    chain of moves ends at: the first id of it the index holds. None is written that comes back to itself
    (search.move_records); one that does all the same, or runs past MAX_HOPS, ends nowhere and is logged."""
    at = {program_id: program_id for program_id in program_ids}  # each id asked -> where its chain has reached
    found: dict[str, dict] = {}
    for _ in range(MAX_HOPS):
        try:
            records = index.get_many(MOVED_INDEX.name, {_record_id(now) for now in at.values()})
        except NotFoundError:  # no id has moved yet
            return found
        at = {asked: records[_record_id(now)]["to"] for asked, now in at.items() if _record_id(now) in records}
        if not at:
            return found
        held = index.get_many(PROGRAMS_INDEX.name, set(at.values()))
        found |= {asked: held[now] for asked, now in at.items() if now in held}
        at = {asked: now for asked, now in at.items() if now not in held}
    if at:
        log.warning("moves.chain_unresolved", program_ids=sorted(at)[:20], hops=MAX_HOPS,
                    reason="a chain of moved ids longer than any migration makes, or one that comes back: not followed")
    return found


def moved_into(index, program_ids: list[str]) -> list[str]:
    """The ids that moved into `program_ids`, directly or along a chain of moves (at most MAX_PAGE a hop); not one the
    index holds, whose record is not followed (a migration that stopped after its alias swap, before it ended the
    records the swap made stale, left the record of an id that is another program's again: its changes are that
    program's, not those of the id the record names)."""
    found, reached = set(program_ids), set(program_ids)
    for _ in range(MAX_HOPS):
        query = SearchQuery(filters={"index": [PROGRAMS_INDEX.name], "to": sorted(reached)}, size=MAX_PAGE)
        try:
            reached = {hit.doc["old"] for hit in index.search(MOVED_INDEX.name, query).hits} - found
        except NotFoundError:
            break
        reached -= set(index.get_many(PROGRAMS_INDEX.name, reached)) if reached else set()
        if not reached:
            break
        found |= reached
    return sorted(found - set(program_ids))


def moves_generation(index) -> str:
    """The records' generation, for a cached answer that reads them ("none" before any id has moved)."""
    try:
        return index.generation(MOVED_INDEX.name)
    except NotFoundError:
        return "none"


def _record_id(program_id: str) -> str:
    return f"{PROGRAMS_INDEX.name}:{program_id}"
