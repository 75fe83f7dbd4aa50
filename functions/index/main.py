"""index: fold a stored batch of raw records into the master index."""

from affiliate_matrix.handlers import entry_point, index
from affiliate_matrix.runtime import start

rt = start("index")


@entry_point
def handle(request):
    return index.handle(rt, request)
