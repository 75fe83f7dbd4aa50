"""Peak memory of exporting 100,000 programs to CSV and to JSON Lines (`amx export programs` in
its own process, max RSS from wait4), beside the same process doing only its imports."""

import os
import subprocess
import time
import tempfile
from pathlib import Path

from affiliate_matrix.config import Settings
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from tests.support.processes import BIN
from tests.support.synthetic import programs

N = 100_000


def peak_rss_mb(args: list[str], env: dict) -> float:
    """The process's own high-water mark (VmHWM, which starts afresh at exec, unlike ru_maxrss, which
    would count the pages of this big parent it was forked from), read until it exits."""
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak = max(peak, int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]))
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.02)
    if process.returncode != 0:
        raise RuntimeError(f"{args} failed")
    return peak / 1024


def run() -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / ".amx"
        rt = Runtime("bench", Settings(data_dir=data))
        rt.index.ensure_index(PROGRAMS_INDEX)
        batch = []
        for program in programs(N):
            batch.append(to_document(program))
            if len(batch) == 5_000:
                rt.index.bulk_upsert(PROGRAMS_INDEX.name, batch)
                batch = []
        rt.index.refresh(PROGRAMS_INDEX.name)
        env = {**os.environ, "AMX_DATA_DIR": str(data)}
        baseline = peak_rss_mb([str(BIN / "python"), "-c", "import affiliate_matrix.cli, affiliate_matrix.exchange, "
                                "affiliate_matrix.runtime, affiliate_matrix.search.sqlite, affiliate_matrix.models"], env)
        peaks = {fmt: peak_rss_mb([str(BIN / "amx"), "export", "programs", "--format", fmt, "--out",
                                   f"{folder}/programs.{fmt}"], env) for fmt in ("csv", "jsonl")}
        sizes = {fmt: Path(f"{folder}/programs.{fmt}").stat().st_size / 1e6 for fmt in peaks}
    print(f"BENCH export_baseline_rss_mb {baseline:.0f} MB")
    for fmt, peak in peaks.items():
        print(f"BENCH export_100k_{fmt}_peak_rss_mb {peak:.0f} MB")
        print(f"BENCH export_100k_{fmt}_file_mb {sizes[fmt]:.0f} MB")
    print(f"BENCH export_100k_peak_rss_mb {max(peaks.values()):.0f} MB")
