"""connections: manage configured sources over HTTP, and start syncs."""

import functions_framework

from affiliate_matrix.handlers import connections
from affiliate_matrix.runtime import start

rt = start("connections", "store", "secrets")


@functions_framework.http
def handle(request):
    return connections.handle(rt, request)
