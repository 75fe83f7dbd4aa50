"""Start real servers as separate processes on free loopback ports, and stop them."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOOLS = ROOT / ".tools"
# The versions of the servers the setup tasks install, from one place: the Taskfile's vars.
VERSIONS = yaml.safe_load((ROOT / "Taskfile.yml").read_text())["vars"]


# Servers that stand in for someone else's (S3, OpenSearch, Vault, Kubernetes) run as they are shipped, without the
# allocator our functions image preloads (`task bench` sets it where mimalloc is installed).
AS_SHIPPED = {"LD_PRELOAD": None}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def amx_in(memory: int, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`amx args` with its address space capped at memory bytes: a command that reads an endless input
    (/dev/zero) whole fails with a MemoryError at the cap rather than taking the machine's memory."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run([str(BIN / "amx"), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          preexec_fn=cap)


def tool(path: str, task: str) -> Path:
    """A server binary a setup task installs under .tools/, or a failure naming that task."""
    found = TOOLS / path
    if not found.exists():
        raise RuntimeError(f"{found} is missing: run ./task {task} (./task test does)")
    return found


class Server:
    """A server process, started and waited for until `ready_path` answers (with a status `ready` accepts)."""

    def __init__(self, argv: list[str], url: str, log: Path, ready_path: str = "/", timeout: float = 60, env=None,
                 ready=lambda response: True, verify: bool | str = True):
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
                if ready(httpx.get(url + ready_path, timeout=1, verify=verify)):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{argv[0]} did not answer at {url} within {timeout}s; see {log}")

    def stop(self, grace: float = 20):
        """SIGTERM, and SIGKILL after `grace` seconds."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
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
    built = launcher / "target" / "classes" / "dev" / "affiliatematrix" / "LocalOpenSearch.class"
    if not built.is_file():
        raise RuntimeError("the OpenSearch launcher is not built: run ./task opensearch:build (./task test does)")
    if built.stat().st_mtime < (launcher / "src" / "main" / "java" / "dev" / "affiliatematrix" /
                                "LocalOpenSearch.java").stat().st_mtime:  # one built before never gets ready below
        raise RuntimeError("the OpenSearch launcher is older than its source: run ./task opensearch:build (./task test "
                           "does)")
    port = free_port()
    argv = ["java", "-Xms512m", "-Xmx512m", "-XX:+UseSerialGC", "-cp",
            f"{launcher}/target/classes:{launcher}/target/lib/*", "dev.affiliatematrix.LocalOpenSearch",
            str(port), str(tmp / "opensearch-home")]
    # ready once the launcher has put its index template (no replica on one node), as `./task opensearch` runs it
    return Server(argv, f"http://127.0.0.1:{port}", tmp / "opensearch.log", timeout=120, env=AS_SHIPPED,
                  ready_path="/_index_template/single-node", ready=lambda response: response.status_code == 200)


def start_s3proxy(tmp: Path, access_key: str, secret_key: str) -> Server:
    """s3proxy from Maven Central (`task setup:s3proxy`): S3's API on a local directory."""
    jar = tool(f"lib/s3proxy-{VERSIONS['S3PROXY_VERSION']}-jar-with-dependencies.jar", "setup:s3proxy")
    port = free_port()
    (tmp / "data").mkdir()
    properties = tmp / "s3proxy.properties"
    properties.write_text("\n".join([
        "s3proxy.authorization=aws-v2-or-v4",
        f"s3proxy.endpoint=http://127.0.0.1:{port}",
        f"s3proxy.identity={access_key}",
        f"s3proxy.credential={secret_key}",
        "jclouds.provider=filesystem",
        f"jclouds.filesystem.basedir={tmp / 'data'}",
    ]) + "\n")
    argv = ["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", str(jar),
            "--properties", str(properties)]
    return Server(argv, f"http://127.0.0.1:{port}", tmp / "s3proxy.log", timeout=120, env=AS_SHIPPED)


def start_openbao(tmp: Path, root_token: str) -> Server:
    """A real OpenBao dev server (in memory, unsealed; `task setup:openbao`), KV v2 mounted at secret/."""
    bao = tool(f"bin/bao-{VERSIONS['OPENBAO_VERSION']}", "setup:openbao")
    port = free_port()
    argv = [str(bao), "server", "-dev", f"-dev-root-token-id={root_token}", f"-dev-listen-address=127.0.0.1:{port}",
            "-dev-no-store-token"]
    return Server(argv, f"http://127.0.0.1:{port}", tmp / f"openbao-{port}.log", ready_path="/v1/sys/health",
                  ready=lambda response: response.status_code == 200, env={**AS_SHIPPED, "HOME": str(tmp)})
