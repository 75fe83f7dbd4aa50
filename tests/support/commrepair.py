"""A repair of the commission rules' entries that may take a value from outside the entry (tests/data/terms/README.md,
"A repair that takes a value from outside the entry", branch repair). Nothing here reads a held-back or fresh item:
the items are `commodel.prepare`'s, dev only (it asserts so).

commodel2's entries and alternatives (`commodel.alternatives`: the entry, its lowest or highest value alone, the
range without an end, each with recurrence flipped), and more alternatives from outside the entry: for each of the
text's figures of the entry's kind (and currency) whose value the entry does not hold, the K best by the figure
model, that value alone ("val") and the entry widened to it ("ext"), each with recurrence as the entry's and flipped.
Two logistic regressions (`gate.train`), as commodel2: one on the rules' entries (is it right?), one on the
alternatives of wrong entries (is this one right, given the entry is wrong?), with commodel2's features plus, for an
outside alternative, the outside figure's score by the figure model (nested), its rank among the outside figures,
whether the rules took it or its unit, whether it is the text's highest or lowest of its kind. Policy: commodel2's
(repair when P(entry wrong) x P(alternative right | wrong) - P(entry right) exceeds `margin`, else drop when
P(entry right) < `drop`). Also a fill-in: the best figure of a kind the rules gave no entry of, judged by the
alternatives' model as a "val" of no entry, added when it scores `fill` or more.

    PYTHONPATH=shared:. .venv/bin/python -m tests.support.commrepair oracle  # folds A and B: the room
    PYTHONPATH=shared:. .venv/bin/python -m tests.support.commrepair tune    # train on A, score B, and back
    PYTHONPATH=shared:. .venv/bin/python -m tests.support.commrepair diagnose  # A and B: AUCs, the right one's rank
    PYTHONPATH=shared:. .venv/bin/python -m tests.support.commrepair final None 0.35 0.25 all  # A, B, C

`oracle`, `diagnose` and `tune` never train on, score or print fold C; `final MARGIN DROP FILL SCOPE` scores each
fold by models trained on the other two, and was run once, with the setting chosen on A and B (no repair, drop
below 0.35, fill-in at 0.25: the README). COMMREPAIR_ENTRY_OUT=1 gives the entry model the best outside figure's
score; COMMREPAIR_FILL_WORDS=1 and COMMREPAIR_L2_FILL set the fill-in model's features and l2 (both tried, worse)."""

import hashlib
import os
import sys
import zlib
from decimal import Decimal

from tests.support.commodel import (_bucket, _calibrated, _dec, _entry_figures, _figure, _plus, _sb, alternatives,
                                    commission_key_, entry_features, prepare, probability, score_features, tally,
                                    trained)
from tests.support.terms_corpus import BENCH_NAMES, FIELDS

FILL_WORDS = os.environ.get("COMMREPAIR_FILL_WORDS") == "1"  # the fill-in model also reads the figure's own words
ENTRY_OUT = os.environ.get("COMMREPAIR_ENTRY_OUT") == "1"
K = 3  # outside figures tried per entry, the figure model's best
L2_FIG, L2_ORIG, L2_ALT = 10.0, 10.0, 3.0
L2_FILL = float(os.environ.get("COMMREPAIR_L2_FILL", "3"))


# --- figure scores, never from a model that saw the scored item or the fold under test -------------------------

def _half(item_id: str) -> int:
    return int(hashlib.sha256(f"half:{item_id}".encode()).hexdigest()[:8], 16) % 2


def figure_scores(train: list[dict], test: list[dict]) -> dict[str, list[float]]:
    """Test items scored by the figure model of `train`; training items by the model of the other half of `train`."""
    scores = {}
    model = trained([(c[4], c[-1]) for i in train for c in i["candidates"]], L2_FIG)
    for i in test:
        scores[i["id"]] = [probability(model, c[4]) for c in i["candidates"]]
    for h in (0, 1):
        half = trained([(c[4], c[-1]) for i in train if _half(i["id"]) != h for c in i["candidates"]], L2_FIG)
        for i in train:
            if _half(i["id"]) == h:
                scores[i["id"]] = [probability(half, c[4]) for c in i["candidates"]]
    return scores


