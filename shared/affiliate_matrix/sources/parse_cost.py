"""What parsing a page would cost Lexbor, counted before it is parsed, so that a hostile page is refused as a parse
failure instead of holding a scrape for minutes. Two costs grow faster than a page's size; each is counted by one
scan of its tags (raw text skipped), stopped as soon as it is known to be too high.

* Nesting: Lexbor's tree builder walks the stack of open elements for most start tags (is a <p> in button scope?),
  so a page costs the sum, over its start tags, of the elements open around each: 40,000 nested <div>s (200 KB)
  took 9 s, the 5 MB a page may hold hours. Browsers stop nesting at 512 elements; Lexbor has no such cap.
* Rebuilt formatting elements (lexbor/lexbor#340): a <b>, <i>, <font>… left open when its parent closes stays on
  the list of active formatting elements, and the next text or inline tag re-creates every such element (the HTML
  standard's "reconstruct the active formatting elements"). 3,000 <b>s with distinct attributes (identical ones
  are kept to three) closed by a </div>, then 3,000 "<p>x</p>": 9 million elements made, 3 s for 62 KB.
"""

import re

MAX_NESTING_COST = 20_000_000  # about 0.2 s of parsing; 10,000 tags 30 deep is 300,000
NESTING_CHECKED_FROM = 10_000  # '<'s: below, nesting cannot cost more than about half a second
MAX_REBUILT = 500_000  # formatting elements re-created: each costs Lexbor about 0.35 us, so about 0.2 s
# A page with fewer formatting start tags (<a> aside: one is open at a time) rebuilds at most that many per tag, as
# linear as the rest of its parse: only pages with more are scanned.
REBUILT_CHECKED_FROM = 10
_FORMATTING_START = re.compile(r"<(?:b|big|code|em|font|i|nobr|s|small|strike|strong|tt|u)[\s/>]", re.I)

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)|<!--")
_WHOLE_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*>?|<!--")  # the text after a tag starts after its '>'
_NOT_NESTED = frozenset({  # void elements, and those an end tag is implied for by the next of their kind
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "keygen", "frame", "basefont", "bgsound", "image", "p", "li", "dd", "dt", "option", "optgroup", "tr", "td", "th",
    "thead", "tbody", "tfoot", "caption", "colgroup", "rb", "rt", "rp", "rtc", "html", "head", "body"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr", "keygen", "frame", "basefont", "bgsound", "image"})
_RAW_TEXT = {name: re.compile(rf"</{name}", re.I) for name in (
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext")}
_FORMATTING = frozenset({"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt",
                         "u"})
# Start tags the standard inserts without rebuilding the formatting elements first (blocks, lists, tables, headings).
_NO_REBUILD = frozenset({
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl", "fieldset",
    "figcaption", "figure", "footer", "header", "hgroup", "main", "menu", "nav", "ol", "p", "search", "section",
    "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "listing", "form", "li", "dd", "dt", "plaintext",
    "table", "caption", "colgroup", "col", "tbody", "thead", "tfoot", "tr", "td", "th", "hr", "html", "head", "body",
    "base", "link", "meta", "style", "script", "title", "template", "frameset", "frame"})
_CLOSES_ITS_KIND = frozenset({"p", "li", "dd", "dt", "option", "tr", "td", "th"})  # <p> ends an open <p>


def _tags(html: str, pattern: re.Pattern):
    """The page's tags as (match, closing, lower-case name, where what the tag holds ends), comments and the raw text
    of a <script>, <style>… skipped."""
    position = 0
    while match := pattern.search(html, position):
        closing, name = match.groups()
        if name is None:  # a comment
            position = html.find("-->", match.end())
            if position < 0:
                return
            position += 3
            continue
        name, position = name.lower(), match.end()
        if not closing and name in _RAW_TEXT:
            end = _RAW_TEXT[name].search(html, position)
            position = len(html) if end is None else end.start()
        yield match, closing, name, position


def nesting_cost(html: str) -> int:
    """About how many open elements Lexbor's tree builder walks past to parse `html` (tags that close themselves or
    are closed by the next one are not counted)."""
    if html.count("<") < NESTING_CHECKED_FROM:
        return 0
    depth = cost = 0
    for _, closing, name, _ in _tags(html, _TAG):
        if name in _NOT_NESTED or name in _RAW_TEXT:
            continue
        if closing:
            depth -= depth > 0
        else:
            cost += depth
            depth += 1
            if cost > MAX_NESTING_COST:
                break  # enough to know
    return cost


class _Active:
    """An entry of the list of active formatting elements: a formatting element, or a marker (a table cell, a
    caption, an object) past which nothing is rebuilt."""

    __slots__ = ("name", "key", "position", "dead", "index", "saved")

    def __init__(self, name: str | None, key: str, position: int, index: int, saved: int = 0) -> None:
        self.name, self.key, self.position, self.index, self.saved, self.dead = name, key, position, index, saved, False


_MARKER_TAGS = frozenset({"td", "th", "caption", "applet", "marquee", "object", "template"})
_SCOPE = _MARKER_TAGS | {"table", "html"}  # an end tag does not reach past these to close what is open outside
_TABLE_PARTS = frozenset({"table", "caption", "tbody", "thead", "tfoot", "tr", "td", "th"})  # these close the cell


def rebuilt_cost(html: str) -> int:
    """About how many formatting elements Lexbor re-creates to parse `html`: a model of the standard's stack of open
    elements and list of active formatting elements, simplified where that can only count more (scopes) or changes
    little (the adoption agency closes a misnested formatting element with whatever is open above it). The scan's own
    work is linear in the page plus what it counts: entries are forgotten lazily, never searched for."""
    if len(_FORMATTING_START.findall(html)) < REBUILT_CHECKED_FROM:
        return 0
    stack: list[str] = []  # open elements' names
    where: dict[str, list[int]] = {}  # name -> its positions in the stack, innermost last
    active: list[_Active] = []  # in the order opened; forgotten ones stay, marked dead, until compacted
    by_name: dict[str, list[_Active]] = {}  # the formatting entries by name, in order (dead ones too)
    by_key: dict[str, list[_Active]] = {}  # by start tag, attributes included, for Noah's Ark (dead ones too)
    live_by_key: dict[str, int] = {}
    markers: list[_Active] = []
    scopes: list[int] = []  # the stack positions of the scope boundaries open
    in_stack = 0  # entries before this index are open elements, at positions growing along the list
    cost = dead = 0

    def truncate(length: int) -> None:
        nonlocal in_stack
        for name in stack[length:]:
            where[name].pop()
        del stack[length:]
        while scopes and scopes[-1] >= length:
            scopes.pop()
        while in_stack and active[in_stack - 1].position >= length:
            in_stack -= 1
            active[in_stack].position = -1
        while markers and markers[-1].position < 0:  # a cell closed: what opened in it is forgotten with it
            marker = markers.pop()
            for entry in active[marker.index + 1:]:
                kill(entry)
            del active[marker.index:]
            in_stack = min(marker.saved, marker.index)

    def push(name: str) -> int:
        if name in _SCOPE:
            scopes.append(len(stack))
        where.setdefault(name, []).append(len(stack))
        stack.append(name)
        return len(stack) - 1

    def rebuild() -> None:
        nonlocal cost, in_stack
        for entry in active[in_stack:]:
            if not entry.dead:
                entry.position = push(entry.name)
                cost += 1
        in_stack = len(active)

    def kill(entry: _Active) -> None:
        nonlocal dead
        if not entry.dead:
            entry.dead, dead = True, dead + 1
            live_by_key[entry.key] -= 1

    def compact() -> None:
        nonlocal in_stack, dead
        kept = [entry for entry in active if not entry.dead or entry.name is None]
        in_stack = sum(1 for entry in active[:in_stack] if not entry.dead or entry.name is None)
        active[:] = kept
        for index, entry in enumerate(active):
            entry.index = index
        for table in (by_name, by_key):  # emptied lists go: compacting costs what is live, not what has been
            live = {name: kept for name, entries in table.items() if (kept := [e for e in entries if not e.dead])}
            table.clear()
            table.update(live)
        dead = 0

    last_end = 0
    for match, closing, name, end in _tags(html, _WHOLE_TAG):
        if in_stack < len(active) and match.start() > last_end and not html[last_end:match.start()].isspace():
            rebuild()  # text
        last_end = end
        if cost > MAX_REBUILT:
            break  # enough to know
        if closing:
            entries = by_name.get(name)
            while entries and entries[-1].dead:
                entries.pop()
            open_at = where[name][-1] if where.get(name) else -1
            if entries and (not markers or entries[-1].index > markers[-1].index):
                entry = entries.pop()  # the adoption agency: closes it, and what is open above it
                if entry.position >= 0:
                    truncate(entry.position)
                kill(entry)
            elif open_at >= 0 and (not scopes or open_at >= scopes[-1] or name in _TABLE_PARTS):
                truncate(open_at)
            # else: what it would close is open outside a table cell, an object… (or nowhere): the tag is ignored
        else:
            if name in _CLOSES_ITS_KIND and where.get(name):
                truncate(where[name][-1])
            if name not in _NO_REBUILD:
                rebuild()
            if name in _RAW_TEXT:
                pass  # its text is skipped, and its end tag closes nothing open
            elif name in _FORMATTING:
                key = "a" if name == "a" else match.group()
                same = by_key.setdefault(key, [])
                if live_by_key.get(key, 0) >= (1 if name == "a" else 3):  # a new <a> closes the open one; Noah's
                    while same[0].dead:                                    # Ark keeps three of one start tag
                        same.pop(0)
                    kill(same.pop(0))
                entry = _Active(name, key, push(name), len(active))
                active.append(entry)
                by_name.setdefault(name, []).append(entry)
                same.append(entry)
                live_by_key[key] = live_by_key.get(key, 0) + 1
                in_stack = len(active)  # all were rebuilt above, and this one is on top
            elif name in _MARKER_TAGS:
                markers.append(_Active(None, "", push(name), len(active), saved=in_stack))
                active.append(markers[-1])
                in_stack = len(active)
            elif name not in _VOID:
                push(name)
        if dead > 64 and dead > len(active) // 2:
            compact()
    return cost
