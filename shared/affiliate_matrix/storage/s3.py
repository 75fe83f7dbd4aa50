"""Object store on S3 (MinIO, AWS, any S3-compatible endpoint) through boto3.

Conditional writes use S3's own If-Match / If-None-Match on PutObject, so the guarantee
holds across every function replica, not just within one process.

A conditional delete is a conditional PutObject of a tombstone, not DeleteObject with If-Match:
AWS has honoured If-Match on DeleteObject only since September 2025, and MinIO ignores it and
deletes whatever is there, which would silently bring back the lost-update race. A PUT with
If-Match is decided atomically by every S3 we target, so of a DELETE and a PUT (or 32 DELETEs)
holding one ETag exactly one wins. A tombstone is a small object with the `amx-deleted` metadata
and a random body (so its ETag cannot be guessed); `get`, `head` and `list` treat it as absent,
and a create (If-None-Match) replaces it with If-Match on its ETag. A tombstone stays until the key
is written again, or until the daily retention job removes it once it is older than the job's shortest
window (`remove_tombstones`, by the date S3 recorded for it, listing only the prefixes a conditional delete may
be made under, storage.TOMBSTONED, which both adapters hold every conditional delete to): a DeleteObject with
If-Match on the tombstone's ETag, right after a HEAD found it still there. AWS and moto decide that If-Match; MinIO
ignores it, so there a document created at that key between the HEAD and the DELETE (milliseconds,
on a key deleted weeks before) would be removed with it: the bucket's versioning keeps its bytes.
"""

import io
import itertools
import os
import secrets
import ssl
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime

import boto3
import httpx
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import (BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError,
                                 NoCredentialsError, ReadTimeoutError, SSLError)

from affiliate_matrix.errors import (BackendUnavailable, ConfigError, ConflictError, NotFoundError, ObjectTooLarge,
                                    tls_reason, without_credentials)
from affiliate_matrix.netguard import UNANSWERED, bounded_client, deadline, unanswered_as, wait_fits
from affiliate_matrix.storage import (MAX_DOCUMENT_BYTES, TOMBSTONED, ObjectStore, StoredObject,
                                      check_conditional_delete, check_key)

_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
TOMBSTONE = "amx-deleted"  # user metadata: x-amz-meta-amx-deleted
TOMBSTONE_SIZE = 46


# How long one call may take in all, its attempts and botocore's waits between them included: what a person waits, and
# well past what an object of ours needs (a raw page is at most 5 MB). Batch work (the retention job) makes calls of
# the same size, a page of a listing or one delete each.
CALL_TIMEOUT_S = 10
ATTEMPTS = 5  # botocore's first and its 4 retries (`max_attempts` 4, as set before)
# The most bytes of a successful answer's body the sender reads in the call under way (S3ObjectStore.get: its max_bytes
# and one more, which tells a body past it); None: all of it.
_BODY_LIMIT: ContextVar[int | None] = ContextVar("s3_body_limit", default=None)


class _Answer(io.BytesIO):
    """A response's body, read whole within the call's bound, as botocore reads a raw body: stream() or read()."""

    def stream(self, **kwargs):
        yield self.read()


class _BoundedSender:
    """Sends botocore's requests (its before-send event, which takes the answer given instead of sending) through
    netguard's bounded client: every lookup, connect, read and write within the call's deadline, body included, where
    botocore's own timeouts bound each read only, so an S3 trickling its answer held the caller for good. Trusts what
    AWS_CA_BUNDLE names, as botocore does; no proxy from the environment (the store is the cluster's own)."""

    def __init__(self):
        ca_bundle = os.environ.get("AWS_CA_BUNDLE")
        self.client = bounded_client(ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None,
                                     timeout=httpx.Timeout(20.0, connect=3.0))

    def __call__(self, request, **kwargs) -> AWSResponse:
        body = request.body.read() if hasattr(request.body, "read") else request.body
        headers = {"Accept-Encoding": "identity", **{k: v for k, v in request.headers.items() if k != "Expect"}}
        try:
            answer = self.client.send(self.client.build_request(request.method, request.url, headers=headers,
                                                                content=body), stream=True)
            try:  # the bytes as sent: botocore checks their checksum, and decodes nothing itself
                raw = _body(answer, _BODY_LIMIT.get() if answer.is_success else None)
            finally:
                answer.close()
        except UNANSWERED as exc:
            kind = unanswered_as(exc, tls=SSLError, connect_timeout=ConnectTimeoutError, timeout=ReadTimeoutError,
                                 unreachable=EndpointConnectionError)
            if kind is SSLError:  # with its cause: the TLS library's words on the certificate (tls_reason)
                raise SSLError(endpoint_url=request.url, error=exc) from exc
            raise kind(endpoint_url=request.url) from None
        return AWSResponse(request.url, answer.status_code, dict(answer.headers), _Answer(raw))


