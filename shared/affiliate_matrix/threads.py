"""Thread pools whose work runs in the context of the code that hands it over."""

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context


class ContextPool(ThreadPoolExecutor):
    """A ThreadPoolExecutor whose every task (`submit`, and `map`, which submits) runs in a copy of the context it was
    handed over from. A worker thread starts in an empty context: an event published there carried no rule chain
    (events.rule_chain), so rules setting each other off through it were never stopped, and what it logged had none
    of the request's or the event's fields."""

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(copy_context().run, fn, *args, **kwargs)
