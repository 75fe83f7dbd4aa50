"""`amx demo`, `amx up`, `amx down` and `amx retention`: the product on one machine."""

from typing import Annotated, Optional

import typer
from rich.markup import escape

from affiliate_matrix.cli.common import console, errors, invalid

commands = typer.Typer()  # top-level commands
READY_WAIT_S = 120  # how long `amx up --detach` waits for its background run's up.json (every function answering)
STOP_WAIT_S = 30  # then, how long the background run has to stop its functions on SIGTERM before it is killed


@commands.command()
def demo():
    """The product's story on recorded sources: scrape, resolve, provenance, a change acted on; no servers."""
    from affiliate_matrix.demo.show import run

    run(console)


@commands.command()
def up(speed: Annotated[float, typer.Option(help="How much faster than real time the cron clock runs.")] = 1.0,
       start: Annotated[Optional[str], typer.Option(help="The clock's start (ISO-8601, UTC); now by default.")] = None,
       port_base: Annotated[int, typer.Option(help="programs on this port, the next function on the next; 0 for any free ports.")] = 8100,
       detach: Annotated[bool, typer.Option(help="Run in the background; `amx down` stops it.")] = False):
    """Every function as its own process, a local Broker and the PingSource crons, wired as manifests/base says."""
    import json
    import subprocess
    import sys
    import time
    from datetime import UTC, datetime

    from affiliate_matrix.config import load_settings
    from affiliate_matrix.demo import ROOT
    from affiliate_matrix.localrun.runner import up as run_up
    from affiliate_matrix.observability import configure_logging
    from affiliate_matrix.runtime import data_dir as private_data_dir

    if speed <= 0:  # the cron clock would stand still or run backwards: no cron would ever fire
        raise invalid("--speed", f"{speed:g} is not above 0")
    settings = load_settings()
    # its own lines (a function restarted, the Broker's refusals, retries, dead letters) as the functions' are: named,
    # redacted, in AMX_LOG_FORMAT at AMX_LOG_LEVEL
    configure_logging("up", fmt=settings.log_format, level=settings.log_level)
    data_dir = private_data_dir(settings)
    when = None
    if start:
        try:
            when = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise invalid("--start", f"{start!r} is not an ISO-8601 time") from None
    from affiliate_matrix.localrun.runner import refuse_if_running

    refuse_if_running(data_dir)  # before anything is touched or said: up.json is the running one's
    if detach:
        state = data_dir / "up.json"
        state.unlink(missing_ok=True)
        args = [sys.argv[0], "up", "--speed", str(speed), "--port-base", str(port_base)] + (["--start", start] if start else [])
        log = open(data_dir / "up.log", "ab")
        begun = log.tell()
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(READY_WAIT_S * 10):  # a look every 0.1 s
            if state.exists():
                break
            if process.poll() is not None:  # its last line says why (a port taken...): up.log alone held it
                said = (data_dir / "up.log").read_bytes()[begun:].decode(errors="replace").strip().splitlines()
                errors.print(escape(said[-1] if said else "amx up stopped"), highlight=False)
                errors.print(f"amx up exited with {process.returncode}; all it said: {data_dir / 'up.log'}",
                             highlight=False)
                raise typer.Exit(process.returncode)
            time.sleep(0.1)
        else:  # not ready in time (up.json was read regardless: a file error, the run left going)
            _stop(process)
            errors.print(f"amx up was not ready in {READY_WAIT_S} s (every function answering): stopped; all it said: "
                         f"{data_dir / 'up.log'}", highlight=False)
            raise typer.Exit(1)
        _say_where(json.loads(state.read_text()))
        console.print(f"running in the background (logs in {data_dir / 'logs'}); `amx down` stops it")
        return
    console.print(f"starting every function; logs in {data_dir / 'logs'}; Ctrl-C stops")
    run_up(ROOT, data_dir, speed=speed, start=when, port_base=port_base, on_ready=_say_where)


def _stop(process) -> None:
    """Stop the background `amx up` and its process group (it was started in a session of its own): SIGTERM first, on
    which it stops the functions it started (each in a session of its own too, which its group's SIGKILL would miss),
    then SIGKILL when it has not exited within STOP_WAIT_S."""
    import contextlib
    import os
    import signal
    import subprocess

    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _say_where(state: dict) -> None:
    """Each function's address, once all answer (in the foreground too: it said only "up.ready functions=11", and where
    the explorer was could be found only in up.json)."""
    for name, function in state["functions"].items():
        console.print(f"{name:12} {function['url']}")


@commands.command()
def down():
    """Stop what `amx up` started."""
    from affiliate_matrix.config import load_settings
    from affiliate_matrix.localrun.runner import down as run_down

    console.print("stopped" if run_down(load_settings().data_dir) else "nothing was running")


@commands.command()
def retention():
    """Delete what the retention windows no longer keep, as the index function's daily job does (AMX_RETENTION_DAYS,
    AMX_RETENTION_DEAD_LETTERS_DAYS, AMX_RETENTION_DISCOVERY_SEEN_DAYS), dated by the object store's own time. For the
    embedded defaults, where no daily tick comes without `amx up`. Raw pages and batches are kept (provenance)."""
    from affiliate_matrix.cli.common import console, open_runtime
    from affiliate_matrix.cli.views import utc_text
    from affiliate_matrix.retention import TIME_FIELDS, apply_by_hand, windows
    from affiliate_matrix.wording import counted

    rt = open_runtime("retention")
    dated, deleted = apply_by_hand(rt)
    what = {"deltas": ("change", None), "metrics": ("metric", None), "activations": ("activation", None),
            "queries": ("logged query", "logged queries"), "dead_letters": ("dead letter", None),
            "activation_records": ("activation record", None), "discovery_seen": ("discovery decision", None),
            "deletion_marks": ("deletion mark", None), "tombstones": ("tombstone", None)}
    said = [counted(count, *what.get(kind, (kind, None))) for kind, count in deleted.items()]
    console.print(f"retention as of {utc_text(dated)} UTC (the object store's time): deleted {', '.join(said)}",
                  soft_wrap=True)
    # what each keeps, and what no window touches: an index left out of AMX_RETENTION_DAYS keeps its documents for ever
    kept = windows(rt.settings.retention_days)
    spans = [f"{what[name][1] or what[name][0] + 's'} {counted(days, 'day')}" for name, days in kept.items()]
    spans += [f"dead letters {counted(rt.settings.retention_dead_letters_days, 'day')}",
              f"discovery decisions {counted(rt.settings.retention_discovery_seen_days, 'day')}"]
    forever = [what[name][1] or what[name][0] + "s" for name in TIME_FIELDS if name not in kept]
    console.print(f"kept: {', '.join(spans)}" + (f"; for ever (not in AMX_RETENTION_DAYS): {', '.join(forever)}"
                                                 if forever else ""), soft_wrap=True)
