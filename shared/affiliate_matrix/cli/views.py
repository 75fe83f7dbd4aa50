"""Rich views shared by CLI commands (and the demo). Every table `fitted` makes fits the terminal it is printed in:
cells wrap (a long word folds, nothing is cut to "…"), and columns are dropped by priority when even wrapped they
would not fit. A value from the index is a source's text: `escape`d, so Rich shows "[/]"
or "[link=...]" in it as written instead of reading it as markup (a MarkupError, or a hidden link)."""

import json

from rich.markup import escape

from affiliate_matrix.program_index import (DAMAGED_PROGRAM, PROGRAMS_INDEX, network_titles_of, networks_named,
                                            programs_of)
from affiliate_matrix.search import SearchQuery, utc_time
from affiliate_matrix.wording import (NO_VALUE, RATES, TO_THE_MINUTE, TO_THE_SECOND, amount_text, cookie_text,
                                     counted, field_label, listing_text, payout_text, rate_text, records_text,
                                     terms_summary, yes_no)


def commission_summary(program) -> str:
    return terms_summary(program.commission)


def listed_terms(row: dict) -> str:
    """A merchant view row's commission as its source wrote it, or, from a source that states its terms as data (an
    API's commission with no text), as parsed: never a dash beside terms the row has."""
    return row["commission_text"] or terms_summary(row["commission"])


def fitted(console, title: str, columns: list[tuple[str, int]], rows: list[list[str]], whole: tuple[str, ...] = ()):
    """A table of the columns (header, priority: 0 always kept, higher dropped first) that fits console.width; the
    columns named in `whole` (ids, to be pasted) are never folded."""
    from rich.cells import cell_len
    from rich.table import Table

    kept = list(range(len(columns)))
    while True:
        table = Table(title=title, title_justify="left")
        for i in kept:
            # a column of single words (names, links, ids) is shown whole (a droppable one or not at all), and so are
            # the columns named `whole`: Rich narrows the widest wrapping columns first, heedless of their words, and
            # would fold "affiliateprograms"
            shown_whole = columns[i][0] in whole or not any(" " in row[i] for row in rows)
            # its header and cells are not wrapped either, but Rich measures them wrapped ("days left" as 4, a command
            # as its longest word): the measure below took a table too wide to fit for one that fits, and Rich cut
            # every column to make it fit, or one that does not fit for one that does, and Rich cropped the command
            table.add_column(columns[i][0], overflow="fold", no_wrap=shown_whole,
                             min_width=max(cell_len(text) for text in (columns[i][0], *(row[i] for row in rows)))
                             if shown_whole else None)
        for row in rows:
            table.add_row(*(row[i] for i in kept))
        droppable = [i for i in kept if columns[i][1] > 0]
        if (fitting := fits(console, table)) or not droppable:
            dropped = [name for i, (name, _) in enumerate(columns) if i not in kept]
            if dropped:
                table.caption = f"(a wider terminal also shows: {', '.join(dropped)})"
            if fitting:
                _fold_no_word(console, table, [[columns[i][0], *(row[i] for row in rows)] for i in kept])
            return table
        kept.remove(max(droppable, key=lambda i: (columns[i][1], i)))


def fits(console, table) -> bool:
    """Whether a table fits console.width with no word folded mid-way (its cells wrapped between words at most)."""
    from rich.measure import Measurement

    return Measurement.get(console, console.options.update_width(100_000), table).minimum <= console.width


