"""The settings of what reads other sites (crawls, API syncs, verify, discovery, a connection's test, a rule's
webhook): a class Settings holds (config.HELD), defined by the first read of one of them or at start when one is
set, so that a start whose first request reads no site does not define them."""

from pydantic import Field
from pydantic_settings import BaseSettings

from affiliate_matrix.config import VARIABLES, from_variables


class FetchSettings(BaseSettings):
    model_config = VARIABLES

    allow_loopback_fetch: bool = Field(False, description="Let the fetcher reach loopback addresses (recorded sites).")
    crawl_time_limit_s: int = Field(900, ge=1, le=86400, description="The time limit of the functions that crawl "
                                     "pages or sync APIs (scrape, sync, verify, discover: their Knative "
                                     "timeoutSeconds): a crawl, an API sync, a discovery run and each verify worker "
                                     "ask while the waits they are told to make (the host's spacing, retries' "
                                     "Retry-After) fit in it, less a tenth for the rest of the run.")
    user_agent: str = "AffiliateMatrixBot/0.1 (+https://affiliate-matrix.dev/bot)"

    def __init__(self, **values):
        from_variables(self, values)
