"""Documents over HTTP, the one way: a collection of pydantic documents in the object store, read
with an ETag and written only with If-Match (428 without it, 412 when stale; read by handlers/preconditions.py),
so two writers never silently overwrite each other. Connections, rules and campaigns are served through this:
`Collection.routes()` is a collection's part of its API's route table (handlers/routes.py)."""

from collections.abc import Callable
from functools import cached_property
from typing import Annotated, Any, NamedTuple

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.json_schema import SkipJsonSchema

from affiliate_matrix.documents import delete_announced, load_document, no_document, readable, rewritten, save_document
from affiliate_matrix.errors import ConflictError, DamagedData, InvalidInput, NotFoundError, PreconditionFailed
from affiliate_matrix.handlers.preconditions import EntityTags, if_match as if_match_of
from affiliate_matrix.handlers.routes import Route, Shape, listing, refuse, strictly
from affiliate_matrix.wording import error_said, unknown_beside


class _CollectionFields(NamedTuple):  # immutable, at a sixth of a frozen dataclass's cost to define (every start)
    name: str                      # "rule", used in messages
    path: str                      # "/rules"
    prefix: str                    # "rules/": documents are <prefix><id>.json
    model: type[BaseModel]  # its `id` field, refused in words (ConnectionId, RuleId, CampaignId), types the address
    read_only: frozenset = frozenset()                       # set by the server; refused in a body
    check: Callable[[BaseModel], None] | None = None         # more than the model can say (InvalidInput)
    check_stored: Callable[[Any, BaseModel], None] | None = None  # what it must agree with in the store (rt, doc)
    carry: Callable[[BaseModel, dict], dict] | None = None   # on replace: what the server keeps or sets
    # before a replace is written, (rt, the document stored, the one replacing it): what follows from it beside the
    # document, done first so that a write failing after it leaves nothing half-done the document says is done
    replacing: Callable[[Any, BaseModel, BaseModel], None] | None = None
    created: Callable[[BaseModel], BaseModel] | None = None  # on create: what the server sets
    # after a create, (rt, the document, its ETag): what must still hold with it stored, which creations racing could
    # each pass when checked before (a limit); raises after undoing the create when it does not
    admit: Callable[[Any, BaseModel, str], None] | None = None
    patch: bool = False                                      # PATCH as a JSON Merge Patch (RFC 7396)
    shown: Callable[[dict, str], dict] | None = None         # a read: what a caller of that role sees of a document
    # a read: (rt, a document, None when it is read alone, else a dict its listing's reads share, which may judge less
    # and keep there what one read learned for the next) -> what it needs changed though stored, its `warnings`
    # (declared in the read's answer, `read`, described by warnings_said); a write's answer is the document read alone
    warnings: Callable[[Any, BaseModel, dict | None], list[str]] | None = None
    warnings_said: str = ""
    # a read: (rt, the document's id) -> what the server keeps of it apart from the document (a rule's firings and
    # failures), its read-only `state`, declared in the read's answer by state_shape (a function naming its model)
    state: Callable[[Any, str], dict] | None = None
    state_shape: Callable[[], type[BaseModel]] | None = None
    # before a delete: (rt, its id, the document or None when damaged, its ETag) -> the answer (a dict of `deleted`),
    # or None
    deleting: Callable[[Any, str, BaseModel | None, str], dict | None] | None = None
    # after a delete, (rt, its id): what the document leaves behind, removed once the document is gone (so a refused
    # delete loses none of it); run by a delete finding none too, so a retry finishes a delete cut short
    swept: Callable[[Any, str], None] | None = None
    deleted: Any = None                  # the answer of a delete (its model, or a function naming it); None: 204
    written_unchanged: str = ""  # a 412's words for what else writes a document again, its fields unchanged
    # how to mend a damaged document, whose replacement or change is refused ({id}: its id): a 409's last words
    damaged_remedy: str = ("delete it (DELETE {path}/{id} with If-Match: *, as it cannot be read for its ETag) and "
                           "create it again, or restore an earlier version of the object")


