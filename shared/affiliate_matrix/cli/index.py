"""`amx index` (versions: status, zero-downtime migration, rollback, rendered mappings; backup and restore) and
`amx analytics` (what the programs API is asked)."""

from typing import Annotated, Optional

import typer

from affiliate_matrix.cli.common import console, invalid, open_runtime
from affiliate_matrix.wording import counted

index_app = typer.Typer(help="Index versions: status, zero-downtime migration, rollback; backup and restore.",
                        no_args_is_help=True)
analytics_app = typer.Typer(help="What the programs API is asked, and what that suggests.", no_args_is_help=True)
INDEX_NAME = Annotated[str, typer.Argument(help="An index: programs, deltas, … (amx index status lists them).")]


def _index_specs() -> dict:
    from affiliate_matrix.indices import index_specs

    return index_specs()


def _spec(name: str):
    specs = _index_specs()
    if name not in specs:
        raise invalid("name", f"{name!r} is not one of {', '.join(specs)}")
    return specs[name]


@index_app.command("status")
def index_status():
    """Each index's live version, the versions kept, the version this code expects, and what to run when behind or when
    a rollback was left unfinished."""
    from affiliate_matrix.cli.views import fitted
    from affiliate_matrix.search import rollback_left

    rt = open_runtime()
    rows, rollbacks = [], []
    for name, spec in _index_specs().items():
        rt.index.ensure_index(spec)
        status = rt.index.status(name)
        # a rollback begun and not finished comes first: a migration finishes it before it migrates (or is refused
        # while it cannot finish)
        if (left := rollback_left(rt.index, name)) is not None:
            todo, why = left
            rollbacks.append(f"{name}: {why}")
        else:
            todo = f"amx index migrate {name}" if status.current < spec.version else ""
        rows.append([name, f"v{status.current}", ", ".join(f"v{v}" for v in status.versions), f"v{spec.version}", todo])
    console.print(fitted(console, "", [("index", 0), ("live", 0), ("kept", 2), ("code expects", 1), ("to do", 0)], rows,
                         whole=("index", "to do")))
    for said in rollbacks:
        console.print(said, highlight=False)


@index_app.command("migrate")
def index_migrate(name: Annotated[Optional[str], typer.Argument(
        help="The index to migrate; without it, every index whose live version is older than this code's.")] = None):
    """Move an index to the version this code defines, without downtime (the old one is kept); without a name, every
    index this code has a newer version of (what to run once after deploying a new version)."""
    rt = open_runtime()
    specs = {name: _spec(name)} if name is not None else _index_specs()
    behind = []
    for spec in specs.values():
        rt.index.ensure_index(spec)
        # A rollback that stopped part-way, finished before the version is read (under the index's lease): what is live
        # is where it went back to
        if (back := rt.index.finish_rollback(spec.name)) is not None:
            console.print(f"{spec.name}: finished the rollback to v{back} that had stopped part-way")
        live = rt.index.status(spec.name).current
        # Named, at the code's version already: done, as a deploy script running it every time expects; a live
        # version past the code's is still refused by the migration (older code deployed over newer data).
        if live < spec.version or (name is not None and live != spec.version):
            behind.append(spec)
        elif live == spec.version and (ended := rt.index.finish_migration(spec)):
            # a migration to it stopped after its alias swap: the run again that finishes the rest
            console.print(f"{spec.name}: at v{spec.version}; finished its migration: {ended} move records it made "
                          "stale ended")
    if not behind:
        console.print(f"{name} is at v{specs[name].version}, the version this code expects: nothing to migrate"
                      if name is not None else "every index is at the version this code expects: nothing to migrate")
    for spec in behind:  # one after another: each swaps its alias once its copy is whole
        with console.status(f"migrating {spec.name} to v{spec.version}"):
            copied = rt.index.migrate(spec)
        console.print(f"{spec.name}: now v{spec.version}, {counted(copied, 'document')} copied")


@index_app.command("rollback")
def index_rollback(name: INDEX_NAME, abandon: Annotated[bool, typer.Option(
        "--abandon", help="Give up a rollback that cannot finish (the version it goes back to was deleted before its "
                          "alias swap); the index stays where it is.")] = False):
    """Point an index back at its previous version, and the records of moved ids with it; one that stopped part-way
    is finished, not taken further back: run it again after a stop."""
    index = open_runtime().index
    if not abandon:
        console.print(f"{name}: now v{index.rollback(_spec(name).name)}")
    elif (given_up := index.abandon_rollback(_spec(name).name)) is None:
        console.print(f"{name}: no rollback under way to give up")
    else:
        start, version = given_up
        console.print(f"{name}: gave up the rollback from v{start} to v{version} (v{version} was deleted); still at "
                      f"v{start}")


@index_app.command("unlock")
def index_unlock(name: INDEX_NAME):
    """Clear the lease of a migration or rollback whose process died, and the write block a migration left on the live
    version (OpenSearch; the embedded index's lease ends with its process). Only once it is known to have stopped."""
    holder = open_runtime().index.unlock(_spec(name).name)
    if holder is None:
        console.print(f"{name}: no lease of a migration or rollback left to clear")
        return
    from affiliate_matrix.search import finishing_command

    console.print(f"{name}: cleared the lease of the {holder.get('doing', 'migration')} to v{holder.get('version')} by "
                  f"{holder.get('by')} since {holder.get('since')}; run `{finishing_command(name, holder)}` to finish it")


KEY_HELP = "A backup in the object store, by its name (under backups/index/)."


