"""Learned commission models measured on dev's three folds (tests/data/terms/README.md, "A figure-level commission
model (2026-12-03, not shipped)"). Nothing here reads a held-back or fresh item.

Figures: every percentage and amount of a text is a candidate, positive when its value (kind; currency for an
amount) is a labelled entry's value_min or value_max, or lies between them (a tier of a labelled range). A logistic
regression (gate.train) on gate.features and more (`featurize`) is trained on two folds and scores the third. The
scores then judge the rules' figures before they merge (commission.offers / merged_offers): a veto drops a figure
every candidate saying it is doubted, a fill-in adds a figure the rules left; or the model decides alone.
Units: a unit-level filter as commit e0a8ec6 tried (does this unit, which names a figure, say what the affiliate
earns?), its veto dropping a unit's figures, its fill-in reading a unit the rules left as under a commission heading.

`python -m tests.support.commodel [AB|ABC]` (or `python -m tests.support.terms_corpus commodel [AB|ABC]`) prints
the rules alone per fold for all six fields, then each variant's commission per fold, summed and on the round 25
texts of folds A and B (their ids in $AMX_ROUND25_IDS, default /tmp/s15/round25_devAB.txt). Only commission
changes in a variant; the other fields are the rules' (the harness replaces the commission entries only).
Thresholds were chosen on folds A and B; "ABC" adds fold C.

Branch commodel2 (README, "A model of the rules' entries, and of which figures make one offer"): a model of the
rules' merged entries and their alternatives (`python -m tests.support.terms_corpus commodel2 [AB|ABC]`: the grid),
and a pairwise model of which figures of an entry make one offer (`... commodel2-pairs [AB|ABC]`). Its shipped code
(affiliate_matrix/terms/entries.py, the weights and their cross-validation) is in history only, at f099b90.
Branch commtree reads the same entries and alternatives with gradient-boosted trees (tests/support/commtree.py).
The rules' output per dev text is cached under /tmp, keyed by the rules' source and the dev texts."""

import hashlib
import importlib
import math
import os
import pickle
import re
import sys
import zlib
from decimal import Decimal
from pathlib import Path

from tests.support.commsplit import dev_items
from tests.support.terms_corpus import (BENCH_NAMES, FIELDS, FOLDS, FieldScore, _elements, _matched, fold, held_back,
                                        load, split)

ROUND25 = Path(os.environ.get("AMX_ROUND25_IDS", "/tmp/s15/round25_devAB.txt"))
FEATURES = frozenset({"extra", "doc", "rules"})  # the best of the sets tried (README)
L2 = 10.0

_DISCOUNT = re.compile(r"off\b|discount|rabatt|coupon|voucher|gutschein|r[ée]duction|remise|descuento|korting|"
                       r"desconto|sconto|save|spar", re.I)
_PAY = re.compile(r"commission|provision|comisi|comiss|commissie|provvig|earn|verdien|gagn|ganh|ganar|per sale|"
                  r"per (?:order|lead|referral|sign)|recurr|wiederk|bount|payout|reward|revenue share", re.I)
_THRESHOLD = re.compile(r"minimum|threshold|mindest|seuil|m[íi]nimo|drempel|at least|reach|over|above|price|"
                        r"cost|fee", re.I)
_WORD = re.compile(r"[^\W\d_]+|#|%|€|\$|£")


def _folded(text: str) -> str:
    return " ".join(text.split())


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


def featurize(c, found, config=FEATURES) -> list[int]:
    """A candidate's hashed features: gate.features (words before and after, character n-grams, the unit's words,
    heading, section) and, by `config`, "extra" (kind, list row, range, discount or pay word near), "doc" (the
    value's bucket, how often the text says it, whether it is the text's highest or lowest of its kind),
    "rules" (the commission rules' own tests of it, and whether the rules took it), "taken" (the rules took from
    its unit)."""
    from affiliate_matrix.terms import gate

    i, kind, currency, values, _, taken, upto, _, info = c[:9]
    text, start, end = info["text"], info["start"], info["end"]
    ids = set(gate.features(text, start, end, info["heading"], info["topic"])) if "base" not in config else set()
    if "base" in config:  # no character n-grams, no unit words
        ids = set(gate.features(text[max(0, start - 80):end + 50], start - max(0, start - 80),
                                end - max(0, start - 80), info["heading"], info["topic"]))
    names = []
    if "extra" in config:
        near_before, near_after = text[max(0, start - 40):start], text[end:end + 25]
        names += [f"k:{kind}", f"kc:{kind}{currency}", f"listed:{info['listed']}", f"upto:{upto}",
                  f"range:{len(values) > 1}", f"disc:{bool(_DISCOUNT.search(near_before + near_after))}",
                  f"pay:{bool(_PAY.search(text))}", f"thr:{bool(_THRESHOLD.search(near_before[-20:]))}",
                  f"nfig:{min(info['nfig'], 4)}"]
    if "taken" in config:
        names += [f"taken:{taken}", f"taken_k:{taken}{kind}"]
    if "doc" in config:
        same = [d for d in found if d[1] == kind and d[2] == currency]
        mine = values[0]
        names += [f"vb:{kind}{_bucket(kind, mine)}",
                  f"vn:{min(sum(1 for d in same if mine in d[3]), 3)}",
                  f"vmax:{mine >= max(max(d[3]) for d in same)}", f"vmin:{mine <= min(min(d[3]) for d in same)}",
                  f"kn:{kind}{min(len(same), 4)}", f"first:{same[0] is c}",
                  f"tk:{sum(1 for d in found if d[5])>0}",
                  f"vpay:{any(mine in d[3] and d is not c and _PAY.search(d[8]['text']) for d in same)}",
                  f"vbt:{kind}{_bucket(kind, mine)}{info['topic']}"]
    if "rules" in config:
        names += _rule_signals(c)
    return sorted(ids | {zlib.crc32(name.encode()) % gate.DIMENSIONS for name in names})


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




