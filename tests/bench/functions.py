"""Each function's cold start (spawn to the first 200 on /healthz, median of three, in the
core-only `.venv-function` as in an image) and idle memory (RSS of its processes once ready),
with a bare functions-framework hello world measured the same way as the baseline; and how long
`amx up` takes until every function answers."""

import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from tests.bench.cold_start import function_venv
from tests.support.processes import BIN, ROOT, free_port

ROUNDS = 3


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in a process group (gunicorn's master and worker)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024 / 1024


def measure(bin_dir: Path, source: str, path: str, cwd: str) -> tuple[float, float]:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([str(bin_dir / "functions-framework"), "--source", source, "--target", "handle",
                                "--host", "127.0.0.1", "--port", str(port)], cwd=cwd, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "AMX_DATA_DIR": f"{cwd}/.amx"})
    try:
        with httpx.Client(timeout=2) as client:
            while True:
                if time.perf_counter() - started > 60:
                    raise RuntimeError(f"{source} never answered 200 on {path}")
                try:
                    if client.get(f"http://127.0.0.1:{port}{path}").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.005)
        cold = time.perf_counter() - started
        time.sleep(1.0)
        return cold, group_rss_mb(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def up_start(cwd: str) -> float:
    data = Path(cwd) / "up" / ".amx"
    data.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen([str(BIN / "amx"), "up", "--port-base", "0"], cwd=data.parent,
                               env={**os.environ, "AMX_DATA_DIR": str(data)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (data / "up.json").exists():
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("amx up did not become ready")
            time.sleep(0.1)
        return json.loads((data / "up.json").read_text())["started_in_s"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def run() -> None:
    bin_dir = function_venv()
    functions = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").exists())
    with tempfile.TemporaryDirectory() as cwd:
        hello = str(ROOT / "tests/bench/hello/main.py")
        measure(bin_dir, hello, "/", cwd)  # warm the file cache, uncounted
        base = [measure(bin_dir, hello, "/", cwd) for _ in range(ROUNDS)]
        print(f"BENCH cold_start_s_hello {statistics.median(c for c, _ in base):.3f} s")
        print(f"BENCH idle_rss_mb_hello {statistics.median(r for _, r in base):.1f} MB")
        for name in functions:
            source = str(ROOT / "functions" / name / "main.py")
            rounds = [measure(bin_dir, source, "/healthz", cwd) for _ in range(ROUNDS)]
            print(f"BENCH cold_start_s_{name} {statistics.median(c for c, _ in rounds):.3f} s")
            print(f"BENCH idle_rss_mb_{name} {statistics.median(r for _, r in rounds):.1f} MB")
        print(f"BENCH up_start_s {up_start(cwd):.2f} s")
