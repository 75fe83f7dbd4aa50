"""amx-function: how every function is served (the image's entry point, the local run, the tests, the bench).

It is functions-framework's own command with one change: functions-framework turns off gunicorn's limit on the
request line (`limit_request_line: 0`, for long GET URLs), so a client could send a request line of any length and
gunicorn would hold it all in memory before any route saw it. Here gunicorn's own maximum (8190 bytes) is back;
a longer line is answered 414 (Request-URI Too Large)
by gunicorn itself. Options and environment variables are functions-framework's (FUNCTION_TARGET, FUNCTION_SOURCE,
HOST, PORT); every function is an HTTP function (events arrive as HTTP requests: handlers/events.py).
"""

import click
from functions_framework import create_app
from functions_framework._http import create_server  # the server functions-framework's own command starts

MAX_REQUEST_LINE = 8190  # gunicorn's largest limit (and its default); header count and size keep gunicorn's defaults


@click.command()
@click.option("--target", envvar="FUNCTION_TARGET", required=True)
@click.option("--source", envvar="FUNCTION_SOURCE", type=click.Path(), default=None)
@click.option("--host", envvar="HOST", default="0.0.0.0")
@click.option("--port", envvar="PORT", type=int, default=8080)
def main(target: str, source: str | None, host: str, port: int) -> None:
    create_server(create_app(target, source, "http"), False, limit_request_line=MAX_REQUEST_LINE).run(host, port)
