"""Discovery end to end over real HTTP: recorded Google, Brave and SearXNG answers (quota
exhaustion on Google, a 503 from Brave), recorded merchant sites each on its own loopback
address, the polite fetcher's guards, and discovered programs in the index."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import affiliate_matrix.discovery as discovery_package
import affiliate_matrix.discovery.providers as providers
from affiliate_matrix.config import Settings
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.discovery.run import decide, discover, reviews, seen_key
from affiliate_matrix.events import RAW_BATCH_STORED
from affiliate_matrix.models import RawRecord
from affiliate_matrix.normalize import normalize
from affiliate_matrix.pipeline import index_batch
from affiliate_matrix.polite import HostLimits, WaitBudget, WaitsSpent
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, to_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.clock import FakeTime

RECORDED = Path(discovery_package.__file__).parent / "recorded"
DAY = "2026-03-14"  # the day every run here counts its queries under, whatever the machine's clock says
SITES = {"pawsome": "127.0.0.2", "tailwag": "127.0.0.3", "petblog": "127.0.0.4", "kittycorner": "127.0.0.5",
         "shortlink": "127.0.0.6"}


@pytest.fixture(scope="module")
def urls():
    directories = {name: RECORDED / name for name in ("google", "brave", "searxng")}
    directories |= {name: f"{RECORDED / 'sites' / name}@{host}" for name, host in SITES.items()}
    with recorded_sites(*directories, directories=directories) as served:
        yield served


@pytest.fixture
def rt(tmp_path, urls, monkeypatch):
    # a run across midnight would count on two days; noon UTC is the same day in Pacific time, Google's quota day
    monkeypatch.setattr(providers, "now", lambda: datetime.fromisoformat(f"{DAY}T12:00:00+00:00"))
    runtime = Runtime("test", Settings(
        data_dir=tmp_path, allow_loopback_fetch=True, discovery_providers="google,brave,searxng",
        google_cse_url=urls["google"], brave_search_url=urls["brave"], searxng_url=urls["searxng"]))
    runtime.secrets.write("discovery/google", {"api_key": "test-google-key", "cx": "test-cx"})
    runtime.secrets.write("discovery/brave", {"api_token": "test-brave-token"})
    runtime.bus.subscribe(RAW_BATCH_STORED, lambda event: index_batch(runtime, event.data["batch_key"]))
    known = normalize(RawRecord(source="affiliateprograms", connection_id="ap", record_key="chewy",
                                url="https://www.affiliateprograms.com/p/chewy/", fetched_at=datetime(2026, 3, 1, tzinfo=UTC),
                                raw_key="raw/x", name="Chewy", merchant_url="https://www.chewy.com/"))
    runtime.index.ensure_index(PROGRAMS_INDEX)
    runtime.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(known)], refresh=True)
    return runtime


@pytest.fixture
def pacing():
    """A clock that moves only when slept on, and hosts of their own: the providers' rates, the fetcher's turn at
    each site and Brave's retries are kept without waiting them out in real time (11 s of a run)."""
    return FakeTime().options(HostLimits())


def test_dorks_to_discovered_programs(rt, pacing):
    report = discover(rt, ["pets"], ["en"], **pacing)
    # google answered the first query, then ran out of quota; brave took over, then failed; searxng finished
    assert report.queries == 5 and report.unanswered == []
    assert report.quota_exhausted == ["google"]
    assert report.provider_errors == ["brave: HTTP 503 SERVICE_UNAVAILABLE: The service is temporarily unavailable."]
    usage = json.loads(rt.store.get(f"discovery/usage/{DAY}.json").data)
    assert usage["google"] == {"queries": 1, "cost_usd": 0.005, "exhausted": True}
    assert usage["brave"]["queries"] == 1 and usage["searxng"]["queries"] == 3

    # nine results, six domains; chewy.com is already indexed
    assert report.results == 9 and report.candidates == 6 and report.known == ["chewy.com"]
    assert report.discovered == ["127.0.0.2"] and report.review == ["127.0.0.3"] and report.rejected == ["127.0.0.4"]
    assert report.rejected_why == {"127.0.0.4": "an affiliate-link disclosure: a publisher's page, not a program"}
    failures = dict(report.failures)
    assert any("disallowed by robots.txt" in reason for reason in failures.values())
    assert any("169.254.169.254" in reason for reason in failures.values())  # the redirect to metadata was refused

    hits = rt.index.search(PROGRAMS_INDEX.name, SearchQuery(filters={"status": ["discovered"]}))
    assert hits.total == 1
    program = from_document(hits.hits[0].doc)
    assert program.name == "Pawsome" and program.discovery.confidence >= 0.7
    assert program.discovery.provider == "google" and program.discovery.query == '"affiliate program" pets'
    assert any("shareasale" in e for e in program.discovery.evidence)
    assert program.networks[0].network == "shareasale" and program.cookie_days == 45
    assert float(program.commission[0].value_min) == 20.0
    assert rt.store.get(program.provenance["name"][0].raw_key).data.startswith(b"<!DOCTYPE html>")  # raw page kept


