"""sync: read one API connection (a network or aggregator) when its cron PingSource fires."""

import functions_framework

from affiliate_matrix.handlers import scrape, serve_unrouted
from affiliate_matrix.runtime import start

rt = start("sync")


@functions_framework.http
def handle(request):
    return scrape.handle(rt, request)


serve_unrouted(handle)  # what functions-framework answers itself, as any other path
