"""Every event type, delivered to every function that takes events, with hostile data and attributes
(hypothesis): the answer is 204 (done or acknowledged) or a 4xx naming the problem, never a 5xx, and
neither the answer nor the logs hold a traceback. Events go through tests/support/events.deliver_event."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from affiliate_matrix import events
from affiliate_matrix.rules.actions import HANDLERS
from tests.support.events import deliver_event
from tests.support.hostile import FUZZ_FEW, assert_no_traceback, deep_json, hostile_environment, objects, text

EVENT_FUNCTIONS = ["budget", "discover", "index", "keys", "scrape", "sync", "triggers", "verify"]
TYPES = sorted({value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)
                and value.startswith("dev.")
                and not value.endswith(".")} | {events.ACTION_PREFIX + kind for kind in HANDLERS}
               | {"dev.knative.sources.ping", "dev.affiliatematrix.unknown"})
_ids = itertools.count()


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    # no programs: the verify function would re-check their pages on the network
    with hostile_environment(tmp_path_factory.mktemp("fuzz-events"), programs=False) as env:
        yield env


def attributes():
    times = st.sampled_from(["2026-11-22T06:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "yesterday",
                             "2026-11-22T06:00:00", "2026-02-30T00:00:00Z", ""])
    return st.fixed_dictionaries({}, optional={"id": text(), "source": text(), "subject": text(), "time": times,
                                              "traceparent": text(), "specversion": st.sampled_from(["1.0", "0.3", "9"])})


@pytest.mark.parametrize("function", EVENT_FUNCTIONS)
@pytest.mark.parametrize("type", [*TYPES, "hostile"])
@given(data=st.data())
@FUZZ_FEW
def test_no_event_answers_hostile_input_with_a_5xx_or_a_traceback(environment, capsys, function, type, data):
    apps, _, _ = environment
    if type == "hostile":
        type = data.draw(text(), label="type")
    given_attributes = {"id": f"fuzz-{next(_ids)}", **data.draw(attributes(), label="attributes")}
    if data.draw(st.integers(0, 9), label="deep") == 0:
        response = deliver_event(apps[function], function, type, raw_data=data.draw(deep_json(), label="data"), **given_attributes)
    else:
        response = deliver_event(apps[function], function, type, data.draw(objects(), label="data"), **given_attributes)
    answer = response.get_data(as_text=True)
    logged = capsys.readouterr()
    assert response.status_code < 500, f"{function} {type!r} -> {response.status_code}: {answer[:500]}\n{logged.err[-2000:]}"
    assert_no_traceback(answer, logged.out, logged.err)
