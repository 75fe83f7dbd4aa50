"""A connection's defaults and bounds, apart from its model (connections.Connection takes them from here) so that
`amx connections add` and `edit` say the model's values in their help without loading the model, and pydantic, at
every `amx` start."""

SCHEDULE = "0 3 * * *"  # every day at 03:00 UTC
RATE_LIMIT_PER_S = 1.0
# A connection's requests a second: at least one every 100 s, so that a run of the function's 15 minutes still makes a
# few (any rate above 0 was taken, and 5e-324 spaced requests by infinite seconds: the connection fetched nothing, ever)
RATE_MIN, RATE_MAX = 0.01, 50
CONCURRENCY, CONCURRENCY_MIN, CONCURRENCY_MAX = 2, 1, 16  # requests in flight
