"""The text the terms extractor reads: cut into units (a sentence, a table row, a list item) that
keep their verbatim wording for evidence, with numbers and money read in six languages (durations: durations.py)."""

import re
import re._casefix
import re._constants as _sre
import re._parser
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property, wraps
from decimal import Decimal, InvalidOperation

from affiliate_matrix.codes import CURRENCIES

# --- reading one text ----------------------------------------------------------------------------

# What the fields have read of the text `extract` is reading: each field reads every unit, and they read the same
# unit with the same patterns and normalisations (the commission's cue is searched by commission, schedule and
# payout alike, a unit's figures by cookie and schedule), so each result is computed once per text and shared. None
# outside `reading()`: no result outlives the text it was read in.
_READ: ContextVar[dict | None] = ContextVar("terms_read", default=None)
# The most results one reading keeps (a few hundred bytes each; a page of 50,000 characters keeps about 18,000): past
# them a result asked again is computed again, so a hostile text of megabytes costs no more memory than that.
KEPT = 50_000


@contextmanager
def reading() -> Iterator[None]:
    """While one text is read, the results of `read_once` functions are shared."""
    token = _READ.set({})
    try:
        yield
    finally:
        _READ.reset(token)


def read_once(function):
    """`function`, a pure function of its (hashable) arguments, computed once per arguments while a text is read."""
    @wraps(function)
    def shared(*args, **kwargs):
        memo = _READ.get()
        if memo is None:
            return function(*args, **kwargs)
        key = (function, args, *kwargs.items())
        try:
            return memo[key]
        except KeyError:
            result = function(*args, **kwargs)
            if len(memo) < KEPT:
                memo[key] = result
            return result
    return shared


# --- patterns ------------------------------------------------------------------------------------


# What a text must hold for a pattern to match in it. Most of the extractor's patterns are alternations of many words,
# case-insensitive, and the engine tries each word at each position of a text: a few microseconds a character for the
# largest, on every unit, though most units hold none of their words. Every match of such a pattern holds one of
# its words (or, for a figure's pattern, a digit), so a text holding none of them, compared as the engine compares
# (`_folded`), cannot match and is not scanned: regular-expression engines' "required literal" prefilter. It changes
# no result, it only skips scans that would find nothing.
_DIGIT = re.compile(r"\d")
_A_DIGIT = "\\d"  # among the strings a pattern needs, "a decimal digit"
_STRINGS = 16  # the most strings a run of literal characters and classes of a few ("[ée]") is read as
# Characters a case-insensitive pattern holds equal though their lowercase differs (ſ and s, ı and i, µ and μ), each
# written as one of them: the engine's own table.
_SAME_CASE = {c: min(c, *others) for c, others in re._casefix._EXTRA_CASES.items() if min(c, *others) != c}


def _folded(text: str) -> str:
    """The text as a case-insensitive pattern compares it, character for character: each character's simple
    lowercase ("İ" is "i", where str.lower() adds a combining dot), the characters `_SAME_CASE` holds equal as one."""
    folded = text.replace("\u0130", "i").lower()
    return folded if folded.isascii() else folded.translate(_SAME_CASE)


_folded_once = read_once(_folded)  # each unit is folded once for all the patterns that look into it


def _needed(items) -> frozenset[str] | None:
    """The strings (folded) one of which every match of a parsed pattern holds, or None when no such set is known.
    Needed are: a run of literal characters (a class of a few, "[ée]", makes it several strings, `_STRINGS` at most),
    a digit class, what a group, a repeat at least once or a lookaround that must hold needs, and what the branches
    of an alternation need when each needs something; the best set (longest shortest string) is kept. Anything else
    (a class of many characters, a negative lookaround, a back-reference) needs nothing."""
    found, run = [], [""]
    for op, value in (*items, (None, None)):
        if op is _sre.LITERAL:
            run = [said + chr(value) for said in run]
            continue
        if (op is _sre.IN and len(run) * len(value) <= _STRINGS
                and all(kind is _sre.LITERAL for kind, _ in value)):
            run = [said + chr(character) for said in run for _, character in value]
            continue
        if run != [""]:
            found.append(frozenset(map(_folded, run)))
            run = [""]
        if op is _sre.IN and all(kind is _sre.CATEGORY and what is _sre.CATEGORY_DIGIT for kind, what in value):
            found.append(frozenset([_A_DIGIT]))
        elif op is _sre.SUBPATTERN:
            found.append(_needed(value[3]))
        elif op is _sre.ATOMIC_GROUP:
            found.append(_needed(value))
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and value[0] >= 1:
            found.append(_needed(value[2]))
        elif op is _sre.ASSERT:
            found.append(_needed(value[1]))
        elif op is _sre.BRANCH:
            branches = [_needed(branch) for branch in value[1]]
            found.append(frozenset().union(*branches) if all(branches) else None)
    found = [strings for strings in found if strings]
    return max(found, key=lambda strings: (min(map(len, strings)), -len(strings)), default=None)


