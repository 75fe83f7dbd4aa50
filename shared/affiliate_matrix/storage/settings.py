"""The S3 object store's settings (AMX_S3_*): a class Settings holds (config.HELD), defined by the first read of one
of them or at start when one is set, so that a start on the local store does not define them."""

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from affiliate_matrix.config import VARIABLES, from_variables


class S3Settings(BaseSettings):
    model_config = VARIABLES

    s3_endpoint_url: str | None = None
    s3_bucket: str = "affiliate-matrix"
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None

    def __init__(self, **values):
        from_variables(self, values)
