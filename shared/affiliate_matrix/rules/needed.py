"""What a stored rule needs changed though it still runs, said wherever a rule is shown: `amx rules list` and `show`,
`GET /rules` and `GET /rules/{id}` (each rule's `warnings`, as `POST /rules` and `PUT /rules/{id}` answer them), and
a dry run's `warnings`."""

from affiliate_matrix.errors import AmxError, InvalidInput
from affiliate_matrix.rules.model import rule_warnings
from affiliate_matrix.rules.state import webhook_gone_problem


def needed_changes(rt, rule, *, listing: dict | None = None) -> list[str]:
    """What a stored rule needs changed though it still runs (model.rule_warnings), a notify's webhook its receiver
    refused for good (state.webhook_gone_problem, from the rule's state), and a notify's key a firing could not send
    now (auth_key_warning): as `amx rules list` and `GET /rules` say it, in a `listing` (what its rules' reads
    share: each key's record read once), from the key's record alone (revoked, unregistered, added for another origin;
    no secret is read for a listing), and as `amx rules show`, `GET /rules/{id}` and a dry run say it without one, the
    key read as a firing reads it (a secret gone or without its field too). One place, so each says the same."""
    found = rule_warnings(rule)
    if gone := webhook_gone_problem(rt.store, rule):
        found.append(gone)
    if "auth_key" not in rule.action.params:
        return found
    # the actions module, and the search port its store brings, for a rule with a key alone: a first GET /rules (the
    # triggers function's first request) imports neither
    from affiliate_matrix.rules.actions import auth_key_warning, recorded_key_problem, webhook_auth

    if listing is not None:
        problem = recorded_key_problem(rt, rule.action.params, listing.setdefault("key records", {}))
        return found + ([auth_key_warning(problem)] if problem else [])
    try:
        webhook_auth(rt, rule.action.params)
    except InvalidInput as exc:
        found.append(auth_key_warning(str(exc)))
    except AmxError as exc:  # the store not answering: said, and the rule or the dry run given all the same
        found.append(f"action.params.auth_key: not checked, the secret store did not answer ({type(exc).__name__})")
    return found
