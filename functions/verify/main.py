"""verify: re-check the stalest programs on their sources, on a cron PingSource."""

from affiliate_matrix.handlers import entry_point, verify
from affiliate_matrix.runtime import start

rt = start("verify")


@entry_point
def handle(request):
    return verify.handle(rt, request)
