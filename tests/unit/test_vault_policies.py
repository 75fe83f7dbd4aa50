"""The Vault policies held to what the code does to the secret store, both ways: each policy grants exactly what
secrets.access.ACCESS says its function (or a person with amx) does, nothing more and nothing missing; and every
secret path the code names is in a folder of that table, so a new folder no policy grants is caught here, not by a
"permission denied" in a cluster. (tests/contract/test_vault_kubernetes.py proves the policies on a real OpenBao.)"""

import ast
import importlib
import re

import pytest

from affiliate_matrix.auth import FOLDER, SESSIONS
from affiliate_matrix.connections import Connection
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.keys import KeyRecord, add_key, check_folder
from affiliate_matrix.rules.model import WEBHOOK_KEYS, Action, check_named
from affiliate_matrix.secrets.access import (ACCESS, API_TOKENS, CONNECTIONS, KEY_FOLDERS, VAULT_CAPABILITY,
                                             WEB_SESSIONS, WEBHOOKS, vault_rules)
from tests.support.processes import ROOT
from tests.support.vault_policies import POLICIES, policy_rules

PACKAGE = ROOT / "shared" / "affiliate_matrix"
STORE_OPERATIONS = {"read", "write", "metadata", "set_custom_metadata", "destroy", "remove", "list"}
# The modules whose secret paths come in as parameters (a key's path, a connection's credentials_path, a rule's
# auth_key), and the folders what hands them in keeps them to (test_dynamic_paths_are_held_to_their_folders).
PATHS_HANDED_IN = {"keys.py": set(KEY_FOLDERS), "cli/keys.py": set(KEY_FOLDERS), "connections.py": {CONNECTIONS},
                   "rules/actions.py": {WEBHOOKS}}


def test_every_policy_is_a_line_of_the_table_and_every_line_has_one():
    assert {path.stem for path in POLICIES.glob("*.hcl")} == set(ACCESS)


@pytest.mark.parametrize("policy", sorted(ACCESS))
def test_each_policy_grants_exactly_what_the_code_does(policy):
    assert policy_rules(POLICIES / f"{policy}.hcl") == vault_rules(policy)


def test_the_operator_manages_every_kind_of_key_the_readme_tells_a_person_to_add():
    """amx keys add, status, rotate and revoke at connections/, webhooks/ and discovery/ (the search providers' keys):
    the operator's policy had no rule for discovery/, so `amx keys add discovery/brave` was refused in a cluster."""
    readme = (ROOT / "README.md").read_text()
    told = {match.group(1) for match in re.finditer(r"amx keys add ([a-z-]+)/", readme)}
    assert told == set(KEY_FOLDERS)
    for folder in KEY_FOLDERS:
        assert {"create", "read", "update"} <= policy_rules(POLICIES / "operator.hcl")[f"secret/data/{folder}/*"]
        assert {"read", "update"} <= policy_rules(POLICIES / "operator.hcl")[f"secret/metadata/{folder}/*"]
        assert policy_rules(POLICIES / "operator.hcl")[f"secret/destroy/{folder}/*"] == {"update"}
        assert {"read", "update"} <= policy_rules(POLICIES / "fn-keys.hcl")[f"secret/data/{folder}/*"]


def test_the_tables_folders_are_the_ones_the_code_names():
    assert (FOLDER, SESSIONS, WEBHOOK_KEYS) == (API_TOKENS, WEB_SESSIONS, f"{WEBHOOKS}/")
    assert {kind for kind, _ in VAULT_CAPABILITY.values()} == {"data", "metadata", "destroy"}


def _local_values(function: ast.AST) -> dict[str, ast.expr]:
    """What each name assigned once in the function holds (path = f"{FOLDER}/{token}")."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, []).append(node.value)
    return {name: values[0] for name, values in assigned.items() if len(values) == 1}


def _folder(node: ast.expr, local: dict[str, ast.expr], module) -> str | None:
    """The folder a path expression names (its first segment), or None when it is handed in (a parameter)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.split("/")[0]
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        return _folder(first if isinstance(first, ast.Constant) else first.value, local, module)
    if isinstance(node, ast.Name):
        if node.id in local:
            return _folder(local[node.id], {}, module)
        value = getattr(module, node.id, None)
        return value.split("/")[0] if isinstance(value, str) else None
    return None


