"""What each function may do over the network, read from the code rather than copied by hand: the event types it
may publish and what it reaches (its Runtime's ports, the internet). A call graph of top-level functions and classes,
from each functions/<name>/main.py through the shared package, to the code that makes an event (`Event.make`) and
the event types that code names, that reads a port (`rt.store`) or that names the outbound client.

Static and coarse on purpose: a function or class is reached when anything reached names it (called, passed as a
callback, put in a table), and its whole body counts, so a reached `Event.make` is never missed; a type it names is
taken as one it may publish. Calls through an object's attribute (`rt.bus.publish`) are not followed: they go to a
port's adapters, which make no events and are counted by the port read instead. An action type (`ACTION_PREFIX + kind`) stands for every rule action.

One table is read as the functions use it: rules.actions.HANDLERS, which every function's event handling reaches
(handlers/events.py runs any action event it takes), holds each action's work; a function takes only the event
types its Triggers route to it (manifests/base/triggers.yaml), so of that table only the actions routed to it are
reached.

The command line counts as the function whose runtime a command opens (`open_runtime("keys")` in `amx keys revoke`):
run in the cluster it has that function's identity, so its events are that function's. But for cli.common.index_here,
which subscribes indexing to the in-process bus only (with a Broker, the index function indexes): what it reaches
publishes nothing to a Broker."""

import ast
from functools import cache
from pathlib import Path

from tests.support.processes import ROOT

PACKAGE = ROOT / "shared" / "affiliate_matrix"
FUNCTIONS = ROOT / "functions"
MODULE = "<module>"  # the unit of a module's own top-level statements, run when it is imported
ACTION_TABLE = ("affiliate_matrix.rules.actions", "HANDLERS")  # action kind -> its work
IN_PROCESS_ONLY = {("affiliate_matrix.cli.common", "index_here")}


def routed_actions(function: str) -> set[str]:
    """The rule actions whose events the Triggers of manifests/base route to `function`."""
    import yaml

    from affiliate_matrix.events import ACTION_PREFIX

    triggers = [d for d in yaml.safe_load_all((ROOT / "manifests" / "base" / "triggers.yaml").read_text()) if d]
    return {t["spec"]["filter"]["attributes"]["type"].removeprefix(ACTION_PREFIX) for t in triggers
            if t["spec"]["subscriber"]["ref"]["name"] == function
            and t["spec"]["filter"]["attributes"]["type"].startswith(ACTION_PREFIX)}


