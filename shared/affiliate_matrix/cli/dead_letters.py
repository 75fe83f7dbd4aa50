"""`amx dead-letters`: the events parked in the object store (dead-letters/), each with why it was parked."""

import typer

from affiliate_matrix.cli.common import console, open_runtime, stored_at

dead_letters_app = typer.Typer(help="Events that failed every delivery, parked in the object store (dead-letters/).",
                               no_args_is_help=True)


def why(record: dict) -> str:
    """Why a letter was parked: the subscriber's last answer (`reason`, as amx up's Broker and the cluster's say it),
    else the sink's refusal of an event that does not fit (`refused`). Letters the sink parked before it kept
    Knative's reason have neither."""
    said = record.get("reason") or record.get("refused")
    return str(said) if said else "not said (parked before letters kept why): the subscriber's logs, by its event id"


@dead_letters_app.command("list")
def dead_letters_list():
    """Every parked event, oldest first: where it is, when it was parked, its type and id, whom it was for, and why.
    Fix the cause, then publish the event again; the daily retention job deletes each AMX_RETENTION_DEAD_LETTERS_DAYS
    after it was parked."""
    import json

    from rich.markup import escape

    from affiliate_matrix.cli.views import fits, fitted, listed, utc_text
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.events import DEAD_LETTERS
    from affiliate_matrix.wording import NO_VALUE, counted

    rt = open_runtime()
    rows = []
    for key in rt.store.list(DEAD_LETTERS):
        try:
            record = json.loads(rt.store.get(key).data)
        except NotFoundError:  # deleted since it was listed (the retention job)
            continue
        except ValueError as exc:  # a letter cut short or written by hand: listed, not the end of the listing
            record = {"reason": f"damaged: not JSON ({exc})"}
        record = record if isinstance(record, dict) else {"reason": "damaged: not a JSON object"}
        event = record.get("event") if isinstance(record.get("event"), dict) else {}
        rows.append([key.removeprefix(DEAD_LETTERS), utc_text(record.get("parked_at") or NO_VALUE),
                     str(event.get("type", NO_VALUE)), str(event.get("id", NO_VALUE)),
                     str(record.get("subscriber") or record.get("destination") or NO_VALUE), why(record)])
    days, where = rt.settings.retention_dead_letters_days, escape(stored_at(rt, DEAD_LETTERS.rstrip("/")))
    if not rows:
        console.print(f"no dead letters in {where}")
        return
    rows.sort(key=lambda row: row[1])
    title = (f"{counted(len(rows), 'dead letter')} in {where}, each deleted {days} days after it was parked "
             "(AMX_RETENTION_DEAD_LETTERS_DAYS)")
    columns = [("letter", 0), ("parked (UTC)", 0), ("type", 0), ("event id", 0), ("to", 0), ("why", 0)]
    rows = [[escape(cell) for cell in row] for row in rows]
    # a letter's name (its folder and event id, hashed) is wider than most terminals: its fields one under another
    table = fitted(console, title, columns, rows, whole=("letter",))
    console.print(table if fits(console, table) else listed(title, [name for name, _ in columns], rows),
                  highlight=False)
