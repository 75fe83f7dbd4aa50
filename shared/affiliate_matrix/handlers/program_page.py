"""A search's answer as the programs API documents it, its items the index's summary fields (program_index.SUMMARY).
Defined by the first GET /openapi.json or the tests that check a search's answers against it, not by a start or a
search: the search route sends its answer unchecked (handlers/programs.py)."""

from pydantic import ConfigDict, create_model

from affiliate_matrix.handlers.routes import Shape
from affiliate_matrix.program_index import SUMMARY, SUMMARY_DOC

ProgramSummary = create_model("ProgramSummary", __config__=ConfigDict(extra="forbid"), __doc__=SUMMARY_DOC,
                              **{name: (kind, *(default or [...])) for name, (_, kind, *default) in SUMMARY.items()})


class Facet(Shape):
    value: str | bool
    count: int


class ProgramPage(Shape):
    total: int
    items: list[ProgramSummary]
    facets: dict[str, list[Facet]]
    next_cursor: str | None
