"""A second opinion on the commission rules' entries: is each merged entry exactly right, and if not, is one of its
plausible alternatives (its lowest value alone, its highest alone, the range without its lowest or highest figure,
its recurrence flipped, or these flipped) right? An entry the model doubts is repaired to its best alternative when
that is likelier right than the entry, and dropped when the model doubts it and has no repair.

Three logistic regressions (tests/data/terms/README.md, "A model of the rules' entries", branch `commodel2`):
* the figures: every percentage and amount of the text, how likely it says a labelled entry's value (the model of
  the branch `commodel`, its features `featurize`);
* the entries: how likely a rules entry is exactly right, from its shape (kind, width, how many figures and units it
  came from, its recurrence and what set it) and the figure model's scores of its figures;
* the alternatives: how likely an alternative is right when the entry is wrong, from the same features of it.

The weights (`commission_model.json`) are trained on the dev split of the labelled corpus by
`python -m tests.support.terms_corpus train` (tests/support/commodel.py); reading them needs nothing but the standard
library, and they load on the first use only. Deterministic: the scores are sums of hashed features' weights.
"""

import json
import math
import re
import zlib
from decimal import Decimal
from functools import cache
from pathlib import Path

WEIGHTS = Path(__file__).with_name("commission_model.json")
DIMENSIONS = 1 << 18
# An entry is repaired when its best alternative's chance of being right, less the entry's, exceeds REPAIR; else
# dropped when its own chance (calibrated) is below DROP. Chosen on dev's folds A and B (README).
REPAIR = 0.1
DROP = 0.25
# A text naming more figures than any real one (the corpus's most is 40), or with a unit far longer than any real
# one holding a figure (the corpus's longest is under 600 characters), keeps the rules' entries: the model's
# text-wide features cost the square of the figures, and each figure's tests read its whole unit.
MAX_FIGURES = 120
MAX_UNIT = 2000

# Set by the corpus's harness: {} judges nothing (the rules stand), or weights trained without a fold.
override: dict | None = None

_DISCOUNT = re.compile(r"off\b|discount|rabatt|coupon|voucher|gutschein|r[ée]duction|remise|descuento|korting|"
                       r"desconto|sconto|save|spar", re.I)
_PAY = re.compile(r"commission|provision|comisi|comiss|commissie|provvig|earn|verdien|gagn|ganh|ganar|per sale|"
                  r"per (?:order|lead|referral|sign)|recurr|wiederk|bount|payout|reward|revenue share", re.I)
_THRESHOLD = re.compile(r"minimum|threshold|mindest|seuil|m[íi]nimo|drempel|at least|reach|over|above|price|"
                        r"cost|fee", re.I)


def _hashed(names) -> set[int]:
    return {zlib.crc32(name.encode()) % DIMENSIONS for name in names}


# --- the figures ---------------------------------------------------------------------------------------------------

def candidates(doc, topics: list, quoted: list) -> list[list]:
    """Every percentage and amount of the text: [unit index, kind, currency, values, feature ids (None until
    `featurize`), the rules took from its unit, "up to", a recurrence word in its unit, its context]."""
    from affiliate_matrix.terms.commission import PERCENT
    from affiliate_matrix.terms.recurrence import RECURRING
    from affiliate_matrix.terms.text import MONEY, currency_of, money_values, number

    taken_units = {i for i, _, _ in quoted}
    found = []
    for i, unit in enumerate(doc.units):
        heading = doc.units[i - 1].text if i and unit.first_in_line and doc.units[i - 1].heading else ""
        text = unit.norm
        figures = []
        for m in PERCENT.finditer(text):
            high_text = m["b"] or m["b2"]
            values = tuple(v for v in (number(m["a"]), number(high_text) if high_text else None) if v is not None)
            if values:
                figures.append((m, "percent", None, values))
        for m in MONEY.finditer(text):
            currency = currency_of(m, doc.dollar)
            values = tuple(v for v in money_values(m) if v is not None)
            if values and currency:
                figures.append((m, "flat", currency, values))
        for m, kind, currency, values in figures:
            took = any(j == i and t[0] == kind and (kind == "percent" or t[1] == currency)
                       and {t[3], t[4]} & set(values) for j, terms, _ in quoted for t in terms)
            info = {"text": text, "start": m.start(), "end": m.end(), "heading": heading, "topic": topics[i],
                    "listed": unit.listed, "nfig": len(figures), "took": took}
            found.append([i, kind, currency, values, None, i in taken_units, bool(m["upto"]),
                          bool(RECURRING.search(text)), info])
    return found