def _positive(kind, currency, values, labels: dict, inside: bool = True) -> bool:
    """Whether a figure says a labelled entry's value: its min or max, or (`inside`) a value between them (a tier
    of a labelled range), of its kind and currency."""
    for e in labels.get("commission") or []:
        if e["type"] != kind or (kind == "flat" and e.get("currency") != currency):
            continue
        low, high = (None if e.get(b) is None else Decimal(str(e[b])) for b in ("value_min", "value_max"))
        for v in values:
            if v in (low, high) or (inside and low is not None and high is not None and low <= v <= high):
                return True
    return False


def _entries(terms) -> list[dict]:
    from affiliate_matrix.terms import Terms

    return Terms(commission=terms).as_json()["commission"]


def _cache() -> Path:
    """Keyed by the extractor's source and the dev texts: the rules' output is the same for every fold."""
    digest = hashlib.sha256()
    for path in sorted(Path(importlib.import_module("affiliate_matrix.terms.commission").__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    for item in dev_items():
        digest.update(repr((item["id"], item["text"], item["labels"], item.get("evidence"))).encode())
    return Path(f"/tmp/commodel_{digest.hexdigest()[:16]}.pkl")


def prepare(config=FEATURES) -> list[dict]:
    """Each dev item's rules output, the rules' figures per unit, and the candidates with their features."""
    cache = _cache()
    if cache.exists():
        items = pickle.loads(cache.read_bytes())
    else:
        from affiliate_matrix.terms import extract, topics
        from tests.support.commsplit import merged_offers, offers
        from affiliate_matrix.terms.text import Doc

        items = []
        for item in dev_items():
            assert not held_back(item["id"])
            doc = Doc(item["text"])
            got = extract(item["text"]).as_json()
            sections = topics(doc)
            quoted, recurring, kept = offers(doc, sections)
            assert _entries(merged_offers(quoted, recurring, kept)[0]) == got["commission"], item["id"]
            evidence = item.get("evidence", {}).get("commission") or []
            items.append({"id": item["id"], "fold": fold(item["id"]), "labels": item["labels"], "got": got,
                          "units": [u.raw for u in doc.units], "norms": [u.norm for u in doc.units],
                          "topics": sections, "dollar": doc.dollar, "offers": (quoted, recurring, kept),
                          "evidence": [_folded(e) for e in ([evidence] if isinstance(evidence, str) else evidence)],
                          "candidates": [[*c, _positive(c[1], c[2], c[3], item["labels"])]
                                         for c in candidates(doc, sections, quoted)]})
        cache.write_bytes(pickle.dumps(items))
    for item in items:
        for c in item["candidates"]:
            c[4] = featurize(c, item["candidates"], config)
    return items


def trained(samples: list[tuple[list[int], bool]], l2: float = L2) -> tuple[float, dict[int, float]]:
    from affiliate_matrix.terms import gate

    model = gate.train(samples, l2=l2)
    return model["bias"], {int(k): v for k, v in model["weights"].items()}


def probability(model, ids) -> float:
    bias, weights = model
    score = bias + sum(weights.get(i, 0.0) for i in ids)
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, score))))


def out_of_fold(items: list[dict], l2: float = L2) -> dict[str, list[float]]:
    """Every candidate's score by a model trained on the other two folds."""
    scores = {}
    for name in FOLDS:
        model = trained([(c[4], c[-1]) for i in items if i["fold"] != name for c in i["candidates"]], l2)
        scores.update({i["id"]: [probability(model, c[4]) for c in i["candidates"]]
                       for i in items if i["fold"] == name})
    return scores


def judged(item: dict, scores: list[float], veto: float | None, fill: float | None, fill_mode: str = "empty",
           recur: bool = False, veto_scope: str = "any") -> list[dict]:
    """The rules' figures, each unit's before they merge, with the model's veto (a figure whose every candidate
    saying it scores below `veto` goes) and fill-in (a figure scoring `fill` or more in a unit the rules took
    nothing from is added: where the text has no entry ("empty"), no entry of its kind ("kind"), or anywhere
    ("unit")); then merged as the rules merge."""
    from tests.support.commsplit import merged_offers

    quoted, recurring, kept = item["offers"]
    cands = item["candidates"]
    def doubted(i, t):
        said = [p for c, p in zip(cands, scores) if c[0] == i and c[1] == t[0]
                and (t[0] == "percent" or c[2] == t[1]) and {t[3], t[4]} & set(c[3])]
        return veto is not None and bool(said) and max(said) < veto

    # "range": a figure goes only when a figure of its offer (kind, currency, recurring) that the model does not
    # doubt stays: the veto narrows a range or drops a stray value, never an offer.
    trusted = {(t[0], t[1], t[5] is True) for i, terms, _ in quoted for t in terms if not doubted(i, t)}
    judged_units = []
    for i, terms, quote in quoted:
        left = [t for t in terms if not doubted(i, t) or (veto_scope == "range" and (t[0], t[1], t[5] is True)
                                                           not in trusted)]
        judged_units.append((i, left, quote))
    if fill is not None:
        have = {(t[0], t[1]) for _, terms, _ in judged_units for t in terms}
        taken = {i for i, terms, _ in judged_units if terms}
        added: dict = {}
        for c, p in zip(cands, scores):
            key = (c[1], c[2])
            if p < fill or c[0] in taken:
                continue
            if fill_mode == "empty" and have:
                continue
            if fill_mode == "kind" and key in have:
                continue
            if fill_mode != "unit" and key in added and added[key][0] >= p:
                continue
            values = c[3]
            low, high = (values[0], values[1]) if len(values) > 1 else (values[0], None)
            term = (c[1], c[2], c[6], low, high, True if recur and c[7] else None, True)
            added[key if fill_mode != "unit" else len(added)] = (p, c[0], term)
        if fill_mode == "empty" and added:
            added = dict([max(added.items(), key=lambda kv: kv[1][0])])
        for p, i, term in added.values():
            judged_units.append((i, [term], item["units"][i]))
        judged_units.sort(key=lambda q: q[0])
    return _entries(merged_offers(judged_units, recurring, kept)[0])


