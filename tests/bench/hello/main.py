"""The baseline for cold starts: a bare functions-framework hello world."""

import functions_framework


@functions_framework.http
def handle(request):
    return "hello"