def _bucket(kind, value) -> str:
    bounds = (1, 3, 5, 8, 12, 16, 21, 26, 31, 41, 51, 76) if kind == "percent" else (1, 5, 10, 20, 30, 50, 75, 100,
                                                                                     200, 500, 1000)
    return str(sum(value >= b for b in bounds))


def featurize(c, found) -> list[int]:
    """A figure's hashed features: gate.features (words before and after, character n-grams, the unit's words,
    heading, section); its kind, list row, range, a discount, pay or threshold word near; the value's bucket, how
    often the text says it, whether it is the text's highest or lowest of its kind; the commission rules' own tests
    of it, and whether the rules took it."""
    from affiliate_matrix.terms import gate

    i, kind, currency, values, _, taken, upto, _, info = c[:9]
    text, start, end = info["text"], info["start"], info["end"]
    ids = set(gate.features(text, start, end, info["heading"], info["topic"]))
    near_before, near_after = text[max(0, start - 40):start], text[end:end + 25]
    names = [f"k:{kind}", f"kc:{kind}{currency}", f"listed:{info['listed']}", f"upto:{upto}",
             f"range:{len(values) > 1}", f"disc:{bool(_DISCOUNT.search(near_before + near_after))}",
             f"pay:{bool(_PAY.search(text))}", f"thr:{bool(_THRESHOLD.search(near_before[-20:]))}",
             f"nfig:{min(info['nfig'], 4)}"]
    same = [d for d in found if d[1] == kind and d[2] == currency]
    mine = values[0]
    names += [f"vb:{kind}{_bucket(kind, mine)}",
              f"vn:{min(sum(1 for d in same if mine in d[3]), 3)}",
              f"vmax:{mine >= max(max(d[3]) for d in same)}", f"vmin:{mine <= min(min(d[3]) for d in same)}",
              f"kn:{kind}{min(len(same), 4)}", f"first:{same[0] is c}",
              f"tk:{sum(1 for d in found if d[5])>0}",
              f"vpay:{any(mine in d[3] and d is not c and _PAY.search(d[8]['text']) for d in same)}",
              f"vbt:{kind}{_bucket(kind, mine)}{info['topic']}"]
    names += _rule_signals(c)
    return sorted(ids | _hashed(names))


def _rule_signals(c) -> list[str]:
    """The commission rules' own local tests of a figure, as features: the model weighs what the rules order."""
    import importlib

    rules = importlib.import_module("affiliate_matrix.terms.commission")

    info = c[8]
    text, start, end = info["text"], info["start"], info["end"]
    before, after = text[max(0, start - 200):start], text[end:end + 200]
    near = text[max(0, start - 30):end + 15]
    flat = c[1] == "flat"
    tests = {
        "took": info.get("took"), "cue_unit": rules.CUE.search(text), "cue_before": rules.CUE.search(before[-60:]),
        "cue_after": rules.CUE.search(after[:40]), "disc_after": rules._DISCOUNT_AFTER.search(after),
        "disc_before": rules._DISCOUNT_BEFORE.search(before), "not_pay": rules._NOT_PAY.search(near),
        "share": rules._SHARE_OF.match(after), "average": rules._AVERAGE.search(text),
        "customer_gets": rules._CUSTOMER_GETS.search(text), "buyer_pays": rules._BUYER_PAYS.search(text),
        "for_friend": rules._FOR_FRIEND.match(after), "bounty_after": rules._BOUNTY_AFTER.match(after),
        "said": rules._said_for_pay(before, after), "flat_cue": rules._FLAT_CUE.search(text),
        "threshold": flat and rules._threshold(before, after), "commission_word": rules._COMMISSION_WORD.search(text),
        "bounty_said": flat and (rules._BOUNTY_SAID_AFTER.match(after) or rules._BOUNTY_SAID_BEFORE.search(before)),
        "rate_row": rules._rate_row(text), "rates_line": rules._rates_line(text),
    }
    names = [f"r:{name}" for name, hit in tests.items() if hit]
    return names + [f"rk:{c[1]}:{name}" for name, hit in tests.items() if hit]


