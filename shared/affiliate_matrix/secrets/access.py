"""Who does what to which folder of the secret store: each function (its Vault role fn-<name>) and a person with amx
(the operator). The Vault policies of infra/vault/policies/ grant exactly this, no more and no less, and
tests/unit/test_vault_policies.py holds them to it both ways, and holds every secret path the code names to a
folder of this table. A function that begins to read, write, list or destroy in a folder gets its line here first.
"""

# The folders (a secret path's first segment), as the code names them: auth.FOLDER, auth.SESSIONS, the connections'
# credentials_path, discovery's providers, rules.model.WEBHOOK_KEYS.
API_TOKENS, WEB_SESSIONS = "api-tokens", "web-sessions"
CONNECTIONS, WEBHOOKS, DISCOVERY = "connections", "webhooks", "discovery"
KEY_FOLDERS = (CONNECTIONS, WEBHOOKS, DISCOVERY)  # where `amx keys add` puts keys, and the keys function rotates them

# The secret store's operations (secrets.SecretStore), and what each takes in Vault's KV v2 (path kind, capability).
READ, CREATE, UPDATE = "read", "create", "update"  # a version; a write of a new secret (cas=0), of one there
METADATA, SET_METADATA = "metadata", "set_custom_metadata"
LIST, DESTROY, REMOVE = "list", "destroy", "remove"
VAULT_CAPABILITY = {READ: ("data", "read"), CREATE: ("data", "create"), UPDATE: ("data", "update"),
                    METADATA: ("metadata", "read"), SET_METADATA: ("metadata", "update"),
                    LIST: ("metadata", "list"), DESTROY: ("destroy", "update"), REMOVE: ("metadata", "delete")}

_CHECKS_TOKENS = {API_TOKENS: {READ}}  # every function: its /metrics (and its API) takes a token, read as a hash
# A key rotated (by the cron, or a rule's rotate_key action): read, the new version written over it with check-and-set,
# the versions before it destroyed; a version written back on failure. Its connections' tests read connections/ too.
_ROTATES = {READ, UPDATE, METADATA, DESTROY}
# A person's `amx keys`: add (a new secret, or a new version over a revoked one) with its metadata, status, rotate,
# revoke; `amx connections test`, `amx scrape` and `amx discover run` read keys as the functions do.
_MANAGES_KEYS = {CREATE, READ, UPDATE, METADATA, SET_METADATA, DESTROY}

ACCESS: dict[str, dict[str, set[str]]] = {
    "fn-budget": _CHECKS_TOKENS,
    "fn-connections": {**_CHECKS_TOKENS, CONNECTIONS: {READ}},  # a connection's test, and its key checked on write
    "fn-discover": {**_CHECKS_TOKENS, DISCOVERY: {READ}},  # the search providers' keys
    "fn-index": _CHECKS_TOKENS,
    "fn-keys": {**_CHECKS_TOKENS, **{folder: _ROTATES for folder in KEY_FOLDERS}},
    "fn-programs": _CHECKS_TOKENS,
    "fn-scrape": {**_CHECKS_TOKENS, CONNECTIONS: {READ}},
    "fn-sync": {**_CHECKS_TOKENS, CONNECTIONS: {READ}},
    "fn-triggers": {**_CHECKS_TOKENS, WEBHOOKS: {READ}},  # a notify's auth_key
    "fn-verify": _CHECKS_TOKENS,
    # a browser's session: opened at sign-in, read on every page, removed at sign-out, the ended ones swept at sign-in
    "fn-web": {**_CHECKS_TOKENS, WEB_SESSIONS: {CREATE, READ, LIST, REMOVE}},
    # amx tokens create, list, revoke; amx keys for every kind of key
    "operator": {API_TOKENS: {CREATE, READ, METADATA, SET_METADATA, LIST, DESTROY},
                 **{folder: _MANAGES_KEYS for folder in KEY_FOLDERS}},
}


def vault_rules(policy: str, mount: str = "secret") -> dict[str, set[str]]:
    """The policy's path rules as ACCESS says them: Vault path pattern -> capabilities."""
    rules: dict[str, set[str]] = {}
    for folder, operations in ACCESS[policy].items():
        for operation in operations:
            kind, capability = VAULT_CAPABILITY[operation]
            rules.setdefault(f"{mount}/{kind}/{folder}/*", set()).add(capability)
    return rules
