"""Hostile input for the property-based tests of every route and event type: the values an attacker
tries first (unicode digits, huge numbers, NUL, path-like ids, overlong and odd unicode strings, deep
nesting), one seeded environment with every function's app on it, and `mutate`, which breaks a
recorded page or answer the way a damaged download would."""

import contextlib
import json
import random
import re

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.processes import ROOT

FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").exists())
# Derandomized and without an example database: the same examples on every run and every machine.
FUZZ = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
FUZZ_FEW = settings(FUZZ, max_examples=4)  # for the many (function, event type) pairs, some of which do real work
NASTY = ["²", "⁵", "١٢", "５", "0" * 40, "9" * 40, str(2**70), "-1", "1e999", "NaN", "Infinity", "..", ".",
         "../../etc/passwd", "/etc/passwd", "a/../../b", "%2e%2e%2f", "\x00", "nul\x00byte", "\u202eevil", "\ufeff",
         "İ", "ß", "𝕏", "x" * 3000, "p_" + "f" * 16, "s_" + "0" * 32, "true", "null", "[]", "{}", "<script>",
         "' OR 1=1 --", "{rule_id}", "C:\\x", " ", "", "connections/../api-tokens/x", "batches/x/../../y.jsonl",
         "rules/activations/../../x.json", "2026-02-30", "0001-01-01", "http:127.0.0.1:9", "http://[::1",
         "http://169.254.169.254/", "file:///etc/passwd", "dev.affiliatematrix..x", "a" * 201]
SEEDED = ["ap", "aw", "r-delta", "c1", "2026-11-23"]  # ids that exist, so deeper code runs too
FIELDS = ["id", "source", "name", "channel", "currency", "trigger", "condition", "action", "params", "days", "day",
          "niches", "niche", "languages", "language", "type", "data", "schedule", "base_url", "credentials_path",
          "rate_limit_per_s", "enabled", "webhook_url", "connection_id", "sync_id", "batch_key", "class",
          "every_minutes", "task", "activation_key", "rule_id", "fields", "program_id", "path", "failed",
          "allocated", "spent", "deviation", "campaign_id", "event", "cooldown_s", "min_budget", "max_budget"]


def text():
    return st.one_of(st.sampled_from(NASTY), st.sampled_from(NASTY[:12]), st.text(max_size=30))  # numbers weigh more


def scalars():
    return st.one_of(st.none(), st.booleans(), st.integers(-(2**80), 2**80), st.floats(), text())


def json_values():
    return st.recursive(scalars(), lambda children: st.lists(children, max_size=4) |
                        st.dictionaries(st.one_of(st.sampled_from(FIELDS), text()), children, max_size=4),
                        max_leaves=12)


def objects():
    """JSON objects with the field names our documents and events use, holding hostile values."""
    return st.dictionaries(st.one_of(st.sampled_from(FIELDS), text()), json_values(), max_size=6)


def deep_json():
    return st.integers(30, 1200).map(lambda n: '{"id": ' + "[" * n + "]" * n + "}")


def bodies():
    """A request body as bytes: a hostile object, deep nesting, a lone surrogate, or not JSON at all."""
    return st.one_of(objects().map(lambda o: json.dumps(o).encode()), deep_json().map(str.encode),
                     st.just(b'{"id": "\\ud800"}'), st.binary(max_size=64), st.just(b""))


def path_parts():
    return st.one_of(st.sampled_from(SEEDED), text())


def header_values():
    return st.one_of(st.sampled_from(['"x"', "*", "W/\"0\"", "²", "a" * 500, ""]),
                     st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20))


TRACEBACK = re.compile(r"Traceback \(most recent call last\)|Exception on /")


def assert_no_traceback(*texts: str) -> None:
    for text_ in texts:
        assert not TRACEBACK.search(text_), text_[-3000:]


@contextlib.contextmanager
def hostile_environment(data_dir, *, programs: bool):
    """Every function's app on one data directory with a connection, an API connection without its secret,
    rules for each event trigger, a campaign and (optionally) programs; yields (apps, admin headers, runtime)."""
    from functions_framework import create_app

    from affiliate_matrix.auth import create_token
    from affiliate_matrix.budget.campaigns import Campaign, save_campaign
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.runtime import Runtime

    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AMX_DATA_DIR": str(data_dir), "AMX_ALLOW_LOOPBACK_FETCH": "true",
                            "AMX_BUDGET_DAILY_TOTAL": "100.00", "AMX_DISCOVERY_PROVIDERS": ""}.items():
            patch.setenv(name, value)
        rt = Runtime("test", Settings())
        closed = "http://127.0.0.1:9"  # nothing listens: a fetch fails at once, and never leaves this machine
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=closed))
        save_connection(rt.store, Connection(id="aw", source="awin", base_url=closed, credentials_path="connections/aw"))
        for trigger, condition in (("program.delta", "delta.commission_percent_new > 1.0"),
                                   ("key.expiring", "key.expires_in_days < 3"), ("budget.pacing", "budget.spent > 1.0"),
                                   ("sync.failed", "true")):
            rule = {"id": "r-" + trigger.split(".")[0], "trigger": {"event": trigger}, "condition": condition,
                    "action": {"type": "alert", "params": {"text": "{rule_id} {program_id}"}}}
            # written as JSON: Rule's validation times a trial run of the condition, which a busy machine can fail
            rt.store.put(f"rules/{rule['id']}.json", json.dumps(rule).encode(), content_type="application/json")
        save_campaign(rt.store, Campaign(id="c1", name="c1", channel="email", currency="USD"), create=True)
        if programs:
            from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
            from tests.support.factories import make_program

            rt.index.ensure_index(PROGRAMS_INDEX)
            rt.index.bulk_upsert("programs", [to_document(make_program(f"Shop {i}", f"https://shop{i}.com"))
                                              for i in range(3)], refresh=True)
        admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
        apps = {name: create_app("handle", str(ROOT / "functions" / name / "main.py")).test_client()
                for name in FUNCTIONS}
        yield apps, admin, rt


def mutate(html: str, seed: int, cuts: int) -> str:
    """Truncate, delete, duplicate and swap random slices; splice in stray markup."""
    rng = random.Random(seed)
    junk = ["<", ">", "</table>", "<tr><th>", "<td>", "<!--", "]]>", "\x00", "&#x0;", "<h1 class=program-name>",
            "<a href=", "\"", "<script>", "</div></div></div>", "\ufffd", "<table class=program-details>"]
    for _ in range(cuts):
        if not html:
            break
        i, j = sorted(rng.randrange(len(html) + 1) for _ in range(2))
        action = rng.randrange(4)
        if action == 0:
            html = html[:i] + html[j:]
        elif action == 1:
            html = html[:i] + html[i:j] * 2 + html[j:]
        elif action == 2:
            html = html[:i] + rng.choice(junk) + html[i:]
        else:
            html = html[:j]
    return html
