"""What each page of the index shows, gathered through the programs API's own functions (search,
program, changes, merchant view, export); render.py renders it."""

from werkzeug.datastructures import MultiDict

from affiliate_matrix.codes import VOCABULARY_OF, WORDS
from affiliate_matrix.deltas import TRACKED
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers import programs as api
from affiliate_matrix.handlers.search_params import DEFAULTS, checked_filter
from affiliate_matrix.program_index import (CURRENCY_OF, FACETS, OPEN_STATUSES, PROGRAMS_INDEX, RESULT_WINDOW,
                                           WORLDWIDE, WORLDWIDE_SHOWN, network_titles_of, networks_named, program_names,
                                           searched)
from affiliate_matrix.search import SearchQuery, decode_cursor
from affiliate_matrix.web.graph import layout, merchant_edges, search_edges
from affiliate_matrix.web.render import (EPC_WINDOW_LABELS, FACET_LABELS, MAXIMUM_LABELS, MINIMUM_LABELS, SORT_LABELS,
                                         network_title, once, source_title, url, words)

HIDDEN_FIELDS = {"provenance", "id"}
SHOWN_AS = {("country", WORLDWIDE): WORLDWIDE_SHOWN}  # a facet value that is no code, by (filter, value)


def search_page(rt, args: MultiDict) -> dict:
    """One page of search results with facet counts, through the API's own search.

    Every filter in the URL is shown as a checked box, whether or not it has a facet or its value is among the
    counted ones (a source picked in the graph, a filter that left nothing), so that the form, which sends only
    its fields, keeps it and a person can see and drop it. Values of one filter are alternatives (OR), so each
    facet is counted without its own filter, in the one search (apart: its filter is a post filter), showing what
    ticking one more value would add; the minimums and maximums (ranges) hold for every count. A search that asks no
    status lists open programs only (OPEN_STATUSES): shown as those statuses ticked, beside the counts of every status
    (the API's status facet counts them all then)."""
    refuse_unknown_words(args)
    search_args = without_back(args)
    params = api.parameters(api.SearchParameters, search_args, {})
    query = api.search_query(params, apart=True)
    back = earlier_pages(args, query, last_page=RESULT_WINDOW)
    result = api.search_with(rt, params, search_args, apart=True, terms=True, query=query, view_gone=True)
    counted = dict(result["facets"])
    # as the search read them (a network as the index names it: CJ is cj), so its facet's value shows ticked
    chosen_by = {name: checked_filter(name, args.getlist(name)) if name in args else [] for name in api.FILTERS}
    chosen_by["status"] = chosen_by["status"] or OPEN_STATUSES
    # a network nothing else names shown as its sources wrote it ('MyAffiliateNet'), the value staying its key
    titles = network_titles_of(rt.index, [*(b["value"] for b in counted.get("networks", [])), *chosen_by["network"]])
    facets = filter_facets(chosen_by, counted, titles)
    export_args = MultiDict([(k, v) for k, v in args.items(multi=True) if k in api.export_params().model_fields])
    export_args.setlist("status", chosen_by["status"])  # the programs shown: an export with no status has them all
    epc_window = args.get("epc_window", "7d")  # a known one: the search refused any other
    # nothing found in an index that holds nothing: no filter to loosen, but something to fill it with
    empty_index = not result["total"] and not rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=0)).total
    # Which of the total the page lists (1–20 of 25), the damaged ones it left out counted in their places. A page by
    # number knows its place; a cursor holds sort values, not a place: its page knows it only at the end (None: unknown)
    shown = len(result["items"]) + len(result.get("errors") or [])
    # the earlier pages' stack (back) knows it too where it holds the page the paging started from, by its number
    if "cursor" in args and not (back and back[0].isdigit()):
        first = None if result["next_cursor"] else result["total"] - shown + 1
    else:  # the search took limit and page, in digits
        page = int(back[0]) + len(back) if back else int(args.get("page", 1))
        first = (page - 1) * int(args.get("limit", DEFAULTS["limit"])) + 1
    return {"args": args, "result": result, "facets": facets, "sort": args.get("sort", "relevance"),
            "search_args": search_args,  # the search's own parameters: the query log's
            "pages": pager("/programs", args, back, result["next_cursor"],
                           numbered=RESULT_WINDOW // int(args.get("limit", DEFAULTS["limit"]))),
            "network_titles": titles,  # the rows' networks named as the Network filter names them
            "empty_index": empty_index, "first": first, "shown": shown,
            # nothing found by words that name a network, which the words do not search: the filter does
            "networks_named": [] if result["total"] or empty_index else networks_named(rt.index, args.get("q")),
            "epc_window": epc_window,  # and the fields of its EPC, which the results' EPC column shows
            "epc_fields": (searched("epc_7d", epc_window), searched("epc_currency", epc_window)),
            "export_args": export_args,
            "in_use": filters_in_use(args),  # said on the Filters panel, which starts folded on a phone
            "bounds": {name: args.get(name, "") for name in api.BOUNDS}}


# The programs page's Previous page link. Its cursors page forward only (a relevance sort's pages are of one view, which
# no cursor pages backwards, and every sort pages one way), so the Next link carries the pages before it in the address
# (back=, oldest first: a page number, where the paging started, then cursors), at most BACK_KEPT of them and
# BACK_CHARACTERS in all (a request line of some proxies stops at 8 KB; a cursor is 60 to 400 characters). Past those
# the oldest cursor gives way to its page number where the search takes one (to its 10,000th program: Previous reaches
# page 1 however deep), else (deeper) it is dropped: the pages before the kept ones are reached by First page only, as
# the page then says (pager's `forgotten`). (The Changes page pages back by the feed's previous_cursor: changes_page.)
BACK_KEPT, BACK_CHARACTERS = 50, 4000


def without_back(args: MultiDict) -> MultiDict:
    """A paged page's own parameters: its search's, without the earlier pages' stack (back)."""
    return MultiDict([(name, value) for name, value in args.items(multi=True) if name != "back"])


def earlier_pages(args: MultiDict, query: SearchQuery, last_page: int) -> list[str]:
    """The earlier pages' stack (back) of a page of `query`'s results, checked: its size, and each a page number (at
    most one, first, 1 to `last_page`: 1, the first page, where the page takes no page number) or a cursor of this
    search, checked as the API checks its own cursor."""
    back = args.getlist("back")
    if not back:
        return back
    if "cursor" not in args:
        raise InvalidInput("back is the pages before a cursor's page: give it with cursor, as Next page does")
    if len(back) > BACK_KEPT or sum(map(len, back)) > BACK_CHARACTERS:
        raise InvalidInput(f"back holds at most {BACK_KEPT} earlier pages of {BACK_CHARACTERS} characters in all, "
                           f"got {len(back)} of {sum(map(len, back))}")
    numbers = [value for value in back if value.isdigit()]
    if numbers and (len(numbers) > 1 or not back[0].isdigit() or not page_number(back[0], last_page)):
        raise InvalidInput(f"back holds one page number at most, first, from 1 to {last_page}, got "
                           f"{', '.join(numbers)[:80]}")
    for earlier in back[1:] if numbers else back:
        try:
            decode_cursor(query.replaced(cursor=earlier, offset=0))
        except InvalidInput as refusal:
            raise InvalidInput(f"back holds an earlier page's cursor not of this search ({refusal}): page from "
                               "the first page again") from None
    return back


def page_number(value: str, last_page: int = RESULT_WINDOW) -> bool:
    """A page by number, as the search's `page` takes it: ASCII digits, 1 to `last_page`."""
    return value.isascii() and value.isdigit() and len(value) <= 5 and 1 <= int(value) <= last_page


def pager(path: str, args: MultiDict, back: list[str], next_cursor: str | None, numbered: int) -> dict:
    """A paged page's links to its first, previous and next pages: the earlier pages' stack (earlier_pages) grown by
    this one for Next (within its bounds, the oldest cursor's page by its number where it is at most `numbered`, the
    last page the search takes by number), popped for Previous; no Previous where the stack no longer holds it, and
    `forgotten` where the pages before its oldest are out of Previous' reach (a cursor's page whose stack does not
    start at a page number)."""
    here = args.get("cursor") or args.get("page", "1")
    paged = "cursor" in args or "page" in args
    previous = None
    if back:
        earlier = back[-1]
        previous = url(path, args, back=back[:-1] or None,
                       **({"cursor": None, "page": None if earlier == "1" else earlier} if earlier.isdigit()
                          else {"cursor": earlier, "page": None}))
    elif "page" in args and "cursor" not in args and args["page"].isdigit() and int(args["page"]) > 1:
        previous = url(path, args, page=None if args["page"] == "2" else str(int(args["page"]) - 1))
    following = None
    if next_cursor:
        stack = [*back, here]
        while len(stack) > BACK_KEPT or sum(map(len, stack)) > BACK_CHARACTERS:
            if stack[0].isdigit() and int(stack[0]) < numbered:
                stack[:2] = [str(int(stack[0]) + 1)]  # the page after the numbered one, by its number
            else:
                stack.pop(0)  # the oldest: reached by First page only
        following = url(path, args, cursor=next_cursor, page=None, back=stack or None)
    return {"first": url(path, args, cursor=None, page=None, back=None) if paged else None,
            "previous": previous, "next": following,
            "forgotten": "cursor" in args and not (back and back[0].isdigit())}


def filter_facets(chosen_by: dict[str, list[str]], counted: dict, titles: dict[str, str] | None = None) -> list[dict]:
    """The filters panel's facets, in FACETS' order: each counted value, ticked where chosen, and each chosen value
    the counts do not hold, ticked, without a count; a network by `titles` where nothing else names it
    (program_index.network_titles_of)."""
    facets = []
    for name, field in sorted(api.FILTERS.items(), key=lambda item: FACETS.index(item[1])
                              if item[1] in FACETS else len(FACETS)):
        chosen = chosen_by[name]
        buckets = [{**bucket, "checked": bucket["value"] in chosen} for bucket in counted.get(field, [])]
        shown = {bucket["value"] for bucket in buckets}
        buckets += [{"value": value, "count": None, "checked": True} for value in chosen if value not in shown]
        for bucket in buckets:
            bucket["label"] = filter_value(name, bucket["value"], titles)
        facets.append({"field": field, "parameter": name, "label": FACET_LABELS.get(field, field), "values": buckets})
    return facets


def refused_search_page(rt, args: MultiDict, refusal: InvalidInput) -> dict:
    """The programs page of a search the API refused: the form as it was sent (its words, sort, minimums and every
    ticked filter, as typed), so nothing is lost to retype, and in place of results what to change, naming the form's
    fields by their labels. (It was an error page of its own whose way back held none of what was typed.) A minimum
    amount refused for want of its currency (the one refusal the form itself sends) leaves the rest of the search to
    count the filters, so the currency to tick is there; any other refusal shows the filters as sent, uncounted."""
    lone = [minimum for minimum, currency in CURRENCY_OF.items() if minimum in args and currency not in args]
    context = None
    if lone:
        try:
            context = search_page(rt, MultiDict([(k, v) for k, v in args.items(multi=True) if k not in lone]))
        except InvalidInput:  # refused for something else too: said as the API said it, below
            pass
    if context is not None:
        said = (f"{MINIMUM_LABELS[lone[0]]} needs a currency: tick one under "
                f"{FACET_LABELS[api.FILTERS[CURRENCY_OF[lone[0]]]]}. Amounts in different currencies are not "
                "compared: there are no exchange rates.")
    else:
        chosen_by = {name: args.getlist(name) for name in api.FILTERS}
        chosen_by["status"] = chosen_by["status"] or OPEN_STATUSES
        sort, epc_window = args.get("sort", "relevance"), args.get("epc_window", "7d")
        context = {"facets": filter_facets(chosen_by, {}), "sort": sort if sort in SORT_LABELS else "relevance",
                   "epc_window": epc_window if epc_window in EPC_WINDOW_LABELS else "7d"}
        said = labelled(refusal, search_labels())
    return {**context, "args": args, "refusal": said, "in_use": filters_in_use(args),
            "bounds": {name: args.get(name, "") for name in api.BOUNDS}}


def search_labels() -> dict[str, str]:
    """A search's parameters by their form fields' labels (the programs page's): what a refusal is said with."""
    return {"q": "Search programs", "sort": "Sort by", "epc_window": "EPC over", **MINIMUM_LABELS, **MAXIMUM_LABELS,
            **{name: FACET_LABELS.get(field, name) for name, field in api.FILTERS.items()}}


def labelled(refusal: InvalidInput, labels: dict[str, str]) -> str:
    """A refusal that starts with a parameter's name (`since must be…`), said with its form field's label instead."""
    said = str(refusal)
    name = said.split(" ", 1)[0].split(":", 1)[0]
    return f"“{labels[name]}”{said[len(name):]}" if name in labels else said


def filters_in_use(args: MultiDict) -> int:
    """How many filter values, minimums and maximums a search's URL holds."""
    return sum(len(args.getlist(name)) for name in api.FILTERS if not filters_nothing(name, args)) + \
        sum(1 for name in api.BOUNDS if name in args)


def filters_nothing(name: str, args: MultiDict) -> bool:
    """The open statuses, which a search naming no status lists, filter nothing (the programs page's "Graph of this
    result" names them), however often each is given."""
    return name == "status" and set(args.getlist(name)) == set(OPEN_STATUSES)


def refuse_unknown_words(args: MultiDict) -> None:
    """A filter of a closed vocabulary naming none of its codes is refused as the API refuses it, but listing each
    value by the words its box shows with the code the URL takes ('Hosting & domains (hosting_domains)'): the API's
    list of codes alone named none of what the page shows (`category=hosting`). A country's says what a code is."""
    for name, field in api.FILTERS.items():
        vocabulary = VOCABULARY_OF.get(field)
        wrong = [value for value in args.getlist(name) if value not in WORDS.get(vocabulary, {})]
        if vocabulary and vocabulary != "country" and wrong:
            known = [f"{word} ({code})" for code, word in WORDS[vocabulary].items()]
            raise InvalidInput(f"{name} must be one of {', '.join(known[:-1])} or {known[-1]}, got {wrong[0][:80]!r}")


def filter_value(name: str, value: str, titles: dict[str, str] | None = None) -> str:
    """A filter's value as people read it (a facet's, a kept filter's): a code in words, a network by its name
    (`titles`: as its sources wrote one nothing else names), the URL keeping the code."""
    field = api.FILTERS.get(name)
    if (name, value) in SHOWN_AS:
        return SHOWN_AS[name, value]
    if field == "sources":
        return source_title(value)
    if field == "networks":
        return network_title(value, (titles or {}).get(value))
    return words(value, VOCABULARY_OF[field]) if field in VOCABULARY_OF else value


def api_requests(claims) -> set[str]:
    """The URLs of claims read from a network's API: each is the request it was read from (its account kept as ACCOUNT:
    sources.request_named), no page a person opens, so no page links one (a record of such a source names the same
    URL, unless the source gave the program's own page)."""
    from affiliate_matrix.sources import ApiSource, all_sources

    apis = {name for name, source in all_sources().items() if issubclass(source, ApiSource)}
    return {claim["url"] for claim in claims if claim["source"] in apis}


HISTORY_SHOWN = 100  # a program page's newest changes; the rest are a link away, on the Changes page filtered to it


def program_page(rt, program_id: str) -> dict:
    program = api.program(rt, program_id)
    history = api.changes(rt, MultiDict({"program_id": program_id, "limit": str(HISTORY_SHOWN)}))
    requests = api_requests(claim for claims in program["provenance"].values() for claim in claims)
    records = [{**record, "page": None if record["url"] in requests else record["url"]}
               for record in program.get("records") or []]
    own_page = {record["source"]: record["page"] for record in records if record["page"]}
    fields = [{"name": name, "value": value,
               "claims": [{**claim, "page": own_page.get(claim["source"]) if claim["url"] in requests else claim["url"]}
                          for claim in program["provenance"].get(name, [])]}
              for name, value in program.items() if name not in HIDDEN_FIELDS]
    return {"program": program, "records": records, "fields": fields, "history": history,
            "names": {program_id: program["name"]}}


def merchants_page(rt, args: MultiDict) -> dict:
    """The merchants whose programs match, a page of them, with links to the first, previous and next pages. Their
    cursor says how many merchants the pages before held (merchants.merchants_cursor: each page reads from the first
    match again), so the page knows its place and Previous is the cursor of `limit` fewer: no earlier pages' stack."""
    from affiliate_matrix.merchants import merchants_after, merchants_cursor

    params = api.parameters(api.merchants_params(), args, {})
    after = merchants_after(params.cursor, params.q)
    found = api.merchants_with(rt, params, after)
    previous = None
    if after:
        before = after - params.limit
        previous = url("/merchants", args, cursor=merchants_cursor(params.q, before) if before > 0 else None)
    following = url("/merchants", args, cursor=found["next_cursor"]) if found["next_cursor"] else None
    return {"args": args, "found": found, "limit": params.limit, "first": after + 1,
            "pages": {"first": url("/merchants", args, cursor=None) if after else None, "previous": previous,
                      "next": following}}


def merchant_page(rt, key: str) -> dict:
    from pydantic import ValidationError

    from affiliate_matrix.errors import InvalidInput, NotFoundError
    from affiliate_matrix.handlers.program_params import KEYS_LISTED_BY, MerchantKey
    from affiliate_matrix.handlers.routes import problem

    try:  # the API's own check and words: Python's re has no \w for a name's marks ("कोमल"), its pattern engine has
        try:
            key = MerchantKey(merchant_key=key).merchant_key
        except ValidationError as exc:
            raise problem(exc) from None
        view = api.merchant_of(rt, key)
    except (InvalidInput, NotFoundError) as exc:  # what lists the keys, in this site's words: no route is typed here
        raise type(exc)(str(exc).replace(KEYS_LISTED_BY, "as the Merchants page lists them")) from None
    requests = api_requests(view["rows"])
    view["rows"] = [{**row, "page": None if row["url"] in requests else row["url"]} for row in view["rows"]]
    return {"view": view}


def changes_page(rt, args: MultiDict) -> dict:
    """The change feed (a bare date in `since`, what a date field sends, is that day's midnight UTC, as in the API),
    paged by the feed's own cursors both ways: Newer is its previous_cursor (the page before, read backwards from this
    one's first change), so it reaches the newest page from any depth, and the address holds no earlier pages. (An
    address of before that, holding them as back=, is read without them.)"""
    args = without_back(args)
    feed = api.changes_of(rt, api.changes_query(rt, api.parameters(api.changes_params(), args, {})))
    # a change names its program by id: the page shows its name (the page's programs, and those it is filtered to,
    # read in one request), a damaged program's change by its id, the damage said as a list says it
    damaged: list[dict] = []
    program_ids = args.getlist("program_id")
    names = program_names(rt.index, [item["program_id"] for item in feed["items"]] + program_ids, damaged)
    return {"args": args, "feed": feed, "tracked": TRACKED, "names": names, "damaged_programs": damaged,
            "program_ids": program_ids, "pages": {
                # none where no change comes before this page's (paged back to the newest: its address holds a cursor)
                "first": url("/changes", args, cursor=None) if feed["previous_cursor"] else None,
                "previous": url("/changes", args, cursor=feed["previous_cursor"]) if feed["previous_cursor"] else None,
                "next": url("/changes", args, cursor=feed["next_cursor"]) if feed["next_cursor"] else None}}


def refused_changes_page(args: MultiDict, refusal: InvalidInput) -> dict:
    """The Changes page of a filter the feed refused (a `since` it cannot read): its form as sent and what to change,
    in place of the changes, so nothing typed is lost."""
    return {"args": args, "tracked": TRACKED, "names": {}, "program_ids": args.getlist("program_id"),
            "refusal": labelled(refusal, {"since": "Since", "field": "Field", "change": "Change type"})}


def graph_page(rt, args: MultiDict) -> dict:
    """A merchant's graph (merchant=), or a search's (its parameters); anything it would not read is refused, naming
    it, as the search refuses it, not passed over unseen."""
    from affiliate_matrix.handlers import names_sent

    if unknown := set(args) - api.SEARCH_PARAMETERS - {"merchant"}:
        raise InvalidInput(f"unknown parameter(s): {names_sent(unknown)}; the graph takes merchant, or a "
                           "search's parameters as the programs page does")
    if once(args, "merchant") is not None:
        if others := set(args) - {"merchant"}:
            raise InvalidInput(f"a merchant's graph takes no other parameter: {names_sent(others)}")
        view = merchant_page(rt, args["merchant"])["view"]
        titles = {row["network"]: row["network_title"] for row in view["rows"] if row["network"]}  # as its page's rows
        return {"args": args, "graph": layout(merchant_edges(view), graph_link,
                                        graph_label({view["merchant_key"]: view["merchant"]}, titles)),
                "subject": f"merchant {view['merchant'] or view['merchant_key']}", "kept": [], "filters": [],
                "search": None}
    query = MultiDict(args)
    query.setdefault("limit", "50")
    # the programs page's "Graph of this result" names its filters: a graph of them is not the index's (the open
    # statuses are what a search naming none lists, and that link names them)
    filtered = bool(filters_in_use(args))
    if args.get("q"):
        subject = f"search “{args['q']}”" + (" and its filters" if filtered else "")
    else:
        subject = "the first programs of this search" if filtered else "the first programs of the index"
    items = api.search(rt, query)["items"]
    names = {item["merchant_key"]: item["merchant"] for item in items}
    # what its search box sends again beside new words: the filters, not a place in the result of the words before
    kept = [(name, value) for name, value in args.items(multi=True) if name not in ("q", "cursor", "page")]
    # and shows them, each in words with a link drawing the graph without it, as the programs page shows its own
    drawn = [(name, value) for name, value in args.items(multi=True) if name not in ("cursor", "page")]
    # each value as the search read it (DE for de, cj for CJ), so it is said in words, once however it was spelled,
    # and its drop link drops every spelling of it: "country=DE&country=de" listed Germany and "de", and dropping
    # Germany drew the graph of "de", Germany still
    read = {(name, value): (name, checked_filter(name, [value])[0] if name in api.FILTERS else value)
            for name, value in drawn}
    shown = dict.fromkeys(read[name, value] for name, value in drawn
                          if (name in api.FILTERS or name in api.BOUNDS) and not filters_nothing(name, args))
    # a network nothing else names by its sources' spelling, as the programs page names it: the drawn ones and those
    # filtered by, in one search
    titles = network_titles_of(rt.index, [*(network for item in items for network in item.get("networks") or []),
                                          *(value for name, value in shown if name == "network")])
    filters = dropped_one_by_one(drawn, read, shown, titles)
    return {"args": args, "graph": layout(search_edges(items), graph_link, graph_label(names, titles)),
            "subject": subject, "kept": kept, "filters": filters,
            "search": url("/programs", MultiDict(drawn)) if filters or args.get("q") else None}


def dropped_one_by_one(drawn: list[tuple[str, str]], read: dict, shown,
                       titles: dict[str, str] | None = None) -> list[dict]:
    """The graph's parameters `shown`, each (as `read` reads it) in words with a link drawing the graph of `drawn`
    without it, however it was spelled; a network by `titles` where nothing else names it (filter_value)."""
    labels = search_labels()
    return [{"label": labels.get(name, name), "value": filter_value(name, value, titles),
             "drop": url("/graph", MultiDict([pair for pair in drawn if read[pair] != (name, value)]))}
            for name, value in shown]


def refused_graph_page(args: MultiDict, refusal: InvalidInput) -> dict:
    """The graph page of a search (or merchant) it refused, as the programs page shows its own: its form as sent and,
    in place of the graph, what to change, naming the field by its label, each parameter given listed with a link
    dropping it (the form keeps them as hidden fields: the one to change is otherwise out of reach). (It was an error
    page whose way back held none of it.)"""
    drawn = [(name, value) for name, value in args.items(multi=True)]
    shown = dict.fromkeys(pair for pair in drawn if pair[0] != "q")  # q is in the box, as sent
    return {"args": args, "graph": None, "subject": None, "search": None,
            "kept": [pair for pair in drawn if pair[0] != "q"],
            "filters": dropped_one_by_one(drawn, {pair: pair for pair in drawn}, shown),
            "refusal": labelled(refusal, {**search_labels(), "q": "Programs matching"})}


def graph_link(kind: str, name: str) -> str | None:
    if kind == "merchant":
        return f"/merchants/{name}"
    return url("/programs", **{kind: name})  # a network's or a source's programs


def graph_label(merchant_names: dict[str, str], network_titles: dict[str, str]):
    """A graph's node as the other pages name it: a merchant by its name (by its key in merchant_names), a source by
    its title, a network by its proper name, one nothing names as its sources wrote it (by its key in network_titles:
    program_index.network_titles_of, or a merchant's rows), else by its key."""
    def label(kind: str, name: str) -> str:
        if kind == "merchant":
            return merchant_names.get(name) or name
        return source_title(name) if kind == "source" else network_title(name, network_titles.get(name))
    return label
