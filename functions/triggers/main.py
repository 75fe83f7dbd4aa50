"""triggers: evaluate rules on events and on a cron PingSource; dispatch their actions as CloudEvents."""

from affiliate_matrix.handlers import entry_point, triggers
from affiliate_matrix.runtime import start

rt = start("triggers", "store", "secrets")


@entry_point
def handle(request):
    return triggers.handle(rt, request)
