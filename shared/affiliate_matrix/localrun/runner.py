"""Start every function as its own functions-framework process, the router, and the cron clock;
restart a function that dies (as Kubernetes would); stop it all on SIGTERM or Ctrl-C. Deliveries
are signed by a local issuer the functions verify, as Knative's are by the cluster's; each function
publishes with a token of its service account for the Broker (a file renewed before it expires, as
the kubelet renews a projected token), which the router checks against the EventPolicies."""

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from affiliate_matrix.errors import AccessDenied, AmxError, ConflictError
from affiliate_matrix.events.identity import audience, broker_audience, issuer_for, subject, verify
from affiliate_matrix.localrun.issuer import LocalIssuer
from affiliate_matrix.localrun.plan import PING_TYPE, Ping, Plan, Route, exact, read_plan
from affiliate_matrix.localrun.router import Delivery, Router
from affiliate_matrix.observability import get_logger

log = get_logger()
NAMESPACE = "affiliate-matrix"
PUBLISHER_TOKEN_S = 3600      # a publisher's token lives an hour, as Knative's and the kubelet's projected ones
PUBLISHER_RENEW_S = 1200      # and is renewed well before (the kubelet renews at 80% of its life)
READY_S = 120                 # how long every function has to answer its first /healthz
PING_DELIVERY = Route("pingsource", (exact(type=PING_TYPE),), "", retry=5, backoff_s=1.0, exponential=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_free(ports: dict[str, int]) -> None:
    """ConflictError naming the first function whose port something else listens on. A taken port was found only by
    waiting 120 s for that function to answer, then a traceback (another `amx up` elsewhere, any server on 8100…)."""
    for name, port in ports.items():
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: a closed one's TIME_WAIT is free
            try:
                s.bind(("127.0.0.1", port))
            except OSError as exc:
                raise ConflictError(f"port {port} on 127.0.0.1, {name}'s, is taken ({exc.strerror}): stop what listens "
                                    "there, or give --port-base another first port (0: any free ports)") from None


def _stop_with_parent(parent: int) -> Callable[[], None] | None:
    """What a function's process runs before it starts, on Linux: SIGTERM to it when the `amx up` that started it dies.
    In a session of its own, it outlived an `amx up` killed with SIGKILL (or by the OOM killer), holding its port, and
    `amx down` found nothing running."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # found before the fork: the child only calls it (no import there)

    def stop_with_parent() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: when the thread that started it ends (run's, amx up's main one)
        if os.getppid() != parent:  # it died before the line above
            os.kill(os.getpid(), signal.SIGTERM)

    return stop_with_parent


class Function:
    def __init__(self, name: str, root: Path, port: int, env: dict, logs: Path):
        self.name, self.root, self.port, self.env, self.logs = name, root, port, env, logs
        self.url = f"http://127.0.0.1:{port}/"
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        log_file = open(self.logs / f"{self.name}.log", "ab")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("amx-function")), "--source",
             str(self.root / "functions" / self.name / "main.py"), "--target", "handle", "--host", "127.0.0.1",
             "--port", str(self.port)], env=self.env, stdout=log_file, stderr=subprocess.STDOUT, cwd=os.getcwd(),
            start_new_session=True,  # its own process group: gunicorn's worker goes with its master
            preexec_fn=_stop_with_parent(os.getpid()))

    def kill(self) -> None:
        """The whole process group, as a pod's death takes every process in it."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def ready(self) -> bool:
        try:
            # a readiness probe of a function this process started on loopback: no polite client
            return httpx.get(self.url + "healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False


class Clock:
    """Simulated UTC time: `start` at launch, running `speed` times faster than the wall clock."""

    def __init__(self, start: datetime, speed: float):
        self.start, self.speed, self.t0 = start, speed, time.monotonic()

    def now(self) -> datetime:
        from datetime import timedelta

        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)


class LocalRuntime:
    def __init__(self, root: Path, data_dir: Path, *, speed: float = 1.0, start: datetime | None = None,
                 port_base: int = 8100):
        self.root, self.data_dir = root, data_dir
        self.plan: Plan = read_plan(root / "manifests" / "base")
        self.clock = Clock(start or datetime.now(UTC), speed)
        self.logs = data_dir / "logs"
        self.logs.mkdir(mode=0o700, parents=True, exist_ok=True)  # the mode, not the umask: private (runtime.data_dir)
        ports = {name: (port_base + i if port_base else free_port()) for i, name in enumerate(self.plan.functions)}
        check_free(ports)  # before anything is started
        urls = {name: f"http://127.0.0.1:{port}/" for name, port in ports.items()}
        self.issuer = LocalIssuer(data_dir / "oidc")
        from affiliate_matrix.config import load_settings
        from affiliate_matrix.runtime import open_object_store

        settings = load_settings(data_dir=data_dir.resolve())  # the functions' (the environment's, this data dir)
        # its dead letters parked in the functions' object store, under the retention job's rule as the cluster's are;
        # its ingress reads a request as they read one
        self.router = Router(self.plan.routes, urls, open_object_store(settings), sign=self.sign, admit=self.admit,
                             read_timeout_s=settings.request_read_timeout_s)
        env = {**os.environ, "AMX_EVENTS": "http", "AMX_BROKER_URL": self.router.url,
               "AMX_DATA_DIR": str(data_dir.resolve()), "PYTHONUNBUFFERED": "1",
               "AMX_EVENTS_OIDC_DISCOVERY_URL": self.issuer.discovery_url, "AMX_NAMESPACE": NAMESPACE,
               "AMX_EVENTS_ROUTES": str((root / "manifests" / "base").resolve())}
        publisher_token(data_dir.resolve(), "").parent.mkdir(mode=0o700, exist_ok=True)
        self.renewed = 0.0
        self.renew_publisher_tokens()
        self.functions = {name: Function(name, root, ports[name], {**env, "AMX_BROKER_TOKEN_PATH": str(
            publisher_token(data_dir.resolve(), name))}, self.logs) for name in self.plan.functions}
        self.stopping = threading.Event()

    def renew_publisher_tokens(self) -> None:
        """Each function's token for the Broker, from its Service's account, written whole (a function reads it at
        every publish, so it never sees half of one)."""
        for name in self.plan.functions:
            token = self.issuer.token(broker_audience(NAMESPACE), subject(NAMESPACE, self.plan.service_accounts[name]),
                                      PUBLISHER_TOKEN_S)
            path = publisher_token(self.data_dir.resolve(), name)
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            partial.write_text(token)
            partial.chmod(0o600)
            partial.replace(path)
        self.renewed = time.monotonic()

    def admit(self, authorization: str | None, event: dict | None) -> None:
        """What the Broker's ingress takes: a token of the namespace's issuer for the Broker (Unauthorized otherwise),
        and, once the event is read, from a sender an EventPolicy lets publish it (AccessDenied otherwise)."""
        claims = verify(authorization, issuer_for(self.issuer.discovery_url), broker_audience(NAMESPACE), NAMESPACE)
        if event is not None and not self.plan.may_publish(claims["sub"], event):
            raise AccessDenied(f"{claims['sub']} may not publish {str(event.get('type'))[:200]} to the Broker: no "
                               "EventPolicy of manifests/base lets it")

    def sign(self, delivery: Delivery) -> dict[str, str]:
        """The token Knative's sender identity gives a delivery: for the subscriber's audience, from the
        route's own service account (the Trigger's, or the PingSource's for a cron tick)."""
        route = delivery.route
        token = self.issuer.token(audience(NAMESPACE, route.subscriber), subject(NAMESPACE, route.sender))
        return {"Authorization": f"Bearer {token}"}

    def run(self, ready_file: Path | None = None, on_ready: Callable[[dict], None] | None = None) -> None:
        started = time.monotonic()
        for function in self.functions.values():
            function.start()
        deadline = time.monotonic() + READY_S
        while not all(f.ready() for f in self.functions.values()):
            if self.stopping.is_set():  # SIGTERM while they start (`amx up --detach` done waiting): not at the deadline
                self.stop()
                return
            self._refuse_exited()
            if time.monotonic() > deadline:
                raise RuntimeError(f"functions did not become ready in {READY_S} s; see " + str(self.logs))
            time.sleep(0.2)
        state = {"pid": os.getpid(), "router": self.router.url, "started_in_s": round(time.monotonic() - started, 2),
                 "functions": {n: {"url": f.url, "pid": f.process.pid} for n, f in self.functions.items()},
                 "logs": str(self.logs), "clock_start": self.clock.start.isoformat(), "speed": self.clock.speed}
        if ready_file:
            _write_state(ready_file, state)
        log.info("up.ready", started_in_s=state["started_in_s"], functions=len(self.functions))
        if on_ready:
            on_ready(state)
        self.clock.t0 = time.monotonic()  # simulated time starts when everything is ready
        threading.Thread(target=self._cron, daemon=True).start()
        self._supervise(ready_file, state)

    def _refuse_exited(self) -> None:
        """AmxError naming a function that exited before it first answered, and its last words: one that stops at start
        (a setting it refused, a missing bucket) stops again however often it is restarted, and `amx up` waited its
        whole 120 s for it, then said only "not ready", the reason left in that function's log."""
        for name, function in self.functions.items():
            if function.process.poll() is not None:
                said = (self.logs / f"{name}.log").read_bytes().decode(errors="replace").strip().splitlines()
                raise AmxError(f"{name} exited with {function.process.returncode} before it answered: "
                               f"{said[-1] if said else 'it said nothing'}; all it said: {self.logs / f'{name}.log'}")

    def _supervise(self, ready_file: Path | None, state: dict) -> None:
        while not self.stopping.wait(0.3):
            if time.monotonic() - self.renewed > PUBLISHER_RENEW_S:
                self.renew_publisher_tokens()
            for name, function in self.functions.items():
                if function.process.poll() is not None:
                    function.kill()  # what is left of it (a worker holding the port)
                    function.restarts += 1
                    log.warning("up.function_restarted", function=name, exit_code=function.process.returncode,
                                restarts=function.restarts)
                    function.start()
                    state["functions"][name]["pid"] = function.process.pid
                    if ready_file:
                        _write_state(ready_file, state)
        self.stop()

    def _cron(self) -> None:
        from cronsim import CronSim

        upcoming = {ping.name: next(CronSim(ping.schedule, self.clock.now())) for ping in self.plan.pings}
        while not self.stopping.wait(0.05):
            now = self.clock.now()
            for ping in self.plan.pings:
                if upcoming[ping.name] <= now:
                    self.fire(ping, upcoming[ping.name])
                    upcoming[ping.name] = next(CronSim(ping.schedule, upcoming[ping.name]))

    def fire(self, ping: Ping, tick: datetime) -> None:
        event = {"specversion": "1.0", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ping.name}@{tick.isoformat()}")),
                 "source": f"/apis/v1/namespaces/{NAMESPACE}/pingsources/{ping.name}", "type": PING_TYPE,
                 "time": tick.isoformat(), "datacontenttype": "application/json", "data": ping.data}
        route = Route(ping.name, PING_DELIVERY.filters, ping.sink, PING_DELIVERY.retry, PING_DELIVERY.backoff_s, True,
                      ping.sender)
        self.router.submit(Delivery(route, event))

    def stop(self, *_args) -> None:
        if getattr(self, "_stopped", False):
            return
        self._stopped = True
        self.stopping.set()
        for function in self.functions.values():
            if function.process and function.process.poll() is None:
                os.killpg(function.process.pid, signal.SIGTERM)
        for function in self.functions.values():
            if function.process is None:  # never started
                continue
            try:
                function.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            function.kill()
        self.router.close()


