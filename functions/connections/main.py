"""connections: manage configured sources over HTTP, and start syncs."""

from affiliate_matrix.handlers import entry_point, connections
from affiliate_matrix.runtime import start

rt = start("connections", "store", "secrets")


@entry_point
def handle(request):
    return connections.handle(rt, request)