def _body(answer: httpx.Response, limit: int | None) -> bytes:
    """The answer's bytes, at most `limit` of them (None: all): none when its Content-Length says more, so that the
    caller refuses the object on that length, its body unread."""
    if limit is None:
        return b"".join(answer.iter_raw())
    declared = answer.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return b""
    raw = bytearray()
    for chunk in answer.iter_raw():  # a length not said (chunked), or said wrong: read up to the limit all the same
        raw += chunk[:limit - len(raw)]
        if len(raw) >= limit:
            break
    return bytes(raw)


def _retry_within_deadline(client) -> None:
    """botocore's standard retries (ATTEMPTS in all), but no wait that would end past the call's deadline: the call
    ends then with what its last attempt met. botocore's own retry handler is given a single attempt (so it asks none)
    and this one, registered beside it, asks the waits of a standard handler made here."""
    from botocore.retries import standard

    retries = standard.register_retry_handler(client, max_attempts=ATTEMPTS)  # its unique id is taken: not registered

    def needs_retry(**kwargs) -> float | None:
        wait = retries.needs_retry(**kwargs)
        return wait if wait is None or wait_fits(wait) else None

    client.meta.events.register("needs-retry.s3", needs_retry)


def _tombstone() -> bytes:
    return b"amx-deleted:" + secrets.token_hex(17).encode()


