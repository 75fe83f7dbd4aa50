"""web: the programs index as HTML pages for people, signed in with an API token."""

import functions_framework

from affiliate_matrix.handlers import web, serve_unrouted
from affiliate_matrix.runtime import start

# A browser's first request, the sign-in page, reads neither the index nor the tokens: the first request
# that does opens them (runtime.py).
rt = start("web")


@functions_framework.http
def handle(request):
    return web.handle(rt, request)


serve_unrouted(handle)  # what functions-framework answers itself, as any other path