# --- outside alternatives ------------------------------------------------------------------------------------

def _same_kind(item: dict, kind, currency) -> list[int]:
    return [n for n, c in enumerate(item["candidates"]) if c[1] == kind and (kind == "percent" or c[2] == currency)]


def outside(item: dict, e: dict | None, fscores: list[float], kind=None, currency=None) -> list[tuple]:
    """The K best figures of the entry's kind whose value the entry does not hold: (value, score, rank, candidate)."""
    kind = e["type"] if e else kind
    currency = e["currency"] if e else currency
    held = set()
    if e is not None:
        low, high = _dec(e["value_min"]), _dec(e["value_max"])
        held = {v for v in (low, high) if v is not None}
        held |= {v for _, t in _entry_figures(item, e) for v in (t[3], t[4]) if v is not None}
    best: dict = {}
    for n in _same_kind(item, kind, currency):
        c = item["candidates"][n]
        for v in c[3]:
            if v in held or v <= 0:
                continue
            if v not in best or fscores[n] > best[v][0]:
                best[v] = (fscores[n], c)
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:K]
    return [(v, p, r, c) for r, (v, (p, c)) in enumerate(ranked)]


def outside_alternatives(item: dict, e: dict, fscores: list[float]) -> list[tuple[str, dict, tuple]]:
    out, keys = [], {commission_key_(c) for _, c in alternatives(item, e)}
    low, high = _dec(e["value_min"]), _dec(e["value_max"])
    ends = [v for v in (low, high) if v is not None]
    for fig in outside(item, e, fscores):
        v = fig[0]
        options = [("val", {**e, "value_min": v, "value_max": None})]
        if ends:
            lo, hi = min(ends + [v]), max(ends + [v])
            options.append(("ext", {**e, "value_min": lo, "value_max": hi if hi > lo else None}))
        for name, cand in options:
            for flip, rec in (("", cand["recurring"]), ("~", None if cand["recurring"] is True else True)):
                alt = {**cand, "recurring": rec}
                if commission_key_(alt) not in keys:
                    keys.add(commission_key_(alt))
                    out.append((name + flip, alt, fig))
    return out


def _ids(names: list[str]) -> set[int]:
    from affiliate_matrix.terms import gate

    return {zlib.crc32(n.encode()) % gate.DIMENSIONS for n in names}


def outside_features(item: dict, alt: str, fig: tuple, nout: int) -> set[int]:
    v, p, rank, c = fig
    kind = c[1]
    values = sorted({x for n in _same_kind(item, kind, c[2]) for x in item["candidates"][n][3]})
    base = alt.rstrip("~")
    names = [f"o:sb:{_sb(p)}", f"o:rank:{rank}", f"o:took:{bool(c[8].get('took'))}", f"o:unit:{c[5]}",
             f"o:tmax:{v == values[-1]}", f"o:tmin:{v == values[0]}", f"o:vb:{kind}{_bucket(kind, v)}",
             f"o:nout:{min(nout, 3)}", f"o:topic:{c[8]['topic']}", f"o:upto:{c[6]}"]
    return _ids(names + [f"o_{base}:{n}" for n in names])


