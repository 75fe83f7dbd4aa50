"""How long `amx up` takes until every function answers. (Each function's own cold start and idle
memory against the floor are in cold_start.py.)"""

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.processes import BIN


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
    with tempfile.TemporaryDirectory() as cwd:
        print(f"BENCH up_start_s {up_start(cwd):.2f} s")
