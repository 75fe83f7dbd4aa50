"""connections: manage configured sources over HTTP, and start syncs."""

import functions_framework

from affiliate_matrix.handlers import connections, serve_unrouted
from affiliate_matrix.runtime import start

rt = start("connections", "store", "secrets")


@functions_framework.http
def handle(request):
    return connections.handle(rt, request)


serve_unrouted(handle)  # what functions-framework answers itself, as any other path
