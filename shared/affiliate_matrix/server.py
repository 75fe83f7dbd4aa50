"""amx-function: how every function is served (the image's entry point, the local run, the tests, the bench).

It is functions-framework's own command with one change: functions-framework turns off gunicorn's limit on the
request line (`limit_request_line: 0`, for long GET URLs), so a client could send a request line of any length and
gunicorn would hold it all in memory before any route saw it. Here gunicorn's own maximum (8190 bytes) is back;
a longer line is answered 414 (Request-URI Too Large)
by gunicorn itself. Options and environment variables are functions-framework's (FUNCTION_TARGET, FUNCTION_SOURCE,
HOST, PORT); every function is an HTTP function (events arrive as HTTP requests: handlers/events.py), whose entry
point (handlers.entry_point) is sent what functions-framework answers itself too.

Its garbage collection follows Python's recipe for a server that forks its workers (the `gc.freeze` docs): off
while the process imports the function, frozen right before gunicorn forks the worker, back on for the requests.
What an import makes lives as long as the process, so a collection then finds next to nothing to free, and the
passes it runs are about a sixth of a start; frozen, those objects are not written by the worker's passes either,
which would copy the pages it shares with the master.
"""

import gc

gc.disable()  # before the imports below: functions-framework, Flask and gunicorn are most of what a start imports

import click  # noqa: E402
from functions_framework import create_app  # noqa: E402
from functions_framework._http import create_server  # noqa: E402  (the server functions-framework's command starts)

MAX_REQUEST_LINE = 8190  # gunicorn's largest limit (and its default); header count and size keep gunicorn's defaults


@click.command()
@click.option("--target", envvar="FUNCTION_TARGET", required=True)
@click.option("--source", envvar="FUNCTION_SOURCE", type=click.Path(), default=None)
@click.option("--host", envvar="HOST", default="0.0.0.0")
@click.option("--port", envvar="PORT", type=int, default=8080)
def main(target: str, source: str | None, host: str, port: int) -> None:
    app = create_app(target, source, "http")  # imports the function: its settings, ports and checks
    gc.freeze()
    gc.enable()
    create_server(app, False, limit_request_line=MAX_REQUEST_LINE).run(host, port)

