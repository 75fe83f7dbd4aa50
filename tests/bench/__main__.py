"""`task bench`: every benchmark, each figure printed as `BENCH <name> <value> <unit>`.

Figures are ratios against a baseline measured in the same run wherever a target is stated,
because this machine is noisy. `python -m tests.bench NAME…` runs only the named benchmarks.
`task bench` runs them on the memory allocator the functions image preloads (mimalloc), as the
functions run in production, where `task setup:mimalloc` installed it, and on the C library's
malloc otherwise; the line below says which one a run had.
"""

import os
import sys

from tests.bench import (analytics, budget, cold_start, exchange, functions, resolution, rules, search, sources, terms,
                         terms_cpu, verify, web, withdraw)

BENCHMARKS = {"cold_start": cold_start.run, "resolution": resolution.run, "search": search.run,
              "sources": sources.run, "verify": verify.run, "budget": budget.run,
              "rules": rules.run, "functions": functions.run,
              "exchange": exchange.run, "analytics": analytics.run, "terms": terms.run, "terms_cpu": terms_cpu.run,
              "web": web.run,
              "withdraw": withdraw.run}


def main(names: list[str]) -> None:
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; known: {', '.join(BENCHMARKS)}")
    print(f"memory allocator: {os.environ.get('LD_PRELOAD') or 'the C library malloc (no LD_PRELOAD)'}")
    for name, run in BENCHMARKS.items():
        if not names or name in names:
            run()


if __name__ == "__main__":
    main(sys.argv[1:])
