"""Search index on OpenSearch through opensearch-py.

The spec becomes a strict mapping (unknown fields are per-item errors, as in SQLite) with the
spec itself kept in the mapping's `_meta`, so any reader can rebuild the query contract.
Bulk writes check every item: 429s are retried with backoff within the chunk's time bound
(_bulk_items, on the client's bulk in chunks of our own), everything else is returned as a per-item error, never dropped.
"""

import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from opensearchpy import ConflictError as OSConflictError
from opensearchpy import Connection
from opensearchpy import ConnectionError as OSConnectionError
from opensearchpy import ConnectionTimeout
from opensearchpy import NotFoundError as OSNotFoundError
from opensearchpy import OpenSearch, RequestError, Transport, TransportError, helpers
from opensearchpy import SSLError as OSSSLError

from affiliate_matrix.errors import (BackendUnavailable, ConfigError, InvalidInput, NotFoundError, malformed_cursor,
                                    tls_reason, without_credentials)
from affiliate_matrix.netguard import UNANSWERED, bounded_client, deadline, sleep_within, unanswered_as
from affiliate_matrix.observability import get_logger
from affiliate_matrix.search import (
    EXACT_BOOST, MAX_PAGE, BulkResult, Hit, IndexBehind, IndexSpec, IndexStatus, Landings, SearchIndex, SearchQuery,
    SearchResult, Versioned, begun_join, begun_word, check_migration, cursor_backward, cursor_point, decode_cursor, document_times,
    encode_cursor, end_moves, exact_value, expansions, finishing_command, lease_taken, lone, migration_label, narrowed,
    document_stems, joined_words, paired, ranges_of, record_moves, searched_phrases, stem_of, upgraded, validate_query,
    whole_value,
)

log = get_logger()
_SETTINGS = {
    "analysis": {
        # Words are runs of letters, marks and digits, as the SQLite index's FTS5 tokenizer (sqlite.TOKENIZE) and a
        # query's words (search.words) have them. The standard tokenizer kept "booking.com", "macy's", "3.5" and
        # "foo_bar" whole, so neither "booking" nor "Booking.com" found Booking.com; letters and digits alone cut
        # "हिन्दी" at its vowel signs and virama into "ह", "न" and "द".
        "tokenizer": {"words": {"type": "pattern", "pattern": "[^\\p{L}\\p{M}\\p{N}]+"}},
        "analyzer": {"folding": {"type": "custom", "tokenizer": "words", "filter": ["lowercase", "asciifolding"]}},
    },
    "number_of_shards": 1,
    # No number_of_replicas: how many copies a cluster keeps is its operator's (Terraform's index template asks 1; a
    # single test node's template 0). Given here, it overrode every template, so a production cluster kept no replica.
}
# A document's text is searched as search.narrowed makes it (NFKC), which OpenSearch cannot do itself (no ICU plugin):
# beside the document, under FOLDED, go each text field's narrowed text (its words, searched) and its whole value
# (search.whole_value: the exact match and the sort, as the embedded index's <field>.raw), which _source leaves out,
# so a document reads back as written. The field itself is kept, unsearched. FOLDED and the whole values' names cannot
# be a spec's field names (IndexSpec's have no "-").
FOLDED = "folded-text"


# A stemmed index's stems (search.document_stems) under FOLDED, beside its text fields' words (no field's name: those
# have no "-"): a query's word matches its stem there (search.stem_of), scored at STEM_BOOST of a word's own match, so
# a document holding the word exactly scores above one holding only its stem.
STEMS = "word-stems"
STEM_BOOST = 0.5


def _whole(field: str) -> str:
    """The name under FOLDED of a text field's whole value (its words are under the field's own name)."""
    return f"{field}-raw"


_TYPES = {
    "text": {"type": "text", "index": False},
    "keyword": {"type": "keyword"},
    "number": {"type": "double"},
    "date": {"type": "date"},
    "bool": {"type": "boolean"},
    "stored": {"type": "object", "enabled": False},
}
# Where a missing value sorts ("missing": "_last"), as the node gives it in a hit's sort values, by kind and
# whether the order is descending: a cursor's null stands there (the SQLite index reads null as missing too).
# The node takes a null only for a keyword; for these it fails the search with a 500.
_MISSING_LAST = {"number": ("Infinity", "-Infinity"), "date": (2**63 - 1, -(2**63)), "bool": (2**31 - 1, -(2**31))}
# A hit's value of a number field within a range (SortKey.within): a field sort ranks by every value, so a script
# does. Doc values come in ascending order, so the last one in the range is the largest, the first the smallest.
# A hit with none there gets `none`, past every value in the order asked (a finite number: a cursor carries it).
_WITHIN = """double found = params.none;
for (def value : doc[params.field]) {
  if ((params.gte == null || value >= params.gte) && (params.lte == null || value <= params.lte)) {
    found = value;
    if (!params.largest) { break; }
  }
}
return found;"""


def _takes(kind: str, value) -> bool:
    """Whether the node takes `value` after a sort key of `kind` (a field's type, score or script) as a hit's sort
    values hold one: a date as epoch milliseconds, a bool as 0 or 1, a missing number as ±Infinity, a missing value
    as null (_MISSING_LAST) but for a score or a script (a hit with no value in the range has its `none`, a number). A
    forged cursor's other value failed the search in the node's words (a null for a script: a 500)."""
    if value is None:
        return kind not in ("score", "script")
    if kind in ("keyword", "text"):
        return isinstance(value, str)
    if kind in ("date", "bool"):
        return isinstance(value, int)
    return value in ("Infinity", "-Infinity") if isinstance(value, str) else isinstance(value, (int, float))


def _reversed(sort: list[dict]) -> list[dict]:
    """A search body's sort in the opposite order (a backward cursor's page is read so, then turned round): each
    key's order flipped, a missing value first (last the other way), and a field of several values ranked by the
    same one of them as before (the largest for a descending order, the smallest for an ascending one: its mode)."""
    flipped = []
    for key in sort:
        [(field, how)] = key.items()
        if isinstance(how, str):  # the id: "asc"
            flipped.append({field: "desc" if how == "asc" else "asc"})
            continue
        turned = {**how, "order": "asc" if how["order"] == "desc" else "desc"}
        if field != "_script":  # (a script's value of a hit with none is a number past every other: no missing)
            turned.update(missing="_first", mode="max" if how["order"] == "desc" else "min")
        flipped.append({field: turned})
    return flipped


