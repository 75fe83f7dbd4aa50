"""The daily retention job's settings (AMX_RETENTION_*): a class Settings holds (config.HELD), defined by the job's
first read of one of them or at start when one is set, so that no other function's start defines them."""

import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from affiliate_matrix.config import VARIABLES, from_variables


class RetentionSettings(BaseSettings):
    model_config = VARIABLES

    retention_days: str = Field("deltas=400,metrics=400,activations=90,queries=30",
                                description="Days each time-stamped index keeps a document (the daily retention job).")
    retention_dead_letters_days: int = Field(30, ge=1, le=3650,
                                             description="Days a dead letter (dead-letters/ in the store, up to 4 MB "
                                                         "each) is kept, from when it was parked (the daily retention job).")
    retention_discovery_seen_days: int = Field(
        180, ge=1, le=36_500,
        description="Days discovery remembers it judged a site (discovery/seen/ in the store), from the judgement: "
                    "past it, a search that finds the site again has it judged again (the daily retention job).")

    @field_validator("retention_days")
    @classmethod
    def _windows_shaped(cls, value: str) -> str:
        # said in words: the pattern's own refusal ("String should match pattern '^([a-z]+=\\d+)…'") did not say
        # that a window is per index, so `90` or `0` (a "keep for ever") was a riddle
        if not re.fullmatch(r"([a-z]+=\d+)(,[a-z]+=\d+)*", value):
            raise ValueError("a window per index, as index=days, comma-separated (deltas=400,metrics=400,"
                             "activations=90,queries=30); an index not named keeps its documents")
        return value

    def __init__(self, **values):
        from_variables(self, values)
