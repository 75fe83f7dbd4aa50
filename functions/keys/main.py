"""keys: rotate keys that are due and warn about expiring ones, on a cron PingSource."""

import functions_framework

from affiliate_matrix.handlers import keys, serve_unrouted
from affiliate_matrix.runtime import start

rt = start("keys")


@functions_framework.http
def handle(request):
    return keys.handle(rt, request)


serve_unrouted(handle)  # what functions-framework answers itself, as any other path
