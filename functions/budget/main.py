"""budget: allocate tomorrow's budget and check pacing on a cron PingSource; take daily performance over HTTP."""

import functions_framework

from affiliate_matrix.handlers import budget, serve_unrouted
from affiliate_matrix.runtime import start

rt = start("budget", "store", "secrets")


@functions_framework.http
def handle(request):
    return budget.handle(rt, request)


serve_unrouted(handle)  # what functions-framework answers itself, as any other path
