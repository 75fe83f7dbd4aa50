"""Import discipline of the functions' cold start (issue 20), held without a clock: a function's start
(importing its main.py) and its first request load none of the heavy libraries. The timed figures are
`python -m tests.bench cold_start`."""

import json
import os
import subprocess
import sys

import pytest

from tests.bench.cold_start import FIRST_REQUESTS, TOKEN_FREE
from tests.support.processes import ROOT

# Each of these costs a cold start 15 ms or more (measured with `python -X importtime`), or is a
# backend's client that only some work uses; those the floor itself imports are not counted.
HEAVY = ("jwt", "cryptography", "numpy", "boto3", "botocore", "opensearchpy", "hvac", "rapidfuzz", "httpx",
         "selectolax", "protego", "tldextract", "pycountry", "cronsim", "yaml", "cloudevents", "prometheus_client",
         "common_expression_language", "cel", "pyarrow", "scipy", "pandas", "statsmodels", "matplotlib",
         "typer", "rich", "snowballstemmer")
# Our own modules that cost a cold start 5 ms or more and that only some work needs: the domain's classes
# (programs, records), the search port, the programs API, the budget's allocation contract.
HEAVY_OWN = ("affiliate_matrix.models", "affiliate_matrix.search", "affiliate_matrix.handlers.programs",
             "affiliate_matrix.budget.models")
# Cheaper, but kept apart only so that a start and a first request do not build them: the OpenAPI writer and the
# models only the document names, the search's answer (checked by the tests, not at run time), the rules API's dry-run
# and activations models, the merchants' answers, the connections' test and delete answers.
LAZY_OWN = ("affiliate_matrix.handlers.openapi", "affiliate_matrix.handlers.program_page",
            "affiliate_matrix.handlers.rule_shapes", "affiliate_matrix.handlers.merchant_shapes",
            "affiliate_matrix.handlers.connection_shapes")
# What a start and a first request may load: the programs function opens its index at start and its API searches
# it; no function's first request loads a heavy library (the embedded index's columns are the standard library's).
START_NEEDS = {"programs": {"affiliate_matrix.search", "affiliate_matrix.handlers.programs"}}
FIRST_REQUEST_NEEDS = {"programs": {"affiliate_matrix.search", "affiliate_matrix.handlers.programs"}}
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/main.py"))

PROBE = """
import json, sys
import functions_framework, pydantic, pydantic_settings, structlog  # the floor (tests/bench/hello_floor)

heavy = set(sys.argv[3].split(",")) - set(sys.modules)
loaded = lambda: sorted(name for name in heavy if name in sys.modules)
create_app = functions_framework.create_app
app = create_app(target="handle", source=sys.argv[1])
at_start = loaded()
answer = app.test_client().get(sys.argv[2], headers=json.loads(sys.argv[4]))


def models(kind=pydantic.BaseModel):  # the names of every model class defined so far, ours and the libraries'
    return {name for sub in kind.__subclasses__() for name in {sub.__name__, *models(sub)}}


print(json.dumps({"status": answer.status_code, "start": at_start, "first_request": loaded(),
                  "models": sorted(models())}))
"""


@pytest.fixture(scope="module")
def read_token(tmp_path_factory):
    from affiliate_matrix.auth import create_token
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import open_secret_store

    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule
    from affiliate_matrix.runtime import Runtime

    data = tmp_path_factory.mktemp("cold") / ".amx"
    # A stored schedule rule: GET /rules reads and checks it without the cron library (it was judged when written).
    save_rule(Runtime("test", Settings(data_dir=data)).store, Rule(
        id="nightly", trigger={"schedule": "0 3 * * *"}, condition="true", action={"type": "alert"}))
    return data, create_token(open_secret_store(Settings(data_dir=data)), "read")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_starts_and_answers_its_first_request_without_heavy_libraries(function, read_token):
    data, token = read_token
    path = FIRST_REQUESTS.get(function, "/healthz")
    headers = {} if path in TOKEN_FREE else {"Authorization": f"Bearer {token}"}
    # A fresh interpreter (this one has imported everything the other tests use), on the default embedded backends.
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AMX_")}, "AMX_DATA_DIR": str(data)}
    result = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "functions" / function / "main.py"), path,
                             ",".join(HEAVY + HEAVY_OWN + LAZY_OWN), json.dumps(headers)],
                            capture_output=True, text=True, timeout=120, cwd=data.parent,
                            env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["status"] == 200, f"GET {path} on {function}"
    unexpected_at_start = set(loaded["start"]) - START_NEEDS.get(function, set())
    assert not unexpected_at_start, f"{function}'s start imports {sorted(unexpected_at_start)}"
    unexpected = set(loaded["first_request"]) - FIRST_REQUEST_NEEDS.get(function, set())
    assert not unexpected, f"{function}'s first request (GET {path}) imports {sorted(unexpected)}"
    # a search's parameters are checked by search_params.fast: its model (~17 M instructions) waits for a value that
    # needs it, or the document
    assert "SearchParams" not in loaded["models"], f"{function}'s start or first request defines SearchParams"


