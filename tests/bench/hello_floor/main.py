"""The floor under any function of ours: the hello world plus the libraries issue 2 prescribes for
every function's start (pydantic-settings for settings, structlog for logs), imported and unused."""

import functions_framework
import pydantic_settings  # noqa: F401
import structlog  # noqa: F401


@functions_framework.http
def handle(request):
    return "hello"