def event_types() -> dict[str, set[str]]:
    """The constant names in affiliate_matrix.events that are event types, each with the type(s) it stands for."""
    from affiliate_matrix import events
    from affiliate_matrix.rules.model import REQUIRED_PARAMS

    named = {k: {v} for k, v in vars(events).items() if k.isupper() and isinstance(v, str)
             and v.startswith("dev.affiliatematrix.") and not v.endswith(".")}
    return named | {"ACTION_PREFIX": {events.ACTION_PREFIX + kind for kind in REQUIRED_PARAMS}}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT / "shared").with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class _Module:
    def __init__(self, name: str, path: Path, is_package: bool):
        self.name, self.tree = name, ast.parse(path.read_text(), str(path))
        self.package = name if is_package else name.rpartition(".")[0]
        self.units = {n.name: n for n in self.tree.body
                      if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
        self.imported: dict[str, tuple[str, str | None]] = {}  # local name -> (module, attribute or None)
        for node in ast.walk(self.tree):  # lazy imports in a function body count as the module's
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                for alias in node.names:
                    self.imported[alias.asname or alias.name] = (base, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imported[alias.asname] = (alias.name, None)
                    else:
                        self.imported[alias.name.split(".")[0]] = (alias.name.split(".")[0], None)


@cache
def _modules() -> dict[str, _Module]:
    found = {_module_name(p): _Module(_module_name(p), p, p.name == "__init__.py") for p in PACKAGE.rglob("*.py")}
    for main in FUNCTIONS.glob("*/main.py"):
        found[f"functions.{main.parent.name}.main"] = _Module(f"functions.{main.parent.name}.main", main, False)
    return found


def _resolve(module: str, name: str, seen=frozenset()) -> tuple[str, str] | None:
    """The unit `name` means in `module`: its own function or class, a module, or what it imports under that name."""
    modules = _modules()
    here = modules.get(module)
    if f"{module}.{name}" in modules and (here is None or name not in here.units):
        return f"{module}.{name}", MODULE
    if here is None or (module, name) in seen:
        return None
    if name in here.units:
        return module, name
    if name in here.imported:
        source, attribute = here.imported[name]
        if attribute is None:
            return (source, MODULE) if source in modules else None
        return _resolve(source, attribute, seen | {(module, name)})
    return None


def _body(module: str, unit: str, actions: set[str] | None = None) -> list[ast.AST]:
    """The statements of a unit; with `actions`, the action table holds only those actions' entries."""
    here = _modules()[module]
    if unit != MODULE:
        return [here.units[unit]]
    body = [n for n in here.tree.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    if actions is None or module != ACTION_TABLE[0]:
        return body
    table = next(n for n in body if isinstance(n, ast.Assign) and
                 any(isinstance(t, ast.Name) and t.id == ACTION_TABLE[1] for t in n.targets))
    assert isinstance(table.value, ast.Dict), f"{'.'.join(ACTION_TABLE)} is no longer a dict literal"
    kept = [v for k, v in zip(table.value.keys, table.value.values, strict=True)
            if isinstance(k, ast.Constant) and k.value in actions]
    return [n for n in body if n is not table] + kept


def _references(module: str, unit: str, actions: set[str] | None = None) -> set[tuple[str, str]]:
    found = set()
    for root in _body(module, unit, actions):
        for node in ast.walk(root):
            target = None
            if isinstance(node, ast.Name):
                target = _resolve(module, node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                owner = _resolve(module, node.value.id)
                if owner and owner[1] == MODULE:  # module.attribute
                    target = _resolve(owner[0], node.attr)
            if target:
                found.add(target)
    return found


def _publishes(module: str, unit: str, types: dict[str, set[str]]) -> set[str]:
    nodes = [n for root in _body(module, unit) for n in ast.walk(root)]
    makes = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "make"
                and isinstance(n.func.value, ast.Name) and n.func.value.id == "Event" for n in nodes)
    if not makes:
        return set()
    named = {n.id for n in nodes if isinstance(n, ast.Name)} | {n.attr for n in nodes if isinstance(n, ast.Attribute)}
    return set().union(*(types[name] for name in named if name in types))


def commands_of(function: str) -> list[tuple[str, str]]:
    """The command-line commands that open `function`'s runtime."""
    found = []
    for name, module in _modules().items():
        if not name.startswith("affiliate_matrix.cli."):
            continue
        for unit, node in module.units.items():
            if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "open_runtime"
                   and n.args and isinstance(n.args[0], ast.Constant) and n.args[0].value == function
                   for n in ast.walk(node)):
                found.append((name, unit))
    return found


@cache
def reached(function: str) -> frozenset[tuple[str, str]]:
    """Every unit (module, top-level function or class, or the module's own statements) functions/<function>/main.py
    and the commands run as it may run."""
    main = f"functions.{function}.main"
    return reached_from([(main, MODULE), *((main, unit) for unit in _modules()[main].units), *commands_of(function)],
                        routed_actions(function))


def reached_from(units: list[tuple[str, str]], actions: set[str] | None = None) -> frozenset[tuple[str, str]]:
    """Every unit `units` may run (of the action table, with `actions`, only those actions' work)."""
    todo, seen = list(units), set()
    while todo:
        unit = todo.pop()
        if unit in seen or unit in IN_PROCESS_ONLY:
            continue
        seen.add(unit)
        todo += _references(*unit, actions) | {(unit[0], MODULE)}
    return frozenset(seen)


def published_by(function: str) -> set[str]:
    """The event types functions/<function>/main.py may publish."""
    types = event_types()
    return set().union(*(_publishes(*unit, types) for unit in reached(function)))


def publishers() -> dict[str, set[str]]:
    """Each function that publishes, with the event types it may publish."""
    return {name: types for name in function_names() if (types := published_by(name))}


def function_names() -> list[str]:
    return sorted(p.parent.name for p in FUNCTIONS.glob("*/main.py"))


# A Runtime's ports (runtime.py), by the attribute the code reads them by (`rt.store`), and what each reaches over the
# network; the feature flags are a document in the object store.
PORTS = {"store": "store", "flags": "store", "index": "index", "secrets": "secrets", "bus": "broker"}
# What a function fetches from the internet through: the one outbound client (polite.py) and its guarded transport.
# Not netguard's bounded_client: the Broker client's, for the cluster's own services (the Broker port counts those).
INTERNET = {("affiliate_matrix.polite", "PoliteClient"), ("affiliate_matrix.netguard", "guarded_client")}


def reaches_internet(units: frozenset[tuple[str, str]]) -> bool:
    return bool(units & INTERNET)


def needs(function: str) -> set[str]:
    """What functions/<function>/main.py reaches over the network: each port it uses (store, index, secrets, broker)
    and the internet."""
    units = reached(function)
    found = {"internet"} if reaches_internet(units) else set()
    for module, unit in units:
        for root in _body(module, unit):
            for node in ast.walk(root):
                if isinstance(node, ast.Attribute) and node.attr in PORTS and _is_runtime(node.value):
                    found.add(PORTS[node.attr])
    return found


def _is_runtime(node: ast.AST) -> bool:
    """`rt`, `runtime` or `<something>.rt`: how the code names a Runtime."""
    return (isinstance(node, ast.Name) and node.id in ("rt", "runtime")) or \
        (isinstance(node, ast.Attribute) and node.attr == "rt")
