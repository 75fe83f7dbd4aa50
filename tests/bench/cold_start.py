"""Cold start and idle memory of every function against the floor, in the same run.

Each function is started as its image starts it (amx-function: functions-framework, gunicorn, in `.venv-function`:
the project with its core dependencies only, its bytecode and web templates compiled) and timed from spawn to the
first 200 on its cheapest meaningful first request (FIRST_REQUESTS). Its baseline is the floor: a
functions-framework hello world importing only the libraries every function's start is prescribed
(pydantic, pydantic-settings, structlog), started the same way right before every function, round after
round, so the floor's starts meet the same swings of the machine's load as the functions'. A function's
ratio is its median over the floor's median over the whole run: with ROUNDS starts a function and
ROUNDS x functions the floor, the baseline is read from all of them. Single ratios still move by about 0.1
between identical runs: on three runs split into halves, the halves of one run differed by 0.06 to 0.16 per
function on average, and the median of each start over the floor's start right before it (pairs meeting the
same load) did no better (0.08 to 0.13). Beside the clock, the CPU time the server's processes used until
that answer. A bare hello world is
measured too, to show what the prescribed libraries themselves cost. Then each function and the floor start
once more under callgrind, which counts the instructions executed until the first answer: a figure this
machine cannot blur (the clock and the CPU time of one start swing by a fifth), so it says whether a
function's work is within the target even in a run whose clock says otherwise.

Idle memory is read once the first request is answered: the proportional set size (Pss, from
/proc/<pid>/smaps_rollup) summed over the server's processes. gunicorn's master imports the app
and forks the worker, so the two share most pages: VmRSS summed would count those twice, Pss
splits each shared page between its sharers, and the sum is what the container is charged.
"""

import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.processes import ROOT, free_port

ROUNDS = int(os.environ.get("BENCH_COLD_START_ROUNDS", "15"))  # alternated; this machine swings 20% within a minute
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
    subprocess.run([str(FUNCTION_VENV / "bin/python"), "-c", "from affiliate_matrix.web.render import compile_templates; "
                    "compile_templates()"], check=True)  # as the image's build does
    return FUNCTION_VENV / "bin"


def group(pgid: int) -> list[Path]:
    """/proc entries of the processes in a process group (gunicorn's master and worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.getpgid(int(entry.name)) == pgid:
                found.append(entry)
        except OSError:
            continue  # a process that ended meanwhile
    return found


def cpu_s(processes: list[Path]) -> float:
    """CPU time (user and system) the processes have used, a figure a busy machine blurs far less than the clock."""
    ticks = 0
    for entry in processes:
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def pss_mb(processes: list[Path]) -> float:
    """The proportional set size of the processes."""
    total_kb = 0
    for entry in processes:
        try:
            for line in (entry / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total_kb / 1024


def start_once(bin_dir: Path, source: Path, path: str, cwd: str, headers: dict) -> tuple[float, float, float]:
    """Seconds from spawn to the first 200 on `path`, the CPU seconds the server used for it, and its idle
    memory (MB) right after."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([str(bin_dir / "amx-function"), "--source", str(source), "--target", "handle",
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
                        cpu = cpu_s(group(process.pid))
                        break
                except httpx.TransportError:
                    time.sleep(0.005)
        time.sleep(0.3)  # the answer is sent before the worker finishes the request (its log line, counters)
        return cold, cpu, pss_mb(group(process.pid))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def callgrind_count(pid: int) -> int:
    """The instructions a process under callgrind has executed so far, summed over its threads (the lines
    `Th <n> <count>` that `callgrind_control -e Ir` prints under `Totals:`)."""
    shown = subprocess.run(["callgrind_control", "-e", "Ir", str(pid)], capture_output=True, text=True).stdout
    lines = shown.split("Totals:", 1)[1].splitlines() if "Totals:" in shown else []
    return sum(int(line.split()[2].replace(",", "")) for line in lines if line.split()[:1] == ["Th"])


