"""A search's answer as the programs API documents it, its items the index's summary fields (program_index.SUMMARY).
Defined by the first search that finds a program (handlers/programs.py summaries checks each item against
ProgramSummary), the first GET /openapi.json or the tests, not by a start: the search route sends its page unchecked."""

from typing import Any

from pydantic import ConfigDict, Field, create_model

from affiliate_matrix.handlers.routes import TOTAL, Shape
from affiliate_matrix.program_index import FACET_SIZE, FACETS, FILTERS, SUMMARY, SUMMARY_DOC

ProgramSummary = create_model("ProgramSummary", __config__=ConfigDict(extra="forbid"), __doc__=SUMMARY_DOC,
                              **{name: (kind, *(default or [...])) for name, (_, kind, *default) in SUMMARY.items()})


class Facet(Shape):
    value: str | bool
    count: int


class ProgramPage(Shape):
    total: int = Field(description=TOTAL.format(what="programs"))
    items: list[ProgramSummary]
    facets: dict[str, list[Facet]] = Field(description=(
        f"The programs found counted by value, the most counted first (at most {FACET_SIZE} values), keyed by the "
        "summary field each counts, with the parameter that filters by it: " + ", ".join(
            f"{name} ({param}=)" for name in FACETS for param, field in FILTERS.items() if field == name) +
        ". The countries facet ends with worldwide, the programs open to every country; epc_currency counts the EPC "
        "epc_window names."))
    next_cursor: str | None
    errors: list[dict[str, Any]] | None = Field(None, description=(
        "The programs of this page left out as damaged (a document of the index not of a program's shape): each one's "
        "id (key) and what is wrong (error); also counted in X-Damaged-Items."))
