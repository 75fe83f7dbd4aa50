"""discover: find new programs by dork queries, on a cron PingSource, a rule's action or POST /discover."""

import functions_framework

from affiliate_matrix.handlers import discover, serve_unrouted
from affiliate_matrix.runtime import start

rt = start("discover")


@functions_framework.http
def handle(request):
    return discover.handle(rt, request)


serve_unrouted(handle)  # what functions-framework answers itself, as any other path