def index_body(spec: IndexSpec) -> dict:
    """Settings and mappings of one index version, as committed in infra/opensearch/indices/. The analysis only for
    an index with text fields, the only ones that use it: a change to it is a new version of those (indices.py),
    and of no other."""
    if "text" in spec.fields.values():
        return {"settings": _SETTINGS, "mappings": mapping_for(spec)}
    return {"settings": {k: v for k, v in _SETTINGS.items() if k != "analysis"}, "mappings": mapping_for(spec)}


def mapping_for(spec: IndexSpec) -> dict:
    mapping = {"dynamic": "strict", "_meta": {"spec": spec.to_json()},
               "properties": {name: _TYPES[kind] for name, kind in spec.fields.items()}}
    if text_fields := [name for name, kind in spec.fields.items() if kind == "text"]:
        searched = {}
        for name in text_fields:
            searched[name] = {"type": "text", "analyzer": "folding"}
            searched[_whole(name)] = {"type": "keyword"}
        if spec.stemmed:
            searched[STEMS] = {"type": "text", "analyzer": "folding"}
        mapping["properties"][FOLDED] = {"properties": searched}
        mapping["_source"] = {"excludes": [FOLDED, f"{FOLDED}.*"]}
    return mapping


def as_indexed(spec: IndexSpec, doc: dict) -> dict:
    """The document as indexed: itself, and under FOLDED (mapping_for) its text fields' values narrowed and their
    whole values. A value that is not text is sent as it is, for the mapping to take (a number) or refuse (an object)
    as it would the field's."""
    searched, texts = {}, []
    for field, kind in spec.fields.items():
        if kind != "text" or doc.get(field) is None:
            continue
        values = doc[field] if isinstance(doc[field], list) else [doc[field]]
        searched[field] = [paired(narrowed(v)) if isinstance(v, str) else v for v in values]
        texts += [v for v in values if isinstance(v, str)]
        wholes = [whole for v in values if v is not None and not isinstance(v, (dict, list))
                  and (whole := whole_value(v)) is not None]
        if wholes:
            searched[_whole(field)] = wholes
    if spec.stemmed and (stems := document_stems(texts)):
        searched[STEMS] = stems
    return {**doc, FOLDED: searched} if searched else doc


# What _shard_copy reads of the cluster state (not the mapping and settings beside them).
_SHARD_COPY = ["metadata.indices.*.settings.index.uuid", "metadata.indices.*.primary_terms",
               "routing_table.indices.*.shards.*.primary", "routing_table.indices.*.shards.*.allocation_id.id"]
_LARGEST = 1.7976931348623157e308  # Java's Double.MAX_VALUE
# Which copies a search reads: the primaries, whose refreshes the generation counts. A replica (or a search replica)
# refreshes on its own schedule, so a search the node sent to one not refreshed yet answered without a write the
# primary already showed, and that answer was cached under the generation the write made, stale until the next write.
_COUNTED_COPIES = "_primary"
# How long a relevance sort's point in time (PIT, opened for a `paged` query whose first page has a next one)
# outlives its last page read: a score is the index's statistics of the moment (bm25: the documents there are, their
# length), so a write between two pages moved every score and the live index's next page skipped hits that rose above
# the cursor or repeated some that sank below it; in a PIT the pages are of one view. Read again after it, a cursor pages the live index, as before (a view of its own, kept until then by the
# node, holds segments from merging: a node keeps at most 300 by default, and one it will not open is none).
POINT_KEEP_ALIVE = "1m"