def decided(item: dict, scores: list[float], sure: float) -> list[dict]:
    """The model alone: the figures scoring `sure` or more, one entry per kind (percent; flat per currency), their
    lowest and highest value its range ("up to" alone: max only); recurring when the rules say the text's commission
    recurs or its customers stay the affiliate's."""
    groups: dict = {}
    for c, p in zip(item["candidates"], scores):
        if p >= sure:
            groups.setdefault((c[1], c[2]), []).append(c)
    _, recurring, kept = item["offers"]
    out = []
    for (kind, currency), found in groups.items():
        lows = [v for c in found if not c[6] for v in c[3]]
        high = max(v for c in found for v in c[3])
        low = min(lows) if lows else None
        out.append({"type": kind, "value_min": low, "value_max": None if low is not None and high <= low else high,
                    "currency": currency, "recurring": True if recurring or kept else None})
    return out


def out_of_fold_apart(items: list[dict], l2: float = 30.0) -> dict[str, list[float]]:
    """Every candidate's score by one of two models trained on the other two folds: one on the figures the rules
    took (for the veto), one on the rest (for the fill-in)."""
    scores = {}
    for name in FOLDS:
        rest = [i for i in items if i["fold"] != name]
        took, left = (trained([(c[4], c[-1]) for i in rest for c in i["candidates"] if c[8]["took"] is side], l2)
                      for side in (True, False))
        scores.update({i["id"]: [probability(took if c[8]["took"] else left, c[4]) for c in i["candidates"]]
                       for i in items if i["fold"] == name})
    return scores


def recurrence_samples(item: dict) -> list[tuple[dict, list[int], bool | None]]:
    """Each of the rules' entries: the words and word pairs of the units it came from and the text's recurrence
    flags; labelled by whether the labelled entry of its values recurs (None when no labelled entry has them)."""
    from affiliate_matrix.terms import gate
    from tests.support.terms_corpus import commission_key

    quoted, recurring, kept = item["offers"]
    samples = []
    for e in item["got"]["commission"]:
        names = [f"rs:{recurring}", f"kept:{kept}", f"k:{e['type']}", f"n:{min(len(item['got']['commission']), 3)}"]
        for i, terms, _ in quoted:
            if any(t[0] == e["type"] and (e["type"] == "percent" or t[1] == e["currency"]) for t in terms):
                words = _WORD.findall(item["norms"][i].lower()[:1000])
                names += [f"w:{w}" for w in words] + [f"ww:{a}_{b}" for a, b in zip(words, words[1:])]
        same = [w for w in item["labels"].get("commission") or [] if commission_key(w)[:4] == commission_key(e)[:4]]
        samples.append((e, sorted({zlib.crc32(n.encode()) % gate.DIMENSIONS for n in names}),
                        any(w.get("recurring") is True for w in same) if same else None))
    return samples


def recurrence_flipped(items: list[dict], sure: float, l2: float = 3.0) -> dict[str, list[dict]]:
    """The rules' entries, their recurrence set by a model (trained on the other two folds) where it is sure."""
    samples = {i["id"]: recurrence_samples(i) for i in items}
    out = {}
    for name in FOLDS:
        model = trained([(ids, y) for i in items if i["fold"] != name for _, ids, y in samples[i["id"]]
                         if y is not None], l2)
        for i in items:
            if i["fold"] == name:
                out[i["id"]] = []
                for e, ids, _ in samples[i["id"]]:
                    p = probability(model, ids)
                    recurs = True if p >= sure else None if p <= 1 - sure else e["recurring"]
                    out[i["id"]].append({**e, "recurring": recurs if recurs is not None or e["recurring"] is not True
                                         else None})
    return out


# --- the unit filter (e0a8ec6's, on today's dev) ---------------------------------------------------------------

def unit_samples(item: dict) -> dict[int, tuple[list[int], bool]]:
    """Every unit naming a figure: its section, words and word pairs; positive when the item's commission evidence
    holds it or one of its figures is positive."""
    from affiliate_matrix.terms import gate

    found: dict[int, bool] = {}
    for c in item["candidates"]:
        found[c[0]] = found.get(c[0], False) or c[-1]
    samples = {}
    for i, positive in found.items():
        words = _WORD.findall(item["norms"][i].lower()[:1000])
        names = [f"t:{item['topics'][i]}", *(f"w:{w}" for w in words),
                 *(f"ww:{a}_{b}" for a, b in zip(words, words[1:]))]
        samples[i] = (sorted({zlib.crc32(n.encode()) % gate.DIMENSIONS for n in names}),
                      positive or any(_folded(item["units"][i]) in e for e in item["evidence"]))
    return samples


