"""Documents over HTTP, the one way: a collection of pydantic documents in the object store, read
with an ETag and written only with If-Match (428 without it, 412 when stale), so two writers never
silently overwrite each other. Rules and campaigns are served through this."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError

from affiliate_matrix.documents import load_document, readable, save_document
from affiliate_matrix.errors import (
    ConflictError, InvalidInput, MethodNotAllowed, NotFoundError, PreconditionFailed, PreconditionRequired,
)
from affiliate_matrix.handlers import body_of, json_response


@dataclass(frozen=True)
class Collection:
    name: str                      # "rule", used in messages
    path: str                      # "/rules"
    prefix: str                    # "rules/": documents are <prefix><id>.json
    model: type[BaseModel]
    id_pattern: str = r"[a-z0-9][a-z0-9-]{0,62}"
    read_only: frozenset = field(default_factory=frozenset)  # set by the server; refused in a body
    check: Callable[[BaseModel], None] | None = None         # more than the model can say (InvalidInput)
    carry: Callable[[BaseModel, dict], dict] | None = None   # on replace: what the server keeps or sets
    patch: bool = False                                      # PATCH as a JSON Merge Patch (RFC 7396)

    def key(self, doc_id: str) -> str:
        return f"{self.prefix}{doc_id}.json"

    def one(self, path: str) -> str | None:
        match = re.fullmatch(rf"{re.escape(self.path)}/({self.id_pattern})", path)
        return match.group(1) if match else None


def route(rt, request, collection: Collection):
    """Answer /<collection> and /<collection>/{id}; None when the path is neither."""
    if request.path == collection.path:
        if request.method == "GET":
            damaged: list[dict] = []
            items = [doc.model_dump(mode="json") for doc, _ in documents(rt, collection, damaged)]
            if not damaged:
                return json_response({"items": items})
            return json_response({"items": items, "errors": damaged}, headers={"X-Damaged-Items": str(len(damaged))})
        if request.method == "POST":
            return create(rt, collection, body_of(request))
        raise MethodNotAllowed(request.method, ("GET", "POST"))
    doc_id = collection.one(request.path)
    if doc_id is None:
        return None
    if request.method == "GET":
        doc, etag = load(rt, collection, doc_id)
        return with_etag(doc, etag)
    if request.method == "PUT":
        return replace(rt, collection, doc_id, if_match(request, collection), body_of(request))
    if request.method == "PATCH" and collection.patch:
        return merge(rt, collection, doc_id, if_match(request, collection), body_of(request))
    if request.method == "DELETE":
        return delete(rt, collection, doc_id, if_match(request, collection))
    raise MethodNotAllowed(request.method, ("GET", "PUT", "PATCH", "DELETE") if collection.patch
                           else ("GET", "PUT", "DELETE"))


def documents(rt, collection: Collection, damaged: list | None = None):
    """Every document of the collection; damaged ones are left out, logged and added to `damaged`."""
    keys = [key for key in sorted(rt.store.list(collection.prefix))
            if key.endswith(".json") and "/" not in key[len(collection.prefix):]]
    yield from readable(keys, lambda key: load(rt, collection, key[len(collection.prefix):].removesuffix(".json")),
                        damaged)


def load(rt, collection: Collection, doc_id: str) -> tuple[BaseModel, str]:
    return load_document(rt.store, collection.key(doc_id), collection.model, f"{collection.name} {doc_id!r}")


def validated(collection: Collection, data: dict) -> BaseModel:
    refused = collection.read_only & set(data)
    if refused:
        raise InvalidInput(f"{', '.join(sorted(refused))}: set by the server, not by a request")
    try:
        doc = collection.model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or "body"
        raise InvalidInput(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None
    if collection.check is not None:
        collection.check(doc)
    return doc


def with_etag(doc: BaseModel, etag: str, status: int = 200, headers: dict | None = None):
    return json_response(doc.model_dump(mode="json"), status, {"ETag": f'"{etag}"', **(headers or {})})


def if_match(request, collection: Collection) -> str:
    value = request.headers.get("If-Match")
    if not value:
        raise PreconditionRequired(f"send If-Match with the ETag of the {collection.name} you read")
    return value.strip().removeprefix("W/").strip('"')


def create(rt, collection: Collection, body: dict):
    doc = validated(collection, body)
    try:
        etag = save_document(rt.store, collection.key(doc.id), doc, create=True)
    except ConflictError:
        raise ConflictError(f"{collection.name} {doc.id!r} already exists") from None
    return with_etag(doc, etag, 201, {"Location": f"{collection.path}/{doc.id}"})


def replace(rt, collection: Collection, doc_id: str, expected: str, body: dict):
    if body.get("id", doc_id) != doc_id:
        raise InvalidInput(f"id: the body says {body.get('id')!r} but the address says {doc_id!r}")
    current, _ = load(rt, collection, doc_id)  # 404 before 412
    doc = validated(collection, {**body, "id": doc_id})
    if collection.carry is not None:
        doc = collection.model.model_validate(collection.carry(current, doc.model_dump(mode="json")))
    try:
        etag = save_document(rt.store, collection.key(doc_id), doc, if_match=expected)
    except ConflictError:
        raise PreconditionFailed(f"the {collection.name} changed since you read it: read it again and retry") from None
    return with_etag(doc, etag)


def merge(rt, collection: Collection, doc_id: str, expected: str, changes: dict):
    """JSON Merge Patch (RFC 7396): a field set to null goes back to its default."""
    refused = collection.read_only & set(changes)
    if refused:
        raise InvalidInput(f"{', '.join(sorted(refused))}: set by the server, not by a request")
    current, _ = load(rt, collection, doc_id)
    data = current.model_dump(mode="json", exclude=set(collection.read_only))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return replace(rt, collection, doc_id, expected, data)


def delete(rt, collection: Collection, doc_id: str, expected: str):
    """The store compares the ETag and deletes in one step: of concurrent writers holding one ETag, one wins."""
    try:
        rt.store.delete(collection.key(doc_id), if_match=expected)
    except NotFoundError:
        raise NotFoundError(f"{collection.name} {doc_id!r} does not exist") from None
    except ConflictError:
        raise PreconditionFailed(f"the {collection.name} changed since you read it: read it again and retry") from None
    return "", 204, {}
