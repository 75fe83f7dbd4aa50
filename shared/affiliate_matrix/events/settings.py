"""The event path's settings (AMX_EVENTS, the Broker's, the senders' issuer, the routes, the namespace): a class
Settings holds (config.HELD), defined by the first event published or received, so that a start defines them only
when one is set, and checks them then."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from affiliate_matrix.config import VARIABLES, from_variables


class EventSettings(BaseSettings):
    model_config = VARIABLES

    events: Literal["inprocess", "http"] = "inprocess"
    broker_url: str | None = Field(None, description="Knative Broker ingress, for AMX_EVENTS=http.")
    broker_token_path: Path | None = Field(None, description="A token file for the Broker's audience (a projected service-account token), sent with every event published.")
    events_oidc_discovery_url: str | None = Field(None, description="OIDC discovery document of the issuer whose tokens events must carry (in a cluster the API server's service-account issuer; file:// for a local one). Unset: every event is refused.")
    events_routes: Path = Field(Path("manifests/base"), description="The Triggers and PingSources saying which event types each function takes.")
    namespace: str = Field("affiliate-matrix", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
                           description="The functions' Kubernetes namespace: event tokens must be for its Services and from its service accounts.")

    def __init__(self, **values):
        from_variables(self, values)