def unit_scores(items: list[dict], l2: float = 3.0) -> dict[str, dict[int, float]]:
    units = {i["id"]: unit_samples(i) for i in items}
    scores = {}
    for name in FOLDS:
        model = trained([s for i in items if i["fold"] != name for s in units[i["id"]].values()], l2)
        scores.update({i["id"]: {u: probability(model, s[0]) for u, s in units[i["id"]].items()}
                       for i in items if i["fold"] == name})
    return scores


def unit_judged(item: dict, scores: dict[int, float], veto: float | None, fill: float | None) -> list[dict]:
    from affiliate_matrix.terms.commission import _OTHERS_EARN, _candidates
    from tests.support.commsplit import merged_offers
    from affiliate_matrix.terms.text import before_example

    quoted, recurring, kept = item["offers"]
    out = [(i, [] if veto is not None and scores.get(i, 1.0) < veto else terms, quote) for i, terms, quote in quoted]
    taken = {i for i, _, _ in quoted}
    for i, p in scores.items():
        if fill is not None and p >= fill and i not in taken and item["topics"][i] != "example":
            terms = _candidates(before_example(item["norms"][i], _OTHERS_EARN), True, item["dollar"])
            if terms:
                out.append((i, terms, item["units"][i]))
    return _entries(merged_offers(sorted(out, key=lambda q: q[0]), recurring, kept)[0])


# --- the report --------------------------------------------------------------------------------------------------

def tally(items: list[dict], commissions: dict[str, list[dict]] | None = None) -> dict[str, FieldScore]:
    result = {f: FieldScore() for f in FIELDS}
    for item in items:
        for name in FIELDS:
            value = commissions[item["id"]] if commissions is not None and name == "commission" else item["got"][name]
            got, want = _elements(name, value), _elements(name, item["labels"].get(name))
            t = result[name]
            t.extracted += len(got)
            t.labelled += len(want)
            t.correct += _matched(got, want)
    return result


def _plus(a: dict, b: dict) -> dict:
    out = {f: FieldScore() for f in FIELDS}
    for f in FIELDS:
        for part in ("extracted", "correct", "labelled"):
            setattr(out[f], part, getattr(a[f], part) + getattr(b[f], part))
    return out


def _figure(t: FieldScore) -> str:
    return f"{t.precision:.3f}/{t.recall:.3f} ({t.correct}/{t.extracted}/{t.labelled})"


def report(items: list[dict], variants: list, shown: str = "AB") -> None:
    """Per variant (label, function of an item giving its commission entries, or None for the rules): commission
    per fold shown, summed, and on the round 25 texts; (correct/extracted/labelled)."""
    round25 = set(ROUND25.read_text().split()) if ROUND25.exists() else set()
    folds = [f for f in FOLDS if f in shown]
    for label, judge in variants:
        total, parts = None, []
        for name in folds:
            held = [i for i in items if i["fold"] == name]
            result = tally(held, None if judge is None else {i["id"]: judge(i) for i in held})
            total = result if total is None else _plus(total, result)
            parts.append(f"{name} {_figure(result['commission'])}")
            if judge is None:
                print(f"  rules {name}, every field: " + "  ".join(f"{BENCH_NAMES[f]} {t.precision:.3f}/{t.recall:.3f}"
                                                                   for f, t in result.items()))
        r25 = [i for i in items if i["id"] in round25]
        result25 = tally(r25, None if judge is None else {i["id"]: judge(i) for i in r25})
        print(f"{label:<34} " + "  ".join(parts) + f"  sum {_figure(total['commission'])}"
              f"  r25 {_figure(result25['commission'])}", flush=True)


def main(shown: str = "AB") -> None:
    items = prepare()
    print(f"{len(items)} dev items, {sum(len(i['candidates']) for i in items)} candidates, "
          f"{sum(c[-1] for i in items for c in i['candidates'])} positive")
    figures, units = out_of_fold(items), unit_scores(items)
    variants = [("rules alone", None)]
    variants += [(f"figure veto {v}", lambda i, v=v: judged(i, figures[i["id"]], v, None)) for v in (0.1, 0.2)]
    variants += [(f"figure veto in a range {v}", lambda i, v=v: judged(i, figures[i["id"]], v, None,
                                                                      veto_scope="range")) for v in (0.2, 0.3)]
    variants += [(f"figure fill ({mode}) {f}", lambda i, f=f, mode=mode: judged(i, figures[i["id"]], None, f, mode))
                 for mode in ("empty", "kind", "unit") for f in (0.8, 0.9)]
    variants += [("figure veto 0.1 fill (kind) 0.9", lambda i: judged(i, figures[i["id"]], 0.1, 0.9, "kind"))]
    variants += [(f"model decides {s}", lambda i, s=s: decided(i, figures[i["id"]], s)) for s in (0.5, 0.7)]
    apart = out_of_fold_apart(items)
    variants += [("two models: veto 0.1", lambda i: judged(i, apart[i["id"]], 0.1, None))]
    variants += [("two models: fill (kind) 0.9", lambda i: judged(i, apart[i["id"]], None, 0.9, "kind"))]
    flipped = {s: recurrence_flipped(items, s) for s in (0.9, 0.95)}
    variants += [(f"recurrence model {s}", lambda i, s=s: flipped[s][i["id"]]) for s in (0.9, 0.95)]
    variants += [(f"unit veto {v}", lambda i, v=v: unit_judged(i, units[i["id"]], v, None)) for v in (0.2, 0.3)]
    variants += [(f"unit fill {f}", lambda i, f=f: unit_judged(i, units[i["id"]], None, f)) for f in (0.8, 0.9)]
    report(items, variants, shown)