def samples(item: dict, fscores: list[float]) -> list[list[tuple]]:
    """Per rules entry: [(alt name, entry, feature ids, right?)], the entry first, then commodel2's alternatives,
    then the outside ones."""
    labelled = [commission_key_(w) for w in item["labels"].get("commission") or []]
    entries = item["got"]["commission"]
    out = []
    for e in entries:
        group = []
        for alt, cand in alternatives(item, e):
            ids = set(entry_features(item, alt, cand, e, len(entries), False))
            ids |= set(score_features(item, fscores, alt, cand, e))
            group.append((alt, cand, sorted(ids), commission_key_(cand) in labelled))
        outs = outside_alternatives(item, e, fscores)
        if ENTRY_OUT:  # the entry model also sees the best figure of its kind the entry leaves out
            figs = outside(item, e, fscores)
            low, high = _dec(e["value_min"]), _dec(e["value_max"])
            top = high if high is not None else low
            side = "none" if not figs else ("above" if top is not None and figs[0][0] > top else "below")
            extra = [f"eo:sb:{_sb(figs[0][1] if figs else None)}", f"eo:side:{side}",
                     f"eo:sbside:{_sb(figs[0][1] if figs else None)}{side}", f"eo:n:{len(figs)}"]
            a, c, ids, y = group[0]
            group[0] = (a, c, sorted(set(ids) | _ids(extra)), y)
        for alt, cand, fig in outs:
            ids = set(entry_features(item, alt, cand, e, len(entries), False))
            ids |= set(score_features(item, fscores, alt, cand, e)) | outside_features(item, alt, fig, len(outs))
            group.append((alt, cand, sorted(ids), commission_key_(cand) in labelled))
        out.append(group)
    return out


def fill_samples(item: dict, fscores: list[float]) -> list[tuple]:
    """For each kind (percent; flat per currency) the text says and the rules gave no entry of: its best figure
    alone, as a new entry: (entry, feature ids, right?)."""
    labelled = [commission_key_(w) for w in item["labels"].get("commission") or []]
    have = {(e["type"], e["currency"] if e["type"] == "flat" else None) for e in item["got"]["commission"]}
    kinds = {(c[1], c[2] if c[1] == "flat" else None) for c in item["candidates"]}
    out = []
    for kind, currency in sorted(kinds - have, key=str):
        figs = outside(item, None, fscores, kind, currency)
        if not figs:
            continue
        v, p, rank, c = figs[0]
        cand = {"type": kind, "value_min": v, "value_max": None, "currency": currency, "recurring": None}
        names = [f"f:sb:{_sb(p)}", f"f:took:{bool(c[8].get('took'))}", f"f:unit:{c[5]}", f"f:k:{kind}",
                 f"f:vb:{kind}{_bucket(kind, v)}", f"f:topic:{c[8]['topic']}", f"f:upto:{c[6]}",
                 f"f:nent:{min(len(item['got']['commission']), 2)}", f"f:nfig:{min(len(figs), 3)}"]
        names += [f"f:sbn:{_sb(p)}:{n}" for n in names[1:]]
        ids = _ids(names) | (set(c[4]) if FILL_WORDS else set())
        out.append((cand, sorted(ids), commission_key_(cand) in labelled))
    return out


# --- the policy -----------------------------------------------------------------------------------------------

def models(train: list[dict], fs: dict) -> tuple:
    s = {i["id"]: samples(i, fs[i["id"]]) for i in train}
    o = [(g[0][2], g[0][3]) for i in train for g in s[i["id"]]]
    a = [(x[2], x[3]) for i in train for g in s[i["id"]] if not g[0][3] for x in g[1:]]
    f = [(ids, y) for i in train for _, ids, y in fill_samples(i, fs[i["id"]])]
    ratio = lambda xs: sum(y for _, y in xs) / max(1, len(xs) - sum(y for _, y in xs))  # noqa: E731
    return (trained(o, L2_ORIG), trained(a, L2_ALT), trained(f, L2_FILL) if any(y for _, y in f) else None,
            (ratio(o), ratio(a), ratio(f)))


