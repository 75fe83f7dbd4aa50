"""The terms extractor on the real-text corpus (tests/data/terms/): precision and recall per field
on the held-back split (the figures the targets apply to), then on the dev split it is tuned on, then on
the fresh set labelled blind (the honest estimate now: the held-back split has been looked at too often).
AMX_TERMS_CORPUS_DIRS and AMX_TERMS_FRESH_DIRS (colon-separated) point it at directories not yet merged."""

from tests.support.terms_corpus import BENCH_NAMES, TARGETS, corpus_dirs, fresh_dirs, load, score, split


def run() -> None:
    dev, held = split(load())
    fresh = load(fresh_dirs())
    print(f"BENCH terms_items {len(held)} items")
    print(f"BENCH terms_dev_items {len(dev)} items")
    print(f"BENCH terms_fresh_items {len(fresh)} items")
    if not held or not dev:
        print(f"terms: no corpus items in {', '.join(map(str, corpus_dirs()))} (set AMX_TERMS_CORPUS_DIRS)")
        return
    results = {"terms": score(held), "terms_dev": score(dev)}
    if fresh:
        results["terms_fresh"] = score(fresh)
    else:
        print(f"terms: no fresh items in {', '.join(map(str, fresh_dirs()))} (set AMX_TERMS_FRESH_DIRS)")
    for prefix, result in results.items():
        for field, name in BENCH_NAMES.items():
            print(f"BENCH {prefix}_{name}_precision {result.fields[field].precision:.3f} ratio")
            print(f"BENCH {prefix}_{name}_recall {result.fields[field].recall:.3f} ratio")
    held_fields = results["terms"].fields
    missed = [f"{BENCH_NAMES[f]} {kind}" for f, (p, r) in TARGETS.items()
              for kind, value, target in (("precision", held_fields[f].precision, p), ("recall", held_fields[f].recall, r))
              if value < target]
    print(f"terms held-back targets missed: {', '.join(missed) or 'none'}")
