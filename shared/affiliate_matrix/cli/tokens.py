"""`amx tokens`: API bearer tokens — create (printed once), list, revoke."""

from typing import Annotated

import typer

from affiliate_matrix.cli.common import as_option, console, data_out, invalid, open_runtime

tokens_app = typer.Typer(help="API bearer tokens: create, list, revoke.", no_args_is_help=True)


@tokens_app.command("create")
def tokens_create(role: Annotated[str, typer.Option(help="read or admin.")] = "read",
                  ttl: Annotated[str, typer.Option(help="How long it is valid: 90d, 12h, 30m.")] = "90d"):
    """Mint an API token. It is printed once and stored only as a hash."""
    from affiliate_matrix.auth import ROLES, create_token, parse_ttl

    from affiliate_matrix.errors import InvalidInput

    if role not in ROLES:
        raise invalid("--role", f"{role!r} is not one of {', '.join(ROLES)}")
    try:
        lifetime = parse_ttl(ttl)
    except InvalidInput as exc:
        raise as_option(exc, {"ttl": "--ttl"}) from None
    print(create_token(open_runtime().secrets, role, ttl=lifetime), file=data_out())


@tokens_app.command("list")
def tokens_list():
    """Every token: id, role, created, expires, last used, status; never the token or its hash."""
    from datetime import UTC, datetime

    from affiliate_matrix.auth import list_tokens
    from affiliate_matrix.cli.views import fitted, utc_text

    now = datetime.now(UTC)
    rows = []
    for token in list_tokens(open_runtime()):
        expired = token.expires_at != "?" and datetime.fromisoformat(token.expires_at) <= now
        status = "revoked" if token.revoked_at else "expired" if expired else "active"
        rows.append([token.id, token.role, utc_text(token.created_at), utc_text(token.expires_at),
                     utc_text(token.last_used_at, minutes=True) if token.last_used_at else "never", status])
    if not rows:  # a table of headers alone said nothing
        console.print("no tokens (amx tokens create mints one)")
        return
    # the id (amx tokens revoke takes it) and the expiry whole, never cut to "2026-12-05T0…"; times in UTC, said as
    # every other view says it (they showed a time of no zone)
    console.print(fitted(console, "", [("id", 0), ("role", 0), ("created (UTC)", 2), ("expires (UTC)", 0),
                                       ("last used (UTC)", 1), ("status", 0)], rows,
                         whole=("id", "expires (UTC)")))


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="The token's id (amx tokens list).")]):
    """Revoke a token: every running function refuses it from its next request."""
    from affiliate_matrix.auth import revoke_token

    from affiliate_matrix.cli.views import utc_text

    # said below: its token.revoked line is the logs' (AMX_LOG_LEVEL), not a second word on the terminal
    if earlier := revoke_token(open_runtime(listed=("token.revoked",)), token_id):
        console.print(f"token {token_id} was revoked already, at {utc_text(earlier)} UTC")
    else:
        console.print(f"revoked token {token_id}")
