"""Turn free-text affiliate terms into structured ones: commission, cookie, payout, restrictions.

"earn 30% recurring for 12 months", "90-day cookie", "paid monthly via PayPal once you reach
$50", "no PPC bidding on our brand", in English, German, French, Spanish, Dutch and Portuguese.
Unknown stays None or empty: nothing is guessed. The conventions (what counts as a commission, how
offers merge, what a cookie of "1 year" is) are those of the labelled corpus,
tests/data/terms/README.md, on which it is measured (`python -m tests.bench terms`).

`extract(text)` reads a whole text: it cuts it into units (sentences, rows, list items), notes the
section each unit stands in (under "Payout methods", under "Restrictions:"), and reads each field
only where the text talks about it; every value keeps the verbatim text it came from
(`Terms.evidence`). A small model trained on the labelled texts (`gate.py`) may veto a
minimum the rules read, and fill in a minimum they missed. The single-field helpers (`commission`,
`cookie_days`, …) read a value a directory already labelled (its "Cookie" column).
"""

import re

from pydantic import BaseModel

from affiliate_matrix.models import CommissionTerm, Money
from affiliate_matrix.terms import commission as _commission
from affiliate_matrix.terms import cookie as _cookie
from affiliate_matrix.terms import gate
from affiliate_matrix.terms import methods as _methods
from affiliate_matrix.terms import payout as _payout
from affiliate_matrix.terms import restrictions as _restrictions
from affiliate_matrix.terms import schedule as _schedule
from affiliate_matrix.terms.commission import commission, merged_terms
from affiliate_matrix.terms.cookie import cookie_days
from affiliate_matrix.terms.methods import payout_methods
from affiliate_matrix.terms.payout import min_payout
from affiliate_matrix.terms.restrictions import restrictions
from affiliate_matrix.terms.schedule import payout_frequency
from affiliate_matrix.terms.text import (EXAMPLE_OPENER, HYPOTHETICAL, NUMBER, Doc, Pattern, Unit, normalise,
                                         reading)

__all__ = ["Terms", "commission", "cookie_days", "extract", "merged_terms", "min_payout", "payout_frequency",
           "payout_methods", "restrictions"]


class Terms(BaseModel):
    cookie_days: int | None = None
    commission: list[CommissionTerm] = []
    payout_methods: list[str] = []
    payout_frequency: str | None = None
    min_payout: Money | None = None
    restrictions: list[str] = []
    evidence: dict[str, list[str]] = {}  # field -> the verbatim sentences its value was read from

    def as_json(self) -> dict:
        def number(value):
            return None if value is None else (int(value) if value == int(value) else float(value))

        return {
            "cookie_days": self.cookie_days,
            "commission": [{"type": t.type, "value_min": number(t.value_min), "value_max": number(t.value_max),
                            "currency": t.currency, "recurring": t.recurring} for t in self.commission],
            "payout_methods": self.payout_methods,
            "payout_frequency": self.payout_frequency,
            "min_payout": {"amount": number(self.min_payout.amount), "currency": self.min_payout.currency}
            if self.min_payout else None,
            "restrictions": self.restrictions,
            "evidence": self.evidence,
        }


def _topic_of(unit: Unit) -> str | None:
    text = unit.norm
    if len(text.split()) <= 4 and HYPOTHETICAL.search(text):
        return "example"
    if _restrictions.is_section(text):
        return "restrictions"
    for name, cue in (("payout", _payout.CUE), ("cookie", _cookie.COOKIE), ("commission", _commission.CUE)):
        if cue.search(text):
            return name
    return None


def _mark(unit: Unit) -> str:
    return "none" if not unit.listed else "number" if re.match(r"\(?\d", unit.raw) else "bullet"


# The openers an example is said in passing with, inside a sentence; "an example", "example:" and "ein Beispiel"
# name one that follows.
_PASSING = Pattern(r"for example|for instance|let'?s (?:say|assume)|assum(?:e|ing)|suppose|zum beispiel|angenommen|"
                   r"par exemple|supposons|por ejemplo|supongamos|bijvoorbeeld|stel dat|por exemplo|suponha|digamos",
                   re.I)


def _in_passing(text: str, opener: re.Match) -> bool:
    """An example said in passing inside a sentence that goes on after it ("A hoplink, for example, looks like
    this", "How long does the agreement last, assuming all conditions are met?", "If your sales are (let's say)
    $2500, you get 50%", "Der Link sieht zum Beispiel so aus: …"): it illustrates that sentence, it does not open a
    worked example that runs on. One that starts its sentence ("For example, …", "So let's say …") or names or
    introduces what follows ("Let me give you an example.", "Here it is, for example:") does."""
    words_before = len(re.findall(r"\w+", text[:opener.start()]))
    words_after = len(re.findall(r"\w+", text[opener.end():]))
    return (_PASSING.compiled.fullmatch(opener.group(0)) is not None and words_before >= 2 and words_after >= 3
            and not text.rstrip().endswith(":"))