class Pattern:
    """A regular expression compiled on first use. The extractor's patterns are many and large (a few
    hundred milliseconds to compile); a function that imports it but reads no terms text should not pay
    for them when it starts. A text that holds none of what every match needs is not scanned (`_needed`)."""

    __slots__ = ("pattern", "flags", "_compiled", "_needs")

    def __init__(self, pattern: str, flags: int = 0):
        self.pattern, self.flags, self._compiled, self._needs = pattern, flags, None, None

    @property
    def compiled(self) -> re.Pattern:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    @property
    def needs(self) -> tuple[list[str], bool]:
        """What every match needs: one of these strings (folded, shortest first), or a digit; ([], False) is
        nothing known. Read from the parsed pattern on first use, as the pattern is compiled."""
        if self._needs is None:
            needs = _needed(re._parser.parse(self.pattern, self.flags)) or frozenset()
            # A string of one character is in nearly every text: looking for it would cost more than it saves.
            if any(len(needed) < 2 for needed in needs if needed != _A_DIGIT):
                needs = frozenset()
            strings = needs - {_A_DIGIT}
            # A string holding another adds nothing: where it is, the other is ("pay" for "payout" and "pays").
            strings = [n for n in strings if not any(other in n for other in strings if other != n)]
            self._needs = sorted(strings, key=len), _A_DIGIT in needs
        return self._needs

    def may_match(self, text: str) -> bool:
        """False when the text holds nothing every match needs: no match there."""
        strings, digit = self.needs
        if not strings and not digit:
            return True
        if digit and _DIGIT.search(text):
            return True
        folded = _folded_once(text) if strings else ""
        return any(needed in folded for needed in strings)

    @read_once
    def search(self, text: str, *where: int) -> re.Match | None:
        return self.compiled.search(text, *where) if self.may_match(text) else None

    @read_once
    def match(self, text: str) -> re.Match | None:
        return self.compiled.match(text) if self.may_match(text) else None

    def finditer(self, text: str):
        return self.compiled.finditer(text) if self.may_match(text) else iter(())

    def findall(self, text: str) -> list:
        return self.compiled.findall(text) if self.may_match(text) else []

    def split(self, text: str) -> list[str]:
        return self.compiled.split(text) if self.may_match(text) else [text]

    def sub(self, replacement, text: str, count: int = 0) -> str:
        return self.compiled.sub(replacement, text, count=count) if self.may_match(text) else text


# --- units ---------------------------------------------------------------------------------------

_ABBREVIATIONS = Pattern(
    r"(?:\b(?:e\.g|i\.e|z\.\s?B|d\.\s?h|i\.\s?d\.\s?R|u\.\s?a|o\.\s?ä|bzw|ca|inkl|exkl|zzgl|ggf|etc|usw|vs|approx|incl|"
    r"excl|min|max|nr|no|p\.\s?ex|ex|ej|bijv|vb|mtl|jährl|st|dr|mr|mrs|abs|art|ff|vgl|evtl|bspw|resp|sog|u\.\s?U)"
    r"|\b[A-Za-zÄÖÜäöü]|(?:^|\s)\(?\d{1,2})\.$", re.I)  # "z. B.", "1. Registrierung", "am 15. Januar"
