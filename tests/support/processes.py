"""Start real servers as separate processes on free loopback ports, and stop them."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


# Servers that stand in for someone else's (S3, OpenSearch) run as they are shipped, without the
# allocator our functions image preloads (`task test` and `task bench` set it).
AS_SHIPPED = {"LD_PRELOAD": None}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, argv: list[str], url: str, log: Path, ready_path: str = "/", timeout: float = 60, env=None):
        self.url = url
        self.log = log
        self._log_file = open(log, "wb")
        self.process = subprocess.Popen(argv, stdout=self._log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True,
                                        env={k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {self.process.returncode}; see {log}:\n{log.read_text()[-2000:]}")
            try:
                httpx.get(url + ready_path, timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{argv[0]} did not answer at {url} within {timeout}s; see {log}")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()


def start_moto(tmp: Path) -> Server:
    """moto_server in its own process, deciding one request at a time (see tests/support/moto_serial.py)."""
    port = free_port()
    return Server([sys.executable, "-m", "tests.support.moto_serial", "-H", "127.0.0.1", "-p", str(port)],
                  f"http://127.0.0.1:{port}", tmp / "moto.log", ready_path="/moto-api/",
                  env={**AS_SHIPPED, "PYTHONPATH": str(ROOT)})


def start_opensearch(tmp: Path) -> Server:
    """A real OpenSearch node from the Maven Central jars built by `task opensearch:build`."""
    launcher = ROOT / "infra" / "opensearch-local"
    if not (launcher / "target" / "classes").is_dir():
        raise RuntimeError("the OpenSearch launcher is not built: run ./task opensearch:build (./task test does)")
    port = free_port()
    argv = ["java", "-Xms512m", "-Xmx512m", "-XX:+UseSerialGC", "-cp",
            f"{launcher}/target/classes:{launcher}/target/lib/*", "dev.affiliatematrix.LocalOpenSearch",
            str(port), str(tmp / "opensearch-home")]
    return Server(argv, f"http://127.0.0.1:{port}", tmp / "opensearch.log", timeout=120, env=AS_SHIPPED)


def start_vault_api(tmp: Path, root_token: str, k8s: dict[str, str] | None = None, token_ttl: int = 3600,
                    port: int | None = None) -> Server:
    """The in-repo Vault-API test server (no real Vault can run here)."""
    port = port or free_port()
    argv = [sys.executable, "-m", "tests.support.vault_api_server", "--port", str(port), "--root-token", root_token,
            "--token-ttl", str(token_ttl)] + [f"--k8s={role}={jwt}" for role, jwt in (k8s or {}).items()]
    return Server(argv, f"http://127.0.0.1:{port}", tmp / f"vault-{port}.log", ready_path="/v1/sys/health",
                  env={"PYTHONPATH": str(ROOT)})