def judged(item: dict, fscores: list[float], m, margin: float | None, drop: float | None, fill: float | None,
           scope: str = "all", swap: tuple | None = None) -> tuple[list[dict], dict]:
    """The rules' entries judged, and what was done (counts by action). `swap` (alt, entry): repair to the best
    alternative when it scores `alt` or more given the entry wrong and the entry scores below `entry`, whatever the
    expected gain."""
    m1, m2, mf, ratios = m
    out, keys, done = [], set(), {}
    for group in samples(item, fscores):
        p0 = _calibrated(probability(m1, group[0][2]), ratios[0])
        options = [(_calibrated(probability(m2, x[2]), ratios[1]), x) for x in group[1:]
                   if scope == "all" or (scope == "inside") == (x[0].rstrip("~") not in ("val", "ext"))]
        best = max(options, default=None, key=lambda x: x[0])
        choice, action = group[0][1], "keep"
        if best and ((margin is not None and (1 - p0) * best[0] - p0 > margin)
                     or (swap is not None and best[0] >= swap[0] and p0 < swap[1])):
            choice, action = best[1][1], "repair_" + ("out" if best[1][0].rstrip("~") in ("val", "ext") else "in")
        elif drop is not None and p0 < drop:
            choice, action = None, "drop"
        done[action] = done.get(action, 0) + 1
        if choice is not None and commission_key_(choice) not in keys:
            keys.add(commission_key_(choice))
            out.append(choice)
    if fill is not None and mf is not None:
        for cand, ids, _ in fill_samples(item, fscores):
            if _calibrated(probability(mf, ids), ratios[2]) >= fill and commission_key_(cand) not in keys:
                keys.add(commission_key_(cand))
                out.append(cand)
                done["fill"] = done.get("fill", 0) + 1
    return out, done


def scored(test: list[dict], fs: dict, m, setting) -> tuple[dict, dict]:
    results, done = {}, {}
    for i in test:
        results[i["id"]], d = judged(i, fs[i["id"]], m, *setting)
        for k, v in d.items():
            done[k] = done.get(k, 0) + v
    return tally(test, results), done


def _dev(folds: str) -> list[dict]:
    return [i for i in prepare() if i["fold"] in folds]


def oracle() -> None:
    """Folds A and B: how many wrong entries an alternative could repair (inside / outside), and how many labelled
    entries of a kind the rules gave none of a fill-in could reach."""
    items = _dev("AB")
    fs = {}
    for test, train in (("A", "B"), ("B", "A")):
        tr = [i for i in items if i["fold"] == train]
        te = [i for i in items if i["fold"] == test]
        fs.update({k: v for k, v in figure_scores(tr, te).items() if k in {i["id"] for i in te}})
    wrong = inside = out = fillable = fills = 0
    for i in items:
        for g in samples(i, fs[i["id"]]):
            if g[0][3]:
                continue
            wrong += 1
            if any(x[3] for x in g[1:] if x[0].rstrip("~") not in ("val", "ext")):
                inside += 1
            elif any(x[3] for x in g[1:]):
                out += 1
        f = fill_samples(i, fs[i["id"]])
        fills += len(f)
        fillable += sum(y for _, _, y in f)
    print(f"A+B: {wrong} wrong entries; a right alternative inside {inside}, only outside (K={K}) {out}; "
          f"fill-ins {fills}, right {fillable}")


def _line(label, t, done) -> str:
    return f"{label:<40} {_figure(t['commission'])} {done}"


def tune() -> None:
    items = _dev("AB")
    folds = {"A": [i for i in items if i["fold"] == "A"], "B": [i for i in items if i["fold"] == "B"]}
    runs = []
    for test, train in (("A", "B"), ("B", "A")):
        fs = figure_scores(folds[train], folds[test])
        runs.append((folds[test], fs, models(folds[train], fs)))
    grid = [(None, None, None, "all", None)]
    grid += [(mg, None, None, sc, None) for sc in ("all", "outside") for mg in (-0.3, -0.2, 0.0)]
    grid += [(None, d, None, "all", None) for d in (0.25, 0.35)]
    grid += [(None, None, f, "all", None) for f in (0.15, 0.2, 0.25, 0.3)]
    grid += [(None, None, None, sc, (a, e)) for sc in ("all", "outside") for a in (0.3, 0.4, 0.5, 0.6)
             for e in (0.7, 0.8, 0.9, 1.01)]
    grid += [(None, d, f, "all", None) for d in (0.25, 0.35) for f in (0.2, 0.25, 0.3)]
    for margin, drop, fill, scope, swap in grid:
        total, done = None, {}
        parts = []
        for test, fs, m in runs:
            t, d = scored(test, fs, m, (margin, drop, fill, scope, swap))
            total = t if total is None else _plus(total, t)
            parts.append(_figure(t["commission"]))
            for k, v in d.items():
                done[k] = done.get(k, 0) + v
        done.pop("keep", None)
        print(f"margin {margin} drop {drop} fill {fill} {scope:<8} swap {swap} A {parts[0]}  B {parts[1]}  "
              f"A+B {_figure(total['commission'])}  {done}", flush=True)


