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


def _bindings(node: ast.AST) -> list[tuple[str, ast.expr]]:
    """(name, value) of what the node binds a name to: `x = v`, `x: T = v`, `(x := v)`."""
    if isinstance(node, ast.Assign):
        return [(target.id, node.value) for target in node.targets if isinstance(target, ast.Name)]
    if isinstance(node, ast.AnnAssign | ast.NamedExpr) and isinstance(node.target, ast.Name) and node.value:
        return [(node.target.id, node.value)]
    return []


def _is_store(node: ast.AST, aliases: set[str]) -> bool:
    """The secret store itself: `<anything>.secrets` (rt.secrets), a parameter named secret_store, or a name bound to
    either."""
    return (isinstance(node, ast.Attribute) and node.attr == "secrets"
            or isinstance(node, ast.Name) and node.id in {"secret_store", *aliases})


def _aliases(function: ast.AST) -> tuple[set[str], set[str]]:
    """The names the function binds to the store (s = rt.secrets; t = s) and to one of its operations
    (read = rt.secrets.read), followed along their chain: an alias's calls are the store's."""
    bound = [binding for node in ast.walk(function) for binding in _bindings(node)]
    stores: set[str] = set()
    operations: set[str] = set()
    while True:
        more = {name for name, value in bound if name not in stores and _is_store(value, stores)}
        more_operations = {name for name, value in bound if name not in operations and isinstance(value, ast.Attribute)
                           and value.attr in STORE_OPERATIONS and _is_store(value.value, stores)}
        if not more and not more_operations:
            return stores, operations
        stores |= more
        operations |= more_operations


def _functions(tree: ast.AST) -> list[ast.AST]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def store_calls(source: str, module) -> list[tuple[int, str | None]]:
    """(line, folder or None) of every call of the secret store in the source (`*.secrets.read(...)`, ... and through
    a name bound to the store or to one of its operations: `s = rt.secrets; s.read(...)`)."""
    found = []
    for function in _functions(ast.parse(source)):
        local = _local_values(function)
        stores, operations = _aliases(function)
        for call in ast.walk(function):
            if not isinstance(call, ast.Call) or not call.args:
                continue
            func = call.func
            if (isinstance(func, ast.Attribute) and func.attr in STORE_OPERATIONS and _is_store(func.value, stores)
                    or isinstance(func, ast.Name) and func.id in operations):
                found.append((call.lineno, _folder(call.args[0], local, module)))
    return sorted(set(found), key=lambda f: f[0])


def store_escapes(source: str, takes_store: set[str]) -> list[int]:
    """Lines where the store (or one of its operations) leaves what store_calls follows: handed to a function whose
    parameter is not named secret_store (`takes_store`: the functions that have one), kept on an object or in a
    container, returned. Its calls there would be seen by no scan of calls."""
    lines = []
    for function in _functions(ast.parse(source)):
        stores, _ = _aliases(function)
        parents = {child: node for node in ast.walk(function) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(function):
            operation = isinstance(node, ast.Attribute) and node.attr in STORE_OPERATIONS and _is_store(node.value,
                                                                                                      stores)
            if not (operation or _is_store(node, stores)):
                continue
            parent = parents.get(node)
            if isinstance(parent, ast.keyword):  # an argument by name: judged as its call's
                parent = parents.get(parent)
            if isinstance(parent, ast.Call):
                callee = parent.func.attr if isinstance(parent.func, ast.Attribute) else getattr(parent.func, "id", None)
                escapes = node is not parent.func and callee not in takes_store
            elif isinstance(parent, ast.Assign | ast.AnnAssign):
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                escapes = node is parent.value and not all(isinstance(target, ast.Name) for target in targets)
            else:
                escapes = isinstance(parent, ast.Return | ast.Yield | ast.Tuple | ast.List | ast.Set | ast.Dict
                                     | ast.Lambda)
            if escapes:
                lines.append(node.lineno)
    return sorted(set(lines))


def takes_store() -> set[str]:
    """The package's functions that take the store as a parameter named secret_store (auth.create_token, ...)."""
    return {function.name for path in PACKAGE.rglob("*.py") for function in _functions(ast.parse(path.read_text()))
            if "secret_store" in {arg.arg for arg in function.args.args + function.args.kwonlyargs}}


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


def test_the_scan_follows_a_store_called_through_a_name_bound_to_it():
    """The scan matched calls on `.secrets` (or secret_store) by name: `s = rt.secrets; s.read(...)` escaped it, so a
    folder no policy grants, read that way, was found by a "permission denied" in a cluster."""
    source = ("def aliased(rt):\n    s = rt.secrets\n    t = s\n    return t.read('hidden/a').data\n"
              "def method(rt):\n    read = rt.secrets.read\n    return read('hidden/b')\n"
              "def walrus(rt):\n    if (store := rt.secrets):\n        store.destroy('hidden/c', [1])\n"
              "def annotated(secret_store):\n    s: object = secret_store\n    s.list('hidden/d')\n")
    assert store_calls(source, type("Module", (), {})) == [(4, "hidden"), (7, "hidden"), (10, "hidden"),
                                                           (13, "hidden")]
    assert store_escapes(source, set()) == []


def test_the_scan_names_where_the_store_leaves_what_it_follows():
    """What no scan of calls follows (the store kept on an object, handed to a function taking it under another name,
    returned, an operation handed away) is named, so a way round the scan fails here rather than in a cluster."""
    source = ("def kept(self, rt):\n    self.vault = rt.secrets\n"
              "def handed(rt):\n    helper(rt.secrets)\n    create_token(rt.secrets, 'read')\n"
              "def given_back(rt):\n    s = rt.secrets\n    return s\n"
              "def operation(rt):\n    run(rt.secrets.read, 'x')\n"
              "def by_name(rt):\n    create_token(secret_store=rt.secrets)\n    helper(store=rt.secrets)\n")
    assert store_escapes(source, {"create_token"}) == [2, 4, 8, 10, 13]


def test_the_store_never_leaves_what_the_scan_follows():
    takers = takes_store()
    assert "create_token" in takers  # the scan sees the functions that take it
    assert [f"{path.relative_to(PACKAGE)}:{line}" for path in sorted(PACKAGE.rglob("*.py"))
            if not path.relative_to(PACKAGE).as_posix().startswith("secrets/")
            for line in store_escapes(path.read_text(), takers)] == []


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
