"""Today's `commission.commission_in` cut in two for the commission experiments (tests/data/terms/README.md, "The gate"):
`offers`, each unit's figures before they merge, and `merged_offers`, the merge, so that a model can judge the
figures in between. The product module is not touched: this copies `commission_in`'s body, and
`commodel.prepare` asserts that `merged_offers(*offers(...))` gives `commission_in`'s output on every dev text.
`dev_items` reads the dev files alone (a held-back file is never opened)."""

import json

from affiliate_matrix.terms.commission import (_BOUNTY_SAID_BEFORE, _OTHERS_EARN, CUE, COOKIE, NOT_RECURRING,
                                               RECURRING, _about_commission, _candidates, _merged, _rate_row,
                                               _rates_line, _table_row, before_example, customer_stays,
                                               denies_recurrence)
from tests.support.terms_corpus import corpus_dirs, held_back


def dev_items() -> list[dict]:
    """The dev items, sorted by id, as `terms_corpus.load` gives them; a file named for a held-back id is not read."""
    items = []
    for directory in corpus_dirs():
        for path in sorted(directory.glob("*.json")):
            if held_back(path.stem):
                continue
            item = json.loads(path.read_text(encoding="utf-8"))
            assert item["id"] == path.stem and not held_back(item["id"]), path
            item["_path"] = path
            items.append(item)
    return sorted(items, key=lambda i: str(i.get("id")))


def offers(doc, topics: list[str | None]) -> tuple[list[tuple[int, list[tuple], str]], bool, bool]:
    """Each unit's figures the rules take for the affiliate's pay, as (unit index, figures, the verbatim text they
    came from), and whether the text says its commission recurs and its customers stay the affiliate's."""
    found: list[tuple] = []
    quoted: list[tuple[int, list[tuple], str]] = []
    recurring_said, recurrence_denied, customer_kept, last_rated = False, False, False, -1
    for i, unit in enumerate(doc.units):
        heading = doc.units[i - 1].text if i and unit.first_in_line and doc.units[i - 1].heading else ""
        text = before_example(unit.norm, _OTHERS_EARN)
        if topics[i] == "example" or not text.strip():
            continue
        follows_rate = bool(found) and not unit.first_in_line and last_rated == i - 1 and len(text.split()) <= 6
        rates_line = ((_rates_line(text) or _table_row(doc, i)) and _about_commission(doc, i))
        in_section = (topics[i] == "commission" or bool(CUE.search(heading)) or follows_rate or _rate_row(text)
                      or rates_line)
        about_pay = CUE.search(text) or in_section
        if about_pay and RECURRING.search(text) and not (
                COOKIE.search(text) or NOT_RECURRING.search(text) or text.rstrip().endswith("?")):
            recurring_said = True
        recurrence_denied |= bool(about_pay and denies_recurrence(text))
        if (CUE.search(text) or in_section or last_rated == i - 1) and customer_stays(text) and not (
                COOKIE.search(text) or NOT_RECURRING.search(text)):
            customer_kept = True
        terms = _candidates(text, in_section, doc.dollar, rates_line)
        if _BOUNTY_SAID_BEFORE.search(heading):
            terms = [(*entry[:6], True) for entry in terms]
        if terms:
            found += terms
            last_rated = i
            quoted.append((i, terms, doc.span(i - 1, i) if heading and not CUE.search(text) else unit.raw))
    return quoted, recurring_said and not recurrence_denied, customer_kept


def merged_offers(quoted: list[tuple[int, list[tuple], str]], recurring_said: bool, customer_kept: bool):
    """`offers`' figures merged per offer, and the verbatim units they came from."""
    rate_given = any(entry[0] == "percent" for _, terms, _ in quoted for entry in terms)
    quoted = [([entry for entry in terms if not rate_given or entry[0] == "percent" or entry[6]], quote)
              for _, terms, quote in quoted]
    found = [entry for terms, _ in quoted for entry in terms]
    evidence = [quote for terms, quote in quoted if terms]
    return _merged(found, recurring_said, customer_kept), evidence
