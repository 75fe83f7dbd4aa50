"""Static token-embedding features from a model shipped in a PyPI package (wordllama 0.4.0.post1: 256-d vectors of
Llama 2's token embeddings, weights inside the wheel; tokenlearn-static-model 0.1.1: 64-d int8, weights inside) for
the commission models of the earlier experiments (tests/data/terms/README.md, "Static token embeddings", branch
embed). Nothing here reads a held-back or fresh item: the items are `commodel.prepare`'s, dev only (it asserts so).

The embeddings are dense features beside the hashed ones: of the figure's window (80 characters before, 50 after)
and of its unit, for commodel's figure model; of the unit, for e0a8ec6's unit filter; or ("near") the share of
positives among a window's 10 nearest training windows and its best cosine to a positive less the best to a negative,
as hashed buckets. "only:" drops the hashed features, to see the vectors' own signal. Both models are logistic
regressions as `gate.train` (full-batch Adam, L2, positives weighted up), with the dense columns standardised on the
training fold. The scores are used as the earlier experiments used them: commodel's figure veto and fill-in, its
unit veto and fill-in, and commrepair's drop and fill-in (whose fill-in ranks a kind's figures by the figure model).

    PYTHONPATH=shared:. .venv/bin/python -m tests.support.commembed auc wl|tl [L2_DENSE ...]  # A, B: AUCs
    PYTHONPATH=shared:. .venv/bin/python -m tests.support.commembed tune wl|tl [VARIANT ...]  # A, B: P/R by use
    PYTHONPATH=shared:. .venv/bin/python -m tests.support.commembed final wl win+unit "repair drop 0.25 fill 0.25"
    PYTHONPATH=shared:. .venv/bin/python -m tests.support.commembed final tl win+unit "repair drop 0.35 fill 0.3"

The two `final` settings were chosen on A and B (the most right entries gained at no more wrong ones, then the
fewest wrong) and each fold scored once by models trained on the other two, with the same policy without the
vectors beside it. Needs `pip install wordllama==0.4.0.post1 tokenlearn-static-model==0.1.1` in the venv (no
dependency of the project); then re-pin numpy and pydantic to pyproject's versions, which pip upgrades.

`auc` and `tune` train on fold A and score B, and the other way; they never read, score or print fold C. The
vectors are cached under /tmp beside commodel's cache.

Branch terms36 (README, "A contextual encoder from a Maven Central jar"): EMB may also be a contextual encoder of
`commcontext.ENCODERS` (e5, bge, mini), whose vectors are "fig" (the figure's own tokens' last hidden state), "fwin",
"unit" (the unit's mean) and "cls"; "stack:KEYS" gives the figure model the score of a model of the vectors alone as
one column. Run in the scratch venv `commcontext`'s docstring names (onnxruntime and tokenizers, no dependency of the
project):

    PYTHONPATH=shared:. /tmp/terms36venv/bin/python -m tests.support.commembed auc e5 1000 100
    PYTHONPATH=shared:. /tmp/terms36venv/bin/python -m tests.support.commembed tune e5 none unit fig+unit
    PYTHONPATH=shared:. /tmp/terms36venv/bin/python -m tests.support.commembed final bge fig+cls "repair drop 0.35 fill 0.25"
    PYTHONPATH=shared:. /tmp/terms36venv/bin/python -m tests.support.commembed final e5 fig+unit "repair drop 0.35 fill None"

The vectors of e5 and bge are cached under /tmp too; `commcontext cost e5` measures what a function would pay."""

import os
import pickle
import sys
from pathlib import Path

import zlib

import numpy as np

from tests.support import commcontext, commodel, commrepair
from tests.support.commodel import _figure, _plus, prepare, tally, unit_judged, unit_samples
from tests.support.terms_corpus import BENCH_NAMES, FIELDS

# characters before and after a figure embedded as its window (80, 50 chosen on A and B; 40, 25 and 160, 100 tried)
WINDOW = tuple(int(x) for x in os.environ.get("COMMEMBED_WINDOW", "80,50").split(","))


# --- the vectors ---------------------------------------------------------------------------------------------------