def _write_state(path: Path, state: dict) -> None:
    """up.json whole or not at all: written beside it and renamed onto it, so `amx up --detach` (which reads it as
    soon as it exists) and `amx down` never read it cut short, nor after this process is killed mid-write."""
    import tempfile

    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(json.dumps(state, indent=2))
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise


def held(data_dir: Path, name: str):
    """The lock file `name` in the data dir, held by the process that took it for as long as it keeps the file open
    (the kernel lets go when it dies, however it dies). The open file, when taken; None when another holds it."""
    lock = open(data_dir / name, "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def _lock(data_dir: Path):
    """up.lock, held by the running `amx up` for as long as it runs: the pid in up.json is its own only while the
    lock is held."""
    return held(data_dir, "up.lock")


def _running(data_dir: Path) -> Exception:
    from affiliate_matrix.errors import ConflictError

    return ConflictError(f"amx up is already running on {data_dir}; `amx down` stops it")


def refuse_if_running(data_dir: Path) -> None:
    """ConflictError naming the data dir when an `amx up` is running on it."""
    lock = _lock(data_dir)
    if lock is None:
        raise _running(data_dir)
    lock.close()


def running_broker(data_dir: Path) -> str | None:
    """The Broker ingress of the `amx up` running on the data dir (up.json's, while its lock is held), None when none
    runs or it is not ready yet."""
    if not (data_dir / "up.json").is_file():
        return None
    lock = _lock(data_dir)
    if lock is not None:  # not held: an up.json left by an `amx up` that was killed
        lock.close()
        return None
    try:
        return json.loads((data_dir / "up.json").read_text())["router"]
    except (OSError, ValueError, KeyError, TypeError):  # gone, or being written, meanwhile
        return None


def publisher_token(data_dir: Path, function: str) -> Path:
    """The file holding `function`'s token for the running `amx up`'s Broker, from its Service's account (renewed
    by amx up: LocalRuntime.renew_publisher_tokens)."""
    return data_dir / "oidc" / "publishers" / f"{function}.jwt"


def up(root: Path, data_dir: Path, *, speed: float, start: datetime | None, port_base: int,
       on_ready: Callable[[dict], None] | None = None) -> None:
    """Run every function until stopped; `on_ready` is given up.json's state once they all answer."""
    lock = _lock(data_dir)
    if lock is None:
        raise _running(data_dir)
    try:
        runtime = LocalRuntime(root, data_dir, speed=speed, start=start, port_base=port_base)
        signal.signal(signal.SIGTERM, lambda *_: runtime.stopping.set())
        try:
            runtime.run(ready_file=data_dir / "up.json", on_ready=on_ready)
        except KeyboardInterrupt:
            runtime.stop()
        except BaseException:  # failing once started (up.json on a full disk, a function never ready): none is left running
            runtime.stop()
            raise
        finally:
            (data_dir / "up.json").unlink(missing_ok=True)
    finally:
        lock.close()


def down(data_dir: Path) -> bool:
    """Stop the `amx up` running on the data dir. An up.json no running `amx up` holds (it was killed, or the machine
    restarted) is removed: its pid may be any process's by now, and it is sent nothing."""
    state_file = data_dir / "up.json"
    if not state_file.exists():
        return False
    stale = _lock(data_dir)
    if stale is not None:
        state_file.unlink(missing_ok=True)
        stale.close()
        return False
    pid = json.loads(state_file.read_text())["pid"]
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        state_file.unlink(missing_ok=True)
        return False
    for _ in range(150):
        if not state_file.exists():
            return True
        time.sleep(0.1)
    return True