# --- the entries and their alternatives ----------------------------------------------------------------------------

def _dec(v):
    return None if v is None else Decimal(str(v))


def key(entry: dict) -> tuple:
    """What makes an entry correct (tests/support/terms_corpus.commission_key)."""
    return (entry["type"], _dec(entry.get("value_min")), _dec(entry.get("value_max")), entry.get("currency"),
            entry.get("recurring") is True)


def entry_figures(item: dict, e: dict) -> list[tuple]:
    """The rules' figures (unit index, figure) an entry came from: its kind and currency, values within its range."""
    quoted, _, _ = item["offers"]
    low, high = _dec(e["value_min"]), _dec(e["value_max"])
    top = high if high is not None else low
    bottom = low if low is not None else Decimal("-1")
    rate_given = any(t[0] == "percent" for _, terms, _ in quoted for t in terms)
    out = []
    for i, terms, _ in quoted:
        for t in terms:
            if t[0] != e["type"] or (e["type"] == "flat" and t[1] != e["currency"]):
                continue
            if rate_given and t[0] == "flat" and not t[6]:
                continue
            values = [v for v in (t[3], t[4]) if v is not None]
            if values and all(bottom <= v <= top for v in values):
                out.append((i, t))
    return out


def alternatives(item: dict, e: dict) -> list[tuple[str, dict]]:
    """The entry itself ("orig") and its plausible repairs, each (name, entry); recurrence flipped as "<name>~"."""
    figs = entry_figures(item, e)
    values = sorted({v for _, t in figs for v in (t[3], t[4]) if v is not None})
    low, high = _dec(e["value_min"]), _dec(e["value_max"])
    out = [("orig", dict(e))]

    def add(name, lo, hi):
        if lo is not None and hi is not None and hi <= lo:
            hi = None
        if lo is None and hi is None:
            return
        cand = {**e, "value_min": lo, "value_max": hi}
        if all(key(cand) != key(c) for _, c in out):
            out.append((name, cand))
    if high is not None:
        add("min", low if low is not None else high, None)
        add("max", high, None)
    if len(values) >= 3 and low is not None and high is not None:
        add("droplow", values[1], high)
        add("drophigh", low, values[-2])
    flipped = [(name + "~", {**cand, "recurring": None if cand["recurring"] is True else True}) for name, cand in out]
    return out + flipped


def _wbucket(low, high) -> str:
    if low is None or high is None:
        return "none"
    r = float(high) / max(float(low), 1e-9)
    return str(sum(r >= b for b in (1.2, 1.5, 2, 3, 5, 10)))