def _wordllama():
    from pathlib import Path as P

    import wordllama

    # 0.4.0.post1 ships its tokenizer under tokenizers/ but looks for it under tokenizer/ (then downloads it): the
    # package folder as the cache folder finds both files, and no download is tried
    model = wordllama.WordLlama.load(dim=256, cache_dir=P(wordllama.__file__).parent, disable_download=True)
    return lambda texts: np.asarray(model.embed(texts, norm=True), dtype=np.float32)


def _tokenlearn():
    from static_model import get_embeddings

    def embed(texts):
        v = np.asarray(get_embeddings(list(texts)), dtype=np.float32)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
    return embed


MODELS = {"wl": _wordllama, "tl": _tokenlearn}


def vectors(items: list[dict], name: str) -> dict[str, dict]:
    """Per item: "win", one vector per candidate (its window); "unit", one per unit index that holds a figure. A
    contextual encoder (`commcontext.ENCODERS`) gives "fig", "fwin", "unit" and "cls" instead."""
    if name in commcontext.ENCODERS:
        return commcontext.vectors(items, name, Path(str(commodel._cache()).replace(".pkl", f"_ctx_{name}.pkl")))
    cache = Path(str(commodel._cache()).replace(".pkl", f"_emb_{name}_{WINDOW[0]}_{WINDOW[1]}.pkl"))
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    embed = MODELS[name]()
    wins, units, where = [], [], []
    for item in items:
        for c in item["candidates"]:
            info = c[8]
            wins.append(info["text"][max(0, info["start"] - WINDOW[0]):info["end"] + WINDOW[1]])
        for u in sorted({c[0] for c in item["candidates"]}):
            units.append(item["norms"][u][:2000])
            where.append((item["id"], u))
    wv = np.concatenate([embed(wins[k:k + 512]) for k in range(0, len(wins), 512)])
    uv = np.concatenate([embed(units[k:k + 512]) for k in range(0, len(units), 512)])
    out, n = {}, 0
    for item in items:
        m = len(item["candidates"])
        out[item["id"]] = {"win": wv[n:n + m], "unit": {}}
        n += m
    for (iid, u), v in zip(where, uv):
        out[iid]["unit"][u] = v
    cache.write_bytes(pickle.dumps(out))
    return out


# --- a logistic regression on hashed ids and dense columns ---------------------------------------------------------

def train(samples: list[tuple[list[int], bool]], dense: np.ndarray | None, l2: float, l2_dense: float,
          steps: int = 400):
    """gate.train with dense columns beside the hashed ids (standardised on these samples)."""
    labels = np.array([1.0 if y else 0.0 for _, y in samples])
    n = len(samples)
    rows = np.repeat(np.arange(n), [len(ids) for ids, _ in samples])
    cols = np.concatenate([np.array(ids, dtype=np.int64) for ids, _ in samples])
    used, cols = np.unique(cols, return_inverse=True)
    if dense is None:
        dense = np.zeros((n, 0), dtype=np.float64)
    mean, std = dense.mean(0), dense.std(0) + 1e-6
    x = (dense - mean) / std
    d = x.shape[1]
    positives = max(labels.sum(), 1.0)
    weight = np.where(labels > 0, (n - positives) / positives, 1.0)
    weight /= weight.mean()
    w, wd, bias = np.zeros(len(used)), np.zeros(d), 0.0
    m1, m2 = np.zeros(len(used) + d + 1), np.zeros(len(used) + d + 1)
    for step in range(1, steps + 1):
        scores = np.bincount(rows, weights=w[cols], minlength=n) + x @ wd + bias
        error = (1 / (1 + np.exp(-scores)) - labels) * weight / n
        gradient = np.concatenate([np.bincount(cols, weights=error[rows], minlength=len(used)) + l2 * w / n,
                                   x.T @ error + l2_dense * wd / n, [error.sum()]])
        m1 = 0.9 * m1 + 0.1 * gradient
        m2 = 0.999 * m2 + 0.001 * gradient ** 2
        update = 0.05 * (m1 / (1 - 0.9 ** step)) / (np.sqrt(m2 / (1 - 0.999 ** step)) + 1e-8)
        w, wd, bias = w - update[:len(used)], wd - update[len(used):-1], bias - update[-1]
    return dict(zip(used.tolist(), w.tolist())), wd, bias, mean, std


