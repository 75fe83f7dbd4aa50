"""`amx sources` and `amx connections`: the source plugins and the configured sources."""

from typing import Annotated, Optional

import typer

from affiliate_matrix.cli.common import console, open_runtime

sources_app = typer.Typer(help="Source plugins.", no_args_is_help=True)
connections_app = typer.Typer(help="Configured sources (connections).", no_args_is_help=True)


@sources_app.command("list")
def sources_list():
    """The source plugins there are."""
    from rich.table import Table

    from affiliate_matrix.sources import all_sources

    table = Table()
    for column in ("name", "site", "address"):
        table.add_column(column)
    for name, source in all_sources().items():
        table.add_row(name, source.title, source.base_url)
    console.print(table)


@connections_app.command("add")
def connections_add(
    connection_id: str,
    source: Annotated[str, typer.Option(help="Source plugin name (amx sources list).")],
    base_url: Annotated[Optional[str], typer.Option(help="Override the source's address.")] = None,
    schedule: Annotated[str, typer.Option(help="Cron, five fields, UTC.")] = "0 3 * * *",
    credentials_path: Annotated[Optional[str], typer.Option(help="Its key in the secret store, for an API source "
                                                                 "(amx keys add connections/NAME --source SOURCE …).")] = None,
):
    """Create a connection (fails if it exists)."""
    from affiliate_matrix.connections import Connection, checked, checked_against_store, save_connection
    from affiliate_matrix.errors import ConflictError
    from affiliate_matrix.sources import get_source

    get_source(source)
    connection = Connection(id=connection_id, source=source, base_url=base_url, schedule=schedule,
                            credentials_path=credentials_path)
    checked(connection)
    rt = open_runtime()
    checked_against_store(rt, connection)  # a key of another source's is refused, as the connections API does
    try:
        save_connection(rt.store, connection, create=True)
    except ConflictError:
        raise ConflictError(f"connection {connection_id!r} exists") from None
    console.print(f"created connection {connection_id}")


@connections_app.command("delete")
def connections_delete(connection_id: str):
    """Delete a connection. Its source's claims are withdrawn first from the programs it listed (unless another
    connection reads the same source): a program no source lists any more is closed_suspected."""
    from affiliate_matrix.connections import connection_key, load_connection
    from affiliate_matrix.pipeline import withdraw_connection

    rt = open_runtime()
    connection, etag = load_connection(rt.store, connection_id)
    deltas = withdraw_connection(rt, connection)
    rt.store.delete(connection_key(connection_id), if_match=etag)  # a change since the read: refused, kept
    console.print(f"deleted connection {connection_id}; {len(deltas)} programs changed")
