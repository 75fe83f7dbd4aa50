"""keys: rotate keys that are due and warn about expiring ones, on a cron PingSource."""

from affiliate_matrix.handlers import entry_point, keys
from affiliate_matrix.runtime import start

rt = start("keys")


@entry_point
def handle(request):
    return keys.handle(rt, request)
