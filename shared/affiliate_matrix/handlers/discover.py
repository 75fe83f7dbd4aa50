"""discover: a discovery run on a cron event (niches from the event data or AMX_DISCOVERY_NICHES),
on a `dev.affiliatematrix.action.discover` event from a rule, or on POST /discover
{"niches": [...], "languages": [...]} (admin token), which answers with the run's report."""

import re
from dataclasses import asdict

from affiliate_matrix.auth import authorize
from affiliate_matrix.errors import InvalidInput, MethodNotAllowed, NotFoundError
from affiliate_matrix.handlers import body_of, json_response
from affiliate_matrix.handlers.events import http_or_event


def handle(rt, request):
    return http_or_event(rt, request, route, lambda event: run(rt, event.data))


def run(rt, data: dict):
    niches = data.get("niches") or ([data["niche"]] if data.get("niche") else None) or \
        [n.strip() for n in rt.settings.discovery_niches.split(",") if n.strip()]
    languages = data.get("languages") or ([data["language"]] if data.get("language") else None) or \
        rt.settings.discovery_languages.split(",")
    if not isinstance(niches, list) or not all(isinstance(n, str) and 0 < len(n) <= 100 for n in niches):
        raise InvalidInput("niches: a list of 1-100 character strings")
    if len(niches) > 50:
        raise InvalidInput("niches: at most 50 per run")
    if not isinstance(languages, list) or not 0 < len(languages) <= 10 or \
            not all(isinstance(code, str) and re.fullmatch(r"[a-z]{2}", code) for code in languages):
        raise InvalidInput("languages: a list of 1-10 two-letter language codes, e.g. [\"en\", \"de\"]")
    from affiliate_matrix.discovery.run import discover  # the crawler and the terms extractor: not for /healthz

    return discover(rt, niches, languages)


def route(rt, request):
    if request.path != "/discover":
        raise NotFoundError(f"no route for {request.path}")
    if request.method != "POST":
        raise MethodNotAllowed(request.method, ("POST",))
    authorize(rt, request.headers.get("Authorization"), "admin")
    body = body_of(request)
    if set(body) - {"niches", "languages"}:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(set(body) - {'niches', 'languages'}))}")
    if not body.get("niches"):
        raise InvalidInput("niches: give at least one")
    return json_response(asdict(run(rt, body)))
