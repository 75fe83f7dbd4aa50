"""Cold start and idle memory of every function against the floor, in the same run.

Each function is started as its image starts it (functions-framework, gunicorn, in `.venv-function`:
the project with its core dependencies only and its bytecode compiled) and timed from spawn to the
first 200 on its cheapest meaningful first request (FIRST_REQUESTS). Its baseline is the floor: a
functions-framework hello world importing only the libraries every function's start is prescribed
(pydantic, pydantic-settings, structlog), started the same way right before it, round after round,
so a swing in the machine's load falls on both. A bare hello world is measured too, to show what
the prescribed libraries themselves cost.

Idle memory is read once the first request is answered: the proportional set size (Pss, from
/proc/<pid>/smaps_rollup) summed over the server's processes. gunicorn's master imports the app
and forks the worker, so the two share most pages: VmRSS summed would count those twice, Pss
splits each shared page between its sharers, and the sum is what the container is charged.
"""

import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.processes import ROOT, free_port

ROUNDS = int(os.environ.get("BENCH_COLD_START_ROUNDS", "9"))  # alternated; this machine swings 20% within a minute
FUNCTION_VENV = ROOT / ".venv-function"
HELLO = ROOT / "tests/bench/hello/main.py"
FLOOR = ROOT / "tests/bench/hello_floor/main.py"
# The first request each function answers after a cold start: a real read where the function serves one
# (with a read token), else /healthz, the readiness probe Knative sends before it routes the first event.
FIRST_REQUESTS = {"programs": "/programs?q=x", "connections": "/connections", "budget": "/campaigns",
                  "triggers": "/rules", "web": "/signin"}
TOKEN_FREE = {"/healthz", "/signin"}


def function_venv() -> Path:
    """The project installed with its core dependencies only (editable, so it tracks the code)."""
    if not (FUNCTION_VENV / ".installed").exists() or \
            (ROOT / "pyproject.toml").stat().st_mtime > (FUNCTION_VENV / ".installed").stat().st_mtime:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(FUNCTION_VENV)], check=True)
        subprocess.run([str(FUNCTION_VENV / "bin/pip"), "install", "--quiet", "--disable-pip-version-check", "-e",
                        str(ROOT)], check=True)
        (FUNCTION_VENV / ".installed").touch()
    # The image compiles every module at build time; here PYTHONDONTWRITEBYTECODE may be set, and a
    # module without bytecode would be compiled again at every start.
    subprocess.run([str(FUNCTION_VENV / "bin/python"), "-m", "compileall", "-q", str(ROOT / "shared"),
                    str(ROOT / "functions"), str(ROOT / "tests/bench")], check=True, stdout=subprocess.DEVNULL)
    return FUNCTION_VENV / "bin"


def group_pss_mb(pgid: int) -> float:
    """The proportional set size of every process in a process group (gunicorn's master and worker)."""
    total_kb = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            for line in (entry / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
        except (OSError, ValueError):
            continue  # a process that ended meanwhile
    return total_kb / 1024


def start_once(bin_dir: Path, source: Path, path: str, cwd: str, headers: dict) -> tuple[float, float]:
    """Seconds from spawn to the first 200 on `path`, and the idle memory (MB) right after it."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([str(bin_dir / "functions-framework"), "--source", str(source), "--target", "handle",
                                "--host", "127.0.0.1", "--port", str(port)], cwd=cwd, start_new_session=True,
                               env={**os.environ, "AMX_DATA_DIR": f"{cwd}/.amx"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(timeout=5) as client:
            while True:
                if time.perf_counter() - started > 60 or process.poll() is not None:
                    raise RuntimeError(f"{source} never answered 200 on {path}")
                try:
                    if client.get(f"http://127.0.0.1:{port}{path}", headers=headers).status_code == 200:
                        cold = time.perf_counter() - started
                        break
                except httpx.TransportError:
                    time.sleep(0.005)
        time.sleep(0.3)  # the answer is sent before the worker finishes the request (its log line, counters)
        return cold, group_pss_mb(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def read_token(cwd: str) -> str:
    from affiliate_matrix.auth import create_token
    from affiliate_matrix.config import Settings
    from affiliate_matrix.secrets import open_secret_store

    return create_token(open_secret_store(Settings(data_dir=Path(cwd) / ".amx")), "read")


def run() -> None:
    bin_dir = function_venv()
    functions = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").exists())
    with tempfile.TemporaryDirectory() as cwd:
        auth = {"Authorization": f"Bearer {read_token(cwd)}"}

        def start(name: str) -> tuple[float, float]:
            if name in ("hello", "floor"):
                return start_once(bin_dir, HELLO if name == "hello" else FLOOR, "/", cwd, {})
            path = FIRST_REQUESTS.get(name, "/healthz")
            return start_once(bin_dir, ROOT / "functions" / name / "main.py", path, cwd,
                              {} if path in TOKEN_FREE else auth)

        for name in ("hello", *functions):
            start(name)  # warm the OS file cache and create each function's stored state, uncounted
        order = random.Random(20)
        hello, floor = [], []
        paired_floor: dict[str, list[float]] = {name: [] for name in functions}
        measured: dict[str, list[tuple[float, float]]] = {name: [] for name in functions}
        for _ in range(ROUNDS):
            hello.append(start("hello"))
            for name in order.sample(functions, len(functions)):
                floor.append(start("floor"))  # right before each function: the same load falls on both
                paired_floor[name].append(floor[-1][0])
                measured[name].append(start(name))
    floor_s, floor_mb = statistics.median(c for c, _ in floor), statistics.median(m for _, m in floor)
    print(f"BENCH cold_start_s_hello {statistics.median(c for c, _ in hello):.3f} s")
    print(f"BENCH cold_start_s_floor {floor_s:.3f} s")
    print(f"BENCH cold_start_ratio_floor_vs_hello {floor_s / statistics.median(c for c, _ in hello):.2f} x")
    print(f"BENCH idle_rss_mb_floor {floor_mb:.1f} MB")
    time_ratios, memory_ratios = {}, {}
    for name in functions:
        cold = statistics.median(c for c, _ in measured[name])
        memory = statistics.median(m for _, m in measured[name])
        time_ratios[name] = cold / statistics.median(paired_floor[name])
        memory_ratios[name] = memory / floor_mb
        print(f"{name}: first request GET {FIRST_REQUESTS.get(name, '/healthz')}")
        print(f"BENCH cold_start_s_{name} {cold:.3f} s")
        print(f"BENCH cold_start_ratio_vs_floor_{name} {time_ratios[name]:.2f} x")
        print(f"BENCH idle_rss_mb_{name} {memory:.1f} MB")
    worst_time, worst_memory = max(time_ratios, key=time_ratios.get), max(memory_ratios, key=memory_ratios.get)
    print(f"worst: {worst_time} in time, {worst_memory} in memory")
    print(f"BENCH cold_start_ratio_vs_floor {time_ratios[worst_time]:.2f} x")
    print(f"BENCH idle_rss_ratio_vs_floor {memory_ratios[worst_memory]:.2f} x")
