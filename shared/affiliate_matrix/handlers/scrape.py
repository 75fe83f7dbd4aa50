"""scrape and sync: on a cron PingSource event whose data names the connection, collect its
listings (a directory is crawled, an API is read) and announce the batch."""

from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers.events import receive
from affiliate_matrix.pipeline import scrape


def on_event(rt, cloud_event) -> None:
    def work(event):
        connection_id = event.data.get("connection_id")
        if not isinstance(connection_id, str):
            raise InvalidInput("event data needs a string connection_id")
        scrape(rt, connection_id)

    receive(rt, cloud_event, work)