class Collection(_CollectionFields):
    """One collection of documents (_CollectionFields) and its part of an API: routes, models, keys."""

    def stale(self) -> PreconditionFailed:
        """A write or delete on an ETag the document no longer has."""
        changed = f" ({self.written_unchanged})" if self.written_unchanged else ""
        return PreconditionFailed(f"the {self.name} changed since you read it{changed}: read it again and retry")

    def stored(self, rt, doc_id: str) -> tuple[BaseModel, str]:
        """The stored document a replacement or a change is written over, and its ETag. A damaged one is a conflict (a
        409, not a 500: the request is sound, the document it would change is not), never overwritten: what the server
        keeps of it (carry: a connection's generation, its claims' key) cannot be read, so the way out is its delete,
        which takes a damaged one and undoes what it can (deleting), and a create."""
        try:
            return load(rt, self, doc_id)
        except DamagedData as exc:
            remedy = self.damaged_remedy.format(path=self.path, id=doc_id)
            raise ConflictError(f"{exc.where} is damaged ({exc.problem}), so it cannot be replaced or changed: "
                                f"{remedy}") from None

    def key(self, doc_id: str) -> str:
        return f"{self.prefix}{doc_id}.json"

    @property
    def id_name(self) -> str:
        return f"{self.name}_id"

    @cached_property
    def address(self) -> type[BaseModel]:
        """The path parameter naming one document: the document's id field, so that an id that is none is refused in
        the words a body's is (`'Bad_Id' is not a rule id: …`), not as its pattern. A class attribute, not a field,
        `ids_listed_by`, says how the dispatcher (handlers/routes.py) names what lists the ids."""
        id_field = self.model.model_fields["id"]
        address = create_model(f"{self.model.__name__}Address", __base__=Shape,
                               **{self.id_name: (id_field.annotation, id_field)})
        # every route it addresses (this API's and its own: a rule's test, a campaign's days) says an id no document
        # has with the route listing the ids, as a command says it with the command (documents.listed_by)
        address.ids_listed_by = (self.name, f"GET {self.path} lists them")
        return address

    @cached_property
    def read(self) -> type[BaseModel]:
        """A document as a read answers it: the model, and its `warnings` and `state` where the collection says them."""
        added: dict[str, Any] = {}
        if self.warnings is not None:
            added["warnings"] = (list[str], Field(default_factory=list, description=self.warnings_said))
        if self.state is not None:
            added["state"] = (self.state_shape(), Field(description="Kept by the server apart from the document, and "
                                                                    "read-only: a body sending it back is taken "
                                                                    "without it."))
        return create_model(f"{self.model.__name__}Read", __base__=self.model, **added) if added else self.model

    @cached_property
    def listing(self) -> type[BaseModel]:
        """The answer of a GET of the whole collection."""
        return create_model(f"{self.model.__name__}List", __base__=Shape, items=(list[self.read], ...),
                            errors=(list[dict[str, Any]] | None, None))

    def input(self, id_required: bool) -> type[BaseModel]:
        """What a request body may hold: the model's fields; one the server sets is refused by name (a field of its
        own, left out of the document, not a validator of the whole body: that would hand every field to pydantic
        as a Python value, and strict mode would then refuse a date or an amount given as its JSON string)."""
        fields: dict[str, Any] = {name: (f.annotation, f) for name, f in self.model.model_fields.items()}
        for name in self.read_only:
            fields[name] = (SkipJsonSchema[Annotated[Any, AfterValidator(_set_by_the_server(name))]], None)
        for name in self.said:  # a document written back whole as it was read: what the server said, left out
            fields[name] = (SkipJsonSchema[Any], None)
        if not id_required:  # PUT: the address names it (a different id in the body is refused by `replace`)
            fields["id"] = (str | None, None)
        name = f"{self.model.__name__}{'Input' if id_required else 'Replacement'}"
        return create_model(name, __config__=ConfigDict(extra="forbid", defer_build=True), **fields)

    def routes(self) -> list[Route]:
        """GET and POST the collection; GET, PUT, (PATCH,) DELETE one document; reads need a read token,
        writes an admin token and If-Match."""
        one = f"{self.path}/{{{self.id_name}}}"
        written = dict(role="admin", if_match=True, statuses=(412, 428))
        changed = {**written, "statuses": (409, 412, 428)}  # 409: over a damaged document (stored)
        # The models are named by functions (as Route allows), each built by the first route that uses it or by the
        # document: the bodies' by the first write, the address by the first read of one document, the listing's by
        # the document alone. A listing is sent unchecked: its items are dumps of documents their model has just read
        # (the tests check it against the document), and building its model cost every first GET of a collection
        # ~8 M instructions (connections, triggers, budget: their functions' first request).
        table = [
            Route("GET", self.path, lambda call: listed(call.rt, self, call.role), lambda: self.listing,
                  summary=f"Every {self.name}", headers=("X-Damaged-Items",), checked=False),
            Route("POST", self.path, lambda call: create(call.rt, self, call.body), lambda: self.read,
                  body=lambda: self.input(True), status=201, role="admin", statuses=(409,),
                  headers=("ETag", "Location"), summary=f"Create a {self.name}"),
            Route("GET", one, lambda call: with_etag(*load(call.rt, self, self.id_of(call)),
                                                     shown=self.shown_to(call.role), rt=call.rt, collection=self),
                  lambda: self.read, lambda: self.address, headers=("ETag",), summary=f"One {self.name}"),
            Route("PUT", one, lambda call: replace(call.rt, self, self.id_of(call), if_match(call.request, self),
                                                   call.body), lambda: self.read, lambda: self.address,
                  lambda: self.input(False), headers=("ETag",), summary=f"Replace a {self.name}", **changed),
            Route("DELETE", one, lambda call: delete(call.rt, self, self.id_of(call), if_match(call.request, self)),
                  self.deleted, lambda: self.address, status=204 if self.deleted is None else 202,
                  summary=f"Delete a {self.name}" + ("" if self.deleted is None else "; what follows, queued"),
                  **written),
        ]
        if self.patch:
            table.append(Route("PATCH", one, lambda call: merge(call.rt, self, self.id_of(call), if_match(
                call.request, self), call.body), lambda: self.read, lambda: self.address, dict[str, Any],
                headers=("ETag",),
                summary=f"Change a {self.name}: a JSON Merge Patch (RFC 7396); null puts a field back to its default",
                **changed))
        return table

    @property
    def said(self) -> tuple[str, ...]:
        """The fields a read adds to the document (warnings, state): the server's, never written."""
        return tuple(name for name in ("warnings", "state") if getattr(self, name) is not None)

    def id_of(self, call) -> str:
        return getattr(call.params, self.id_name)

    def listing_role(self) -> str | None:
        """The role a token needs to list the collection (its GET route's): a web page of the listing asks the same."""
        return next(route.role for route in self.routes() if route.method == "GET" and route.path == self.path)

    def shown_to(self, role: str) -> Callable[[dict], dict] | None:
        return None if self.shown is None else lambda doc: self.shown(doc, role)