def _facet(field: str, query: SearchQuery) -> dict:
    """A facet's aggregation: its values by count, under the query and the post filters of other fields (the post
    filter applies to hits only)."""
    terms = {"terms": {"field": field, "size": query.facet_size, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
    others = [{"terms": {other: values}} for other, values in query.post_filters.items() if other != field]
    return {"filter": {"bool": {"filter": others}}, "aggs": {"values": terms}} if others else terms


def _reason(error) -> str:
    """Why a bulk item failed, from its error (an object with a reason, or anything else)."""
    return error.get("reason", json.dumps(error)) if isinstance(error, dict) else str(error)


# Where a node nothing answers at is said to be, in a log line: its setting, not its value (it may hold user:password)
ADDRESS_SAID = "its address: AMX_OPENSEARCH_URL"


@contextmanager
def _answering(what: str):
    """An overloaded or unreachable node (a 429, a 5xx, a refused connection, a timeout) as BackendUnavailable,
    which callers retry (an HTTP caller gets a 503 with Retry-After); a 400 or a 404 stays the caller's to read.
    Neither the message nor the cause holds the client's text: it names the node's host and port, and a URL's
    credentials would be in it; the message (its log line) names the setting giving the address instead."""
    try:
        yield
    except OSConnectionError as exc:  # ConnectionTimeout and SSLError are ConnectionErrors
        how = "did not answer in time" if isinstance(exc, ConnectionTimeout) else "is unreachable"
        raise BackendUnavailable(f"OpenSearch {what}: the node {how} ({type(exc).__name__}; {ADDRESS_SAID})",
                                 cause=f"the search index {how}", retry_after=10) from None
    except TransportError as exc:
        unavailable = _overloaded(what, exc)
        if unavailable is None:
            raise
        raise unavailable from None


def _node_failed(info: dict) -> bool:
    """Whether a bulk item failed for the node's sake (no answer, a 429 past _bulk_items' retries, a 5xx), not the
    document's (a 400: a mapping refusing it). Each item of a chunk the node did not take has the chunk's failure,
    its status "N/A" when nothing answered."""
    status = info.get("status")
    if not isinstance(status, int):
        return "exception" in info
    return status == 429 or status >= 500


def _overloaded(what: str, exc: TransportError) -> BackendUnavailable | None:
    """The node's answer as BackendUnavailable when it says overloaded or not ready (a 429, a 5xx); else None."""
    status = exc.status_code if isinstance(exc.status_code, int) else 0
    if status != 429 and status < 500:
        return None
    how = "is overloaded" if status == 429 else "is unavailable"
    return BackendUnavailable(f"OpenSearch {what}: answered {status} ({str(exc.error)[:200]})",
                              cause=f"the search index {how} (it answered HTTP {status})",
                              retry_after=5 if status == 429 else 10)


def _trusted(settings) -> dict:
    """The client's TLS trust: a cluster's own CA (AMX_OPENSEARCH_CA_FILE) for an https:// node, else the public
    CAs. A CA file beside a plain http:// address would protect nothing, so it is refused rather than ignored."""
    ca_file = settings.opensearch_ca_file
    if ca_file is None:
        return {}
    if not settings.opensearch_url.lower().startswith("https://"):
        raise ConfigError("AMX_OPENSEARCH_CA_FILE", "is set, but AMX_OPENSEARCH_URL is not an https:// address")
    if not ca_file.is_file():
        raise ConfigError("AMX_OPENSEARCH_CA_FILE", f"{ca_file} is not a file")
    try:  # read here, once: a file that holds no certificate is this setting's fault, not a TLS error on a request
        trusted = ssl.create_default_context(cafile=ca_file)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError("AMX_OPENSEARCH_CA_FILE", f"{ca_file} holds no PEM certificate we can read "
                                                    f"({exc})") from None
    return {"use_ssl": True, "ssl_context": trusted}


# How long a call may take in all, its retries included (_CallsWithinTimeout): what a person waits for a search, and
# well past what a healthy node takes for any call a request makes. Batch work asks more where it makes its calls:
# BATCH_TIMEOUT_S for a bulk chunk (up to 10 MiB) and a migration's other calls (a refresh of a whole index, a scroll
# page, an index created, here or by ensure_index: a cluster-state change, slow on a busy node), 600 s for a
# migration's reindex.
CALL_TIMEOUT_S = 10
BATCH_TIMEOUT_S = 30


class _BoundedConnection(Connection):
    """opensearch-py's connection on netguard's bounded client: every lookup, connect, read and write of a request
    within the deadline it runs in (_CallsWithinTimeout's), so a node that trickles its answer a byte at a time is cut
    there. urllib3's timeouts, which opensearch-py's own connection passes on, bound each read only."""

    def __init__(self, host="localhost", port=None, http_auth=None, ssl_context=None, **kwargs):
        super().__init__(host=host, port=port, **kwargs)
        if isinstance(http_auth, str):  # "user:password", as opensearch-py reads it from an address
            http_auth = http_auth.split(":", 1)
        self.client = bounded_client(ssl_context, auth=tuple(http_auth) if http_auth else None)

    def perform_request(self, method, url, params=None, body=None, timeout=None, ignore=(), headers=None):
        # httpx drops a path's dot segments (RFC 3986): a document id "." or ".." (opensearch-py percent-encodes the
        # other characters that matter) named the index's _doc endpoint, or the index itself (a GET of its settings, a
        # DELETE of it). Percent-encoded, OpenSearch reads them back as the id.
        url = "/".join("%2E" * len(part) if part in (".", "..") else part for part in url.split("/"))
        url = self.host + self.url_prefix + url + (f"?{urlencode(params)}" if params else "")
        try:
            response = self.client.request(method, url, content=body, headers={**self.headers, **(headers or {})},
                                           timeout=timeout or self.timeout)
        except UNANSWERED as exc:
            kind = unanswered_as(exc, tls=OSSSLError, timeout=ConnectionTimeout, unreachable=OSConnectionError)
            raise kind("TIMEOUT" if kind is ConnectionTimeout else "N/A", str(exc), exc) from None
        raw = response.content.decode("utf-8", "surrogatepass")
        self._raise_warnings(response.headers.get_list("warning"))
        if not 200 <= response.status_code < 300 and response.status_code not in ignore:
            self._raise_error(response.status_code, raw, response.headers.get("content-type"))
        return response.status_code, response.headers, raw

    def close(self):
        self.client.close()


class _CallsWithinTimeout(Transport):
    """Each call ends within its timeout in all, its retries included: netguard's deadline over the call, which
    _BoundedConnection's requests run in. The timeout is the client's (CALL_TIMEOUT_S), or the call's own
    `request_timeout`, as opensearch-py reads it."""

    def perform_request(self, method, url, params=None, body=None, timeout=None, ignore=(), headers=None):
        seconds = timeout or (params or {}).get("request_timeout") or self.kwargs["timeout"]
        with deadline(float(seconds)):
            return super().perform_request(method, url, params, body, timeout, ignore, headers)


# Bulk writes go in chunks of up to 500 documents and 10 MiB; a document the node answers 429 (too many requests) is
# sent again up to 4 times, after 0.5 s, then twice as long each time (7.5 s in all).
_CHUNK_DOCS, _CHUNK_BYTES, _BULK_RETRIES, _FIRST_WAIT_S = 500, 10 * 1024 * 1024, 4, 0.5


def _chunks(actions, serializer) -> Iterator[list[tuple[dict, list[str]]]]:
    """The actions as bulk requests' chunks of up to _CHUNK_DOCS actions and _CHUNK_BYTES, as helpers.streaming_bulk
    chunks them: each action with its lines (helpers.expand_action's, serialized)."""
    chunk, size = [], 0
    for action in actions:
        lines = [serializer.dumps(part) for part in helpers.expand_action(action) if part is not None]
        more = sum(len(line.encode("utf-8")) + 1 for line in lines)  # each line and its line feed
        if chunk and (size + more > _CHUNK_BYTES or len(chunk) == _CHUNK_DOCS):
            yield chunk
            chunk, size = [], 0
        chunk.append((action, lines))
        size += more
    if chunk:
        yield chunk


def _sent(client: OpenSearch, chunk: list[tuple[dict, list[str]]]) -> list[tuple[bool, dict]]:
    """(ok, item) for each action of the chunk, in its order, from one bulk request: the node's answer to each, or, for a
    chunk it did not take (a TransportError: a 429 or a 5xx for the whole request, no answer), that failure as each
    item's (its status, "N/A" when nothing answered), as helpers.streaming_bulk gives them without raising."""
    try:
        answer = client.bulk(body="".join(line + "\n" for _, lines in chunk for line in lines),
                             request_timeout=BATCH_TIMEOUT_S)
    except TransportError as exc:
        failed = []
        for action, _ in chunk:
            ((op_type, meta),) = helpers.expand_action(action)[0].items()
            failed.append((False, {op_type: {**meta, "error": str(exc), "status": exc.status_code,
                                             "exception": exc}}))
        return failed
    return [(200 <= info.get("status", 500) < 300, {op_type: info})
            for item in answer["items"] for op_type, info in item.items()]


def _bulk_items(client: OpenSearch, actions) -> Iterator[tuple[bool, dict]]:
    """(ok, item) for each action in order, as helpers.streaming_bulk gives them (raising nothing: a chunk the node did
    not take is each of its items failed), but each chunk's attempts and the waits between them within BATCH_TIMEOUT_S
    in all, where the helper waited (time.sleep) outside any bound: a chunk answered 429 held its caller up to 7.5 s
    past it. A wait that would end past the bound is not waited: the items still answered 429 are given as they are.
    Built on the client's bulk (_chunks, _sent), not the helper's private parts."""
    for chunk in _chunks(actions, client.transport.serializer):
        outcomes = [None] * len(chunk)  # (given once the chunk is done: its deadline is not the caller's meanwhile)
        pending = list(range(len(chunk)))  # the positions of the actions still to send
        with deadline(BATCH_TIMEOUT_S):
            for attempt in range(_BULK_RETRIES + 1):
                for position, outcome in zip(pending, _sent(client, [chunk[p] for p in pending])):
                    outcomes[position] = outcome
                pending = [p for p in pending if not outcomes[p][0]
                           and next(iter(outcomes[p][1].values())).get("status") == 429]
                if not pending or attempt == _BULK_RETRIES or not sleep_within(_FIRST_WAIT_S * 2 ** attempt):
                    break
        yield from outcomes


def _copied(spec: IndexSpec, new: str, doc: dict, old_id: str | None = None) -> dict:
    """A migration's write of an upgraded document into the new version: under its id as upgraded (programs v16 moves a
    re-keyed program), as the embedded index writes it."""
    return {"_op_type": "index", "_index": new, "_id": doc.get(spec.id_field, old_id), "_source": as_indexed(spec, doc)}


class OpenSearchIndex(SearchIndex):
    def __init__(self, client: OpenSearch, prefix: str = "amx", url: str = ""):
        self.client = client
        self.prefix = prefix
        self.url = url
        self._specs: dict[str, IndexSpec] = {}
        self._unfolded: set[str] = set()  # indexes whose live version holds its text unfolded (no FOLDED): behind
        self._copies: dict[str, str] = {}  # by index name, the shard copy its last generation was read from

    @classmethod
    def from_settings(cls, settings) -> "OpenSearchIndex":
        auth = None
        if settings.opensearch_username:
            password = settings.opensearch_password.get_secret_value() if settings.opensearch_password else ""
            auth = (settings.opensearch_username, password)
        # A call that timed out is not tried again: its time is spent (_CallsWithinTimeout).
        client = OpenSearch(hosts=[settings.opensearch_url], http_auth=auth, timeout=CALL_TIMEOUT_S, max_retries=2,
                            retry_on_timeout=False, http_compress=False, connection_class=_BoundedConnection,
                            transport_class=_CallsWithinTimeout, **_trusted(settings))
        return cls(client, settings.index_prefix, settings.opensearch_url)

    def check(self) -> None:
        """A ConfigError naming the setting when nothing answers at the address (with a retry_after: a wrong
        address, or a node not up yet) or the node refuses the credentials or the path (only a new setting helps).
        A node that answers overloaded or not ready (a 429, a 5xx) is no misconfiguration: BackendUnavailable, as
        on any other call, so a function starts on it and answers 503 with Retry-After until the node is back."""
        shown = without_credentials(self.url, self.url)
        try:
            self.client.info()
        except OSSSLError as exc:  # before ConnectionError, its base: only a setting helps, not waiting
            raise ConfigError("AMX_OPENSEARCH_CA_FILE", f"OpenSearch at {shown} has a certificate we do not trust "
                                                        f"({tls_reason(exc)}): the setting names the CA that signed "
                                                        "it, and it must be for the address's host") from None
        except OSConnectionError:
            raise ConfigError("AMX_OPENSEARCH_URL", f"cannot reach OpenSearch at {shown}", retry_after=30) from None
        except TransportError as exc:
            if unavailable := _overloaded("check", exc):
                raise unavailable from None
            raise ConfigError("AMX_OPENSEARCH_URL", f"OpenSearch at {shown} answered {exc.status_code}") from None

    def _alias(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def ensure_index(self, spec: IndexSpec) -> str:
        with _answering(f"ensure {spec.name}"):
            return self._ensure_index(spec)

    def _ensure_index(self, spec: IndexSpec) -> str:
        physical = spec.physical(self.prefix)
        if self.client.indices.exists_alias(name=self._alias(spec.name)):
            return self._current(spec.name)  # another version may be live: moving is migrate()'s job
        if not self.client.indices.exists(index=physical):
            try:
                self.client.indices.create(index=physical, body=index_body(spec), request_timeout=BATCH_TIMEOUT_S)
            except RequestError as exc:
                if exc.error != "resource_already_exists_exception":
                    raise
        self.client.indices.update_aliases(body={"actions": [{"add": {"index": physical, "alias": self._alias(spec.name),
                                                                      "is_write_index": True}}]},
                                           request_timeout=BATCH_TIMEOUT_S)
        return physical

    def _current(self, name: str) -> str:
        """The physical index the alias points at."""
        try:
            (physical,) = self.client.indices.get_alias(name=self._alias(name)).keys()
        except OSNotFoundError:
            raise NotFoundError(f"index {name!r} does not exist (alias {self._alias(name)!r})") from None
        return physical

    def generation(self, name):
        """By the refreshes that showed searches new documents, counted on the primary copies, the ones searches read
        (_COUNTED_COPIES). A count of writes moved as the node took each one, before a refresh made it searchable, so
        an answer computed in between was cached under the new generation without it. Only what searches see moves
        it (an explicit refresh with nothing new too: a cache miss).
        The count is the primary shard copy's, kept in its memory: it starts again from 0 in a copy started anew (a
        node restarted, the index closed and opened, restored, or created again by a migration; a primary moved to
        another node) and would pass values seen before, with other documents. So the generation names the copy
        (_shard_copy), read before and after the count: the same copy both times (copies never recur), the count is
        that copy's."""
        copy = self._copies.get(name) or self._shard_copy(name)
        for _ in range(3):
            with _answering(f"stats of {name}"):
                stats = self.client.indices.stats(index=self._alias(name), metric="refresh")["indices"]
            (physical, numbers), = stats.items()
            now = self._shard_copy(name)
            if now == copy and now.startswith(f"{physical}/"):
                self._copies[name] = now
                return f"{now}:{numbers['primaries']['refresh']['external_total']}"
            copy = now
        raise BackendUnavailable(f"OpenSearch stats of {name}: its primary shards kept moving",
                                 cause="the search index is moving its shards", retry_after=10)

    def _shard_copy(self, name: str) -> str:
        """Which copies of the index's primary shards count refreshes now: the physical index, its uuid (new whenever
        an index is created, under any name), and per shard its primary term (raised whenever a primary starts: a
        restart, an open, a restore, a failover) and the primary's allocation id (new when a primary moves)."""
        try:
            with _answering(f"state of {name}"):
                state = self.client.cluster.state(metric="metadata,routing_table", index=self._alias(name),
                                                  filter_path=_SHARD_COPY)
        except OSNotFoundError:
            state = {}
        if not state.get("metadata", {}).get("indices"):  # (an alias naming nothing answers no metadata, not a 404)
            raise NotFoundError(f"index {name!r} does not exist (alias {self._alias(name)!r})")
        (physical, meta), = state["metadata"]["indices"].items()
        shards = state["routing_table"]["indices"][physical]["shards"]
        primaries = {shard: next((c.get("allocation_id", {}).get("id") for c in copies if c.get("primary")), None)
                     for shard, copies in shards.items()}
        return f"{physical}/{meta['settings']['index']['uuid']}/" + ",".join(
            f"{shard}.{term}.{primaries.get(shard)}" for shard, term in sorted(meta["primary_terms"].items()))

    def status(self, name):
        current = self._current(name)
        prefix = f"{self.prefix}-{name}-v"
        found = self.client.indices.get(index=f"{prefix}*", expand_wildcards="open,closed")
        versions = sorted(int(i[len(prefix):]) for i in found if i[len(prefix):].isdigit())
        return IndexStatus(name, int(current[len(prefix):]), versions)

    @contextmanager
    def _lease(self, name: str, holder: dict):
        """The index's lease: a document created only if absent in <prefix>-leases (made on first use), holding what
        its holder says of itself (lease_holder), deleted at the end only if still the one created. A holder that dies
        leaves it (and a migration, the live version's write block): `amx index unlock` clears both (unlock). (Its id
        is a migration's: one of code before rollbacks took it, in a rolling update, takes the same.)"""
        leases, lease_id = f"{self.prefix}-leases", f"migrate-{name}"
        try:
            self.client.indices.create(index=leases, body={"settings": {"number_of_shards": 1},
                                                           "mappings": {"dynamic": False, "properties": {}}},
                                       request_timeout=BATCH_TIMEOUT_S)
        except RequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
        try:
            taken = self.client.create(index=leases, id=lease_id, body=holder, refresh="true")
        except OSConflictError:
            try:
                held = self.client.get(index=leases, id=lease_id)["_source"]
            except OSNotFoundError:  # it ended since
                held = None
            raise lease_taken(name, held, f"; if its process has died, run `amx index unlock {name}`, then "
                                          f"`{finishing_command(name, held)}` to finish it") from None
        try:
            yield
        finally:
            self.client.delete(index=leases, id=lease_id, if_seq_no=taken["_seq_no"],
                               if_primary_term=taken["_primary_term"], refresh="true", ignore=[404, 409])

    def unlock(self, name):
        try:
            holder = self.client.get(index=f"{self.prefix}-leases", id=f"migrate-{name}")["_source"]
        except OSNotFoundError:
            return None
        if holder.get("doing", "migration") == "migration":
            # What a migration that died left: the live version's write block (a half-built version the next
            # migration builds afresh), then the lease. A rollback sets no block: its record says what is left to do.
            self.client.indices.put_settings(index=self._current(name), body={"index.blocks.write": None})
        self.client.delete(index=f"{self.prefix}-leases", id=f"migrate-{name}", refresh="true", ignore=[404])
        return holder

    def _migrate(self, spec: IndexSpec) -> int:
        check_migration(self.status(spec.name), spec)
        old, new, alias = self._current(spec.name), spec.physical(self.prefix), self._alias(spec.name)
        # A version a rollback left (kept for its 30 days) holds documents since deleted from `old`: built afresh.
        self.client.indices.delete(index=new, ignore_unavailable=True)
        self.client.indices.create(index=new, body=index_body(spec), request_timeout=BATCH_TIMEOUT_S)
        # Writers get a retriable block (their event is redelivered after the swap); readers go on.
        self.client.indices.put_settings(index=old, body={"index.blocks.write": True},
                                         request_timeout=BATCH_TIMEOUT_S)
        try:
            # The copy searches `old`, and a search sees only what a refresh made visible: a write acknowledged just
            # before the block would be left behind.
            self.client.indices.refresh(index=old, request_timeout=BATCH_TIMEOUT_S)
            copied, failures, moved = self._copy(old, new, spec)
            if failures:
                raise InvalidInput(f"migration of {spec.name!r} to v{spec.version} aborted before the swap: "
                                   f"{len(failures)} documents do not fit, e.g. {failures[0][0]}: {failures[0][1]}")
            # Written before the swap, so a stop after it leaves no old id unrecorded: until the swap, their old ids
            # are still held, so they are not followed (moves.py), and the same migration run again writes them again.
            # The records they end go only after the swap: before, a stop left a new id no program's, its move gone.
            record_moves(self, spec.name, moved, migration_label(spec.name, spec.version), end=False,
                         kept_for=spec.version)
            self.client.indices.update_aliases(body={"actions": [
                {"remove": {"index": old, "alias": alias}},
                {"add": {"index": new, "alias": alias, "is_write_index": True}}]})
        except BaseException:
            self.client.indices.delete(index=new, ignore_unavailable=True)
            raise
        finally:
            self.client.indices.put_settings(index=old, body={"index.blocks.write": None},
                                             request_timeout=BATCH_TIMEOUT_S)
        self._specs.pop(spec.name, None)
        try:
            end_moves(self, spec.name, moved, kept_for=spec.version)
        except Exception as exc:  # the migration is live: a stale record is not followed from an id held (moves.py)
            log.warning("index.moves_not_ended", index=spec.name, version=spec.version, error=type(exc).__name__,
                        reason="the records the swap made stale are left; each names an id the index holds, not "
                               f"followed: `amx index migrate {spec.name}` ends them")
        self._ism(old, retire=True)
        return copied

    def _copy(self, old: str, new: str, spec: IndexSpec) -> tuple[int, list[tuple[str, str]], dict[str, str]]:
        """Every document of `old` into `new`: how many landed, (id, reason) for each that did not, and the ids the
        upgrade moved (old -> new).
        On the node (reindex) when documents are copied as they are; through here when spec.upgrade
        reshapes each one, which only this code knows how to do, or when they have text, whose narrowed form (FOLDED)
        only this code makes and _source does not hold."""
        if spec.upgrade is None and "text" not in spec.fields.values():
            try:
                result = self.client.reindex(body={"source": {"index": old}, "dest": {"index": new}},
                                             wait_for_completion=True, refresh=True, request_timeout=600)
            except RequestError as exc:  # item failures come back as a 400 carrying the same report
                result = exc.info if isinstance(exc.info, dict) and exc.info.get("failures") else {
                    "failures": [{"id": None, "cause": {"reason": str(exc.error)}}]}
            failures = [(str(f.get("id")), str(f.get("cause", {}).get("reason"))) for f in result.get("failures", [])]
            return result.get("created", 0) + result.get("updated", 0), failures, {}
        result, landings = BulkResult(), Landings(spec)

        def actions():
            for hit in self._scanned(old):
                for doc in upgraded(spec, [hit["_source"]], result):
                    if landings.first(hit["_id"], doc):
                        yield _copied(spec, new, doc, hit["_id"])

        self._copy_into(new, actions(), result)
        if not result.errors:  # documents an upgrade landed on one id, combined over the first one written (a get
            # reads it as written, refreshed or not)
            together = landings.together(lambda doc_id: self.client.get(
                index=new, id=doc_id, request_timeout=BATCH_TIMEOUT_S)["_source"], result)
            self._copy_into(new, (_copied(spec, new, doc) for doc in together), BulkResult(errors=result.errors))
            result.indexed += landings.combined()  # (written again, not copied again)
        self.client.indices.refresh(index=new, request_timeout=BATCH_TIMEOUT_S)
        return result.indexed, result.errors, landings.moves()

    def _scanned(self, index: str) -> Iterator[dict]:
        """Every document of `index` (a physical index or an alias) a refresh has made visible, as hits, in one scroll:
        a view of the index as it was when it began."""
        return helpers.scan(self.client, index=index, query={"query": {"match_all": {}}}, size=500,
                            request_timeout=BATCH_TIMEOUT_S)

    def documents(self, name):
        self._spec(name)  # an index that does not exist is NotFoundError, as a search's
        self.refresh(name)  # a write acknowledged, not yet refreshed, is read too
        with _answering(f"documents of {name}"):
            yield from (hit["_source"] for hit in self._scanned(self._alias(name)))

    def live_spec(self, name):
        return self._spec(name)

    def _copy_into(self, new: str, actions, result: BulkResult) -> None:
        for ok, item in _bulk_items(self.client, actions):
            if ok:
                result.indexed += 1
            else:
                info = item.get("index", {})
                result.errors.append((str(info.get("_id")), _reason(info.get("error"))))

    def _point_back(self, name, version):
        alias, current, previous = self._alias(name), self._current(name), f"{self.prefix}-{name}-v{version}"
        self.client.indices.update_aliases(body={"actions": [
            {"remove": {"index": current, "alias": alias}},
            {"add": {"index": previous, "alias": alias, "is_write_index": True}}]})
        self._specs.pop(name, None)
        self._ism(previous, retire=False)
        self._ism(current, retire=True)

    def _ism(self, index: str, *, retire: bool) -> None:
        """A version the alias left is kept for rollback, then deleted by the ISM policy Terraform
        defines (<prefix>-superseded-versions); one the alias comes back to is kept. A cluster
        without the ISM plugin keeps every version (and says so)."""
        path = f"/_plugins/_ism/{'add' if retire else 'remove'}/{index}"
        body = {"policy_id": f"{self.prefix}-superseded-versions"} if retire else None
        try:
            self.client.transport.perform_request("POST", path, body=body)
        except Exception as exc:  # no ISM plugin, or no such policy: versions stay until removed by hand
            log.warning("index.retention_unmanaged", index=index, reason=type(exc).__name__)

    def _spec(self, name: str) -> IndexSpec:
        if name not in self._specs:
            try:
                with _answering(f"mapping of {name}"):
                    mappings = self.client.indices.get_mapping(index=self._alias(name))
            except OSNotFoundError:
                raise NotFoundError(f"index {name!r} does not exist (alias {self._alias(name)!r})") from None
            (only,) = mappings.values()
            spec = self._specs[name] = IndexSpec.from_json(only["mappings"]["_meta"]["spec"])
            if "text" in spec.fields.values() and FOLDED not in only["mappings"].get("properties", {}):
                self._unfolded.add(name)
            else:
                self._unfolded.discard(name)
        return self._specs[name]

    def _searchable(self, name: str, query: SearchQuery) -> tuple[IndexSpec, SearchQuery]:
        """The live version's spec and the query as asked of it (validate_query). A version that holds its text
        unfolded (made before FOLDED) has nothing this code searches by: the index is behind the code."""
        spec = self._spec(name)
        if name in self._unfolded:
            raise IndexBehind("index", f"{name} (v{spec.version}) holds its text unfolded: run `amx index migrate "
                                       f"{name}`")
        return spec, validate_query(spec, query)

    def bulk_upsert(self, name, docs, *, refresh=False) -> BulkResult:
        return self._bulk(name, ((doc, None) for doc in docs), refresh, conditional=False)

    def write_if_unchanged(self, name, docs, *, refresh=False) -> BulkResult:
        return self._bulk(name, docs, refresh, conditional=True)

    def _bulk(self, name, docs, refresh: bool, conditional: bool) -> BulkResult:
        """Index (document, version) pairs; conditional: each only if unchanged since read at its version (the
        physical index, seq_no and primary_term), or, read absent (None), only if still absent (a create). One read
        from another physical index than the alias's now (a migration or rollback since) is a conflict: sequence
        numbers of two indexes do not compare."""
        spec = self._spec(name)
        alias = self._alias(name)
        result = BulkResult()
        blocked, unavailable = 0, []
        if conditional:
            with _answering(f"alias of {name}"):
                current = self._current(name)

        def actions():
            for doc, version in docs:
                doc_id = doc.get(spec.id_field) if isinstance(doc, dict) else None
                if not isinstance(doc_id, str) or not doc_id:
                    result.errors.append((str(doc_id), f"document has no string {spec.id_field!r}"))
                    continue
                if FOLDED in doc:  # not the document's to say: the mapping would take it as what it is searched by
                    result.errors.append((doc_id, f"fields not in the {spec.name} mapping: [{FOLDED!r}]"))
                    continue
                try:  # the mapping would read a number as milliseconds, the embedded index as seconds
                    document_times(spec, doc)
                except ValueError as exc:
                    result.errors.append((doc_id, str(exc)))
                    continue
                action = {"_op_type": "index", "_index": alias, "_id": doc_id, "_source": as_indexed(spec, doc)}
                if conditional and version is None:
                    action["_op_type"] = "create"
                elif conditional:
                    physical, action["if_seq_no"], action["if_primary_term"] = version
                    if physical != current:
                        result.conflicts.append(doc_id)
                        continue
                yield action

        with _answering(f"bulk into {alias}"):
            for ok, item in _bulk_items(self.client, actions()):
                if ok:
                    result.indexed += 1
                    continue
                info = item.get("index") or item.get("create") or {}
                error = info.get("error")
                if conditional and info.get("status") == 409:  # changed, or created, since read: not a failure
                    result.conflicts.append(str(info.get("_id")))
                    continue
                if isinstance(error, dict) and error.get("type") == "cluster_block_exception":
                    blocked += 1
                    continue
                if _node_failed(info):  # the node's failure, not the document's: the write is retried whole
                    unavailable.append(info.get("status"))
                    continue
                result.errors.append((str(info.get("_id")), _reason(error)))
        if blocked:
            raise BackendUnavailable(f"{blocked} writes into {alias} were blocked (a migration is running); retry")
        if unavailable:
            status = unavailable[0]
            if not isinstance(status, int):
                raise BackendUnavailable(f"OpenSearch bulk into {alias}: {len(unavailable)} writes not sent, the node "
                                         f"is unreachable ({ADDRESS_SAID})", cause="the search index is unreachable",
                                         retry_after=10)
            how = "is overloaded" if status == 429 else "is unavailable"
            raise BackendUnavailable(f"OpenSearch bulk into {alias}: {len(unavailable)} writes answered {status}",
                                     cause=f"the search index {how} (it answered HTTP {status})",
                                     retry_after=5 if status == 429 else 10)
        if refresh:
            self.refresh(name)
        return result

    def refresh(self, name):
        with _answering(f"refresh of {name}"):
            self.client.indices.refresh(index=self._alias(name))

    def get(self, name, doc_id):
        self._spec(name)
        try:
            with _answering(f"get from {name}"):
                return self.client.get(index=self._alias(name), id=doc_id)["_source"]
        except OSNotFoundError:
            return None

    def get_many(self, name, doc_ids):
        return {doc_id: versioned.doc for doc_id, versioned in self.get_versioned(name, doc_ids).items()}

    def get_versioned(self, name, doc_ids):
        self._spec(name)
        ids, found = list(dict.fromkeys(doc_ids)), {}
        for start in range(0, len(ids), MAX_PAGE):
            with _answering(f"get from {name}"):
                answer = self.client.mget(index=self._alias(name), body={"ids": ids[start:start + MAX_PAGE]})
            found |= {doc["_id"]: Versioned(doc["_source"], (doc["_index"], doc["_seq_no"], doc["_primary_term"]))
                      for doc in answer["docs"] if doc.get("found")}
        return found

    def delete(self, name, doc_id, *, refresh=False):
        self._spec(name)
        try:
            with _answering(f"delete from {name}"):
                self.client.delete(index=self._alias(name), id=doc_id, refresh="true" if refresh else "false")
            return True
        except OSNotFoundError:
            return False

    def _search_in(self, name: str, body: dict, point: str | None) -> tuple[dict, bool]:
        """The answer of `body` on the index `name`, read in the point in time `point` while the node keeps it (the live
        index after: a cursor read past POINT_KEEP_ALIVE), and whether `point` was gone so. A point is a cursor's, not
        signed (encode_cursor): one of another index (only a caller of that index's searches holds its id) is refused
        by the hits it gives, one the node cannot read (a 400, or read as a view of no shard: 'AAAA') as malformed,
        not in the node's words ('search rejected: illegal_argument_exception')."""
        if point:
            try:
                with _answering(f"search on {name}"):
                    response = self.client.search(body={**body, "pit": {"id": point, "keep_alive": POINT_KEEP_ALIVE}})
            except OSNotFoundError:
                response = None  # expired (or the node restarted): the live index
            except RequestError:
                raise malformed_cursor() from None
            if response is not None:
                if not response["_shards"]["total"] or any(not hit["_index"].startswith(f"{self._alias(name)}-v")
                                                           for hit in response["hits"]["hits"]):
                    raise malformed_cursor()
                return response, False
        try:
            with _answering(f"search on {name}"):  # of the copies whose refreshes the generation counts
                return self.client.search(index=self._alias(name), body=body, preference=_COUNTED_COPIES), bool(point)
        except RequestError as exc:
            raise InvalidInput(f"search rejected: {exc.error}") from None

    def _open_point(self, name: str) -> str | None:
        """A point in time of the index `name` (POINT_KEEP_ALIVE), None where the node opens none (too many open, an
        older node): its pages are then of the live index, as before."""
        try:
            return self.client.create_pit(index=self._alias(name), params={"keep_alive": POINT_KEEP_ALIVE})["pit_id"]
        except (TransportError, KeyError) as exc:
            get_logger().warning("search.no_point_in_time", index=name,
                                 reason=f"{type(exc).__name__} {getattr(exc, 'status_code', '')}".strip())
            return None

    def _close_point(self, point: str) -> None:
        try:
            self.client.delete_pit(body={"pit_id": [point]})
        except TransportError:  # it expires anyway
            pass

    def search(self, name, query: SearchQuery) -> SearchResult:
        try:
            spec, query = self._searchable(name, query)
        except ConfigError:  # the spec kept may be a version another process has since migrated from
            self._specs.pop(name, None)
            spec, query = self._searchable(name, query)
        after = decode_cursor(query)
        phrases = searched_phrases(query.text)
        text_words = [word for phrase in phrases for word in phrase]
        text_fields = [f"{FOLDED}.{f}" for f, kind in spec.fields.items() if kind == "text"]  # their words
        if text_words and not text_fields:
            raise InvalidInput(f"index {name!r} has no text fields to search")

        must, filters = [], []
        most = expansions(len(text_words), len(text_fields))

        def starts(word: str) -> dict:  # the terms `word` begins, scoring nothing: whole words rank above
            return {"constant_score": {"filter": {"bool": {"should": [{"prefix": {f: word}} for f in text_fields]}},
                                       "boost": 0}}

        joins, at = joined_words(phrases), 0  # (each word's, in text_words' order)
        for phrase in phrases:  # every word must match some text field, allowing typos; a run's pairs side by side
            at += len(phrase)
            if len(phrase) > 1:
                must.append({"multi_match": {"query": " ".join(phrase), "fields": text_fields, "type": "phrase"}})
                continue
            must.append({"multi_match": {"query": phrase[0], "fields": text_fields, "fuzziness": "AUTO",
                                         "prefix_length": 1, "max_expansions": most}})
            if joined := joins[at - 1]:  # or written together with a word beside it
                must[-1] = {"bool": {"should": [must[-1], *({"multi_match": {"query": join, "fields": text_fields}}
                                                            for join in joined)]}}
            if spec.stemmed and (stem := stem_of(phrase[0])) is not None:  # or its stem, scored below the word
                must[-1] = {"bool": {"should": [must[-1], {"match": {f"{FOLDED}.{STEMS}": {
                    "query": stem, "boost": STEM_BOOST}}}]}}
            if lone(phrase[0]):  # one character of such a run: also every term it begins (search.paired)
                must[-1] = {"bool": {"should": [must[-1], starts(phrase[0])]}}
        begun = begun_word(query, text_words)
        if begun is not None:  # or the last one the start of a word
            must[-1] = {"bool": {"should": [must[-1], starts(begun)]}}
        if (joined := begun_join(query, phrases)) is not None:  # or the last two, written together
            must[-2:] = [{"bool": {"should": [clause, starts(joined)]}} for clause in must[-2:]]
        for field, values in query.filters.items():
            filters.append({"terms": {field: values}})
        for field, ranges in query.ranges.items():
            within = [{"range": {field: {bound: value for bound, value in rng.as_json().items() if value is not None}}} for rng in ranges_of(ranges)]
            if len(within) != 1:  # any of them; none: nothing matches
                within = [{"bool": {"should": within, "minimum_should_match": 1}} if within else {"match_none": {}}]
            filters += within
        sort = [] if (query.sort or not text_words) else [{"_score": "desc"}]
        for key in query.sort:
            if key.within is not None:
                desc = key.order == "desc"
                params = {"field": key.field, "gte": key.within.gte, "lte": key.within.lte, "largest": desc,
                          "none": -_LARGEST if desc else _LARGEST}
                sort.append({"_script": {"type": "number", "order": key.order,
                                         "script": {"lang": "painless", "source": _WITHIN, "params": params}}})
                continue
            field = f"{FOLDED}.{_whole(key.field)}" if spec.fields[key.field] == "text" else key.field
            sort.append({field: {"order": key.order, "missing": "_last"}})
        sort.append({spec.id_field: "asc"})
        backward = after is not None and cursor_backward(query)  # the page before the cursor's hit
        if backward and sort[0] == {"_score": "desc"}:  # no search gives one: a relevance sort's pages are a view's
            raise malformed_cursor()
        # optional beside the words (must): a hit whose exact field is the text scores EXACT_BOOST more
        should = [{"constant_score": {"filter": {"term": {f"{FOLDED}.{_whole(field)}": exact_value(query.text)}},
                                      "boost": EXACT_BOOST}} for field in query.exact] if text_words else []
        body = {"query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters, "should": should}},
                "sort": _reversed(sort) if backward else sort, "size": query.size, "from": query.offset,
                "track_total_hits": True,
                "aggs": {field: _facet(field, query) for field in query.facets}}
        if query.post_filters:  # on the hits only: each facet but the field's own has them as a filter of its own
            body["post_filter"] = {"bool": {"filter": [{"terms": {field: values}}
                                                       for field, values in query.post_filters.items()]}}
        if after is not None:
            keys = [("score", True)] if sort[0] == {"_score": "desc"} else []  # (kind, descending) per sort value
            keys += [("script" if key.within is not None else spec.fields[key.field], key.order == "desc")
                     for key in query.sort]
            keys.append(("keyword", False))
            if len(after) != len(sort) or not all(map(_takes, (kind for kind, _ in keys), after)):
                raise malformed_cursor()
            body["search_after"] = [_MISSING_LAST[kind][descending] if value is None and kind in _MISSING_LAST
                                    else value for value, (kind, descending) in zip(after, keys)]
            if query.size:  # one hit past the page says whether another page follows (the total counts all)
                body["size"] = query.size + 1
        # A relevance sort's later pages are read in one point in time (POINT_KEEP_ALIVE), opened once a first page
        # shows there is a next one: a search most callers read one page of costs no more requests, nor a node's view.
        relevance = sort[0] == {"_score": "desc"} and query.size and not query.offset
        point = cursor_point(query) if relevance and after is not None else None
        response, view_gone = self._search_in(name, body, point)
        point = response.get("pit_id") if point else None  # (the node may give the next page another id)
        raw_hits = response["hits"]["hits"]
        total = response["hits"]["total"]["value"]
        # a cursor's page asked one hit more: the total counts the hits before the cursor too, so a last page that was
        # full gave a cursor to an empty one
        more = len(raw_hits) > query.size if after is not None else query.offset + query.size < total
        raw_hits = raw_hits[:query.size]
        if backward:  # read in the opposite order, the nearest first; the cursor's hit follows
            raw_hits, precedes, more = raw_hits[::-1], more, True
        else:
            precedes = after is not None or query.offset > 0
        hits = [Hit(h["_id"], h.get("_score"), h["_source"]) for h in raw_hits]
        next_cursor = None
        if raw_hits and backward:
            next_cursor = encode_cursor(query, raw_hits[-1]["sort"])
        elif raw_hits and len(raw_hits) == query.size and more:
            if relevance and after is None and query.paged:  # the first page's scores: a write ms away may move them
                point = self._open_point(name)
            next_cursor = encode_cursor(query, raw_hits[-1]["sort"], point)
        elif point:
            self._close_point(point)  # the last page: nothing will read it again
        facets = {}
        for field in query.facets:
            counted = response["aggregations"][field]
            buckets = counted.get("values", counted)["buckets"]  # under a filter of the other post filters, or not
            if spec.fields[field] == "bool":
                facets[field] = [(b["key_as_string"] == "true", b["doc_count"]) for b in buckets]
            else:
                facets[field] = [(b["key"], b["doc_count"]) for b in buckets]
        previous_cursor = None
        if raw_hits and precedes and sort[0] != {"_score": "desc"}:
            previous_cursor = encode_cursor(query, raw_hits[0]["sort"], backward=True)
        return SearchResult(total=total, hits=hits, facets=facets, next_cursor=next_cursor, view_gone=view_gone,
                            previous_cursor=previous_cursor)