def predict(model, ids_list: list[list[int]], dense: np.ndarray | None) -> np.ndarray:
    w, wd, bias, mean, std = model
    s = np.array([sum(w.get(i, 0.0) for i in ids) for ids in ids_list]) + bias
    if len(wd):
        s = s + ((dense - mean) / std) @ wd
    return 1 / (1 + np.exp(-np.clip(s, -30, 30)))


# --- the figure model and the unit filter, with or without the vectors --------------------------------------------

PER_FIGURE, PER_UNIT = ("win", "fig", "fwin"), ("unit", "cls")


def figure_dense(item: dict, vec: dict, use: str) -> np.ndarray | None:
    keys = use.split("+")
    parts = [vec[k] for k in PER_FIGURE if k in keys]
    parts += [np.stack([vec[k][c[0]] for c in item["candidates"]]) for k in PER_UNIT if k in keys]
    return np.concatenate(parts, axis=1) if parts else None  # only called for items with a figure


K_NEAR = 10


def near(items, ref_items, vecs) -> dict[str, np.ndarray]:
    """Per candidate, from its window's K_NEAR nearest windows among `ref_items`' candidates (never its own
    item's): the share of them positive, and the best cosine to a positive less the best to a negative. A contextual
    encoder's figure vectors ("fig") stand for the windows."""
    def unit_rows(i):
        v = vecs[i["id"]]["win"] if "win" in vecs[i["id"]] else vecs[i["id"]]["fig"]
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)

    ref = [(i["id"], c[-1]) for i in ref_items for c in i["candidates"]]
    rv = np.concatenate([unit_rows(i) for i in ref_items if i["candidates"]])
    rid = np.array([r[0] for r in ref])
    ry = np.array([r[1] for r in ref], dtype=bool)
    out = {}
    for i in items:
        if not i["candidates"]:
            continue
        sim = unit_rows(i) @ rv.T
        sim[:, rid == i["id"]] = -2.0
        top = np.argsort(-sim, axis=1)[:, :K_NEAR]
        share = ry[top].mean(1)
        best_pos = np.where(ry, sim, -2.0).max(1)
        best_neg = np.where(~ry, sim, -2.0).max(1)
        out[i["id"]] = np.stack([share, best_pos - best_neg], axis=1)
    return out


def _near_ids(feats: np.ndarray) -> list[list[int]]:
    """The neighbour features as hashed buckets (the linear model weighs each bucket)."""
    from affiliate_matrix.terms import gate

    rows = []
    for share, gap in feats:
        names = [f"nn:share:{int(share * 10)}", f"nn:gap:{int(np.clip(gap * 20, -4, 4))}"]
        rows.append([zlib.crc32(n.encode()) % gate.DIMENSIONS for n in names])
    return rows


def _ids_with_near(item, near_feats, only) -> list[list[int]]:
    base = [[] if only else c[4] for c in item["candidates"]]
    if near_feats is None:
        return base
    return [sorted(set(b) | set(n)) for b, n in zip(base, _near_ids(near_feats[item["id"]]))]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))[:, None]


def _stacked_model(train_items, vecs, use, l2, l2d):
    """"stack:KEYS": a model of the vectors alone (KEYS, l2d), its score's logit then one dense column beside the
    hashed ids (L2 1). The training items' scores come from the vectors' model of the other half (never their own)."""
    inner = "only:" + use.removeprefix("stack:")
    scores = {}
    for h in (0, 1):
        half = [i for i in train_items if commrepair._half(i["id"]) != h]
        scores |= figure_scored(figure_model(half, vecs, inner, l2d=l2d), [
            i for i in train_items if commrepair._half(i["id"]) == h], vecs, inner)
    with_figures = [i for i in train_items if i["candidates"]]
    samples = [(c[4], c[-1]) for i in with_figures for c in i["candidates"]]
    dense = np.concatenate([_logit(np.array(scores[i["id"]])) for i in with_figures])
    return (train(samples, dense, l2, 1.0), figure_model(train_items, vecs, inner, l2d=l2d)), train_items


