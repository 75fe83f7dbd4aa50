"""programs: search and read the master index over HTTP."""

import functions_framework

from affiliate_matrix.handlers import programs, serve_unrouted
from affiliate_matrix.runtime import start

rt = start("programs", "index", "secrets")


@functions_framework.http
def handle(request):
    return programs.handle(rt, request)


serve_unrouted(handle)  # what functions-framework answers itself, as any other path
