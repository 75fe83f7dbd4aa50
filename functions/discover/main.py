"""discover: find new programs by dork queries, on a cron PingSource, a rule's action or POST /discover."""

from affiliate_matrix.handlers import entry_point, discover
from affiliate_matrix.runtime import start

rt = start("discover")


@entry_point
def handle(request):
    return discover.handle(rt, request)