def entry_features(item: dict, alt: str, cand: dict, orig: dict, nent: int) -> list[int]:
    """An entry's (or an alternative's) shape: its kind, width, single value or "up to", how many figures, values and
    units it came from, its recurrence and what the rules set it from, the text's count of entries and figures; and
    the same crossed with which alternative it is."""
    from affiliate_matrix.terms.recurrence import RECURRING

    _, recurring_said, kept = item["offers"]
    figs = entry_figures(item, orig)
    units = {i for i, _ in figs}
    low, high = _dec(cand["value_min"]), _dec(cand["value_max"])
    olow, ohigh = _dec(orig["value_min"]), _dec(orig["value_max"])
    kind, cur = cand["type"], cand["currency"]
    base, flip = alt.rstrip("~"), alt.endswith("~")
    values = sorted({v for _, t in figs for v in (t[3], t[4]) if v is not None})
    same_kind = [c for c in item["candidates"] if c[1] == kind and (kind == "percent" or c[2] == cur)]
    text_values = sorted({v for c in same_kind for v in c[3]})
    rec_figs = "|".join(sorted({str(t[5]) for _, t in figs}))
    rec_words = any(RECURRING.search(item["norms"][i]) for i in units)
    names = [f"alt:{base}", f"flip:{flip}", f"rec:{cand['recurring']}", f"orec:{orig['recurring']}",
             f"k:{kind}", f"kc:{kind}{cur}", f"w:{_wbucket(low, high)}", f"ow:{_wbucket(olow, ohigh)}",
             f"single:{high is None}", f"upto:{low is None}", f"nfig:{min(len(figs), 5)}",
             f"nval:{min(len(values), 5)}", f"nunit:{min(len(units), 4)}", f"rs:{recurring_said}", f"kept:{kept}",
             f"nent:{min(nent, 3)}", f"ntv:{min(len(text_values), 6)}", f"recfig:{rec_figs}",
             f"recw:{rec_words}", f"nsame:{min(len(same_kind), 6)}"]
    names += [f"alt_{base}:{n}" for n in list(names[2:])]
    names += [f"flip_{flip}:{n}" for n in (f"rec:{cand['recurring']}", f"rs:{recurring_said}", f"kept:{kept}",
                                            f"recw:{rec_words}", f"recfig:{rec_figs}", f"orec:{orig['recurring']}")]
    for role, v in (("mn", low), ("mx", high)):
        if v is not None and text_values:
            names += [f"{role}:tmax:{v == text_values[-1]}", f"{role}:tmin:{v == text_values[0]}",
                      f"{role}:vb:{kind}{_bucket(kind, v)}", f"{role}:vn:{min(sum(v in d[3] for d in same_kind), 3)}"]
    return sorted(_hashed(names))


def _figure_score(item: dict, scores: list[float], i: int, t: tuple) -> float | None:
    said = [p for c, p in zip(item["candidates"], scores) if c[0] == i and c[1] == t[0]
            and (t[0] == "percent" or c[2] == t[1]) and {t[3], t[4]} & set(c[3])]
    return max(said) if said else None


def _sb(p) -> str:
    return "none" if p is None else str(sum(p >= b for b in (0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9)))


def score_features(item: dict, scores: list[float], alt: str, cand: dict, orig: dict) -> list[int]:
    """The figure model's view of an entry (or an alternative): the scores of the figures it keeps, of its ends, and
    of the figures the alternative leaves out."""
    figs = entry_figures(item, orig)
    low, high = _dec(cand["value_min"]), _dec(cand["value_max"])
    top = high if high is not None else low
    bottom = low if low is not None else Decimal("-1")
    kept, left, lows, highs = [], [], [], []
    for i, t in figs:
        p = _figure_score(item, scores, i, t)
        values = [v for v in (t[3], t[4]) if v is not None]
        (kept if all(bottom <= v <= top for v in values) else left).append(p)
        if low is not None and low in values:
            lows.append(p)
        if top in values:
            highs.append(p)

    def most(ps, pick):
        ps = [p for p in ps if p is not None]
        return pick(ps) if ps else None
    base = alt.rstrip("~")
    names = [f"s:kmin:{_sb(most(kept, min))}", f"s:kmax:{_sb(most(kept, max))}", f"s:lmax:{_sb(most(left, max))}",
             f"s:lo:{_sb(most(lows, max))}", f"s:hi:{_sb(most(highs, max))}", f"s:nleft:{min(len(left), 3)}"]
    names += [f"s_{base}:{n}" for n in names]
    return sorted(_hashed(names))