_SENTENCE_END = Pattern(r"(?<=[.!?])[\"'”»)]*\s+(?=[\"'“„«(•\-–*\d]|[^\W\d_])|\s*\|(?:\s*\|){2,}\s*|"
                           r"(?<=[a-zà-ÿ]{3}[.!?])(?=[A-ZÀ-Ý][a-zà-ÿ])")
_LIST_MARK = Pattern(r"^\s*(?:[•·▪●◦*\-–—✓✔✅❌✗✘]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")


@dataclass(eq=False)
class Unit:
    """A sentence or row of the text: `raw` verbatim (at `start`..`end` of it), `text` without its list mark."""

    raw: str
    text: str
    start: int
    end: int
    first_in_line: bool
    listed: bool

    @cached_property
    def norm(self) -> str:
        """The text with numbers and percentages in words as figures ("thirty percent" is "30%")."""
        return normalise(self.text)

    @cached_property
    def heading(self) -> bool:
        """A short line that names what follows ('Cookie Duration', 'Payout methods:')."""
        words = self.text.rstrip(":").split()
        return (self.first_in_line and 0 < len(words) <= 6 and not re.search(r"[.!?]$|\d", self.text)
                and re.search(r"[^\W\d_]", self.text) is not None)


# A run of spaces or tabs within a line, read as one space: many patterns open with \s+ or \s*, and on a run of N
# blanks each start backtracks through the rest of it (N squared: 10,000 blanks after "Bonus: 5%" took 27 s).
_BLANKS = re.compile(r"[^\S\n]{2,}")
# What follows a digit, or a figure's point or comma, outside ASCII: where it begins with combining marks, they are
# dropped (figure_marks_off)
_AFTER_FIGURE = Pattern(r"(?<=[\d.,])[^\x00-\x7f]+")
# Arabic's decimal separator (U+066B) and thousands separator (U+066C) between two digits (Arabic-Indic digits are
# digits already), read as the point and the comma they are
_ARABIC_SEPARATOR = Pattern(r"(?<=\d)[\u066b\u066c](?=\d)")
_AS_ASCII = {"\u066b": ".", "\u066c": ","}
# A footnote's mark: superscript digits after a word, a figure or its sign ("30 days¹", "20%²", "$50³"). Python reads
# them as word characters, so "days¹" was no word "days" (no cookie read) and "30¹ days" no figure before its unit.
_FOOTNOTE = Pattern(r"(?<=[^\W_]|[%)\]])[\u00b9\u00b2\u00b3\u2070\u2074-\u2079]+")


def figure_marks_off(text: str) -> str:
    """The text without the combining marks written on a figure's digits or its point: a mark is no digit, so each
    figure pattern's start (not after a digit) read the digits after it as a figure of their own ("3\u03000 days" was
    a cookie of 0 days, "$5\u03000" a minimum of $5, "1\u0301.5%" a commission of 0.5%). Arabic's decimal and
    thousands separators within a figure are its point and comma: no ASCII mark either, they split it ("7\u066b5%" was
    a commission of 5%, "$1\u066c000" a minimum of $1). A footnote's superscript digits are dropped (_FOOTNOTE)."""
    if text.isascii():
        return text
    import unicodedata

    text = _FOOTNOTE.sub("", text)

    def unmarked(match: re.Match) -> str:
        run = match.group(0)
        at = 0
        while at < len(run) and unicodedata.category(run[at])[0] == "M":
            at += 1
        return run[at:]

    return _ARABIC_SEPARATOR.sub(lambda mark: _AS_ASCII[mark.group()], _AFTER_FIGURE.sub(unmarked, text))


class Doc:
    """A text (its runs of blanks read as one space, the marks on its figures dropped) and its units."""

    def __init__(self, text: str):
        self.text = _BLANKS.sub(" ", figure_marks_off(text or ""))
        self.units = _units(self.text)
        self.dollar = dollar_of(self.text)

    def span(self, first: int, last: int) -> str:
        """The verbatim text from unit `first` to unit `last`."""
        return self.text[self.units[first].start:self.units[last].end]