def test_a_second_run_skips_what_it_has_judged_and_review_decides(rt, pacing):
    discover(rt, ["pets"], ["en"], **pacing)
    again = discover(rt, ["pets"], ["en"], **pacing)
    # google is known to be out for today and is not asked (the report says why); brave fails; searxng answers all five
    assert again.quota_exhausted == ["google"] and again.queries == 5
    assert again.discovered == again.review == again.rejected == again.failures == []
    assert again.known == ["127.0.0.2", "127.0.0.3"]  # judged last run: not fetched again

    assert [r["domain"] for r in reviews(rt)] == ["127.0.0.3"]
    record = decide(rt, "127.0.0.3", accept=True)
    assert record.name == "Tailwag" and reviews(rt) == []
    with pytest.raises(Exception, match="not on the review list"):
        decide(rt, "127.0.0.3", accept=False)


def test_a_rebuild_brings_back_what_discovery_found_and_a_person_accepted(rt, pacing):
    from affiliate_matrix.pipeline import rebuild

    discover(rt, ["pets"], ["en"], **pacing)
    decide(rt, "127.0.0.3", accept=True)
    discovered = SearchQuery(filters={"status": ["discovered"]})
    names = sorted(hit.doc["name"] for hit in rt.index.search(PROGRAMS_INDEX.name, discovered).hits)
    assert names == ["Pawsome", "Tailwag"]
    for hit in rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=100)).hits:  # the index is lost
        rt.index.delete(PROGRAMS_INDEX.name, hit.id)
    rebuilt = rebuild(rt)  # no connection stored: discovery's batches alone
    assert rebuilt.discovery_batches == 2 and rebuilt.replayed == rebuilt.left_out == []
    assert sorted(hit.doc["name"] for hit in rt.index.search(PROGRAMS_INDEX.name, discovered).hits) == names


def test_no_usable_provider_is_a_clear_error(tmp_path):
    from affiliate_matrix.errors import InvalidInput

    bare = Runtime("test", Settings(data_dir=tmp_path, discovery_providers="searxng,google,brave"))
    with pytest.raises(InvalidInput) as refused:
        discover(bare, ["pets"], ["en"])
    # it said "set AMX_DISCOVERY_PROVIDERS, the provider URLs, and credentials": now what each one lacks, and how to
    # give it
    assert str(refused.value) == (
        "no search provider is usable (AMX_DISCOVERY_PROVIDERS names them): searxng has no URL (AMX_SEARXNG_URL); "
        "google has no key (amx keys add discovery/google --rotation manual --field api_key --field cx); "
        "brave has no key (amx keys add discovery/brave --rotation manual --field api_token)")
    with pytest.raises(InvalidInput, match="no dork templates for language"):
        discover(bare, ["pets"], ["xx"])


def test_the_discover_function_runs_on_http_and_on_a_rule_action(rt, urls, monkeypatch):
    from functions_framework import create_app

    from affiliate_matrix.auth import create_token
    from affiliate_matrix.events import ACTION_PREFIX, Event
    from tests.support.processes import ROOT

    for name, value in {"AMX_DATA_DIR": str(rt.settings.data_dir), "AMX_ALLOW_LOOPBACK_FETCH": "true",
                        "AMX_DISCOVERY_PROVIDERS": "searxng", "AMX_SEARXNG_URL": urls["searxng"]}.items():
        monkeypatch.setenv(name, value)
    app = create_app("handle", str(ROOT / "functions" / "discover" / "main.py")).test_client()
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    assert app.post("/discover", json={"niches": ["pets"]}).status_code == 401
    refused = app.post("/discover", headers=admin, json={"niches": ["pets"], "evil": 1})
    assert refused.status_code == 400 and "unknown field(s): evil" in refused.json["error"]["message"]
    reply = app.post("/discover", headers=admin, json={"niches": ["pets"], "languages": ["en"]})
    assert reply.status_code == 200 and reply.json["queries"] == 5
    assert reply.json["discovered"] == ["127.0.0.2"] and reply.json["review"] == ["127.0.0.3"]

    # a rule's discover action, as the Broker delivers it: the next niche
    action = Event.make(ACTION_PREFIX + "discover", "/triggers", {"rule_id": "r", "params": {"niche": "cats"},
                                                                    "inputs": {}})
    from tests.support.events import deliver

    assert deliver(app, action, "discover", binary=True).status_code == 204
    usage = json.loads(rt.store.get(f"discovery/usage/{DAY}.json").data)
    assert usage["searxng"]["queries"] == 10  # five dorks for pets, five for cats


