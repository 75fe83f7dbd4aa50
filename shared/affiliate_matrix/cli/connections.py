"""`amx sources` and `amx connections`: the source plugins and the configured sources."""

from typing import Annotated, Optional

import typer

from affiliate_matrix import connection_fields as defaults
from affiliate_matrix.cli.common import as_option, console, ids_listed, invalid, open_runtime
from affiliate_matrix.wording import NO_VALUE, listings

sources_app = typer.Typer(help="Source plugins.", no_args_is_help=True)
connections_app = typer.Typer(help="Configured sources (connections).", no_args_is_help=True)
# the argument of the commands on one connection (its help said only "[required]")
CONNECTION_ID = Annotated[str, typer.Argument(help="A connection's id (amx connections list).")]
# add's and edit's, each said with the model's default and bounds (connection_fields), which refuse another in the
# API's words
SCHEDULE_HELP = "Cron, five fields, UTC."
RATE_HELP = f"Requests a second to the source's hosts, {defaults.RATE_MIN} to {defaults.RATE_MAX}."
CONCURRENCY = Annotated[Optional[int], typer.Option(
    help=f"Requests in flight, {defaults.CONCURRENCY_MIN} to {defaults.CONCURRENCY_MAX}.")]


@sources_app.command("list")
def sources_list():
    """The source plugins there are."""
    from affiliate_matrix.cli.views import fitted
    from affiliate_matrix.sources import all_sources

    rows = [[name, source.title, source.base_url] for name, source in all_sources().items()]
    console.print(fitted(console, "", [("name", 0), ("site", 0), ("address", 1)], rows))


@connections_app.command("list")
def connections_list():
    """Every connection: its source, schedule, whether it is enabled and healthy, and its last sync (requested, or
    run with amx scrape)."""
    from rich.markup import escape

    from affiliate_matrix.cli.views import fits, fitted, listed, print_damaged, source_named, utc_text
    from affiliate_matrix.connections import DIRECTORY_CRAWL, stored_connections
    from affiliate_matrix.wording import schedule_words

    damaged: list[dict] = []
    rows = []
    for connection, _ in stored_connections(open_runtime().store, damaged):
        sync, last = connection.last_sync, NO_VALUE  # a sync requested (API, cron) or run here (amx scrape)
        if sync is not None:
            when = sync.finished_at or sync.started_at
            # its parts apart by commas: wrapped, "07:59 3 listings" read as one figure
            last = ", ".join(filter(None, (" ".join(filter(None, (sync.status, when and utc_text(when, minutes=True)))),
                                           listings(sync.records),  # the Connections page's word
                                           sync.errors and f"{len(sync.errors)} failed",
                                           # every crawl's standing word is no fault: only a run short of
                                           # its listing says why (an API's that listed nothing, say)
                                           sync.incomplete not in (None, DIRECTORY_CRAWL)
                                           and f"incomplete: {sync.incomplete}")))
        why = f" ({connection.disabled_reason})" if connection.disabled_reason else ""
        rows.append([escape(cell) for cell in (
            # the schedule in words as the Connections page says it (the cron itself where words would say it wrong),
            # beside the cron `edit --schedule` takes
            connection.id, source_named(connection.source),
            schedule_words(connection.schedule) or connection.schedule, connection.schedule,
            "yes" if connection.enabled else f"no{why}",
            "yes" if connection.healthy else f"no ({connection.health_reason or '?'})", last)])
    if not rows and not damaged:  # a table of headers alone said nothing
        console.print("no connections (amx connections add ID --source SOURCE adds one; amx scrape SOURCE makes one "
                      "of a directory's defaults)")
        return
    # a cron and a last sync unfolded; narrower, the words give way first (the cron says the schedule too); narrower
    # still, each connection's fields one under another: at 100 columns the table had dropped the cron and the health
    # too, and wrapped a reason or a last sync one word a line
    title = f"{len(rows)} connection{'' if len(rows) == 1 else 's'}"
    columns = [("id", 0), ("source", 0), ("schedule", 3), ("cron", 0), ("enabled", 0), ("healthy", 0),
               ("last sync (UTC)", 0)]
    table = fitted(console, title, columns, rows, whole=("id", "cron", "last sync (UTC)"))
    console.print(table if fits(console, table) else listed(title, [name for name, _ in columns], rows))
    print_damaged(console, damaged)