if __name__ == "__main__":
    main(*sys.argv[1:2])


# --- a model of the rules' entries (branch commodel2) -------------------------------------------------------------
#
# Each entry the rules output (after the merge) is a sample, and so is each of its plausible alternatives (min
# alone, max alone, the range without its lowest or highest figure, recurrence flipped, and these flipped): labelled
# by whether its key (what is scored) is a labelled entry's. One logistic regression ranks them; the rules' entry
# is dropped when the model doubts it and nothing else, or repaired to the alternative it scores highest.

ALTS = ("orig", "min", "max", "droplow", "drophigh")


def _dec(v):
    return None if v is None else Decimal(str(v))


def _entry_figures(item: dict, e: dict) -> list[tuple]:
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
    """The entry itself and its plausible repairs, each (name, entry); recurrence flipped as "<name>~"."""
    figs = _entry_figures(item, e)
    values = sorted({v for _, t in figs for v in (t[3], t[4]) if v is not None})
    low, high = _dec(e["value_min"]), _dec(e["value_max"])
    out = [("orig", dict(e))]
    def add(name, lo, hi):
        if lo is not None and hi is not None and hi <= lo:
            hi = None
        if lo is None and hi is None:
            return
        cand = {**e, "value_min": lo, "value_max": hi}
        if all(commission_key_(cand) != commission_key_(c) for _, c in out):
            out.append((name, cand))
    if high is not None:
        add("min", low if low is not None else high, None)
        add("max", high, None)
    if len(values) >= 3 and low is not None and high is not None:
        add("droplow", values[1], high)
        add("drophigh", low, values[-2])
    flipped = []
    for name, cand in out:
        rec = None if cand["recurring"] is True else True
        flipped.append((name + "~", {**cand, "recurring": rec}))
    return out + flipped


def commission_key_(entry: dict) -> tuple:
    from tests.support.terms_corpus import commission_key

    return commission_key(entry)


def _wbucket(low, high) -> str:
    if low is None or high is None:
        return "none"
    r = float(high) / max(float(low), 1e-9)
    return str(sum(r >= b for b in (1.2, 1.5, 2, 3, 5, 10)))


def _fig_cand(item: dict, kind, currency, value, units: set):
    """The candidate saying `value` of this kind: in one of the entry's units first, else anywhere."""
    best = None
    for c in item["candidates"]:
        if c[1] == kind and (kind == "percent" or c[2] == currency) and value in c[3]:
            if c[0] in units:
                return c
            best = best or c
    return best


def entry_features(item: dict, alt: str, cand: dict, orig: dict, nent: int, figures: bool = True) -> list[int]:
    from affiliate_matrix.terms import gate
    from affiliate_matrix.terms.recurrence import RECURRING

    quoted, recurring_said, kept = item["offers"]
    figs = _entry_figures(item, orig)
    units = {i for i, _ in figs}
    low, high = _dec(cand["value_min"]), _dec(cand["value_max"])
    olow, ohigh = _dec(orig["value_min"]), _dec(orig["value_max"])
    kind, cur = cand["type"], cand["currency"]
    base = alt.rstrip("~")
    flip = alt.endswith("~")
    values = sorted({v for _, t in figs for v in (t[3], t[4]) if v is not None})
    same_kind = [c for c in item["candidates"] if c[1] == kind and (kind == "percent" or c[2] == cur)]
    text_values = sorted({v for c in same_kind for v in c[3]})
    rec_figs = {str(t[5]) for _, t in figs}
    rec_words = any(RECURRING.search(item["norms"][i]) for i in units)
    names = [f"alt:{base}", f"flip:{flip}", f"rec:{cand['recurring']}", f"orec:{orig['recurring']}",
             f"k:{kind}", f"kc:{kind}{cur}", f"w:{_wbucket(low, high)}", f"ow:{_wbucket(olow, ohigh)}",
             f"single:{high is None}", f"upto:{low is None}", f"nfig:{min(len(figs), 5)}",
             f"nval:{min(len(values), 5)}", f"nunit:{min(len(units), 4)}", f"rs:{recurring_said}", f"kept:{kept}",
             f"nent:{min(nent, 3)}", f"ntv:{min(len(text_values), 6)}", f"recfig:{'|'.join(sorted(rec_figs))}",
             f"recw:{rec_words}", f"nsame:{min(len(same_kind), 6)}"]
    names += [f"alt_{base}:{n}" for n in list(names[2:]) if not n.startswith("alt")]
    names += [f"flip_{flip}:{n}" for n in (f"rec:{cand['recurring']}", f"rs:{recurring_said}", f"kept:{kept}",
                                            f"recw:{rec_words}", f"recfig:{'|'.join(sorted(rec_figs))}",
                                            f"orec:{orig['recurring']}")]
    ids = {zlib.crc32(n.encode()) % gate.DIMENSIONS for n in names}
    for role, v in (("mn", low), ("mx", high)):
        if v is None:
            continue
        c = _fig_cand(item, kind, cur, v, units)
        extra = [f"{role}:tmax:{v == text_values[-1]}", f"{role}:tmin:{v == text_values[0]}",
                 f"{role}:vb:{kind}{_bucket(kind, v)}", f"{role}:vn:{min(sum(v in d[3] for d in same_kind), 3)}"]
        ids |= {zlib.crc32(n.encode()) % gate.DIMENSIONS for n in extra}
        if c is not None and figures:
            ids |= {zlib.crc32(f"{role}{i}".encode()) % gate.DIMENSIONS for i in c[4]}
    return sorted(ids)


