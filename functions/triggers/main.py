"""triggers: evaluate rules on events and on a cron PingSource; dispatch their actions as CloudEvents."""

import functions_framework

from affiliate_matrix.handlers import triggers, serve_unrouted
from affiliate_matrix.runtime import start

rt = start("triggers", "store", "secrets")


@functions_framework.http
def handle(request):
    return triggers.handle(rt, request)


serve_unrouted(handle)  # what functions-framework answers itself, as any other path