SERVE_PROBE = """
import gc, json
import affiliate_matrix.server as server

importing = gc.isenabled()
seen = {}


class Server:
    def run(self, host, port):  # what gunicorn would fork from: record, do not serve
        seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())


server.create_server = lambda app, debug, **options: Server()
server.main(["--source", "functions/verify/main.py", "--target", "handle", "--port", "1"], standalone_mode=False)
print(json.dumps({"importing": importing, **seen}))
"""


def test_amx_function_collects_no_garbage_while_importing_and_freezes_it_for_the_worker(tmp_path):
    """Python's recipe for a server that forks (the gc.freeze docs): collection off while the function is imported,
    what is alive then frozen before the fork, collection on for the requests."""
    shown = subprocess.run([sys.executable, "-c", SERVE_PROBE], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "AMX_DATA_DIR": str(tmp_path / ".amx")}, check=True)
    seen = json.loads(shown.stdout.strip().splitlines()[-1])
    assert seen["importing"] is False
    assert seen["enabled"] is True
    assert seen["frozen"] > 50_000  # the framework's and the function's objects, not a handful


PATTERNS_PROBE = """
import json, re, sys
from functions_framework import create_app

app = create_app(target="handle", source=sys.argv[1])
answer = app.test_client().get("/connections", headers={"Authorization": "Bearer " + sys.argv[2]})
print(json.dumps({"status": answer.status_code, "patterns": [str(key[1]) for key in re._cache]}))
"""


def test_the_connections_start_and_first_read_compile_no_pattern_only_a_write_or_a_header_uses(tmp_path):
    """Each of these patterns cost a start ~0.3-1.5 M instructions to compile: a cron schedule (when a stored
    connection is read), a key version in a refusal mark, a caller's X-Request-Id and traceparent (when a request brings
    one). re compiles each on its first use instead. (A name's characters, checked when written, are a set, no
    pattern: model_types.check_name.)"""
    from affiliate_matrix import connections, model_types, observability
    from affiliate_matrix.auth import create_token
    from affiliate_matrix.config import Settings
    from affiliate_matrix.observability import telemetry
    from affiliate_matrix.runtime import open_secret_store

    data = tmp_path / ".amx"
    token = create_token(open_secret_store(Settings(data_dir=data)), "read")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AMX_")}, "AMX_DATA_DIR": str(data)}
    shown = subprocess.run([sys.executable, "-c", PATTERNS_PROBE, str(ROOT / "functions/connections/main.py"), token],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=True)
    seen = json.loads(shown.stdout.strip().splitlines()[-1])
    assert seen["status"] == 200
    lazy = {getattr(pattern, "pattern", pattern) for pattern in (
        model_types.CRON_FIELDS, connections._REFUSED_VERSION, observability._REQUEST_ID,
        telemetry._TRACEPARENT)}
    assert lazy.isdisjoint(seen["patterns"])


def test_the_stores_a_start_opens_compile_no_pattern_when_imported():
    """A start opens the object store (the local one, or S3), the search index (OpenSearch) and the secret store
    (OpenBao), each adapter importing the host checks (netguard); the patterns of these modules wait for their use (a
    file name, a host name), as re compiles them then."""
    from affiliate_matrix import netguard
    from affiliate_matrix.storage import local

    adapters = ("affiliate_matrix.storage.local", "affiliate_matrix.storage.s3", "affiliate_matrix.search.opensearch",
                "affiliate_matrix.secrets.vault", "affiliate_matrix.events.http")
    probe = f"import importlib, json, re; [importlib.import_module(name) for name in {adapters!r}]; " \
            "print(json.dumps([str(key[1]) for key in re._cache]))"
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    compiled = set(json.loads(shown.stdout.strip().splitlines()[-1]))
    lazy = {getattr(pattern, "pattern", pattern) for pattern in (local._CAPITAL, local._MARKED, netguard._LABEL)}
    assert compiled.isdisjoint(lazy)
