"""index: on a "raw batch stored" event, index the batch into the master index."""

from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers.events import receive
from affiliate_matrix.pipeline import index_batch


def on_event(rt, cloud_event) -> None:
    def work(event):
        batch_key = event.data.get("batch_key")
        if not isinstance(batch_key, str):
            raise InvalidInput("event data needs a string batch_key")
        index_batch(rt, batch_key)

    receive(rt, cloud_event, work)