def _quoted(etag: str) -> str:
    return f'"{etag.strip(chr(34))}"'


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
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"}),
        )
        client.meta.events.register("before-send.s3", _BoundedSender())
        _retry_within_deadline(client)
        return cls(client, settings.s3_bucket, settings.s3_endpoint_url)

    def check(self) -> None:
        """A ConfigError naming the setting when nothing answers at the address (with a retry_after: a wrong
        address, or a store not up yet) or the bucket is missing or refused (only a new setting helps). An S3 that
        answers overloaded or not ready (a 5xx, SlowDown) is BackendUnavailable, as on any other call: the function
        starts, and answers 503 with Retry-After until it is back."""
        try:
            with deadline(CALL_TIMEOUT_S):
                self.client.head_bucket(Bucket=self.bucket)
        except SSLError as exc:  # before BotoCoreError, its base: only a setting helps, not waiting
            shown = without_credentials(f"S3 at {self.endpoint}", self.endpoint or "")
            raise ConfigError("AWS_CA_BUNDLE", f"{shown} has a certificate we do not trust ({tls_reason(exc)}): the "
                                               "variable names the CA that signed it, and it must be for the address's host") from None
        except NoCredentialsError:  # before BotoCoreError, its base: nothing to sign with, whatever answers there
            shown = without_credentials(f"no credentials for S3 at {self.endpoint}", self.endpoint or "")
            raise ConfigError("AMX_S3_ACCESS_KEY_ID", f"{shown}: set it and AMX_S3_SECRET_ACCESS_KEY (or the AWS_* "
                                                      "variables boto3 reads)") from None
        except (EndpointConnectionError, BotoCoreError) as exc:
            shown = without_credentials(f"cannot reach S3 at {self.endpoint}: {exc}", self.endpoint or "")
            raise ConfigError("AMX_S3_ENDPOINT_URL", shown, retry_after=30) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status >= 500 or status == 429 or code == "SlowDown":
                raise BackendUnavailable(f"S3 bucket {self.bucket!r} at start: answered {status} ({code})",
                                         cause=f"the object store is unavailable (it answered HTTP {status})",
                                         retry_after=10) from None
            problem = "does not exist" if code in ("404", "NoSuchBucket") else f"is not usable ({code})"
            raise ConfigError("AMX_S3_BUCKET", f"bucket {self.bucket!r} {problem} at {self.endpoint}") from None

    def _call(self, operation: str, key: str, **kwargs):
        """One call within CALL_TIMEOUT_S, its attempts included; S3's refusals as this package's errors."""
        try:
            with deadline(CALL_TIMEOUT_S):
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
        except (ConnectTimeoutError, ReadTimeoutError) as exc:  # its time is spent (_retry_within_deadline)
            raise BackendUnavailable(f"S3 {operation} {key!r}: {exc}", cause="the object store did not answer in time",
                                     retry_after=10) from None
        except EndpointConnectionError as exc:  # refused, or no route: said to the caller as OpenSearch's is
            raise BackendUnavailable(f"S3 {operation} {key!r}: {exc}", cause="the object store is unreachable",
                                     retry_after=10) from None
        except BotoCoreError as exc:
            raise BackendUnavailable(f"S3 {operation} {key!r}: {exc}") from None

    def _pages(self, prefix: str) -> Iterator[dict]:
        """list_objects_v2's pages under `prefix`, each a call of its own (_call)."""
        more = {}
        while True:
            page = self._call("list_objects_v2", prefix, Prefix=prefix, **more)
            yield page
            if not page.get("IsTruncated"):
                return
            more = {"ContinuationToken": page["NextContinuationToken"]}

    def put(self, key, data, *, content_type="application/octet-stream", if_match=None, if_none_match=False):
        check_key(key)
        conditions = {}
        if if_none_match:
            conditions["IfNoneMatch"] = "*"
        if if_match is not None:
            conditions["IfMatch"] = _quoted(if_match)
        try:
            response = self._call("put_object", key, Key=key, Body=data, ContentType=content_type, **conditions)
        except NotFoundError:  # If-Match on an absent key: a lost condition, as in the local adapter
            raise ConflictError(f"object {key!r}: condition failed (absent)") from None
        except ConflictError:
            tombstone = self._tombstone_etag(key) if if_none_match else None
            if tombstone is None:
                raise
            # deleted, so absent to every reader: creating it replaces the tombstone, still conditionally
            response = self._call("put_object", key, Key=key, Body=data, ContentType=content_type,
                                  IfMatch=_quoted(tombstone))
        return response["ETag"].strip('"')

    def get(self, key, *, max_bytes=MAX_DOCUMENT_BYTES):
        """The object's size is its ContentLength, checked before its body is read; its body is read no further than
        max_bytes and one, here and by the sender (_BODY_LIMIT), whatever length S3 said."""
        limit = _BODY_LIMIT.set(max_bytes + 1)
        try:
            response = self._call("get_object", key, Key=check_key(key))
        finally:
            _BODY_LIMIT.reset(limit)
        if TOMBSTONE in response.get("Metadata", {}):
            raise NotFoundError(f"object {key!r} not found")
        etag, size, body = response["ETag"].strip('"'), response.get("ContentLength"), response["Body"]
        if size is not None and size > max_bytes:
            raise ObjectTooLarge(key, size, max_bytes, etag)
        try:
            data = body.read(max_bytes + 1)
            if len(data) > max_bytes:  # its length not said, or said short
                raise ObjectTooLarge(key, None, max_bytes, etag)
            data += body.read()  # nothing more: botocore checks that all the length said came
        except BotoCoreError as exc:  # the connection broke or timed out mid-body: a failed call, as _call's are
            raise BackendUnavailable(f"S3 get_object {key!r}: {exc}") from None
        return StoredObject(key, data, etag, response.get("ContentType", ""))

    def _head(self, key):
        try:
            return self._call("head_object", key, Key=check_key(key))
        except NotFoundError:
            return None

    def _tombstone_etag(self, key) -> str | None:
        response = self._head(key)
        return response["ETag"].strip('"') if response and TOMBSTONE in response.get("Metadata", {}) else None

    def head(self, key):
        response = self._head(key)
        if response is None or TOMBSTONE in response.get("Metadata", {}):
            return None
        return response["ETag"].strip('"')

    def written_at(self, key):
        response = self._head(key)
        if response is None or TOMBSTONE in response.get("Metadata", {}):
            return None
        return response["LastModified"]

    def list(self, prefix="") -> Iterator[str]:
        return (key for key, _ in self.listed(prefix))

    def listed(self, prefix=""):
        for page in self._pages(prefix):
            yield from self._live(page)

    def _live(self, page: dict) -> Iterator[tuple[str, str]]:
        """A listing page's objects (key, ETag) without its tombstones (only objects of a tombstone's size are asked)."""
        for item in page.get("Contents", []):
            if item["Size"] == TOMBSTONE_SIZE and self.head(item["Key"]) is None:
                continue
            yield item["Key"], item["ETag"].strip('"')

    def stored(self, keys):
        """As the port's, for fewer requests where many keys are asked: the listing of the keys' common prefix (a
        request per 1,000 objects, one after another) is read for at most a page per READERS keys, the time their
        HEADs take READERS at a time (a LIST is priced as 12.5 HEADs on AWS); the keys past what it reached are asked
        for one by one. So a few keys in a store of a million objects are not listed for (1,000 requests), and
        thousands of keys that a few pages list are not asked for each."""
        from affiliate_matrix.documents import READERS

        keys = sorted(set(keys))
        found, reached = set(), ""
        for page in itertools.islice(self._pages(os.path.commonprefix(keys)), len(keys) // READERS):
            found |= {key for key, _ in self._live(page)}
            if not page.get("IsTruncated"):
                return found.intersection(keys)
            reached = page["Contents"][-1]["Key"]
        return found.intersection(keys) | super().stored(key for key in keys if key > reached)

    def remove_before(self, prefix, before):
        """By the LastModified S3 lists for each object (a tombstone among them goes too: it dates a delete). Each is
        deleted only while it is the object listed (If-Match on the listed ETag), so one written again meanwhile (a
        dead letter parked again) is kept. A store ignoring that If-Match (MinIO) deletes it all the same."""
        removed = 0
        for page in self._pages(prefix):
            for item in page.get("Contents", []):
                if item["LastModified"] >= before:
                    continue
                try:
                    self._call("delete_object", item["Key"], Key=check_key(item["Key"]), IfMatch=item["ETag"])
                except (ValueError, NotFoundError, ConflictError):
                    continue  # a key none of ours has; removed by another run, or written again, since it was listed
                removed += 1
        return removed

    def remove_tombstones(self, before: datetime) -> int:
        """Remove the tombstones S3 dated (LastModified) before `before`; how many. Each is deleted only while it is
        still that tombstone (If-Match on its ETag), so a document created meanwhile at its key is kept. Only the
        prefixes a conditional delete may be made under are listed (TOMBSTONED), not the whole bucket."""
        removed = 0
        pages = (page for prefix in TOMBSTONED for page in self._pages(prefix))
        for item in (item for page in pages for item in page.get("Contents", [])):
            if item["Size"] != TOMBSTONE_SIZE or item["LastModified"] >= before:
                continue  # only objects of a tombstone's size and age are asked
            try:
                response = self._head(item["Key"])
            except ValueError:  # a key none of ours has (put there by something else): not a tombstone of ours
                continue
            if response is None or TOMBSTONE not in response.get("Metadata", {}) or \
                    response["LastModified"] >= before:
                continue  # written again since it was listed
            try:
                self._call("delete_object", item["Key"], Key=item["Key"], IfMatch=response["ETag"])
            except (ConflictError, NotFoundError):
                continue  # written again, or removed by another run, meanwhile
            removed += 1
        return removed

    def delete(self, key, *, if_match=None):
        check_key(key)
        if if_match is None:
            self._call("delete_object", key, Key=key)
            return
        check_conditional_delete(key)  # its tombstone is where the sweep looks
        try:
            self._call("put_object", key, Key=key, Body=_tombstone(), Metadata={TOMBSTONE: "1"},
                       ContentType="application/octet-stream", IfMatch=_quoted(if_match))
        except (ConflictError, NotFoundError):
            if self.head(key) is None:
                raise NotFoundError(f"object {key!r} not found") from None
            raise ConflictError(f"object {key!r}: changed since ETag {if_match!r}") from None