def keyless(source: str, connection_id: str) -> str | None:
    """What a connection of `source` with no key lacks, and how to give it one; None when the source reads no key.
    Refused before it is stored: every sync of it failed. (A path naming a key not added yet is taken on a connection
    written disabled: connections.checked_against_store, which `amx connections edit --credentials-path` runs too.)"""
    from affiliate_matrix.sources import get_source

    fields = getattr(get_source(source), "credential_keys", ())
    if not fields:
        return None
    return (f"source {source!r} reads credentials ({', '.join(fields)}): add its key, then a connection naming it "
            f"(amx keys add connections/{connection_id} --rotation manual --source {source}; amx connections add "
            f"{connection_id} --source {source} --credentials-path connections/{connection_id})")


@connections_app.command("add")
def connections_add(
    connection_id: Annotated[str, typer.Argument(help=(
        "The new connection's id: lower-case letters, digits and '-', up to 63, the first a letter or a digit."))],
    source: Annotated[str, typer.Option(help="Source plugin name (amx sources list).")],
    base_url: Annotated[Optional[str], typer.Option(help="Override the source's address.")] = None,
    schedule: Annotated[str, typer.Option(help=SCHEDULE_HELP)] = defaults.SCHEDULE,
    rate_limit_per_s: Annotated[float, typer.Option(help=RATE_HELP)] = defaults.RATE_LIMIT_PER_S,
    concurrency: CONCURRENCY = defaults.CONCURRENCY,
    credentials_path: Annotated[Optional[str], typer.Option(help="Its key in the secret store, for an API source "
                                                                 "(amx keys add connections/NAME --rotation manual "
                                                                 "--source SOURCE).")] = None,
    enabled: Annotated[bool, typer.Option("--enabled/--disabled", help="Whether its schedule runs it; disabled, it may "
                                                                       "name a key not added yet.")] = True,
):
    """Create a connection (fails if it exists)."""
    from pydantic import ValidationError

    from affiliate_matrix.connections import Connection, checked, checked_against_store, save_connection
    from affiliate_matrix.errors import ConflictError, InvalidInput
    from affiliate_matrix.handlers.routes import problem
    from affiliate_matrix.sources import get_source

    get_source(source)
    try:
        connection = Connection(id=connection_id, source=source, base_url=base_url, schedule=schedule,
                                rate_limit_per_s=rate_limit_per_s, credentials_path=credentials_path, enabled=enabled,
                                concurrency=concurrency)
        checked(connection)
    except ValidationError as exc:  # named by the option typed, as a usage error (it said "concurrency: …" bare)
        raise as_option(problem(exc, query=True), ADD_OPTIONS) from None
    except InvalidInput as exc:
        raise as_option(exc, ADD_OPTIONS) from None
    if not credentials_path and (lacking := keyless(source, connection_id)):
        raise invalid("--credentials-path", lacking)
    rt = open_runtime()
    try:  # a key of another source's or none there is refused, as the API does
        checked_against_store(rt, connection)
    except InvalidInput as exc:
        raise as_option(exc, ADD_OPTIONS) from None
    try:
        save_connection(rt.store, connection, create=True)
    except ConflictError:
        raise ConflictError(f"connection {connection_id!r} exists") from None
    console.print(f"created connection {connection_id}")


