"""`amx index` (versions: status, zero-downtime migration, rollback, rendered mappings) and
`amx analytics` (what the programs API is asked)."""

from typing import Annotated

import typer

from affiliate_matrix.cli.common import console, open_runtime

index_app = typer.Typer(help="Index versions: status, zero-downtime migration, rollback.", no_args_is_help=True)
analytics_app = typer.Typer(help="What the programs API is asked, and what that suggests.", no_args_is_help=True)


def _index_specs() -> dict:
    from affiliate_matrix.indices import index_specs

    return index_specs()


def _spec(name: str):
    specs = _index_specs()
    if name not in specs:
        raise typer.BadParameter(f"{name!r} is not one of {', '.join(specs)}", param_hint="NAME")
    return specs[name]


@index_app.command("status")
def index_status():
    """Each index's live version, the versions kept, and the version this code expects."""
    from rich.table import Table

    rt = open_runtime()
    table = Table()
    for column in ("index", "live", "kept", "code expects"):
        table.add_column(column)
    for name, spec in _index_specs().items():
        rt.index.ensure_index(spec)
        status = rt.index.status(name)
        table.add_row(name, f"v{status.current}", ", ".join(f"v{v}" for v in status.versions), f"v{spec.version}")
    console.print(table)


@index_app.command("migrate")
def index_migrate(name: str):
    """Move an index to the version this code defines, without downtime (the old one is kept)."""
    spec = _spec(name)
    rt = open_runtime()
    rt.index.ensure_index(spec)
    with console.status(f"migrating {name} to v{spec.version}"):
        copied = rt.index.migrate(spec)
    console.print(f"{name}: now v{spec.version}, {copied} documents copied")


@index_app.command("rollback")
def index_rollback(name: str):
    """Point an index back at its previous version."""
    version = open_runtime().index.rollback(_spec(name).name)
    console.print(f"{name}: now v{version}")


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