def samples(item: dict, scores: list[float]) -> list[list[tuple[str, dict, list[int]]]]:
    """Per rules entry: [(alternative's name, entry, features)], the entry itself first."""
    entries = item["got"]["commission"]
    return [[(alt, cand, sorted(set(entry_features(item, alt, cand, e, len(entries)))
                                | set(score_features(item, scores, alt, cand, e))))
             for alt, cand in alternatives(item, e)] for e in entries]


# --- the model -----------------------------------------------------------------------------------------------------

def probability(model, ids) -> float:
    bias, weights = model
    score = bias + sum(weights.get(i, 0.0) for i in ids)
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, score))))


def calibrated(p: float, ratio: float) -> float:
    """gate.train weighs the positives up to the negatives' total: a score back to the odds of the data (`ratio`:
    positives over negatives in the training samples)."""
    odds = p / max(1 - p, 1e-12) * ratio
    return odds / (1 + odds)


def loaded(stored: dict) -> dict:
    out = {name: (m["bias"], {int(k): v for k, v in m["weights"].items()})
           for name, m in stored.items() if name != "ratios"}
    if "ratios" in stored:
        out["ratios"] = tuple(stored["ratios"])
    return out


@cache
def _model() -> dict:
    if not WEIGHTS.exists():
        return {}
    return loaded(json.loads(WEIGHTS.read_text(encoding="utf-8")))


def decided(groups, scores: list[list[float]], ratios: tuple[float, float], repair: float | None = REPAIR,
            drop: float | None = DROP) -> list[dict]:
    """The rules' entries judged: each replaced by its best alternative when that alternative's chance of being
    right (right given the entry wrong, times the entry wrong) less the entry's exceeds `repair`, else dropped when
    the entry's own chance is below `drop`; an entry said twice is kept once."""
    out, keys = [], set()
    for group, ps in zip(groups, scores):
        p0 = calibrated(ps[0], ratios[0])
        choice = group[0][1]
        best = max(range(1, len(group)), key=lambda j: ps[j], default=None)
        if repair is not None and best is not None and (1 - p0) * calibrated(ps[best], ratios[1]) - p0 > repair:
            choice = group[best][1]
        elif drop is not None and p0 < drop:
            choice = None
        if choice is not None and key(choice) not in keys:
            keys.add(key(choice))
            out.append(choice)
    return out


def item_of(doc, topics: list, offers: tuple, entries: list[dict]) -> dict:
    """What the model reads of a text: the rules' figures per unit and their entries, every figure with its
    features."""
    found = candidates(doc, topics, offers[0])
    for c in found:
        c[4] = featurize(c, found)
    return {"offers": offers, "candidates": found, "norms": [u.norm for u in doc.units], "topics": topics,
            "got": {"commission": entries}}


def _bounded(doc) -> bool:
    """Whether the text is one the model reads: at most MAX_FIGURES figures, none in a unit over MAX_UNIT
    characters. Each unit is read once, and the count stops at the bound."""
    from affiliate_matrix.terms.commission import PERCENT
    from affiliate_matrix.terms.text import MONEY

    count = 0
    for unit in doc.units:
        for pattern in (PERCENT, MONEY):
            for _ in pattern.finditer(unit.norm):
                if len(unit.norm) > MAX_UNIT:
                    return False
                count += 1
                if count > MAX_FIGURES:
                    return False
    return True


def judged(doc, topics: list, offers: tuple, entries: list[dict]) -> list[dict]:
    """The rules' entries (dicts of CommissionTerm's fields) as the shipped model lets them stand, repairs or drops
    them. Without a model, with no entry, or on a text of more figures than any real one, the rules stand."""
    model = override if override is not None else _model()
    if not model or not entries:
        return entries
    if not _bounded(doc):
        return entries
    item = item_of(doc, topics, offers, entries)
    scores = [probability(model["figures"], c[4]) for c in item["candidates"]]
    groups = samples(item, scores)
    judged_scores = [[probability(model["entries"], g[0][2])] + [probability(model["alternatives"], x[2])
                                                                 for x in g[1:]] for g in groups]
    return decided(groups, judged_scores, model["ratios"])
