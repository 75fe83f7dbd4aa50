"""programs: search and read the master index over HTTP."""

import functions_framework

from affiliate_matrix.handlers import programs
from affiliate_matrix.runtime import start

rt = start("programs", "index", "secrets")


@functions_framework.http
def handle(request):
    return programs.handle(rt, request)
