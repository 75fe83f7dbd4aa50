"""OpenSearch's settings (AMX_OPENSEARCH_*): a class Settings holds (config.HELD), defined by the first read of one of
them or at start when one is set, so that a start on the SQLite index does not define them."""

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from affiliate_matrix.config import VARIABLES, from_variables


class OpenSearchSettings(BaseSettings):
    model_config = VARIABLES

    opensearch_url: str = "http://127.0.0.1:9200"
    opensearch_username: str | None = None
    opensearch_password: SecretStr | None = None
    opensearch_ca_file: Path | None = None

    def __init__(self, **values):
        from_variables(self, values)