def entry_samples(item: dict, figures: bool = True) -> list[list]:
    """Per rules entry: [(alt name, entry, features, label)] for it and its alternatives."""
    labelled = [commission_key_(w) for w in item["labels"].get("commission") or []]
    entries = item["got"]["commission"]
    out = []
    for e in entries:
        group = []
        for alt, cand in alternatives(item, e):
            group.append((alt, cand, entry_features(item, alt, cand, e, len(entries), figures),
                          commission_key_(cand) in labelled))
        out.append(group)
    return out


def entry_scores(items: list[dict], l2: float = 3.0, alts: bool = True) -> dict[str, list[list[float]]]:
    samples = {i["id"]: entry_samples(i) for i in items}
    scores = {}
    for name in FOLDS:
        train = [(ids, y) for i in items if i["fold"] != name for group in samples[i["id"]]
                 for alt, _, ids, y in group if alts or alt == "orig"]
        model = trained(train, l2)
        for i in items:
            if i["fold"] == name:
                scores[i["id"]] = [[probability(model, ids) for _, _, ids, _ in group] for group in samples[i["id"]]]
    return samples, scores


def repaired(item: dict, groups, scores, drop: float | None, repair: float | None, margin: float = 0.0,
             doubt: float = 1.0, allowed=None) -> list[dict]:
    """The rules' entries judged: an entry the model doubts (score below `doubt`) is replaced by its best
    alternative when that scores `repair` or more (and `margin` above it); else dropped when it scores below
    `drop`."""
    out, keys = [], set()
    for group, ps in zip(groups, scores):
        p0 = ps[0]
        e = group[0][1]
        choice = e
        if repair is not None and p0 < doubt:
            best = max(((p, g) for g, p in zip(group[1:], ps[1:])
                        if allowed is None or g[0].rstrip("~") in allowed or (g[0].endswith("~") and "~" in allowed)),
                       default=None, key=lambda x: x[0])
            if best and best[0] >= repair and best[0] >= p0 + margin:
                choice = best[1][1]
            elif drop is not None and p0 < drop:
                choice = None
        elif drop is not None and p0 < drop:
            choice = None
        if choice is not None and commission_key_(choice) not in keys:
            keys.add(commission_key_(choice))
            out.append(choice)
    return out


def two_stage_scores(items: list[dict], l2_orig: float = 3.0, l2_alt: float = 3.0, fig_orig: bool = True,
                     fig_alt: bool = False):
    """Per rules entry: the first model's score that it is right (trained on the rules' entries), then each
    alternative's score that it is right given the entry is wrong (trained on the alternatives of wrong entries)."""
    s_orig = {i["id"]: entry_samples(i, fig_orig) for i in items}
    s_alt = s_orig if fig_alt == fig_orig else {i["id"]: entry_samples(i, fig_alt) for i in items}
    scores = {}
    for name in FOLDS:
        rest = [i for i in items if i["fold"] != name]
        m1 = trained([(g[0][2], g[0][3]) for i in rest for g in s_orig[i["id"]]], l2_orig)
        m2 = trained([(x[2], x[3]) for i in rest for g in s_alt[i["id"]] if not g[0][3] for x in g[1:]], l2_alt)
        for i in items:
            if i["fold"] == name:
                scores[i["id"]] = [[probability(m1, g0[0][2])] + [probability(m2, x[2]) for x in ga[1:]]
                                   for g0, ga in zip(s_orig[i["id"]], s_alt[i["id"]])]
    return s_orig, scores


def nested_figure_scores(items: list[dict], l2: float = L2) -> dict[str, dict[str, list[float]]]:
    """Figure scores for the entry model, never from a model that saw the scored item's fold or the fold the
    entry model is tested on: for test fold F, an item of F is scored by the figure model trained on the other two,
    an item of another fold G by the one trained on the third fold alone."""
    by_folds = {}
    for train_folds in ("AB", "AC", "BC", "A", "B", "C"):
        by_folds[train_folds] = trained([(c[4], c[-1]) for i in items if i["fold"] in train_folds
                                         for c in i["candidates"]], l2)
    out = {}
    for test in FOLDS:
        rest = "".join(f for f in FOLDS if f != test)
        scores = {}
        for i in items:
            model = by_folds[rest] if i["fold"] == test else by_folds[rest.replace(i["fold"], "")]
            scores[i["id"]] = [probability(model, c[4]) for c in i["candidates"]]
        out[test] = scores
    return out


def _fig_score(item: dict, scores: list[float], i: int, t: tuple) -> float | None:
    said = [p for c, p in zip(item["candidates"], scores) if c[0] == i and c[1] == t[0]
            and (t[0] == "percent" or c[2] == t[1]) and {t[3], t[4]} & set(c[3])]
    return max(said) if said else None


def _sb(p) -> str:
    return "none" if p is None else str(sum(p >= b for b in (0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9)))