def topics(doc: Doc) -> list[str | None]:
    """The section each unit stands in: what the last heading or introducing line ("…:", "…?", a line
    a list follows) was about. The items of a list an introducing line opens ("Folgende … sind
    untersagt:" / "Cookie-Dropping" / "E-Mail-Spam") stay in its section even where they look like
    headings themselves. An example ("Let's assume …") runs on to the next heading."""
    found, topic, listing, resume, was_item = [], None, None, None, False
    for i, unit in enumerate(doc.units):
        following = doc.units[i + 1] if i + 1 < len(doc.units) else None
        last_in_line = following is None or following.first_in_line
        if not unit.first_in_line:
            item = listing is not None and listing != "open"
        else:
            kind = _mark(unit)
            item = listing == "open" or (listing == kind and not (kind == "none" and unit.raw.endswith(".")))
            listing = kind if item else None
        if item and last_in_line and unit.text.endswith(":") and _restrictions.is_section(unit.norm):
            # An item that introduces a ban ("- Nicht erlaubt ist:", "Prohibited methods include:") opens one: a
            # flattened nested list; the items after it stand under it.
            topic = "restrictions"
        if not item and (topic != "example" or (unit.heading and not unit.text.endswith(":"))):
            introduces = last_in_line and (unit.text.endswith(":") or (following is not None and following.listed
                                                                       and not unit.listed))
            if introduces or (unit.first_in_line and (unit.heading or unit.text.endswith("?"))):
                # A line that names no topic keeps the section when it introduces what follows ("Neuware:"), or
                # when it is the value under a label ("Payment Cycle" / "monthly"); a plain heading ends it.
                value = i > 0 and doc.units[i - 1].heading and not unit.listed and not was_item
                ends = (unit.heading or unit.text.endswith("?")) and not unit.text.endswith(":") and not value
                topic = _topic_of(unit) or (None if ends else topic)
            if introduces:
                listing = "open"
        if unit.first_in_line and resume is not None:
            (topic,), resume = resume, None
        if (opener := EXAMPLE_OPENER.search(unit.text)) and topic != "example":
            # An example opening a line runs to the next heading; one inside a paragraph or a list item (an item
            # stands alone: "no commissions on other services, for example: domains"), or said in passing, to its
            # end.
            opens = unit.first_in_line and not unit.listed and not _in_passing(unit.text, opener)
            resume = None if opens else (topic,)  # a tuple: the topic may be None
            topic = "example"
        found.append(topic)
        was_item = item
    return found


# The figures a text is read up to: the extractor's work grows with the figures it weighs (every rule and the gate
# judge each), and a record's description of 20,000 characters of '$1$1$1$1 ' cost 2.5 s of CPU (0.3 s read up to
# this), 500 such pages of one directory a batch's indexing past its function's time limit. No terms text holds near
# as many (the labelled corpus's most: 39 in 2,000 characters).
MAX_FIGURES = 1000
_FIGURE = Pattern(NUMBER)


def within_figure_bound(text: str) -> str:
    """The text up to the end of the line holding its MAX_FIGURES-th figure (at most 200 characters past it)."""
    from itertools import islice

    last = next(islice(_FIGURE.finditer(text), MAX_FIGURES - 1, None), None)
    if last is None:
        return text
    end = text.find("\n", last.end(), last.end() + 200)
    return text[:end if end != -1 else last.end() + 200]


def extract(text: str | None) -> Terms:
    """Every term a free text states, each looked for only where the text talks about it, up to its MAX_FIGURES-th
    figure."""
    with reading():  # the fields read the same units with the same patterns: each result is shared (text.read_once)
        return _terms_in(text)


def _terms_in(text: str | None) -> Terms:
    doc = Doc(within_figure_bound(text or ""))
    sections = topics(doc)
    found, evidence = Terms(), {}
    # The cookie is the rules' alone: the gate's cookie model, reading a unit's every word, vetoed a plain
    # "45-day cookie" in a page's flattened text (its evidence was a held-back split already looked at often).
    found.cookie_days, evidence["cookie_days"] = _cookie.cookie_in(doc, sections)
    found.commission, evidence["commission"] = _commission.commission_in(doc, sections)
    found.payout_methods, evidence["payout_methods"] = _methods.payout_methods_in(doc, sections)
    found.payout_frequency, evidence["payout_frequency"] = _schedule.payout_frequency_in(doc, sections)
    minimum, evidence["min_payout"] = _payout.min_payout_in(doc, sections)
    amount, evidence["min_payout"] = gate.judged(doc, sections, "min_payout",
                                                 (minimum.amount, minimum.currency) if minimum else None,
                                                 evidence["min_payout"])
    found.min_payout = Money(amount=amount[0], currency=amount[1]) if amount else None
    found.restrictions, evidence["restrictions"] = _restrictions.restrictions_in(doc, sections)
    found.evidence = {name: quoted if isinstance(quoted, list) else [quoted]
                      for name, quoted in evidence.items() if quoted}
    return found