def _units(text: str) -> list[Unit]:
    found, cursor = [], 0
    for line in _joined_lines(text):
        start, pieces = 0, []
        for end in _SENTENCE_END.finditer(line):
            # an abbreviation ends the text before the stop, in 10 characters at most: only those are looked at (the
            # whole sentence so far was, again at each stop: 20,000 characters of "i.e. " took 19 s)
            if _ABBREVIATIONS.search(line[max(start, end.start() - 30):end.start()]):
                continue
            pieces.append(line[start:end.start()])
            start = end.end()
        pieces.append(line[start:])
        for i, piece in enumerate(p.strip() for p in pieces):
            if piece:
                at = text.find(piece, cursor)
                cursor = at + len(piece)
                mark = _LIST_MARK.match(piece)
                found.append(Unit(piece, piece[mark.end():] if mark else piece, at, cursor, i == 0, bool(mark)))
    return found


def _joined_lines(text: str) -> list[str]:
    """Lines, with a line that a list item's wrap broke ('pornografischen oder' / '• gewalt…') joined."""
    lines = []
    for line in text.split("\n"):
        stripped = _LIST_MARK.sub("", line, count=1)
        if lines and stripped[:1].islower() and re.search(r"\b(?:oder|und|or|and|ou|et|o|y|of|en|e|sowie)$", lines[-1]):
            lines[-1] = f"{lines[-1]}\n{line}"
        else:
            lines.append(line)
    return lines


# An example or a hypothetical: its figures are nobody's terms. The openers start an example that runs
# on to the next heading ("Let's assume …" / "Alice earns 10% of $100 …"); the rest mark one sentence.
EXAMPLE_OPENER = Pattern(
    r"\b(?:for example|for instance|let'?s (?:say|assume)|assum(?:e|ing)|suppose|imagine|hypothetical|consider an?\b|"
    r"(?:example|beispiel|exemple|ejemplo|voorbeeld|exemplo)(?:\s*\d+)?\s*:|worked example|an example|ein beispiel|"
    r"un exemple|un ejemplo|een voorbeeld|um exemplo|nehmen wir an|angenommen|zum beispiel|rechenbeispiel|"
    r"beispielrechnung|par exemple|exemple de calcul|supposons|imaginons|por ejemplo|supongamos|bijvoorbeeld|"
    r"rekenvoorbeeld|stel dat|por exemplo|suponha|digamos)", re.I)
EXAMPLE = Pattern(
    rf"{EXAMPLE_OPENER.pattern}|\(i\.e\.|\be\.g\.|\bz\.\s?b\.|\bbeispiel\b|\bexample\b|es decir|c'est-[àa]-dire|"
    r"das hei(?:ß|ss)t|dat wil zeggen|ou seja", re.I)
# "If a customer buys a $100 plan, you earn $30" is an example's figure; but "if the customer buys within 30 days"
# is how a cookie's window is said, so the cookie cuts at an example only (`EXAMPLE`), not at a condition.
HYPOTHETICAL = Pattern(rf"{EXAMPLE.pattern}|\bsi una\b|\bif (?:a|the) (?:customer|referral|program)", re.I)



# Programs in general or other programs ("Most affiliate programs offer 5–10%"): their terms are not this one's.
OTHER_PROGRAMS = (
    r"\b(?:most|many|some|other|la plupart|beaucoup|autres|mayor[íi]a|muchos|otros|meisten|viele|andere|meeste|veel|"
    r"maioria|muitos|outros)\s+(?:\w+\s+){0,2}?(?:programs?|programmes?|programas?|programme|programma'?s|networks?|"
    r"netzwerke|r[ée]seaux|redes|merchants?|companies|brands|marken|marques|marcas|shops|stores|sites|affiliates)\b")


# A template's choice left open ("Payments are processed [monthly/quarterly] via [direct deposit/electronic payment]"):
# the agreement chooses nothing there. (A note with spaced slashes, "[PayPal / bank transfer available]", says both.)
_OPEN_CHOICE = Pattern(r"\[(?:[^\]\n/]{0,60}\w/(?=\w)){1,4}[^\]\n/]{1,60}\]")


