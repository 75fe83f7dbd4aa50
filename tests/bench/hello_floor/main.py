"""The floor under any function of ours: the hello world plus the libraries every function's start is
prescribed (pydantic for its documents, pydantic-settings for settings, structlog for logs),
imported and unused."""

import functions_framework
import pydantic  # noqa: F401
import pydantic_settings  # noqa: F401
import structlog  # noqa: F401


@functions_framework.http
def handle(request):
    return "hello"