def _backup_place(rt, to, key, *, writing: bool):
    """Where a backup is: the local directory `to`, else the object store under backups/index/<key>/ (a new backup's
    name by default: when it is taken, in UTC)."""
    import os
    from datetime import UTC, datetime

    from affiliate_matrix.cli.common import stored_at
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.index_backup import STORE_PREFIX, Folder, Stored

    option = "--to" if writing else "--from"
    if to is not None and key is not None:
        raise invalid("--key", f"give {option} or --key, not both")
    if to is not None:
        if not writing and not os.path.isdir(to):
            raise invalid("--from", f"{to} is not a directory: give a backup's directory")
        return Folder(to)
    if key is None and not writing:
        raise invalid("--from", "give --from DIR (a backup's directory) or --key NAME (a backup in the object store: "
                                f"{_stored_backups(rt)})")
    key = key if key is not None else datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    try:
        place = Stored(rt.store, key)
    except InvalidInput as exc:
        raise invalid("--key", str(exc).removeprefix("--key ")) from None
    place.where = stored_at(rt, f"{STORE_PREFIX}{key}") + "/"
    return place


def _stored_backups(rt, most: int = 5) -> str:
    """The backups in the object store, newest first (by when the store wrote each manifest, the last part written):
    what `--key` takes, so an operator restoring after a damaged index need not list the store by hand."""
    from affiliate_matrix.index_backup import MANIFEST, STORE_PREFIX

    names = [key.removeprefix(STORE_PREFIX).removesuffix(f"/{MANIFEST}") for key in rt.store.list(STORE_PREFIX)
             if key.endswith(f"/{MANIFEST}") and key.count("/") == STORE_PREFIX.count("/") + 1]
    taken = {name: at for name in names if (at := rt.store.written_at(f"{STORE_PREFIX}{name}/{MANIFEST}"))}
    if not taken:
        return "it holds none: `amx index backup` takes one"
    newest = sorted(taken, key=taken.__getitem__, reverse=True)
    listed = ", ".join(f"{name} ({taken[name]:%Y-%m-%d %H:%M:%S} UTC)" for name in newest[:most])
    return f"{listed}{f', and {len(newest) - most} older' if len(newest) > most else ''}, newest first"


@index_app.command("backup")
def index_backup(
        to: Annotated[Optional[str], typer.Option("--to", help="A new local directory to write the backup to.")] = None,
        key: Annotated[Optional[str], typer.Option(
            "--key", help="A name for the backup in the object store (by default when it is taken).")] = None):
    """Every index's documents (programs, the change feed, moved ids, the rules' activations and alerts, metrics, query
    analytics) with each index's version: into the object store under backups/index/, or a local directory."""
    from affiliate_matrix.index_backup import back_up

    rt = open_runtime()
    place = _backup_place(rt, to, key, writing=True)
    with console.status("backing up the index"):
        manifest = back_up(rt.index, place)
    counts = {name: entry["documents"] for name, entry in manifest["indices"].items()}
    console.print(f"backed up {counted(len(counts), 'index', 'indexes')}, {counted(sum(counts.values()), 'document')}, "
                  f"to {place.where}: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()),
                  highlight=False)
    again = f"--from {to}" if to is not None else f"--key {place.name}"
    console.print(f"restore it into an empty index with `amx index restore {again}`", highlight=False)


@index_app.command("restore")
def index_restore(
        from_: Annotated[Optional[str], typer.Option("--from", help="A backup's local directory.")] = None,
        key: Annotated[Optional[str], typer.Option("--key", help=KEY_HELP)] = None,
        replace: Annotated[bool, typer.Option(
            "--replace", help="Restore into indexes that hold documents: each becomes the backup's (its documents "
                              "written over, those the backup lacks deleted).")] = False):
    """Load a backup into an empty index (a new data directory, or a new index prefix on OpenSearch), checked whole
    first: a damaged backup or a document that does not fit is refused before anything is written. A backup of an
    older index version is restored at it, then migrated to this code's."""
    from affiliate_matrix.index_backup import restore

    rt = open_runtime()
    place = _backup_place(rt, from_, key, writing=False)
    with console.status(f"restoring {place.where}"):
        restored, said = restore(rt.index, place, replace=replace)
    console.print(f"restored {counted(sum(restored.values()), 'document')} from {place.where}: "
                  + ", ".join(f"{name} {count:,}" for name, count in restored.items()), highlight=False)
    for line in said:
        console.print(line, highlight=False)
    console.print("`amx replay --all` brings the programs up to date with what was fetched since it was taken (the "
                  "stored pages and API answers, with no network)", highlight=False)


@index_app.command("render")
def index_render():
    """Write each index version's OpenSearch settings and mappings to infra/opensearch/indices/."""
    import json

    from affiliate_matrix.demo import ROOT
    from affiliate_matrix.search.opensearch import index_body

    folder = ROOT / "infra" / "opensearch" / "indices"
    folder.mkdir(parents=True, exist_ok=True)
    for spec in _index_specs().values():
        path = folder / f"{spec.name}-v{spec.version}.json"
        path.write_text(json.dumps(index_body(spec), indent=2, sort_keys=True) + "\n")
        console.print(f"wrote {path.relative_to(ROOT)}")


@analytics_app.command("report")
def analytics_report(days: Annotated[int, typer.Option(min=1, max=90, help="How far back to look.")] = 7,
                     act: Annotated[bool, typer.Option(help="Also write the warm list and facet snapshots.")] = True):
    """The most frequent and slowest query shapes, the top queries, and proposed mapping changes."""
    from affiliate_matrix.analytics import analyze

    console.print(analyze(open_runtime("analytics"), days=days, act=act).text(), highlight=False)