@read_once
def before_example(text: str, *markers: Pattern, example: Pattern = HYPOTHETICAL) -> str:
    """What a sentence says before an example or hypothetical starts ("30% on every sale (e.g. $30 on
    a $100 order)" keeps the 30%), a template's open choices left out."""
    cut = min((m.start() for pattern in (example, *markers) if (m := pattern.search(text))), default=len(text))
    return _OPEN_CHOICE.sub(" ", text[:cut])


def clauses(sentence: str) -> list[str]:
    """A sentence's clauses: "40% on new plans, 20% recurring on renewals" is two."""
    return [c for c in re.split(r"(?<!\d),(?!\d)|;|\s+(?:and|but|plus|while|whereas|und|aber|et|mais|y|pero|en|maar|"
                                r"e|mas|while)\s+", sentence, flags=re.I) if c and c.strip()]


# --- numbers -------------------------------------------------------------------------------------

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, "hundred"], key=len, reverse=True))
_NUMBER_WORDS = Pattern(rf"\b(?:{_NUMBER_WORD})(?:[\s-]+(?:and\s+)?(?:{_NUMBER_WORD}))*\b", re.I)
# Also the adjective a number forms with it ("die 5-prozentige Provision", "5 prozentige") and the Italian "per cento".
_PERCENT_WORDS = Pattern(r"(?:\s*|-)\b(?:per\s?cento?|percent|pct|prozent(?:ig\w*)?|pour\s?cent|por\s?ciento|procent|"
                         r"por\s?cento)\b", re.I)


# Past what a record holds (models.NonNegative: 18 digits) a run of number words is no figure: left in words. Each
# "hundred" multiplies, so a scraped run of thousands made a number of over 4,300 digits, which str() refuses.
_WORDS_MOST = 10 ** 18


def _words_to_number(match: re.Match) -> str:
    current = 0
    for word in re.split(r"[\s-]+", match.group(0).lower()):
        if word == "hundred":
            current = max(current, 1) * 100
        elif word != "and":
            current += _UNITS.get(word, 0) + _TENS.get(word, 0)
        if current > _WORDS_MOST:
            return match.group(0)
    return str(current)


@read_once
def normalise(text: str) -> str:
    """Numbers in words as digits and percent in words as '%', the marks on figures dropped (figure_marks_off);
    everything else as it was."""
    return _PERCENT_WORDS.sub("%", _NUMBER_WORDS.sub(_words_to_number, figure_marks_off(text or "")))


# A figure starts where its digits start (not after a digit): tried from every digit of a long run, each try
# reading the rest of the run, a pattern costs the square of the run's length. Thousands are grouped by a point, a
# comma, a space (a no-break, thin, narrow or figure one too: SI and French typography group with a thin space, and
# "$1 000" was read as $1) or (in Switzerland) an apostrophe: "CHF 1'234.50"; five groups at most (18 digits, more
# than number() reads), as a figure is tried from each group of a run too ("1.000,00" 2,500 times over, a
# description's 20,000 characters, took 4 minutes). A figure written without its leading zero
# (".5%") starts at its point, unless the point ends a word ("sale.10%" is 10%). A figure in scientific notation
# ("1e999", "5e3") is none: its exponent was read as the figure ("1e999 days" a cookie of 999 days); the two
# guards, before and after a figure, are every figure pattern's (durations.DURATION's too). Nor are a hexadecimal
# literal's digits ("0x50%" was a commission of 50%, "0x1e" 1, "0xfff50%" 50%): NOT_HEX, before a figure, stops one
# after "0x" or after letters a-f that follow a digit or the x. A lookbehind has a fixed width: one per count of
# letters up to 7, and after 8 or more in a row (no word of terms text) whatever precedes them; most figures follow
# no such letter and are let through by the first test. The guards are tried only where a digit or point is next.
NOT_AN_EXPONENT = r"(?<!\d[eE])(?<!\d[eE][+-])"
NO_EXPONENT = r"(?![eE][+-]?\d)"
NOT_HEX = (r"(?<!\b0[xX])(?:(?<![a-fA-F])|"
           + "".join(rf"(?<![\dxX][a-fA-F]{{{letters}}})" for letters in range(1, 8)) + r"(?<![a-fA-F]{8}))")