def _set_by_the_server(name: str):
    def refused(value):
        raise refuse(f"{name}: set by the server, not by a request")
    return refused


def listed(rt, collection: Collection, role: str):
    return listing(*listed_items(rt, collection, role))


def listed_items(rt, collection: Collection, role: str) -> tuple[dict, list[dict]]:
    """The collection's listing as a caller of `role` is shown it ({"items": …}), and what it left out as damaged
    ({"key", "error"}): the API's GET of it, and the web's Connections and Rules pages."""
    damaged: list[dict] = []
    shown = collection.shown_to(role) or (lambda doc: doc)
    shared: dict = {}
    items = [as_read(rt, collection, doc, shown(doc.model_dump(mode="json")), listing=shared)
             for doc, _ in documents(rt, collection, damaged)]
    return {"items": items}, damaged


def documents(rt, collection: Collection, damaged: list | None = None):
    """Every document of the collection; damaged ones are left out, logged and added to `damaged`."""
    keys = [key for key in sorted(rt.store.list(collection.prefix))
            if key.endswith(".json") and "/" not in key[len(collection.prefix):]]
    yield from readable(keys, lambda key: load(rt, collection, key[len(collection.prefix):].removesuffix(".json")),
                        damaged)


def load(rt, collection: Collection, doc_id: str) -> tuple[BaseModel, str]:
    return load_document(rt.store, collection.key(doc_id), collection.model, f"{collection.name} {doc_id!r}")


def validated(collection: Collection, data: dict) -> BaseModel:
    if collection.said:  # read with the document, not of it (input)
        data = {k: v for k, v in data.items() if k not in collection.said}
    refused = collection.read_only & set(data)
    if refused:
        raise InvalidInput(f"{', '.join(sorted(refused))}: set by the server, not by a request")
    try:
        doc = strictly(collection.model, data)  # a request's fields as JSON types them, a merge patch's too
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or "body"
        raise InvalidInput(f"{where}: {error_said(first)}{unknown_beside(exc.errors(include_url=False))}") from None
    if collection.check is not None:
        collection.check(doc)
    return doc


def agrees_with_store(rt, collection: Collection, doc: BaseModel) -> BaseModel:
    """What a written document must agree with in the store (collection.check_stored), after its own checks."""
    if collection.check_stored is not None:
        collection.check_stored(rt, doc)
    return doc


def with_etag(doc: BaseModel, etag: str, status: int = 200, headers: dict | None = None,
              shown: Callable[[dict], dict] | None = None, rt=None, collection: Collection | None = None):
    """`rt` and `collection`: the document alone as a read answers it (a GET of it, and a write's answer: a writer
    learns at once what it needs changed), with its warnings and state where the collection says them."""
    data = doc.model_dump(mode="json")
    data = shown(data) if shown else data
    if collection is not None:
        data = as_read(rt, collection, doc, data, listing=None)
    return data, status, {"ETag": f'"{etag}"', **(headers or {})}