@connections_app.command("edit")
@ids_listed("connection", "amx connections list")
def connections_edit(
    ctx: typer.Context,
    connection_id: CONNECTION_ID,
    base_url: Annotated[Optional[str], typer.Option(help="The source's address; '' for the source's own.")] = None,
    schedule: Annotated[Optional[str], typer.Option(help=SCHEDULE_HELP)] = None,
    rate_limit_per_s: Annotated[Optional[float], typer.Option(help=RATE_HELP)] = None,
    credentials_path: Annotated[Optional[str], typer.Option(help="Its key in the secret store.")] = None,
    concurrency: CONCURRENCY = None,
    enabled: Annotated[Optional[bool], typer.Option("--enabled/--disabled", help="Whether its schedule runs it.")] = None,
    reason: Annotated[Optional[str], typer.Option(help="With --disabled: why, shown by connections list.")] = None,
    # not a field edit changes: taken only to be refused as the API refuses it, saying what to do instead
    source: Annotated[Optional[str], typer.Option(hidden=True)] = None,
):
    """Change a connection's fields, as PATCH /connections/{id} does: its claims, health and last sync stay (delete
    and add again would withdraw its claims, its programs closed_suspected until the next sync)."""
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.handlers.connections import CONNECTIONS
    from affiliate_matrix.handlers.documents import merge
    from affiliate_matrix.handlers.preconditions import EntityTags

    changes = {name: value for name, value in (("base_url", base_url), ("schedule", schedule),
                                               ("rate_limit_per_s", rate_limit_per_s),
                                               ("credentials_path", credentials_path), ("concurrency", concurrency),
                                               ("enabled", enabled), ("source", source)) if value is not None}
    if reason is not None:
        if enabled is not False:  # an enabled connection has no reason (Connection.disabled_reason)
            raise invalid("--reason", "--reason goes with --disabled: it says why the connection is not synced")
        changes["disabled_reason"] = reason
    if not changes:
        ctx.fail("name a field to change (--base-url, --schedule, --rate-limit-per-s, --credentials-path, "
                 "--concurrency, --enabled/--disabled)")  # no option is wrong: a usage error of none
    if changes.get("base_url") == "":
        changes["base_url"] = None  # a merge patch's null: back to the default, the source's own address
    rt = open_runtime()
    before = CONNECTIONS.stored(rt, connection_id)[0].model_dump(mode="json")
    try:
        after = merge(rt, CONNECTIONS, connection_id, EntityTags(True, ()), changes)[0]
    except InvalidInput as exc:  # the API's refusal of a field typed, named by its option (as add names it)
        raise as_option(exc, {name: option for name, option in OPTION_OF.items() if name in changes}) from None
    # what did change, by the options typed: every field named was said to, though it held that value already
    changed = [("--enabled" if after[name] else "--disabled") if name == "enabled" else OPTION_OF[name]
               for name in changes if after.get(name) != before.get(name)]
    console.print(f"changed connection {connection_id}: {', '.join(changed)}" if changed else
                  f"connection {connection_id} unchanged: it held those values already")


OPTION_OF = {"base_url": "--base-url", "schedule": "--schedule", "rate_limit_per_s": "--rate-limit-per-s",
             "credentials_path": "--credentials-path", "concurrency": "--concurrency", "disabled_reason": "--reason"}
ADD_OPTIONS = {**OPTION_OF, "id": "connection_id", "source": "--source"}


@connections_app.command("test")
@ids_listed("connection", "amx connections list")
def connections_test(connection_id: CONNECTION_ID):
    """Is the source reachable, are the credentials accepted, can its plugin read the first answer? One cheap request,
    as POST /connections/{id}/test makes it; a passing test makes a connection marked unhealthy healthy again. Exits 1
    when a check fails."""
    from rich.markup import escape

    from affiliate_matrix.connection_test import REASON_LOGGED
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.handlers.connections import test

    rt = open_runtime(listed=REASON_LOGGED)  # the reason is its check's detail: it reads the secrets itself
    answer = test(rt, connection_id, say_why=True)
    connection, _ = load_connection(rt.store, connection_id)
    if not connection.enabled:  # why a disabled one may fail (the demo's: its recorded site is gone with the demo)
        why = f" ({connection.disabled_reason})" if connection.disabled_reason else ""
        console.print(escape(f"connection {connection_id!r} is disabled{why}: no schedule syncs it"), highlight=False)
    for check in answer["checks"]:
        # "reachable: failed — …": the check, then its outcome ("failed reachable: …" read awkwardly)
        mark = {True: "[green]ok[/]", False: "[red]failed[/]", None: "[yellow]not judged[/]"}[check["ok"]]
        console.print(f"{escape(check['name'])}: {mark} — {escape(check['detail'])}", soft_wrap=True)
    if not answer["ok"]:
        raise typer.Exit(1)


