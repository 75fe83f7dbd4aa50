"""index: fold a stored batch of raw records into the master index."""

import functions_framework

from affiliate_matrix.handlers import index, serve_unrouted
from affiliate_matrix.runtime import start

rt = start("index")


@functions_framework.http
def handle(request):
    return index.handle(rt, request)


serve_unrouted(handle)  # what functions-framework answers itself, as any other path
