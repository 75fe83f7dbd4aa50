"""programs: search and read the master index over HTTP."""

from affiliate_matrix.handlers import entry_point, programs
from affiliate_matrix.runtime import start

rt = start("programs", "index", "secrets")


@entry_point
def handle(request):
    return programs.handle(rt, request)