@connections_app.command("delete")
@ids_listed("connection", "amx connections list")
def connections_delete(connection_id: CONNECTION_ID):
    """Delete a connection, then what its runs kept of it alone (its API answers, its HTTP cache): one created again
    under its id starts without them. Its claims are withdrawn from the programs it listed (a connection.deleted event,
    taken here with the embedded defaults, by the index function with a Broker): a program no source lists any more is
    closed_suspected. A damaged one is deleted too, its claims withdrawn where its source and generation can still be
    read. A connection changed since this command read it is not deleted. A withdrawal that fails here puts the
    connection back, to delete again. A delete cut short after the connection went is finished by the same delete
    again (which finds no connection, and sweeps what it kept)."""
    from affiliate_matrix.cli.common import fail_if_undelivered, index_here
    from affiliate_matrix.connections import (announce_deletion, connection_key, deletion_event, load_connection,
                                              salvaged, save_connection, sweep_kept)
    from affiliate_matrix.documents import delete_announced
    from affiliate_matrix.errors import ConflictError, DamagedData, NotFoundError, ObjectTooLarge
    from affiliate_matrix.events import PROGRAM_DELTA
    from affiliate_matrix.wording import counted

    rt = open_runtime()
    key = connection_key(connection_id)
    damaged = None  # a damaged connection's bytes, as stored: deleted all the same, withdrawn as far as it can be
    try:
        connection, etag = load_connection(rt.store, connection_id)
    except NotFoundError:
        sweep_kept(rt.store, connection_id)  # a delete cut short after the connection went: finished here
        raise
    except ObjectTooLarge as exc:  # not read: it names no source, and is deleted by its ETag
        connection, etag = None, exc.etag
    except DamagedData:
        stored = rt.store.get(key)
        connection, etag, damaged = salvaged(stored.data, connection_id), stored.etag, stored.data
    index_here(rt)
    recorded = getattr(rt.bus, "recorded", None)  # the in-process bus's: what the withdrawal announces here
    kept = ConflictError(f"connection {connection_id!r} changed while it was being deleted: it is kept; delete it "
                         "again")
    if connection is None:  # damaged past naming its source: no claims can be told apart to withdraw
        try:
            rt.store.delete(key, if_match=etag)
        except ConflictError:
            raise kept from None
        sweep_kept(rt.store, connection_id)
        console.print(f"deleted connection {connection_id}; it could not be read, so it names no source whose claims "
                      "to withdraw")
        return
    if recorded is None:  # a Broker: announced before the delete, as DELETE /connections/{id} does
        try:  # refused when the connection changed since it was read (then the index function withdraws nothing)
            delete_announced(rt.store, key, f"connection {connection_id!r}", connection, etag,
                             lambda current, current_etag: announce_deletion(rt, current, current_etag))
        except ConflictError:
            raise kept from None
        sweep_kept(rt.store, connection_id)
        console.print(f"deleted connection {connection_id}; its claims are withdrawn by the index function")
        return
    try:  # refused when the connection changed since it was read
        rt.store.delete(key, if_match=etag)
    except ConflictError:
        raise kept from None
    # Here the event is taken at once, in this process: the delete goes first, as the index function waits for it
    with recorded() as published:
        rt.bus.publish(deletion_event(connection, etag))
    if rt.bus.dead_letters:  # the withdrawal failed: the connection is put back as it was stored, to delete again
        if damaged is None:
            save_connection(rt.store, connection, create=True)
        else:
            rt.store.put(key, damaged, content_type="application/json", if_none_match=True)
        fail_if_undelivered(rt)
    sweep_kept(rt.store, connection_id)
    changed = len({event.subject for event in published if event.type == PROGRAM_DELTA})
    console.print(f"deleted connection {connection_id}; {counted(changed, 'program')} changed")