def test_the_cli_says_which_provider_is_spent_or_failing_and_fails_a_run_that_left_queries_unanswered(
        rt, urls, pacing, monkeypatch):
    """`amx discover run` printed a spent provider as its bare name ("provider google"), a provider whose quota a
    run before had spent not at all, never the queries no provider answered, and exited 0 with 0 queries sent."""
    import functools

    from typer.testing import CliRunner

    import affiliate_matrix.discovery.run as run
    from affiliate_matrix.cli import app

    for name, value in {"AMX_DATA_DIR": str(rt.settings.data_dir), "AMX_ALLOW_LOOPBACK_FETCH": "true",
                        "AMX_DISCOVERY_PROVIDERS": "google,brave", "AMX_GOOGLE_CSE_URL": urls["google"],
                        "AMX_BRAVE_SEARCH_URL": urls["brave"], "COLUMNS": "400"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(run, "discover", functools.partial(run.discover, **pacing))
    for _ in range(2):  # the second run finds google spent by the first before it asks anything
        result = CliRunner().invoke(app, ["discover", "run", "pets"])
        assert result.exit_code == 1, (result.output, result.exception)
        assert "provider google: its quota for the day is spent (AMX_DISCOVERY_QUOTAS, or the provider said so)" \
            in result.output
        assert "provider brave: HTTP 503 SERVICE_UNAVAILABLE: The service is temporarily unavailable." in result.output
    assert "unanswered: 5 of 5 queries, no provider could take them" in result.output
    # it said "0 queries"; the summary is a line of its own (the first, now that no log line repeats the listing)
    assert any(line.startswith("0 of 5 queries answered, 0 results") for line in result.output.splitlines()), \
        result.output


def test_the_cli_lists_a_provider_left_out_once_and_not_as_its_log_line(rt, urls, pacing, monkeypatch):
    """A provider left out of the run (no URL, no key) was said only as a log line beside the listing when another
    provider answered, and as three log lines above the error naming the same when none could: listed once now, below
    the summary, or in the error. Asked for (AMX_LOG_LEVEL), the logs are written whole."""
    import functools

    from typer.testing import CliRunner

    import affiliate_matrix.discovery.run as run
    from affiliate_matrix.cli import app

    for name, value in {"AMX_DATA_DIR": str(rt.settings.data_dir), "AMX_ALLOW_LOOPBACK_FETCH": "true",
                        "AMX_DISCOVERY_PROVIDERS": "searxng,brave", "AMX_BRAVE_SEARCH_URL": urls["brave"],
                        "COLUMNS": "400"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AMX_SEARXNG_URL", raising=False)
    monkeypatch.delenv("AMX_LOG_LEVEL", raising=False)
    monkeypatch.setattr(run, "discover", functools.partial(run.discover, **pacing))
    result = CliRunner().invoke(app, ["discover", "run", "pets"])
    assert "provider searxng has no URL (AMX_SEARXNG_URL)" in result.output, (result.output, result.exception)
    assert "discovery.provider_unconfigured" not in result.output, result.output
    monkeypatch.setenv("AMX_DISCOVERY_PROVIDERS", "searxng")
    refused = CliRunner().invoke(app, ["discover", "run", "pets"])
    assert "searxng has no URL (AMX_SEARXNG_URL)" in str(refused.exception), refused.exception
    assert "discovery.provider_unconfigured" not in refused.output, refused.output
    monkeypatch.setenv("AMX_LOG_LEVEL", "warning")
    assert "discovery.provider_unconfigured" in CliRunner().invoke(app, ["discover", "run", "pets"]).output


def test_a_searxng_answer_some_of_whose_engines_failed_is_in_the_report_and_listed_once(rt, urls, pacing, monkeypatch):
    """SearXNG's engines failing (a CAPTCHA) beside others that found nothing is read as no results, and that was said
    only as a log line (discover.searxng_engines_failed): it is in the run's report (partial_answers), listed by amx
    discover run once, not again as its log line."""
    import functools

    from typer.testing import CliRunner

    import affiliate_matrix.discovery.run as run
    from affiliate_matrix.cli import app

    told = ("searxng: its engines google (CAPTCHA) did not answer and brave, duckduckgo found nothing: read as no "
            "results, which the engines that failed may have had")
    monkeypatch.setattr(rt, "settings", rt.settings.model_copy(update={"discovery_providers": "searxng"}))
    assert discover(rt, ["aquarium"], ["en"], **pacing).partial_answers == [told]
    for name, value in {"AMX_DATA_DIR": str(rt.settings.data_dir), "AMX_ALLOW_LOOPBACK_FETCH": "true",
                        "AMX_DISCOVERY_PROVIDERS": "searxng", "AMX_SEARXNG_URL": urls["searxng"],
                        "COLUMNS": "400"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AMX_LOG_LEVEL", raising=False)
    monkeypatch.setattr(run, "discover", functools.partial(run.discover, **pacing))
    result = CliRunner().invoke(app, ["discover", "run", "aquarium"])
    assert f"provider {told}" in result.output, (result.output, result.exception)
    assert "searxng_engines_failed" not in result.output, result.output


class EndsAtHost(WaitBudget):
    """A run's budget of waits that runs out when the run first asks `host` (in real runs, whichever request comes
    when the waits charged reach the function's time limit)."""

    def __init__(self, host: str):
        super().__init__(float("inf"))
        self.host = host

    def charge(self, wait: float, label: str) -> None:
        if self.host in label:
            raise WaitsSpent(f"{label}: not asked: its wait would pass the run's waits")
        super().charge(wait, label)


def test_a_run_out_of_time_keeps_what_it_judged_and_says_what_it_did_not(rt, pacing):
    """A run with thousands of candidates went on judging past the discover function's time limit and was killed, its
    batch never written, and a page refused by the run's budget would have read as that site's failure. It stops now
    when its budget of waits is spent, writes the batch of what it judged, and lists the rest as not judged: not
    remembered, so the next run that finds them judges them."""
    report = discover(rt, ["pets"], ["en"], **{**pacing, "wait_budget": EndsAtHost("127.0.0.3")})
    assert report.out_of_time and report.queries == 5
    assert report.discovered == ["127.0.0.2"] and report.review == report.rejected == []
    assert report.not_judged[0] == "127.0.0.3" and "127.0.0.4" in report.not_judged
    assert not any("127.0.0.3" in url or "127.0.0.4" in url for url, _ in report.failures)
    assert rt.index.search(PROGRAMS_INDEX.name, SearchQuery(filters={"status": ["discovered"]})).total == 1

    again = discover(rt, ["pets"], ["en"], **pacing)
    assert not again.out_of_time and again.not_judged == []
    assert again.known == ["127.0.0.2"] and again.review == ["127.0.0.3"]  # what this run's queries found again
    assert all(rt.store.head(seen_key(domain)) is None for domain in report.not_judged[1:])  # left for a later run


def test_a_run_s_budget_is_the_function_s_time_limit_less_a_tenth(rt, pacing):
    """Queries and pages share it: a limit too short for the run's queries leaves the rest unasked and no page judged."""
    rt.settings = rt.settings.model_copy(update={"crawl_time_limit_s": 1})  # 0.9 s: one query's spacing, not two
    report = discover(rt, ["pets"], ["en"], **pacing)
    assert report.out_of_time and report.queries == 1 and len(report.unanswered) == 4
    assert report.discovered == report.review == report.rejected == [] and report.batch_key is None
    assert report.not_judged and len(report.not_judged) == report.candidates - len(report.known)


def test_the_cli_names_the_sites_it_discovered_put_to_review_and_rejected(rt, urls, pacing, monkeypatch):
    """`amx discover run` counted them ("1 discovered, 1 to review, 1 not programs") and named none: a person went to
    amx search and amx discover review to learn what the run had found."""
    import functools

    from typer.testing import CliRunner

    import affiliate_matrix.discovery.run as run
    from affiliate_matrix.cli import app

    for name, value in {"AMX_DATA_DIR": str(rt.settings.data_dir), "AMX_ALLOW_LOOPBACK_FETCH": "true",
                        "AMX_DISCOVERY_PROVIDERS": "google,brave,searxng", "AMX_GOOGLE_CSE_URL": urls["google"],
                        "AMX_BRAVE_SEARCH_URL": urls["brave"], "AMX_SEARXNG_URL": urls["searxng"],
                        "COLUMNS": "400"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(run, "discover", functools.partial(run.discover, **pacing))
    result = CliRunner().invoke(app, ["discover", "run", "pets"])
    assert result.exit_code == 0, (result.output, result.exception)
    lines = [line.strip() for line in result.output.splitlines()]
    assert "discovered (amx search --status discovered): 127.0.0.2" in lines, result.output
    assert "to review (amx discover review): 127.0.0.3" in lines
    # the rejected page with its reason, not its domain alone: petblog's post discloses its affiliate links
    assert "not a program: 127.0.0.4 — an affiliate-link disclosure: a publisher's page, not a program" in lines
    # a page that could not be fetched is named once ("fetch URL: URL: disallowed by robots.txt" before)
    [robots] = [line for line in lines if "robots.txt" in line]
    assert robots.startswith(f"fetch {urls['kittycorner']}/affiliates/: disallowed by robots.txt"), robots