def score_features(item: dict, fscores: list[float], alt: str, cand: dict, orig: dict) -> list[int]:
    """The figure model's view of an entry (or an alternative): the scores of the figures it keeps, its ends', and
    those of the figures the alternative leaves out."""
    from affiliate_matrix.terms import gate

    figs = _entry_figures(item, orig)
    low, high = _dec(cand["value_min"]), _dec(cand["value_max"])
    top = high if high is not None else low
    bottom = low if low is not None else Decimal("-1")
    kept, left, lows, highs = [], [], [], []
    for i, t in figs:
        p = _fig_score(item, fscores, i, t)
        values = [v for v in (t[3], t[4]) if v is not None]
        (kept if all(bottom <= v <= top for v in values) else left).append(p)
        if low is not None and low in values:
            lows.append(p)
        if top in values:
            highs.append(p)
    def mx(ps):
        ps = [p for p in ps if p is not None]
        return max(ps) if ps else None
    def mn(ps):
        ps = [p for p in ps if p is not None]
        return min(ps) if ps else None
    base = alt.rstrip("~")
    names = [f"s:kmin:{_sb(mn(kept))}", f"s:kmax:{_sb(mx(kept))}", f"s:lmax:{_sb(mx(left))}",
             f"s:lo:{_sb(mx(lows))}", f"s:hi:{_sb(mx(highs))}", f"s:nleft:{min(len(left), 3)}"]
    names += [f"s_{base}:{n}" for n in names]
    return sorted({zlib.crc32(n.encode()) % gate.DIMENSIONS for n in names})


def scored_stage_scores(items: list[dict], nested: dict, l2_orig: float = 10.0, l2_alt: float = 3.0,
                        fig_orig: bool = False, one_model: bool = False):
    """As `two_stage_scores`, with the figure model's nested out-of-fold scores as features."""
    base = {i["id"]: entry_samples(i, fig_orig) for i in items}
    scores = {}
    for name in FOLDS:
        fs = nested[name]
        samples = {i["id"]: [[(a, c, sorted(set(ids) | set(score_features(i, fs[i["id"]], a, c, g[0][1]))), y)
                              for a, c, ids, y in g] for g in base[i["id"]]] for i in items}
        rest = [i for i in items if i["fold"] != name]
        if one_model:
            m = trained([(x[2], x[3]) for i in rest for g in samples[i["id"]] for x in g], l2_orig)
            m1 = m2 = m
        else:
            m1 = trained([(g[0][2], g[0][3]) for i in rest for g in samples[i["id"]]], l2_orig)
            m2 = trained([(x[2], x[3]) for i in rest for g in samples[i["id"]] if not g[0][3] for x in g[1:]], l2_alt)
        for i in items:
            if i["fold"] == name:
                scores[i["id"]] = [[probability(m1, g[0][2])] + [probability(m2, x[2]) for x in g[1:]]
                                   for g in samples[i["id"]]]
    return base, scores


def _calibrated(p: float, ratio: float) -> float:
    """gate.train weighs the positives up to the negatives' total: a score back to the odds of the data."""
    odds = p / max(1 - p, 1e-12) * ratio
    return odds / (1 + odds)


def entry_judged(item: dict, groups, scores, ratios: tuple[float, float], repair: float | None,
                 drop: float | None, kinds: str = "all") -> list[dict]:
    """The rules' entries, each replaced by its best alternative when the expected gain (the alternative right
    given the entry wrong, times the entry wrong, less the entry right) exceeds `repair`, else dropped when the
    entry scores (calibrated) below `drop`. `kinds`: "all", "range" (no recurrence flips), "recur" (only flips)."""
    out, keys = [], set()
    for group, ps in zip(groups, scores):
        p0 = _calibrated(ps[0], ratios[0])
        choice = group[0][1]
        options = [(p, g) for g, p in zip(group[1:], ps[1:])
                   if kinds == "all" or (kinds == "recur") == (g[0] == "orig~")]
        best = max(options, default=None, key=lambda x: x[0])
        if repair is not None and best and (1 - p0) * _calibrated(best[0], ratios[1]) - p0 > repair:
            choice = best[1][1]
        elif drop is not None and p0 < drop:
            choice = None
        if choice is not None and commission_key_(choice) not in keys:
            keys.add(commission_key_(choice))
            out.append(choice)
    return out


def main_entries(shown: str = "AB") -> None:
    """The entry model's variants (README, "A model of the rules' entries", branch commodel2)."""
    items = prepare()
    nested = nested_figure_scores(items)
    variants = [("rules alone", None)]
    for label, (l1, l2, fo) in (("entries", (10.0, 3.0, False)), ("entries+figwords", (10.0, 3.0, True))):
        samples, scores = scored_stage_scores(items, nested, l1, l2, fo)
        o = [g[0][3] for i in items for g in samples[i["id"]]]
        a = [x[3] for i in items for g in samples[i["id"]] if not g[0][3] for x in g[1:]]
        ratios = (sum(o) / (len(o) - sum(o)), sum(a) / (len(a) - sum(a)))
        plain = {i["id"]: [[(x[0], x[1]) for x in g] for g in samples[i["id"]]] for i in items}
        grid = [(r, None, "all") for r in (0.0, 0.1, 0.2)] + [(None, d, "all") for d in (0.15, 0.25, 0.35)]
        grid += [(0.1, 0.25, "all"), (0.1, None, "range"), (0.0, None, "recur")]
        variants += [(f"{label} repair {r} drop {d} {k}", lambda i, s=scores, p=plain, r=r, d=d, k=k, q=ratios:
                      entry_judged(i, p[i["id"]], s[i["id"]], q, r, d, k)) for r, d, k in grid]
    report(items, variants, shown)


# --- which figures of one kind make one offer (pairwise) ----------------------------------------------------------