def final(margin: str, drop: str, fill: str, scope: str = "all") -> None:
    """Each fold by models trained on the other two (figure scores nested); every field printed, rules and judged."""
    items = prepare()
    setting = tuple(None if x == "None" else float(x) for x in (margin, drop, fill)) + (scope,)
    tr, tj = None, None
    for name in "ABC":
        test = [i for i in items if i["fold"] == name]
        train = [i for i in items if i["fold"] != name]
        fs = figure_scores(train, test)
        t, d = scored(test, fs, models(train, fs), setting)
        r = tally(test)
        tr, tj = (r, t) if tr is None else (_plus(tr, r), _plus(tj, t))
        d.pop("keep", None)
        print(f"{name} rules {_figure(r['commission'])}  judged {_figure(t['commission'])}  {d}")
        for f in FIELDS:
            if f != "commission":
                assert (r[f].correct, r[f].extracted) == (t[f].correct, t[f].extracted), f
        print("   other fields (rules = judged): " + "  ".join(
            f"{BENCH_NAMES[f]} {r[f].precision:.3f}/{r[f].recall:.3f}" for f in FIELDS if f != "commission"))
    print(f"dev rules {_figure(tr['commission'])}  judged {_figure(tj['commission'])}")



def _auc(pairs: list[tuple[float, bool]]) -> float:
    pos = [p for p, y in pairs if y]
    neg = [p for p, y in pairs if not y]
    if not pos or not neg:
        return float("nan")
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


def diagnose() -> None:
    """Folds A and B, each scored by models of the other: the models' AUCs, where the right outside alternative of
    a wrong entry ranks, and the fill-ins' scores."""
    items = _dev("AB")
    folds = {f: [i for i in items if i["fold"] == f] for f in "AB"}
    e_pairs, a_pairs, f_pairs, ranks = [], [], [], []
    for test, train in (("A", "B"), ("B", "A")):
        fs = figure_scores(folds[train], folds[test])
        m1, m2, mf, ratios = models(folds[train], fs)
        for i in folds[test]:
            for g in samples(i, fs[i["id"]]):
                p0 = _calibrated(probability(m1, g[0][2]), ratios[0])
                e_pairs.append((p0, g[0][3]))
                if g[0][3]:
                    continue
                alts = sorted(((_calibrated(probability(m2, x[2]), ratios[1]), x) for x in g[1:]),
                              key=lambda t: -t[0])
                a_pairs += [(p, x[3]) for p, x in alts]
                right = [n for n, (p, x) in enumerate(alts) if x[3]]
                if right:
                    ranks.append((right[0], alts[right[0]][1][0], round(alts[right[0]][0], 2), round(p0, 2),
                                  round((1 - p0) * alts[right[0]][0] - p0, 2)))
            if mf:
                f_pairs += [(_calibrated(probability(mf, ids), ratios[2]), y) for _, ids, y in
                            fill_samples(i, fs[i["id"]])]
    print(f"entry AUC {_auc(e_pairs):.3f}; alternative AUC (wrong entries) {_auc(a_pairs):.3f}; "
          f"fill AUC {_auc(f_pairs):.3f}")
    print("right alternative: (rank, name, P(alt|wrong), P(entry), gain)", sorted(ranks))
    print("fill-ins, top scores (p, right):", sorted(((round(p, 2), y) for p, y in f_pairs), reverse=True)[:30])


if __name__ == "__main__":
    {"oracle": oracle, "tune": tune, "final": final, "diagnose": diagnose}[sys.argv[1]](*sys.argv[2:])
