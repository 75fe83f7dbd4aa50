"""verify: re-check the stalest programs on their sources, on a cron PingSource."""

import functions_framework

from affiliate_matrix.handlers import verify, serve_unrouted
from affiliate_matrix.runtime import start

rt = start("verify")


@functions_framework.http
def handle(request):
    return verify.handle(rt, request)


serve_unrouted(handle)  # what functions-framework answers itself, as any other path