def figure_model(train_items, vecs, use, l2=10.0, l2d=1000.0):
    if use.startswith("stack:"):
        return _stacked_model(train_items, vecs, use, l2, l2d)
    only = use.startswith("only:")  # the vectors alone, no hashed ids (their own signal)
    use = use.removeprefix("only:")
    knn = near(train_items, train_items, vecs) if "near" in use else None
    samples = [(ids, c[-1]) for i in train_items if i["candidates"]
               for ids, c in zip(_ids_with_near(i, knn, only), i["candidates"])]
    dense_use = use.replace("near", "")
    dense = ([figure_dense(i, vecs[i["id"]], dense_use) for i in train_items if i["candidates"]]
             if dense_use.strip("+") else None)
    return train(samples, np.concatenate(dense) if dense else None, l2, l2d), train_items


def figure_scored(model, items, vecs, use) -> dict[str, list[float]]:
    model, ref = model
    if use.startswith("stack:"):
        outer, inner_model = model
        inner = "only:" + use.removeprefix("stack:")
        inner_scores = figure_scored(inner_model, items, vecs, inner)
        return {i["id"]: predict(outer, [c[4] for c in i["candidates"]],
                                 _logit(np.array(inner_scores[i["id"]]))).tolist()
                for i in items if i["candidates"]} | {i["id"]: [] for i in items if not i["candidates"]}
    only = use.startswith("only:")
    use = use.removeprefix("only:")
    knn = near(items, ref, vecs) if "near" in use else None
    dense_use = use.replace("near", "")
    return {i["id"]: predict(model, _ids_with_near(i, knn, only),
                             figure_dense(i, vecs[i["id"]], dense_use) if dense_use.strip("+") else None).tolist()
            for i in items if i["candidates"]} | {i["id"]: [] for i in items if not i["candidates"]}


def unit_model(train_items, vecs, use, l2=3.0, l2d=1000.0):
    """`use`: "" (hashed words only), or the unit vector's key ("unit", "cls"), "only:" to drop the hashed words."""
    only, key = use.startswith("only:"), use.removeprefix("only:")
    samples, dense = [], []
    for i in train_items:
        for u, s in unit_samples(i).items():
            samples.append(([], s[1]) if only else s)
            if key:
                dense.append(vecs[i["id"]][key][u])
    return train(samples, np.stack(dense) if key else None, l2, l2d)


def unit_scored(model, items, vecs, use) -> dict[str, dict[int, float]]:
    out = {}
    for i in items:
        us = unit_samples(i)
        keys = list(us)
        if not keys:
            out[i["id"]] = {}
            continue
        key = use.removeprefix("only:")
        p = predict(model, [[] if use.startswith("only:") else us[u][0] for u in keys],
                    np.stack([vecs[i["id"]][key][u] for u in keys]) if key else None)
        out[i["id"]] = dict(zip(keys, p.tolist()))
    return out