def _inside(kind, currency, value, e: dict) -> bool:
    if e["type"] != kind or (kind == "flat" and e.get("currency") != currency):
        return False
    low, high = _dec(e.get("value_min")), _dec(e.get("value_max"))
    return value in (low, high) or (low is not None and high is not None and low <= value <= high)


def pair_samples(item: dict, fscores: list[float]) -> list[tuple]:
    """Per rules entry spanning two values or more: its figures' pairs [(entry index, a, b, features, label)], a
    pair positive when one labelled entry holds both figures' values; a and b are (unit index, figure)."""
    from affiliate_matrix.terms import gate

    labelled = item["labels"].get("commission") or []
    out = []
    for n, e in enumerate(item["got"]["commission"]):
        figs = _entry_figures(item, e)
        if len({v for _, t in figs for v in (t[3], t[4]) if v is not None}) < 2:
            continue
        for x in range(len(figs)):
            for y in range(x + 1, len(figs)):
                (i, s), (j, t) = figs[x], figs[y]
                vs, vt = s[3] if s[3] is not None else s[4], t[3] if t[3] is not None else t[4]
                lo, hi = min(vs, vt), max(vs, vt)
                ratio = float(hi) / max(float(lo), 1e-9)
                ps, pt = _fig_score(item, fscores, i, s), _fig_score(item, fscores, j, t)
                names = [f"su:{i == j}", f"ud:{min(abs(i - j), 5)}", f"r:{sum(ratio >= b for b in (1.01, 1.3, 2, 3, 5, 10))}",
                         f"sb:{_sb(min(p for p in (ps, pt) if p is not None) if ps or pt else None)}",
                         f"sB:{_sb(max(p for p in (ps, pt) if p is not None) if ps or pt else None)}",
                         f"rec:{s[5]}|{t[5]}", f"upto:{s[2]}|{t[2]}", f"top:{item['topics'][i]}|{item['topics'][j]}",
                         f"nf:{min(len(figs), 6)}", f"k:{e['type']}",
                         f"rng:{s[4] is not None}|{t[4] is not None}"]
                for role, k in (("a", i), ("b", j)):
                    words = _WORD.findall(item["norms"][k].lower()[:300])
                    names += [f"{role}w:{w}" for w in words]
                ids = sorted({zlib.crc32(nm.encode()) % gate.DIMENSIONS for nm in names})
                label = any(_inside(e["type"], e["currency"], vs, w) and _inside(e["type"], e["currency"], vt, w)
                            for w in labelled)
                out.append((n, figs[x], figs[y], ids, label))
    return out


def grouped(item: dict, pairs: list[tuple], scores: list[float], link: float) -> list[dict]:
    """The rules' entries, each spanning range cut to the largest group of its figures linked by pairs scoring
    `link` or more (ties: the group whose links score highest); an entry with no link stays as it is."""
    from affiliate_matrix.terms import Terms
    from affiliate_matrix.terms.commission import _merged

    entries = list(item["got"]["commission"])
    _, recurring, kept = item["offers"]
    for n, e in enumerate(entries):
        mine = [(a, b, p) for (m, a, b, _, _), p in zip(pairs, scores) if m == n]
        if not mine:
            continue
        figs = _entry_figures(item, e)
        parent = list(range(len(figs)))
        def root(k):
            while parent[k] != k:
                k = parent[k]
            return k
        strength = [0.0] * len(figs)
        for a, b, p in mine:
            if p >= link:
                ra, rb = root(figs.index(a)), root(figs.index(b))
                if ra != rb:
                    parent[ra] = rb
        for a, b, p in mine:
            if p >= link:
                strength[root(figs.index(a))] += p
        comps: dict = {}
        for k in range(len(figs)):
            comps.setdefault(root(k), []).append(figs[k][1])
        if len(comps) == 1:
            continue
        best = max(comps.items(), key=lambda kv: (len(kv[1]), strength[kv[0]]))[1]
        if len(best) < 2 and max(len(v) for v in comps.values()) < 2:
            continue
        merged = _entries(_merged(best, recurring, kept))
        if len(merged) == 1:
            entries[n] = {**merged[0], "recurring": e["recurring"]}
    return entries


def pair_scores(items: list[dict], nested: dict, l2: float = 3.0):
    samples, scores = {}, {}
    for name in FOLDS:
        fs = nested[name]
        samp = {i["id"]: pair_samples(i, fs[i["id"]]) for i in items}
        model = trained([(s[3], s[4]) for i in items if i["fold"] != name for s in samp[i["id"]]], l2)
        for i in items:
            if i["fold"] == name:
                samples[i["id"]] = samp[i["id"]]
                scores[i["id"]] = [probability(model, s[3]) for s in samp[i["id"]]]
    return samples, scores


def main_pairs(shown: str = "AB") -> None:
    items = prepare()
    nested = nested_figure_scores(items)
    variants = [("rules alone", None)]
    for l2 in (3.0, 10.0):
        samples, scores = pair_scores(items, nested, l2)
        pos = sum(s[4] for i in items if i["fold"] in shown for s in samples[i["id"]])
        print(f"pairs l2 {l2}: {sum(len(samples[i['id']]) for i in items if i['fold'] in shown)}, {pos} positive")
        variants += [(f"pairs l2 {l2} link {t}", lambda i, t=t, s=samples, p=scores: grouped(i, s[i["id"]], p[i["id"]], t))
                     for t in (0.3, 0.5, 0.7)]
    report(items, variants, shown)
