"""web: the programs index as HTML pages for people, signed in with an API token."""

import functions_framework

from affiliate_matrix.handlers import web
from affiliate_matrix.runtime import start

rt = start("web", "index", "secrets")


@functions_framework.http
def handle(request):
    return web.handle(rt, request)