def store_calls(source: str, module) -> list[tuple[int, str | None]]:
    """(line, folder or None) of every call of the secret store in the source (`*.secrets.read(...)`, ...)."""
    found = []
    for function in [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef
                                                                                 | ast.AsyncFunctionDef)]:
        local = _local_values(function)
        for call in ast.walk(function):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.args
                    and call.func.attr in STORE_OPERATIONS
                    and (isinstance(call.func.value, ast.Attribute) and call.func.value.attr == "secrets"
                         or isinstance(call.func.value, ast.Name) and call.func.value.id == "secret_store")):
                found.append((call.lineno, _folder(call.args[0], local, module)))
    return sorted(set(found), key=lambda f: f[0])


def secret_paths() -> list[tuple[str, int, str | None]]:
    """(module, line, folder or None) of every call of the secret store in the package but its adapters."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if not name.startswith("secrets/"):
            module = importlib.import_module("affiliate_matrix." + name.removesuffix(".py").replace("/", ".")
                                             .removesuffix(".__init__"))
            found += [(name, line, folder) for line, folder in store_calls(path.read_text(), module)]
    return found


def test_every_secret_path_the_code_names_is_in_a_folder_of_the_table():
    paths = secret_paths()
    folders = {folder for access in ACCESS.values() for folder in access}
    assert {folder for _, _, folder in paths} >= {API_TOKENS, WEB_SESSIONS, CONNECTIONS, "discovery"}  # the scan sees
    assert [f"{module}:{line} {folder}" for module, line, folder in paths
            if folder is not None and folder not in folders] == []
    assert [f"{module}:{line}" for module, line, folder in paths
            if folder is None and module not in PATHS_HANDED_IN] == []
    assert set().union(*PATHS_HANDED_IN.values()) <= folders


def test_the_scan_names_a_new_folder_and_a_path_handed_in():
    source = ("PLACE = 'elsewhere'\n"
              "def read_new(rt, name):\n    path = f'newfolder/{name}'\n    return rt.secrets.read(path).data\n"
              "def write_there(rt, name):\n    rt.secrets.write(f'{PLACE}/{name}', {})\n"
              "def create(secret_store, path):\n    secret_store.write(path, {}, cas=0)\n")
    module = type("Module", (), {"PLACE": "elsewhere"})
    assert store_calls(source, module) == [(4, "newfolder"), (6, "elsewhere"), (8, None)]


def test_dynamic_paths_are_held_to_their_folders():
    """What hands a path in keeps it to its folder: a key's path (check_folder), a connection's credentials_path
    (its pattern), a notify's auth_key (rules.model refuses one outside WEBHOOK_KEYS)."""
    for folder in KEY_FOLDERS:
        check_folder(f"{folder}/x")
    with pytest.raises(ValueError, match="credentials_path"):
        Connection.model_validate({"id": "c", "source": "awin", "credentials_path": "webhooks/x"})
    with pytest.raises(InvalidInput, match="is not a webhook's key"):
        check_named(Action(type="notify", params={"webhook_url": "https://example.com/h", "auth_key": "connections/x"}))


@pytest.mark.parametrize("path", ["elsewhere/x", "connections", "Connections/x"])
def test_a_key_is_added_in_a_folder_of_keys_alone(tmp_path, path):
    """Vault lets a person add keys, and the keys function rotate them, in KEY_FOLDERS alone: a key added elsewhere
    was stored locally and refused by Vault in a cluster ("permission denied")."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    with pytest.raises(InvalidInput, match="a key is added under connections/, webhooks/, discovery/"):
        add_key(rt, KeyRecord(path=path, rotation="manual", created_at="2026-01-01T00:00:00Z"), {"value": "v"})
    assert not (tmp_path / "secrets.json").exists()  # nothing stored
