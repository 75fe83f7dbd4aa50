"""budget: allocate tomorrow's budget and check pacing on a cron PingSource; take daily performance over HTTP."""

from affiliate_matrix.handlers import entry_point, budget
from affiliate_matrix.runtime import start

rt = start("budget", "store", "secrets")


@entry_point
def handle(request):
    return budget.handle(rt, request)