def instructions_once(bin_dir: Path, source: Path, path: str, cwd: str, headers: dict) -> int:
    """Instructions the server executed until its first 200 on `path`, counted by callgrind: the same count
    whatever else the machine does, where the clock of one start swings by a fifth. The worker is forked
    from the master after the app is imported, so its count holds the import as well as the request."""
    port = free_port()
    process = subprocess.Popen(["valgrind", "--tool=callgrind", "--trace-children=yes", "--callgrind-out-file=/dev/null",
                                "--log-file=/dev/null", str(bin_dir / "amx-function"), "--source", str(source),
                                "--target", "handle", "--host", "127.0.0.1", "--port", str(port)], cwd=cwd,
                               start_new_session=True,
                               env={**os.environ, "AMX_DATA_DIR": f"{cwd}/.amx", "PYTHONHASHSEED": "0"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(timeout=300) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{source} ended under callgrind before answering {path}")
                try:
                    if client.get(f"http://127.0.0.1:{port}{path}", headers=headers).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
        counts = [callgrind_count(int(entry.name)) for entry in group(process.pid)]
        if not any(counts):
            raise RuntimeError(f"callgrind_control read no count from {source}")
        return max(counts)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def read_token(cwd: str) -> str:
    from affiliate_matrix.auth import create_token
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import open_secret_store

    return create_token(open_secret_store(Settings(data_dir=Path(cwd) / ".amx")), "read")


def run() -> None:
    bin_dir = function_venv()
    functions = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").exists())
    with tempfile.TemporaryDirectory() as cwd:
        auth = {"Authorization": f"Bearer {read_token(cwd)}"}

        def start(name: str) -> tuple[float, float, float]:
            if name in ("hello", "floor"):
                return start_once(bin_dir, HELLO if name == "hello" else FLOOR, "/", cwd, {})
            path = FIRST_REQUESTS.get(name, "/healthz")
            return start_once(bin_dir, ROOT / "functions" / name / "main.py", path, cwd,
                              {} if path in TOKEN_FREE else auth)

        for name in ("hello", *functions):
            start(name)  # warm the OS file cache and create each function's stored state, uncounted
        order = random.Random(20)
        hello, floor = [], []
        measured: dict[str, list[tuple[float, float, float]]] = {name: [] for name in functions}
        paired: dict[str, list[tuple[float, float, float]]] = {name: [] for name in functions}
        for _ in range(ROUNDS):
            hello.append(start("hello"))
            for name in order.sample(functions, len(functions)):
                floor.append(start("floor"))  # right before each function: the floor meets the loads they meet
                paired[name].append(floor[-1])
                measured[name].append(start(name))
        instructions: dict[str, int] = {}
        if shutil.which("valgrind"):  # `task setup:valgrind`; without it the counts are left out
            def count(name: str) -> int:
                if name == "floor":
                    return instructions_once(bin_dir, FLOOR, "/", cwd, {})
                path = FIRST_REQUESTS.get(name, "/healthz")
                return instructions_once(bin_dir, ROOT / "functions" / name / "main.py", path, cwd,
                                         {} if path in TOKEN_FREE else auth)

            instructions = {name: count(name) for name in ("floor", *functions)}
    if os.environ.get("BENCH_COLD_START_SAMPLES"):  # every start, for studying the machine's noise
        Path(os.environ["BENCH_COLD_START_SAMPLES"]).write_text(json.dumps(
            {"hello": hello, "floor": floor, "measured": measured, "paired_floor": paired}))

    def median(samples, figure: int) -> float:
        return statistics.median(sample[figure] for sample in samples)


    print(f"BENCH cold_start_s_hello {median(hello, 0):.3f} s")
    print(f"BENCH cold_start_s_floor {median(floor, 0):.3f} s")
    print(f"BENCH cold_start_cpu_s_floor {median(floor, 1):.3f} s")
    print(f"BENCH cold_start_ratio_floor_vs_hello {median(floor, 0) / median(hello, 0):.2f} x")
    print(f"BENCH idle_rss_mb_floor {median(floor, 2):.1f} MB")
    ratios: dict[str, dict[str, float]] = {"time": {}, "cpu": {}, "memory": {}}
    for name in functions:
        ratios["time"][name] = median(measured[name], 0) / median(floor, 0)
        ratios["cpu"][name] = median(measured[name], 1) / median(floor, 1)
        ratios["memory"][name] = median(measured[name], 2) / median(floor, 2)
        print(f"{name}: first request GET {FIRST_REQUESTS.get(name, '/healthz')}")
        print(f"BENCH cold_start_s_{name} {median(measured[name], 0):.3f} s")
        # three decimals: a figure judged against 1.10 is not rounded onto it (1.104 printed 1.10)
        print(f"BENCH cold_start_ratio_vs_floor_{name} {ratios['time'][name]:.3f} x")
        print(f"BENCH cold_start_cpu_ratio_vs_floor_{name} {ratios['cpu'][name]:.3f} x")
        print(f"BENCH idle_rss_mb_{name} {median(measured[name], 2):.1f} MB")
    worst = {figure: max(by_function, key=by_function.get) for figure, by_function in ratios.items()}
    print(f"worst: {worst['time']} in time, {worst['cpu']} in CPU time, {worst['memory']} in memory")
    print(f"BENCH cold_start_ratio_vs_floor {ratios['time'][worst['time']]:.3f} x")
    print(f"BENCH cold_start_cpu_ratio_vs_floor {ratios['cpu'][worst['cpu']]:.3f} x")
    print(f"BENCH idle_rss_ratio_vs_floor {ratios['memory'][worst['memory']]:.2f} x")
    if instructions:
        print(f"BENCH cold_start_instructions_floor {instructions['floor'] / 1e6:.0f} M")
        by_function = {name: instructions[name] / instructions["floor"] for name in functions}
        for name, ratio in by_function.items():
            print(f"BENCH cold_start_instructions_ratio_vs_floor_{name} {ratio:.3f} x")
        print(f"BENCH cold_start_instructions_ratio_vs_floor {max(by_function.values()):.3f} x")
