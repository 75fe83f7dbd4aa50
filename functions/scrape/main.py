"""scrape: run one connection's scrape when its cron PingSource fires."""

import functions_framework

from affiliate_matrix.handlers import scrape
from affiliate_matrix.runtime import start

rt = start("scrape")


@functions_framework.http
def handle(request):
    return scrape.handle(rt, request)
