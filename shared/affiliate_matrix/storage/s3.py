"""Object store on S3 (MinIO, AWS, any S3-compatible endpoint) through boto3.

Conditional writes use S3's own If-Match / If-None-Match on PutObject, so the guarantee
holds across every function replica, not just within one process.
"""

from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from affiliate_matrix.errors import BackendUnavailable, ConfigError, ConflictError, NotFoundError
from affiliate_matrix.storage import ObjectStore, StoredObject, check_key

_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


class S3ObjectStore(ObjectStore):
    def __init__(self, client, bucket: str, endpoint: str | None = None):
        self.client = client
        self.bucket = bucket
        self.endpoint = endpoint or "AWS"

    @classmethod
    def from_settings(cls, settings) -> "S3ObjectStore":
        key_id = settings.s3_access_key_id.get_secret_value() if settings.s3_access_key_id else None
        secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=3, read_timeout=20,
                          s3={"addressing_style": "path"}),
        )
        return cls(client, settings.s3_bucket, settings.s3_endpoint_url)

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (EndpointConnectionError, BotoCoreError) as exc:
            raise ConfigError("AMX_S3_ENDPOINT_URL", f"cannot reach S3 at {self.endpoint}: {exc}") from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            problem = "does not exist" if code in ("404", "NoSuchBucket") else f"is not usable ({code})"
            raise ConfigError("AMX_S3_BUCKET", f"bucket {self.bucket!r} {problem} at {self.endpoint}") from None

    def _call(self, operation: str, key: str, **kwargs):
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _CONFLICT_CODES:
                raise ConflictError(f"object {key!r}: condition failed ({code})") from None
            if code in ("NoSuchKey", "404"):
                raise NotFoundError(f"object {key!r} not found") from None
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
                raise BackendUnavailable(f"S3 {operation} {key!r}: {code}") from None
            raise
        except BotoCoreError as exc:
            raise BackendUnavailable(f"S3 {operation} {key!r}: {exc}") from None

    def put(self, key, data, *, content_type="application/octet-stream", if_match=None, if_none_match=False):
        conditions = {}
        if if_none_match:
            conditions["IfNoneMatch"] = "*"
        if if_match is not None:
            conditions["IfMatch"] = f'"{if_match.strip(chr(34))}"'
        response = self._call("put_object", key, Key=check_key(key), Body=data, ContentType=content_type, **conditions)
        return response["ETag"].strip('"')

    def get(self, key):
        response = self._call("get_object", key, Key=check_key(key))
        return StoredObject(key, response["Body"].read(), response["ETag"].strip('"'), response.get("ContentType", ""))

    def head(self, key):
        try:
            return self._call("head_object", key, Key=check_key(key))["ETag"].strip('"')
        except NotFoundError:
            return None

    def list(self, prefix="") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def delete(self, key):
        self._call("delete_object", key, Key=check_key(key))