def _auc(pairs) -> float:
    pos = np.array([p for p, y in pairs if y])
    neg = np.array([p for p, y in pairs if not y])
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.concatenate([pos, neg]).argsort().argsort() + 1.0
    ranks = order[:len(pos)]
    # ties: average ranks would be exact; scores are continuous here
    return float((ranks.sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _folds_ab(items):
    return {f: [i for i in items if i["fold"] == f] for f in "AB"}


FIG_USES = ["", "win", "unit", "win+unit", "only:win", "only:win+unit", "near", "only:near", "near+win"]
# a contextual encoder's: the figure's own tokens, with a few tokens either side, the unit's mean or [CLS]
CONTEXT_FIG_USES = ["", "fig", "fwin", "unit", "cls", "fig+unit", "fig+cls", "fig+fwin+unit", "only:fig",
                    "only:fwin", "only:fig+unit", "only:fig+fwin+unit"]
CONTEXT_UNIT_USES = ("", "unit", "cls", "only:unit", "only:cls")


def _lang_pairs(pairs: dict, item: dict, p: float, y: bool) -> None:
    """English texts apart from the rest (the encoders are English models)."""
    pairs["en" if item["id"].startswith("en-") else "not en"].append((p, y))


def auc(emb: str = "wl", *l2ds: str) -> None:
    """Figure model and unit filter AUCs, trained on A and scored on B and the other way (C never read). USES, if
    set (comma-separated), limits the figure model's feature sets."""
    items = [i for i in prepare() if i["fold"] in "AB"]
    vecs = vectors(prepare(), emb)
    folds = _folds_ab(items)
    contextual = emb in commcontext.ENCODERS
    fig_uses = CONTEXT_FIG_USES if contextual else FIG_USES
    if os.environ.get("USES") is not None:
        fig_uses = os.environ["USES"].split(",")
    for l2d in [float(x) for x in l2ds] or [10.0]:
        for use in fig_uses:
            pairs = {"taken": [], "not taken": [], "all": [], "en": [], "not en": []}
            for test, train_f in (("A", "B"), ("B", "A")):
                m = figure_model(folds[train_f], vecs, use, l2d=l2d)
                s = figure_scored(m, folds[test], vecs, use)
                for i in folds[test]:
                    for c, p in zip(i["candidates"], s[i["id"]]):
                        pairs["all"].append((p, c[-1]))
                        pairs["taken" if c[8]["took"] else "not taken"].append((p, c[-1]))
                        _lang_pairs(pairs, i, p, c[-1])
            print(f"{emb} figure model +[{use or 'none'}] l2d {l2d}: " + "  ".join(
                f"{k} {_auc(v):.3f} (n {len(v)})" for k, v in pairs.items()), flush=True)
        for use in CONTEXT_UNIT_USES if contextual else ("", "unit", "only:unit"):
            pairs = {"taken": [], "not taken": [], "all": [], "en": [], "not en": []}
            for test, train_f in (("A", "B"), ("B", "A")):
                m = unit_model(folds[train_f], vecs, use, l2d=l2d)
                s = unit_scored(m, folds[test], vecs, use)
                for i in folds[test]:
                    taken = {u for u, _, _ in i["offers"][0]}
                    for u, (ids, y) in unit_samples(i).items():
                        pairs["all"].append((s[i["id"]][u], y))
                        pairs["taken" if u in taken else "not taken"].append((s[i["id"]][u], y))
                        _lang_pairs(pairs, i, s[i["id"]][u], y)
            print(f"{emb} unit filter +[{use or 'none'}] l2d {l2d}: " + "  ".join(
                f"{k} {_auc(v):.3f} (n {len(v)})" for k, v in pairs.items()), flush=True)


# --- the uses, as the earlier experiments used the scores ----------------------------------------------------------

def _nested_fig(train_items, test_items, vecs, use):
    """commrepair's nesting: test items by the model of `train`, training items by the model of the other half."""
    scores = figure_scored(figure_model(train_items, vecs, use), test_items, vecs, use)
    for h in (0, 1):
        half = [i for i in train_items if commrepair._half(i["id"]) != h]
        m = figure_model(half, vecs, use)
        scores.update(figure_scored(m, [i for i in train_items if commrepair._half(i["id"]) == h], vecs, use))
    return scores


def policies():
    """(name, kind, setting): the grids of commodel (figure and unit veto / fill) and commrepair (drop / fill)."""
    out = [("rules", "rules", None)]
    out += [(f"figure veto {v}", "fig", (v, None, "empty")) for v in (0.1, 0.2, 0.3)]
    out += [(f"figure fill {m} {f}", "fig", (None, f, m)) for m in ("empty", "kind") for f in (0.8, 0.9)]
    out += [(f"unit veto {v}", "unit", (v, None)) for v in (0.2, 0.3)]
    out += [(f"unit fill {f}", "unit", (None, f)) for f in (0.8, 0.9)]
    out += [(f"repair drop {d} fill {f}", "rep", (None, d, f, "all"))
            for d in (None, 0.25, 0.35) for f in (None, 0.2, 0.25, 0.3) if (d, f) != (None, None)]
    return out


def run(test_items, train_items, vecs, use, emb_units: bool, chosen=None) -> dict:
    """Commission entries per policy for `test_items`, with models trained on `train_items`."""
    fig = figure_scored(figure_model(train_items, vecs, use), test_items, vecs, use)
    um = unit_model(train_items, vecs, "unit" if emb_units else "")
    us = unit_scored(um, test_items, vecs, "unit" if emb_units else "")
    fs = _nested_fig(train_items, test_items, vecs, use)
    rep = None
    out = {}
    for name, kind, setting in policies():
        if chosen is not None and name not in chosen:
            continue
        if kind == "rules":
            out[name] = None
        elif kind == "fig":
            v, f, mode = setting
            out[name] = {i["id"]: commodel.judged(i, fig[i["id"]], v, f, mode) for i in test_items}
        elif kind == "unit":
            out[name] = {i["id"]: unit_judged(i, us[i["id"]], *setting) for i in test_items}
        else:
            if rep is None:
                rep = commrepair.models(train_items, fs)
            out[name] = {i["id"]: commrepair.judged(i, fs[i["id"]], rep, *setting)[0] for i in test_items}
    return out


VARIANTS = {"none": ("", False), "win": ("win", True), "unit": ("unit", True), "win+unit": ("win+unit", True),
            "near": ("near", False), "near+win": ("near+win", True),
            # a contextual encoder's (`commcontext`); the unit filter reads the unit's mean
            "fig": ("fig", False), "fig+unit": ("fig+unit", True), "fig+cls": ("fig+cls", True),
            "cls": ("cls", True), "stack:fig+unit": ("stack:fig+unit", False)}


def tune(emb: str = "wl", *variants: str) -> None:
    items = [i for i in prepare() if i["fold"] in "AB"]
    vecs = vectors(prepare(), emb)
    folds = _folds_ab(items)
    for v in variants or VARIANTS:
        use, emb_units = VARIANTS[v]
        results = {}
        for test, train_f in (("A", "B"), ("B", "A")):
            for name, entries in run(folds[test], folds[train_f], vecs, use, emb_units).items():
                results.setdefault(name, []).append(tally(folds[test], entries))
        for name, (ta, tb) in results.items():
            print(f"{emb} {v:<9} {name:<28} A {_figure(ta['commission'])}  B {_figure(tb['commission'])}  "
                  f"A+B {_figure(_plus(ta, tb)['commission'])}", flush=True)


def final(emb: str, variant: str, policy: str) -> None:
    """Each fold by models trained on the other two: the rules, the policy without the vectors, and with them."""
    items = prepare()
    vecs = vectors(items, emb)
    sums = {}
    for name in "ABC":
        test = [i for i in items if i["fold"] == name]
        train_items = [i for i in items if i["fold"] != name]
        rows = {"rules": tally(test)}
        for label, v in (("without", "none"), ("with", variant)):
            use, emb_units = VARIANTS[v]
            entries = run(test, train_items, vecs, use, emb_units, chosen={policy})[policy]
            rows[label] = tally(test, entries)
            for f in FIELDS:
                if f != "commission":
                    assert (rows[label][f].correct, rows[label][f].extracted) == (rows["rules"][f].correct,
                                                                                  rows["rules"][f].extracted), f
        for label, t in rows.items():
            sums[label] = t if label not in sums else _plus(sums[label], t)
        print(f"{name}  " + "  ".join(f"{label} {_figure(t['commission'])}" for label, t in rows.items()), flush=True)
        print("   other fields (rules = judged): " + "  ".join(
            f"{BENCH_NAMES[f]} {rows['rules'][f].precision:.3f}/{rows['rules'][f].recall:.3f}"
            for f in FIELDS if f != "commission"))
    print("dev  " + "  ".join(f"{label} {_figure(t['commission'])}" for label, t in sums.items()))


if __name__ == "__main__":
    {"auc": auc, "tune": tune, "final": final}[sys.argv[1]](*sys.argv[2:])
