"""web: the programs index as HTML pages for people, signed in with an API token."""

from affiliate_matrix.handlers import entry_point, web
from affiliate_matrix.runtime import start

# A browser's first request, the sign-in page, reads neither the index nor the tokens: the first request
# that does opens them (runtime.py).
rt = start("web")


@entry_point
def handle(request):
    return web.handle(rt, request)
