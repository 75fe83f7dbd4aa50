"""sync: read one API connection (a network or aggregator) when its cron PingSource fires."""

from affiliate_matrix.handlers import entry_point, scrape
from affiliate_matrix.runtime import start

rt = start("sync")


@entry_point
def handle(request):
    return scrape.handle(rt, request)
