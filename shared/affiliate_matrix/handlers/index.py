"""index: on a "raw batch stored" event, index the batch into the master index."""

from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers.events import health, http_or_event
from affiliate_matrix.pipeline import index_batch


def handle(rt, request):
    return http_or_event(rt, request, health, lambda event: index_event(rt, event))


def index_event(rt, event) -> None:
    batch_key = event.data.get("batch_key")
    if not isinstance(batch_key, str):
        raise InvalidInput("event data needs a string batch_key")
    index_batch(rt, batch_key)