NUMBER = (rf"(?:(?=[\d.])(?<!\d){NOT_AN_EXPONENT}{NOT_HEX}"
          r"(?:\d{1,3}(?:[.,\u00a0\u2007\u2009\u202f '’]\d{3}){1,5}(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d+)?|"
          r"(?<![\w.,])\.\d+)"
          rf"{NO_EXPONENT})")


# The largest figure a record holds (models.NonNegative: 18 digits, 6 of them after the point).
WHOLE_DIGITS, DECIMAL_PLACES = 12, 6


def number(text: str) -> Decimal | None:
    """'1,500' and '1.500' and '1 500' and "1'500" are 1500, '2,50' and '2.50' are 2.5, '0.045' is 0.045, '.5' 0.5.
    A figure no record can hold (over 12 digits before the point, or over 6 after it) is not read: None, as for no
    figure."""
    digits = re.sub(r"[\s\u00a0\u202f'’]", "", text)
    if "," in digits and "." in digits:
        decimal = max(digits.rfind(","), digits.rfind("."))
        digits = re.sub(r"[.,]", "", digits[:decimal]) + "." + digits[decimal + 1:]
    elif re.fullmatch(r"(?!0)\d{1,3}(?:[.,]\d{3})+", digits):  # no thousands group follows a lone 0 ('0.045' is 0.045),
        # in any script's digits: Arabic-Indic '١,٠٠٠' is 1000 too
        digits = re.sub(r"[.,]", "", digits)
    else:
        digits = digits.replace(",", ".")
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    _, figures, exponent = value.as_tuple()
    if -exponent > DECIMAL_PLACES or len(figures) + exponent > WHOLE_DIGITS:
        return None
    return value


# --- money -----------------------------------------------------------------------------------------

_SYMBOLS = {"us$": "USD", "usd$": "USD", "$": "USD", "a$": "AUD", "au$": "AUD", "c$": "CAD", "ca$": "CAD",
            "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "r$": "BRL", "nz$": "NZD", "hk$": "HKD", "s$": "SGD", "sg$": "SGD",
            "mx$": "MXN", "nt$": "TWD", "chf": "CHF", "fr.": "CHF",
            "zł": "PLN", "kr": None, "rs.": "INR", "rs": "INR", "gs.": "PYG"}
_WORDS = {"dollar": "USD", "dollars": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR", "pound": "GBP",
          "pounds": "GBP", "pfund": "GBP", "libras": "GBP", "reais": "BRL", "real": "BRL", "dólares": "USD",
          "dolares": "USD", "dollari": "USD", "dólares americanos": "USD"}
_COMMON_CODES = "USD|EUR|GBP|AUD|CAD|JPY|INR|BRL|CHF|SEK|NOK|DKK|PLN|NZD|MXN|ZAR|SGD|HKD|CZK|HUF|RON|TRY|ARS|CLP|COP"
# Any ISO-4217 code, the rarer ones in capitals only ("ALL 50" is leks, "all 50" is not).
CODES = rf"{_COMMON_CODES}|(?-i:{'|'.join(sorted(CURRENCIES - set(_COMMON_CODES.split('|'))))})"
# The other dollars' own marks come before the bare "$", which they end in ("HK$500" is no USD).
_SYMBOL = r"US\$|USD\$|AU?\$|CA?\$|NZ\$|R\$|\bHK\$|\bSG?\$|\bMX\$|\bNT\$|\$|€|£|¥|₹|\bRs\.?|\bGs\."
_AFTER = (rf"(?:{CODES})\b|€|£|\$|zł|(?:canadian|australian|new zealand|singapore|hong kong|us|u\.s\.) dollars?\b|"
          r"(?:euros?|dollars?|bucks|pounds?|pfund|reais|d[óo]lares)\b")