def listed(title: str, headers: list[str], rows: list[list[str]]):
    """A table's rows one under another, for a terminal too narrow for its columns side by side (wrapped into one word
    a line, or missing what matters): each row headed by its first cell, then each other cell on a line of its own
    after its column's header, a long one wrapped under itself. Cells are markup, as a table's are."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table

    blocks = [title] if title else []
    for row in rows:
        fields = Table.grid(padding=(0, 2))
        fields.add_column(no_wrap=True)
        fields.add_column(overflow="fold")
        for header, cell in zip(headers[1:], row[1:]):
            fields.add_row(header, cell)
        blocks += ["", f"[bold]{row[0]}[/]", Padding(fields, (0, 0, 0, 2), expand=False)]
    return Group(*blocks)


def source_named(source: str, connection_id: str | None = None) -> str:
    """A source as a table names it: its plugin's title, as the explorer names it, with the code a filter or a command
    takes ('CJ Advertiser Lookup API (cj-agency)': the connection it came through, else the source); one no plugin has
    (a removed one's, in a stored document) by its codes alone (merge.claimant_name)."""
    from affiliate_matrix.merge import claimant_name
    from affiliate_matrix.sources import source_titles

    title = source_titles().get(source)
    return f"{title} ({connection_id or source})" if title else claimant_name(source, connection_id)


def network_named(network: str, title: str | None = None) -> str:
    """A network as a table names it, as the explorer does (sources.network_shown): its proper name where a plugin
    reads it ('CJ' for cj), which `--network` takes too (taxonomy.network_name); any other as its source wrote it
    (`title`, a listing's), else as the index keeps it."""
    from affiliate_matrix.sources import network_shown

    return network_shown(network, title if isinstance(title, str) else None)


def claimants_named(rows: list[dict], program_id: str) -> dict[str, str]:
    """A merchant view's claimants of one program by the names its conflicts give them (merchants.merchant_view: a
    source by its name, or, where two connections of one source claim, merge.claimant_name's 'cj (cj-agency)'), each
    named as its row of the table is (source_named): what `disagreement` says them as."""
    from affiliate_matrix.merge import claimant_name

    named: dict[str, str] = {}
    for row in rows:
        if row["program_id"] == program_id:
            shown = source_named(row["source"], row["connection_id"])
            named[claimant_name(row["source"], row["connection_id"])] = shown
            named.setdefault(row["source"], shown)  # its one connection's, where the conflict names the source alone
    return named


def category_named(category: str) -> str:
    """A category as people read it, its title ('Hosting & domains' for hosting_domains): value_text's."""
    return value_text("categories", category)


def typed_codes(vocabulary: str, typed: list[str] | None) -> list[str]:
    """An option's values of a closed vocabulary as a user types them, by code or by the words a table shows for it in
    any case ('hosting & domains', 'possibly closed', 'bank transfer'), as the index keeps them; any other as typed
    (the filter's check names it)."""
    from affiliate_matrix.codes import WORDS

    by_word = {word.casefold(): code for code, word in WORDS[vocabulary].items()}
    return [by_word.get(" ".join(t.split()).casefold(), t) for t in typed or []]


def utc_text(when, *, minutes: bool = False) -> str:
    """A time as every table shows it, its column headed "… (UTC)": in UTC, to the second (or the minute), a space
    between its date and time. `when`: a datetime, or stored ISO 8601 text (one without a zone taken as UTC); text
    that is no time ("?", a record's placeholder) is shown as it is."""
    try:
        return f"{utc_time(when):{TO_THE_MINUTE if minutes else TO_THE_SECOND}}"
    except ValueError:
        return str(when)[:19]


def _fold_no_word(console, table, texts: list[list[str]]) -> None:
    """Rich narrows the widest wrapping columns first, heedless of their words: with room to spare elsewhere it folded
    `commission_text` in `amx changes`' fields and a connection id in `amx compare`'s sources. A table too wide for
    the terminal whose words all fit is narrowed the same way, widest first, but no column past its longest word (a
    column shown whole, past none of it). `texts`: each column's header and cells."""
    from rich.measure import Measurement

    options = console.options.update_width(100_000)
    spans = []
    for column, cells in zip(table.columns, texts):
        spans.append(Measurement(0, 0))
        for text in cells:
            low, high = Measurement.get(console, options, console.render_str(text))
            spans[-1] = Measurement(max(spans[-1].minimum, high if column.no_wrap else low),
                                    max(spans[-1].maximum, high))
    room = console.width - (len(spans) + 1) - 2 * len(spans)  # the borders, and a space either side of each cell
    widths = [span.maximum for span in spans]
    if sum(widths) <= room or sum(span.minimum for span in spans) > room:
        return  # Rich's own widths fold nothing, or no widths could
    def scaled(share: float) -> list[int]:
        return [max(span.minimum, int(span.maximum * share)) for span in spans]

    low, high = 0.0, 1.0  # each column narrowed in proportion to its width, as Rich does, but none past its longest word
    for _ in range(30):
        low, high = ((low + high) / 2, high) if sum(scaled((low + high) / 2)) <= room else (low, (low + high) / 2)
    widths = scaled(low)
    widest = max(range(len(spans)), key=lambda i: spans[i].maximum - widths[i])
    widths[widest] += room - sum(widths)  # what the rounding left, to the column cut most
    for column, width in zip(table.columns, widths):
        column.width = width


def print_damaged(console, damaged: list[dict]) -> None:
    """Below a list: each stored document it left out as damaged (documents.readable's {"key", "error"}), named with
    what to do, so that none is left out unsaid."""
    for bad in damaged:
        console.print(f"[red]unreadable:[/] {escape(bad['key'])}: {escape(bad['error'])}")


def network_names(typed: list[str] | None) -> list[str]:
    """Networks as a user types them ('Impact', 'CJ.com'), as the index names them (taxonomy.network_name)."""
    from affiliate_matrix.taxonomy import network_name

    return [network_name(n) or n for n in typed or []]


def source_names(typed: list[str] | None) -> list[str]:
    """Sources as a user types them: by name (cj), or by the title the tables show ('CJ Advertiser Lookup API', in
    any case); any other as typed (the filter's check names it)."""
    from affiliate_matrix.sources import source_titles

    by_title = {title.casefold(): name for name, title in source_titles().items()}
    return [by_title.get(" ".join(t.split()).casefold(), t) for t in typed or []]


def search_query(text: str | None, options: dict, *, sort: str = "relevance", epc_window: str = "7d",
                 export: bool = False) -> SearchQuery:
    """The words (checked by search_text) and a command's search options (`options`: filters' values and bounds by the
    API's parameter names, None where not given; others are not read) as the query the API's search, or with `export`
    its export, makes of them (handlers.programs.query_of), checked as the API checks them: a value that would find
    nothing (`--kind netwrok`) or a lone minimum that is an amount (--min-epc without --epc-currency) is a usage error
    in the API's 400's words, naming the option (as_option). A filter's value is taken by its code or by the words a
    table shows for it (typed_codes), a network by its name (network_names), a source by its title (source_names)."""
    from werkzeug.datastructures import MultiDict

    from affiliate_matrix.cli.common import as_option
    from affiliate_matrix.codes import WORDS
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.handlers import programs as api
    from affiliate_matrix.handlers.routes import parameters
    from affiliate_matrix.handlers.search_params import SearchParameters
    from affiliate_matrix.program_index import BOUNDS, FILTERS

    def typed(name: str, values: list[str]) -> list[str]:
        if name == "network":
            return network_names(values)
        if name == "source":
            return source_names(values)
        if name == "country":  # the explorer's words for worldwide, which is no country's code, taken too
            return [country_typed(v) for v in values]
        return typed_codes(name, values) if name in WORDS else values

    def option(name: str) -> str:  # an API parameter as the command's option names it
        return "--" + name.replace("_", "-")

    args = MultiDict([("sort", sort), ("epc_window", epc_window)])
    for name, value in options.items():
        if name in FILTERS and value:
            args.setlist(name, typed(name, value))
        elif name in BOUNDS and value is not None:  # as typed, checked as a query string's (a number in digits)
            args[name] = value
    try:
        params = parameters(api.export_params() if export else SearchParameters, args, {})
        api.priced_minimums(params, option, "{currency} USD {minimum} {value}")  # as options, not a query string
        query = api.query_of(params, open_only=not export)
    except InvalidInput as exc:
        raise as_option(exc, {name: option(name) for name in (*FILTERS, *BOUNDS, "sort", "epc_window")}) from None
    return query.replaced(text=text)  # the words as search_text checks them, as the command took them before


def country_typed(value: str) -> str:
    """--country's value as the API's country filter takes it: a code in any case (de), a name as the tables show it
    (Germany), or the explorer's words for the programs naming none ("Open to every country", the API's worldwide).
    Another is refused in the command's words, quoted as given: the API's refusal named it in capitals (cut at 20) and
    said only what the API takes."""
    from affiliate_matrix.cli.common import invalid
    from affiliate_matrix.codes import COUNTRIES, typed_country
    from affiliate_matrix.program_index import WORLDWIDE, WORLDWIDE_SHOWN
    from affiliate_matrix.wording import quoted

    if " ".join(value.split()).casefold() == WORLDWIDE_SHOWN.casefold() or value == WORLDWIDE:
        return WORLDWIDE
    code = typed_country(typed_codes("country", [value])[0])
    if code not in COUNTRIES:
        raise invalid("--country", f"{quoted(value)} is not a country: give its ISO 3166 code (DE) or its name as "
                                   f'shown (Germany), or "{WORLDWIDE_SHOWN}" for the programs naming none')
    return code


def search_text(text: str | None, param: str) -> str | None:
    """The words a command searches for, checked as the API checks its q (program_shapes.searchable: query syntax,
    `host*`, is refused, not searched as host) before anything is searched, but named as the command names them
    (`param`, its argument or option; the API's error names q): a usage error."""
    from affiliate_matrix.cli.common import invalid
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.handlers.program_shapes import searchable

    try:
        return searchable(text, "the text")
    except InvalidInput as exc:
        raise invalid(param, str(exc)) from None


def changed_fields(fields: list[dict]) -> list[str]:
    """A change's fields as the explorer's Changes page says them, each by its words with its old and new value:
    "Commission: 50% → 60%" (`amx changes`, the demo's deltas)."""
    return [f"{field_label(f['field'])}: {value_text(f['field'], f.get('old'))} → {value_text(f['field'], f.get('new'))}"
            for f in fields]


def value_text(field: str, value) -> str:
    """A field's value in a few words, as a source's claim holds it (its JSON form), wherever the CLI shows one to
    people: a closed vocabulary's codes in the explorer's words (codes.WORDS: 'Net 60', 'United States', 'Possibly
    closed'); `--json`, exports and the options keep the codes."""
    from affiliate_matrix.codes import VOCABULARY_OF, WORDS

    if field in VOCABULARY_OF and value is not None and not (field == "countries" and value == []):
        words, codes = WORDS[VOCABULARY_OF[field]], value if isinstance(value, list) else [value]
        return ", ".join(words.get(code, code) if isinstance(code, str) else json.dumps(code)  # (a damaged one's)
                         for code in codes) or NO_VALUE
    if field == "commission":
        return terms_summary(value or [])
    if field == "cookie_days":
        return cookie_text(value)
    if field == "networks":  # each by name, program id and the account's contract, as the explorer's pages
        return ", ".join(listing_text(n, network_named) for n in value or []) or NO_VALUE
    if field == "countries" and value == []:  # a claim of none: every country (a source's Worldwide), as the pages
        return "every country"                     # say; no value (a created program's old one) is none
    if field == "records":  # the source's own ids and pages, not the stored batch's key (bookkeeping)
        from affiliate_matrix.sources import source_title

        return records_text(value, source_title)
    if field == "payout" and isinstance(value, dict):
        return payout_text(value)
    if field in RATES and value not in (None, ""):
        return rate_text(value)
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:  # an EPC
        return amount_text(value["amount"], value["currency"])
    if isinstance(value, list):
        return ", ".join(v if isinstance(v, str) else json.dumps(v) for v in value) or NO_VALUE
    if isinstance(value, bool):  # a network's yes or no (deeplinks_allowed), as the explorer says it
        return yes_no(value)
    return NO_VALUE if value in (None, "") else value if isinstance(value, str) else json.dumps(value)


def disagreements(view: dict) -> list[str]:
    """A merchant view's "sources disagree" lines (amx compare's and the demo's), in console markup: each field its
    sources disagree on, what each said (`disagreement`) and the value the program keeps, which another row's
    ★ best may not be (merchants.merchant_view's `held`)."""
    lines = []
    for program_id, fields in view["conflicts"].items():
        named = claimants_named(view["rows"], program_id)  # as the table's rows name them
        for field, said in fields.items():
            kept = [row[field] for row in view["rows"] if row["program_id"] == program_id and field in row["held"]]
            tail = f"; the program keeps {value_text(field, kept[0])}" if kept else ""
            lines.append(f"[yellow]sources disagree on {escape(field_label(field))}:[/] "
                         + escape(disagreement(field, said, named) + tail))
    return lines


def disagreement(field: str, said: dict, named: dict[str, str]) -> str:
    """What the sources said of a field they disagree on (a merchant view's conflict), each value once with the sources
    saying it, named as the table names them (`named`: claimants_named): "65–130 USD from AffiliatePrograms.com
    (affiliateprograms) and CJ Advertiser Lookup API (cj); 65–100 USD from Rakuten Advertising API (rakuten)". Listed a
    source at a time, two agreeing sources read as two sides of the disagreement, the one disagreeing wrapped onto the
    next line."""
    from affiliate_matrix.merge import as_read

    by_value: dict[str, list[str]] = {}
    for claimant, value in said.items():
        by_value.setdefault(as_read(field, value), []).append(claimant)

    def listed(claimants: list[str]) -> str:
        names = [named.get(claimant, claimant) for claimant in claimants]
        return " and ".join(filter(None, (", ".join(names[:-1]), names[-1])))

    return "; ".join(f"{value_text(field, said[claimants[0]])} from {listed(claimants)}"
                     for claimants in by_value.values())


def print_search(console, rt, query: SearchQuery, limit: int = 20, cursor: str | None = None) -> None:
    """The first `limit` programs a search's query (search_query's) finds, or those after a page's `cursor`, as a
    table, its categories and networks counted, and the cursor of the next page (as `amx changes` prints one)."""
    query = query.replaced(size=limit, facets=["categories", "networks"], paged=True, cursor=cursor)
    text, sort = query.text, query.sort
    rt.index.ensure_index(PROGRAMS_INDEX)
    result = rt.index.search(PROGRAMS_INDEX.name, query)
    words = " ".join((text or "").split())  # as searched: blanks around and between the words are none of them
    title = counted(result.total, "program") + (f" matching {words!r}" if words else "")
    if not result.total:  # an empty table and "categories: " with nothing after it said nothing more
        empty = empty_index(rt.index)
        networks = [] if empty else networks_named(rt.index, text)
        console.print(escape(title) + (empty or "".join(f"; {network_named(network, None)} is a network, which the "
                                                        f"words do not search: --network {network}"
                                                        for network in networks)))
        return
    if cursor:
        title += f", {len(result.hits)} shown from --cursor"
    elif len(result.hits) < result.total:
        title += f", the first {len(result.hits)} shown (--limit)"
    from affiliate_matrix.cli.common import errors
    from affiliate_matrix.errors import DamagedData

    damaged: list[dict] = []  # a program of the index not of its shape: left out, named on standard error
    found = list(programs_of((hit.doc for hit in result.hits), damaged))
    print_damaged(errors, damaged)
    if damaged and not found:
        raise DamagedData(f"the {len(damaged)} program(s) found", "none of them can be read", DAMAGED_PROGRAM)
    # ranked by an EPC (--sort epc), the EPC it ranks by is shown: the table showed none, so the order read as random
    epc = next((key.field for key in sort or [] if key.field in ("epc_7d", "epc_90d")), None)
    rows = []
    for p in found:
        rows.append([escape(cell) for cell in (
            # a status but active said beside the name, as the explorer's list says it: a list of several statuses
            # (--status removed, or discovered ones among the sources') read as if every program were open
            p.id, p.name if p.status == "active" else f"{p.name} ({value_text('status', p.status).lower()})",
            p.merchant_domain or NO_VALUE, commission_summary(p), cookie_text(p.cookie_days),
            *([value_text(epc, getattr(p, epc).model_dump(mode="json")) if getattr(p, epc) else NO_VALUE]
              if epc else []),
            # a network once
            ", ".join(dict.fromkeys(network_named(n.network, n.title) for n in p.networks)) or NO_VALUE,
            ", ".join(map(category_named, p.categories)) or NO_VALUE)])
    # the words typed are the user's text, not markup; a narrow terminal drops columns rather than cut names to "…"
    # its columns named as the explorer names the fields (wording.FIELD_LABELS)
    console.print(fitted(console, escape(title), [("ID", 0), *((field_label(name), drop) for name, drop in (
        ("name", 0), ("merchant_domain", 3), ("commission", 0), ("cookie_days", 1), *([(epc, 0)] if epc else []),
        ("networks", 2), ("categories", 4)))], rows, whole=("ID",)))
    titles = network_titles_of(rt.index, [value for value, _ in result.facets.get("networks", [])])
    for name, buckets in result.facets.items():
        if name in ("networks", "categories"):  # by name, as the table names them (and --network, --category take)
            buckets = [(network_named(value, titles.get(value)) if name == "networks" else category_named(value), count)
                       for value, count in buckets]
        console.print(f"[dim]{field_label(name)}:[/] " + (escape(facet_values(console, name, buckets)) or
                                                          f"none (no program found has {name})"), soft_wrap=True)
    if result.next_cursor:  # past --limit: 100 at most a page
        console.print(f"more programs: the same command with --cursor {result.next_cursor}", soft_wrap=True)


def empty_index(index) -> str:
    """What a command finding nothing adds when the index holds no program at all (of any status): what fills it, not
    a search to loosen; "" when it holds some."""
    if index.search(PROGRAMS_INDEX.name, SearchQuery(size=0)).total:
        return ""
    return "; the index holds no programs yet: `amx demo` fills it from recorded sources, `amx scrape SOURCE` from a live one"


def facet_values(console, name: str, buckets) -> str:
    """A facet's values and counts, wrapped to the terminal between values: Rich wrapped at any space, and put a
    count on the next line from its value ("marketing_tools" / "(2)")."""
    import textwrap

    if not buckets:
        return ""
    whole = ", ".join(f"{value}\N{NO-BREAK SPACE}({count})" for value, count in buckets)  # textwrap breaks no NBSP
    lines = textwrap.wrap(f"{name}: {whole}", max(console.width, 20), break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines).removeprefix(f"{name}: ").replace("\N{NO-BREAK SPACE}", " ")
