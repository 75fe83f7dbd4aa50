"""The embedded event bus (events/inprocess.py) in a process that runs for weeks: what it keeps is bounded."""

from affiliate_matrix.events import Event
from affiliate_matrix.events.inprocess import KEPT, InProcessBus


def test_a_long_running_bus_keeps_only_its_newest_events_and_dead_letters():
    """Every event published, and every dead letter, was kept in a list for the process's life: a function served
    alone on the embedded defaults grew by each change it announced, for good."""
    bus = InProcessBus(attempts=1)
    bus.subscribe("t.failing", lambda event: 1 / 0)
    for n in range(KEPT + 50):
        bus.publish(Event.make("t.failing", "/test", {"n": n}))
    assert len(bus.published) == KEPT and bus.published[-1].data == {"n": KEPT + 49}
    assert len(bus.dead_letters) == KEPT and bus.dead_letters[0][0].data == {"n": 50}


def test_what_a_block_published_is_recorded_whole_however_many():
    """`amx connections delete` counted the programs its withdrawal changed from the bus's list of published events,
    which now keeps only the newest: what the block published is recorded apart, every event of it."""
    bus = InProcessBus()
    bus.publish(Event.make("t.before", "/test", {}))
    with bus.recorded() as published:
        for n in range(KEPT + 5):
            bus.publish(Event.make("t.during", "/test", {"n": n}))
    bus.publish(Event.make("t.after", "/test", {}))
    assert len(published) == KEPT + 5 and {event.type for event in published} == {"t.during"}