# A thousands mark after an amount's figure ("$1.5k", "€2K", "1,5 k€", "1.2K USD") and a millions one after a figure its
# currency comes before ("$2M": a figure with no currency before it may be a count, "5M users"), never before a
# letter ("$5 kW", "10 km"). Attached to the figure where the currency comes first; where it comes after, a space
# may come between ("1,5 k €"), the currency after it anchoring the figure.
_MARK_AFTER_CURRENCY = r"(?-i:[kK]|M)(?![^\W\d_])"
_MARK_BEFORE_CURRENCY = r"\s?(?-i:[kK])(?![^\W\d_])"
MONEY = Pattern(
    rf"(?P<upto>up to\s+|bis zu\s+|jusqu['’](?:à|a)\s+|hasta\s+|tot\s+|até\s+)?"
    rf"(?:(?P<pre>{_SYMBOL}|\b(?:{CODES})\b)\s?(?P<a>{NUMBER})(?P<a_mark>{_MARK_AFTER_CURRENCY})?"
    rf"(?:\s*(?:-|–|—|to|bis|à|a|tot|até)\s*(?:{_SYMBOL})?\s?(?P<b>{NUMBER})(?P<b_mark>{_MARK_AFTER_CURRENCY})?)?"
    rf"(?:\s?(?P<code>{CODES})\b)?|(?P<a2>{NUMBER})(?P<a2_mark>{_MARK_BEFORE_CURRENCY})?(?:\s*(?:-|–|—|to|bis|à|a|tot|"
    rf"até)\s*(?P<b2>{NUMBER})(?P<b2_mark>{_MARK_BEFORE_CURRENCY})?)?"
    rf"\s?(?:,-\s?)?(?P<post>{_AFTER}))", re.I)


_DOLLARS = {"canadian": "CAD", "australian": "AUD", "new zealand": "NZD", "singapore": "SGD", "hong kong": "HKD",
            "cad": "CAD", "aud": "AUD", "nzd": "NZD", "sgd": "SGD", "hkd": "HKD"}
_DOLLAR_NAMED = Pattern(r"\b(?i:(canadian|australian|new zealand|singapore|hong kong)\s+(?:dollars?|currency))|"
                           r"\b(CAD|AUD|NZD|SGD|HKD)\b")


def dollar_of(text: str) -> str:
    """What a bare "$" means in this text: USD, unless it names one other dollar ("in Canadian currency")."""
    named = {_DOLLARS[(m[1] or m[2]).lower()] for m in _DOLLAR_NAMED.finditer(text or "")}
    return named.pop() if len(named) == 1 else "USD"


def currency_of(match: re.Match, dollar: str = "USD") -> str | None:
    mark = (match.group("code") or match.group("pre") or match.group("post")).lower()  # "$300 AUD" is AUD
    if mark in ("$", "dollar", "dollars", "bucks"):
        return dollar
    if re.match(r"(?:us|u\.s\.) dollar", mark):
        return "USD"
    named = _DOLLAR_NAMED.match(mark)
    if named:
        return _DOLLARS[(named[1] or named[2]).lower()]
    return _SYMBOLS.get(mark) or _WORDS.get(mark) or (mark.upper() if mark.upper() in CURRENCIES else None)


_TIMES = {"k": 1000, "m": 1_000_000}


def money_values(match: re.Match) -> tuple[Decimal | None, Decimal | None]:
    """The amount (and the range's top) a MONEY match states, a thousands or millions mark multiplying its figure
    ("$1.5k" is 1500). A mark on the top alone is the range's ("$2-5k" is 2000 to 5000), unless the low figure is
    past the top's digits ("$500-2k" is 500 to 2000). A product no record holds is not read (None)."""
    low, low_mark = number(match.group("a") or match.group("a2")), match.group("a_mark") or match.group("a2_mark")
    high = match.group("b") or match.group("b2")
    if not high:
        return _times(low, low_mark), None
    high, high_mark = number(high), match.group("b_mark") or match.group("b2_mark")
    if high_mark and not low_mark and low is not None and high is not None and low <= high:
        low_mark = high_mark
    return _times(low, low_mark), _times(high, high_mark)


def _times(figure: Decimal | None, mark: str | None) -> Decimal | None:
    if figure is None or not mark:
        return figure
    figure *= _TIMES[mark.strip().lower()]
    _, figures, exponent = figure.as_tuple()
    return None if len(figures) + exponent > WHOLE_DIGITS else figure
