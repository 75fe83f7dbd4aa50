"""Rich views shared by CLI commands. A value from the index is a source's text: `escape`d, so Rich shows "[/]"
or "[link=...]" in it as written instead of reading it as markup (a MarkupError, or a hidden link)."""

from rich.markup import escape

from affiliate_matrix.program_index import EXACT, PROGRAMS_INDEX, SORTS, from_document
from affiliate_matrix.search import SearchQuery


def commission_summary(program) -> str:
    return terms_summary(program.commission)


def terms_summary(terms) -> str:
    """Commission terms (models, or their JSON form as a source's claim holds them) in a few words."""
    from affiliate_matrix.models import CommissionTerm

    parts = []
    for term in (t if isinstance(t, CommissionTerm) else CommissionTerm.model_validate(t) for t in terms):
        low, high = term.value_min, term.value_max
        if low is None:
            value = f"up to {high:g}"
        elif high is None or high == low:
            value = f"{low:g}"
        else:
            value = f"{low:g}–{high:g}"
        parts.append((f"{value}%" if term.type == "percent" else f"{value} {term.currency}")
                     + (" recurring" if term.recurring else ""))
    return ", ".join(parts) or "—"


def print_search(console, rt, text: str | None, limit: int = 20, sort: str = "relevance", filters=None) -> None:
    from rich.table import Table

    query = SearchQuery(text=text, filters=filters or {}, size=limit, sort=SORTS[sort], exact=EXACT,
                        facets=["categories", "networks"])
    rt.index.ensure_index(PROGRAMS_INDEX)
    result = rt.index.search(PROGRAMS_INDEX.name, query)
    title = f"{result.total} programs" + (f" matching {text!r}" if text else "")
    table = Table(title=title)
    table.add_column("id", no_wrap=True)
    for column in ("name", "domain", "commission", "cookie", "networks", "categories"):
        table.add_column(column)
    for hit in result.hits:
        p = from_document(hit.doc)
        cookie = "—" if p.cookie_days is None else ("lifetime" if p.cookie_days == -1 else f"{p.cookie_days}d")
        table.add_row(*map(escape, (p.id, p.name, p.merchant_domain or "—", commission_summary(p), cookie,
                                    ", ".join(n.network for n in p.networks) or "—", ", ".join(p.categories))))
    console.print(table)
    for name, buckets in result.facets.items():
        console.print(f"[dim]{name}:[/] " + escape(", ".join(f"{v} ({n})" for v, n in buckets)))
