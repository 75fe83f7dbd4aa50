"""The ports one process uses, built from settings on first use and checked as they are built.

A function's start (`start`) loads and validates its settings, so a bad setting fails at start-up
with one line naming it, and builds only the ports its first request uses (the programs function's
index and token store, say): scaled to zero, every start is paid by whoever is waiting, and an
event-only function's first request is Knative's readiness probe. Its other ports (the S3, Vault or
OpenSearch clients, the Broker) are built by the first work that uses them; a backend that is
misconfigured or unreachable then fails that request with the same ConfigError naming the setting."""

import gc
import sys
from functools import cached_property

from affiliate_matrix.config import Settings, load_settings
from affiliate_matrix.errors import ConfigError, DamagedData
from affiliate_matrix.observability import configure_logging


class Runtime:
    def __init__(self, function: str, settings: Settings | None = None):
        self.function = function
        self.settings = settings or load_settings()
        configure_logging(function, fmt=self.settings.log_format, level=self.settings.log_level)

    @cached_property
    def store(self):
        from affiliate_matrix.storage import open_object_store

        store = open_object_store(self.settings)
        store.check()
        return store

    @cached_property
    def index(self):
        from affiliate_matrix.search import open_search_index

        index = open_search_index(self.settings)
        index.check()
        return index

    @cached_property
    def secrets(self):
        from affiliate_matrix.secrets import open_secret_store

        secrets = open_secret_store(self.settings)
        secrets.check()
        return secrets

    @cached_property
    def flags(self):
        from affiliate_matrix.flags import FlagReader

        return FlagReader(lambda: self.store, self.settings.flags_ttl_s, seed=self.settings.flags_file)

    @cached_property
    def bus(self):
        from affiliate_matrix.events import open_event_bus

        return open_event_bus(self.settings)


def start(function: str, *ports: str) -> Runtime:
    """For a function module's import: load its settings and build and check the ports its first request uses,
    or exit with one clear line."""
    try:
        runtime = Runtime(function)
        for port in ports:
            getattr(runtime, port)
    except ConfigError as exc:
        print(f"{function}: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except DamagedData as exc:
        print(f"{function}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    # gunicorn forks its worker from the process that imported the function. Freezing what is alive now keeps the
    # garbage collector's passes in the worker from writing to those objects, which would copy their shared pages.
    # Once per process: a test process imports many functions, and each freeze would keep its garbage for good.
    if gc.get_freeze_count() == 0:
        gc.freeze()
    return runtime
