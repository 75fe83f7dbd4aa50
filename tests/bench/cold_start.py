"""Cold start: process spawn to the first 200 response, for a function versus a bare
functions-framework hello world started the same way, alternated, medians compared.

Both run in `.venv-function`, which holds the project with its core dependencies only and its
bytecode compiled, as a function image does (no CLI extras: rich alone would add ~45 ms through
structlog). A third process, the hello world importing only pydantic-settings and structlog,
measures the floor those prescribed libraries put under any function's ratio.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.processes import ROOT, free_port

ROUNDS = 15  # alternated; this machine swings 20% within a minute
FUNCTION_VENV = ROOT / ".venv-function"


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


def time_to_first_200(bin_dir: Path, source: str, path: str, cwd: str, headers: dict | None = None) -> float:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([str(bin_dir / "functions-framework"), "--source", source, "--target", "handle",
                                "--host", "127.0.0.1", "--port", str(port)], cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(timeout=2) as client:
            while time.perf_counter() - started < 60:
                try:
                    if client.get(f"http://127.0.0.1:{port}{path}", headers=headers).status_code == 200:
                        return time.perf_counter() - started
                except httpx.TransportError:
                    time.sleep(0.005)
        raise RuntimeError(f"{source} never answered 200 on {path}")
    finally:
        process.terminate()
        process.wait(timeout=10)


def run() -> None:
    bin_dir = function_venv()
    hello = str(ROOT / "tests/bench/hello/main.py")
    floor = str(ROOT / "tests/bench/hello_floor/main.py")
    programs = str(ROOT / "functions/programs/main.py")
    with tempfile.TemporaryDirectory() as cwd:
        from affiliate_matrix.auth import create_token
        from affiliate_matrix.config import Settings
        from affiliate_matrix.runtime import open_secret_store

        token = create_token(open_secret_store(Settings(data_dir=Path(cwd) / ".amx")), "read")
        auth = {"Authorization": f"Bearer {token}"}
        time_to_first_200(bin_dir, programs, "/healthz", cwd)  # warm the OS file cache for both, uncounted
        time_to_first_200(bin_dir, hello, "/", cwd)
        baseline, libraries, function = [], [], []
        for _ in range(ROUNDS):
            baseline.append(time_to_first_200(bin_dir, hello, "/", cwd))
            libraries.append(time_to_first_200(bin_dir, floor, "/", cwd))
            function.append(time_to_first_200(bin_dir, programs, "/programs?q=x", cwd, auth))
    print(f"BENCH cold_start_s_hello {statistics.median(baseline):.3f} s")
    print(f"BENCH cold_start_s_programs {statistics.median(function):.3f} s")
    print(f"BENCH cold_start_ratio {statistics.median(function) / statistics.median(baseline):.2f} x")
    print(f"BENCH cold_start_ratio_prescribed_libraries {statistics.median(libraries) / statistics.median(baseline):.2f} x")
