"""discover: a discovery run on a cron event (niches from the event data or AMX_DISCOVERY_NICHES),
on a `dev.affiliatematrix.action.discover` event from a rule, or on POST /discover
{"niches": [...], "languages": [...]} (admin token), which answers with the run's report."""

import re
from dataclasses import asdict, fields
from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, create_model

from affiliate_matrix.discovery.dorks import MAX_NICHE, NICHE_RULE, TEMPLATES
from affiliate_matrix.errors import BackendUnavailable, InvalidInput
from affiliate_matrix.handlers.events import http_or_event
from affiliate_matrix.handlers.routes import Api, Route, Shape, dispatcher, refuse


def _searchable(niches: list[str]) -> list[str]:
    """The niches of a request, the first whose words a search engine would read as operators refused naming it."""
    from affiliate_matrix.discovery.dorks import niche_problem

    for number, niche in enumerate(niches):
        if why := niche_problem(niche):
            raise refuse(f"niches.{number}: {why}")
    return niches


class DiscoverRequest(Shape):
    model_config = ConfigDict(extra="forbid")
    niches: Annotated[list[Annotated[str, Field(min_length=1, max_length=MAX_NICHE)]], AfterValidator(_searchable)] = \
        Field(min_length=1, max_length=50, description=f"Searched as the words they are: {NICHE_RULE}.")
    languages: list[Literal[tuple(TEMPLATES)]] | None = Field(
        None, min_length=1, max_length=10, description='Two-letter codes of languages with dork templates, e.g. ["en", "de"]')


def handle(rt, request):
    return http_or_event(rt, request, dispatcher(api), lambda event: event_work(rt, event))


def event_work(rt, event) -> None:
    """What an event delivered here runs (handlers.events.work_of)."""
    run(rt, event.data)


def run(rt, data: dict):
    settings = rt.settings
    niches = data.get("niches") or ([data["niche"]] if data.get("niche") else None) or \
        [n.strip() for n in settings.discovery_niches.split(",") if n.strip()]
    languages = data.get("languages") or ([data["language"]] if data.get("language") else None) or \
        settings.discovery_languages.split(",")
    # a blank niche's dorks search for no niche at all ('"affiliate program" '), as a rule's discover action refuses it
    if not isinstance(niches, list) or not all(isinstance(n, str) and n.strip() and len(n) <= MAX_NICHE
                                               for n in niches):
        raise InvalidInput(f"niches: a list of 1-{MAX_NICHE} character strings, none blank")
    if len(niches) > 50:
        raise InvalidInput("niches: at most 50 per run")
    if not isinstance(languages, list) or not 0 < len(languages) <= 10 or \
            not all(isinstance(code, str) and re.fullmatch(r"[a-z]{2}", code) for code in languages):
        raise InvalidInput("languages: a list of 1-10 two-letter language codes, e.g. [\"en\", \"de\"]")
    from affiliate_matrix.discovery import nothing_asked
    from affiliate_matrix.discovery.run import discover  # the crawler and the terms extractor: not for /healthz

    report = discover(rt, niches, languages)
    if why := nothing_asked(report):  # a 503 naming why (an event: redelivered, and counted as failed)
        raise BackendUnavailable(why, cause=why, retry_after=60)
    return report


# A failure is a (url, reason) pair, declared as a two-item list: schemathesis misreads the prefixItems of
# a tuple's schema (schemathesis#3842).
Pair = Annotated[list[str], Field(min_length=2, max_length=2)]


@cache
def api() -> Api:
    from affiliate_matrix.discovery import DiscoveryReport

    Report = create_model("DiscoveryReport", __base__=Shape,
                          **{f.name: (list[Pair] if f.name == "failures" else f.type, ...) for f in fields(DiscoveryReport)})
    return Api("Affiliate Matrix discovery API", [
        Route("POST", "/discover", lambda call: asdict(run(call.rt, call.body)), Report, body=DiscoverRequest,
              role="admin", summary="Run a discovery now and answer with its report"),
    ])
