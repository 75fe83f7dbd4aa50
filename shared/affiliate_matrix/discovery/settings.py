"""Discovery's settings (AMX_DISCOVERY_* and each search provider's URL): a class Settings holds (config.HELD),
defined by discovery's first read of one of them or at start when one is set, so that no other function's start
defines them and a start where one is set checks them."""

from pydantic import Field
from pydantic_settings import BaseSettings

from affiliate_matrix.config import VARIABLES, from_variables


class DiscoverySettings(BaseSettings):
    model_config = VARIABLES

    discovery_providers: str = Field("searxng,brave,google", pattern=r"^(google|brave|searxng)(,(google|brave|searxng))*$",
                                     description="Search providers in the order they are tried.")
    discovery_quotas: str = Field("google=100,brave=60,searxng=1000", pattern=r"^([a-z]+=\d+)(,[a-z]+=\d+)*$",
                                  description="Queries per provider per day.")
    discovery_niches: str = Field("", description="Comma-separated niches the cron run searches.")
    # the languages dorks.TEMPLATES has templates in (a test holds the two together), spelt as a pattern as the
    # providers above are
    discovery_languages: str = Field("en", pattern=r"^(en|de|fr|es|nl|pt|it)(,(en|de|fr|es|nl|pt|it))*$",
                                     description="Languages the cron run searches in, comma-separated: en, de, fr, es, "
                                     "nl, pt, it (those with dork templates).")
    google_cse_url: str = "https://www.googleapis.com"
    brave_search_url: str = "https://api.search.brave.com"
    searxng_url: str | None = Field(None, description="A SearXNG instance with the json format enabled.")

    def __init__(self, **values):
        from_variables(self, values)