def as_read(rt, collection: Collection, doc: BaseModel, data: dict, listing: dict | None) -> dict:
    """A document as read, with its `warnings` and its `state` where the collection says them."""
    if collection.warnings is not None:
        data = {**data, "warnings": collection.warnings(rt, doc, listing)}
    if collection.state is not None:
        data = {**data, "state": collection.state(rt, doc.id)}
    return data


def if_match(request, collection: Collection) -> EntityTags:
    return if_match_of(request, collection.name)


def holds(collection: Collection, condition: EntityTags, etag: str) -> str:
    """The ETag to write on: the current one, when the If-Match lists it (strongly) or is `*`; else 412. The write is
    conditional on it, so a change since the read is still a 412, `*` included."""
    if not condition.strongly_matches(etag):
        raise collection.stale()
    return etag


def create(rt, collection: Collection, body: dict):
    doc = agrees_with_store(rt, collection, validated(collection, body))
    if collection.created is not None:
        doc = collection.created(doc)
    try:
        etag = save_document(rt.store, collection.key(doc.id), doc, create=True)
    except ConflictError:
        raise ConflictError(f"{collection.name} {doc.id!r} already exists") from None
    if collection.admit is not None:
        collection.admit(rt, doc, etag)
    return with_etag(doc, etag, 201, {"Location": f"{collection.path}/{doc.id}"}, rt=rt, collection=collection)


def replace(rt, collection: Collection, doc_id: str, condition: EntityTags, body: dict,
            loaded: tuple[BaseModel, str] | None = None):
    """`loaded`: the document and ETag a merge read (the write is conditional on what the patch changed)."""
    if body.get("id", doc_id) != doc_id:
        raise InvalidInput(f"id: the body says {body.get('id')!r} but the address says {doc_id!r}")
    current, current_etag = loaded or collection.stored(rt, doc_id)  # 404 before 412
    doc = validated(collection, {**body, "id": doc_id})
    if collection.carry is not None:
        doc = collection.model.model_validate(collection.carry(current, doc.model_dump(mode="json")))
    doc = rewritten(doc, current)  # with what a newer build stored in it, which this build does not know
    agrees_with_store(rt, collection, doc)  # as it would be stored: with what the server keeps of it (carry)
    expected = holds(collection, condition, current_etag)
    if collection.replacing is not None:
        collection.replacing(rt, current, doc)
    try:
        etag = save_document(rt.store, collection.key(doc_id), doc, if_match=expected)
    except ConflictError:
        raise collection.stale() from None
    return with_etag(doc, etag, rt=rt, collection=collection)


def merge(rt, collection: Collection, doc_id: str, condition: EntityTags, changes: dict):
    """JSON Merge Patch (RFC 7396): a field set to null goes back to its default."""
    refused = collection.read_only & set(changes)
    if refused:
        raise InvalidInput(f"{', '.join(sorted(refused))}: set by the server, not by a request")
    current, etag = collection.stored(rt, doc_id)
    data = current.model_dump(mode="json", exclude=set(collection.read_only))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return replace(rt, collection, doc_id, condition, data, (current, etag))


def delete(rt, collection: Collection, doc_id: str, condition: EntityTags):
    """The store compares the ETag and deletes in one step: of concurrent writers holding one ETag, one wins. The
    document is not read (a damaged one can be deleted), only its ETag; one whose delete is announced (deleting) is
    read, and announced again should it be written again meanwhile with its fields unchanged
    (documents.delete_announced). What it leaves behind (swept) goes after it, never before: a refused delete loses
    nothing, and one cut short between is finished by its retry (a 404 that sweeps first)."""
    current_etag = rt.store.head(collection.key(doc_id))
    if current_etag is None:
        if collection.swept:
            collection.swept(rt, doc_id)
        raise no_document(f"{collection.name} {doc_id!r}")
    document = None
    if collection.deleting:  # read for what the delete undoes; the ETag deleted is then the one read
        try:
            document, current_etag = load(rt, collection, doc_id)
        except DamagedData:
            pass
    expected = holds(collection, condition, current_etag)
    answer = None
    if collection.deleting and document is None:  # a damaged one's: before the delete, which it may yet fail
        answer = collection.deleting(rt, doc_id, document, expected)
    try:
        if collection.deleting and document is not None:  # announced again over a write that changed none of it
            answer = delete_announced(rt.store, collection.key(doc_id), f"{collection.name} {doc_id!r}", document,
                                      expected, lambda doc, etag: collection.deleting(rt, doc_id, doc, etag))
        else:
            rt.store.delete(collection.key(doc_id), if_match=expected)
    except NotFoundError:
        raise no_document(f"{collection.name} {doc_id!r}") from None
    except ConflictError:
        raise collection.stale() from None
    if collection.swept:
        collection.swept(rt, doc_id)
    return ("", 204, {}) if collection.deleted is None else (answer, 202, {})
