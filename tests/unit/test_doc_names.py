"""The README and docs name only what exists: each backticked reference of a shape that can be checked resolves (a
dotted name under affiliate_matrix, or else an event the code logs; a class's field; a path in the repository; an
AMX_* setting; an `amx …` command and its options; an HTTP route a function declares; a task). A reference of no such
shape is skipped, not guessed at: prose, examples, storage keys and values are not names. .env.example's comments and
the commands' --help texts are held to the same."""

import importlib
import pkgutil
import re
from functools import cache
from pathlib import Path

import pytest

from tests.support.processes import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PLACEHOLDER = re.compile(r"[<{…]")  # `handlers/<function>.py`, `/programs/{id}`: a pattern, not a name
METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD"
THIS = Path(__file__).name  # its examples of stale names are no names the code has


def spans(path) -> list[str]:
    return re.findall(r"`([^`\n]+)`", path.read_text())


@cache
def sources(*tops: str) -> str:
    """The Python sources under the repository's folders `tops`, as one text."""
    return "\n".join(p.read_text() for top in tops for p in (ROOT / top).rglob("*.py")
                     if ".venv" not in p.parts and p.name != THIS)


PRODUCT = ("shared", "functions", "infra")


@cache
def packages() -> set[str]:
    import affiliate_matrix

    return {module.name for module in pkgutil.iter_modules(affiliate_matrix.__path__)}


@cache
def event_families() -> set[str]:
    """The first words of the events the product logs (`sync` of sync.failed, `index`, `rule`, `key`...)."""
    logged = re.findall(r'\.(?:debug|info|warning|error|exception|critical)\(\s*"([a-z_]+)\.[a-z_.]+"',
                        sources(*PRODUCT))
    return set(logged)


def resolves(dotted: str) -> bool:
    """`taxonomy.COUNTRY_NAMES`: a module under affiliate_matrix, or an attribute of one (of a class in it too)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module("affiliate_matrix." + ".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def said(name: str) -> bool:
    """A name the product says: an event it logs or a rule matches on, a CloudEvents type (without its prefix)."""
    product = sources(*PRODUCT)
    return any(f"{quote}{prefix}{name}{quote}" in product for quote in "\"'" for prefix in ("", "dev.affiliatematrix."))


def dotted_problem(span: str) -> str | None:
    if span.endswith(".py") or not re.fullmatch(r"[a-z_]+(\.[A-Za-z_][A-Za-z0-9_]*)+", span):
        return None
    first = span.split(".")[0]
    if first in packages():
        return None if resolves(span) or said(span) else "names nothing under affiliate_matrix, nor an event"
    if first in event_families():
        return None if said(span) else "no event the product logs or sends"
    return None  # `program.cookie_days`, `event.data`, `rt.bus`: a rule's fields, a variable, not our names


def class_problem(span: str) -> str | None:
    """`Listing.closed`: a field or attribute of the one class of that name the product defines (none: not ours)."""
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*\.[a-z_][a-z0-9_]*", span) or span.endswith((".com", ".net", ".io")):
        return None  # `Impact.com`: a domain
    name, attribute = span.split(".")
    defined = [p for p in (ROOT / "shared" / "affiliate_matrix").rglob("*.py")
               if re.search(rf"^class {name}\b", p.read_text(), re.MULTILINE)]
    if len(defined) != 1:
        return None  # a library's (`PyJWKClient`), or several of ours: which is meant is a guess
    module = ".".join(defined[0].relative_to(ROOT / "shared").with_suffix("").parts).removesuffix(".__init__")
    kind = getattr(importlib.import_module(module), name)
    if hasattr(kind, attribute) or any(attribute in getattr(k, "__annotations__", {}) for k in kind.__mro__):
        return None
    return f"{module}.{name} has no {attribute}"


def path_problem(span: str) -> str | None:
    if " " in span or PLACEHOLDER.search(span) or "/" not in span and not span.endswith(".py"):
        return None
    first = span.split("/")[0]
    if first in ("shared", "tests", "infra", "manifests", "functions", "terraform", "docs"):
        base = ROOT
    elif first == "affiliate_matrix":
        base = ROOT / "shared"
    elif first in packages() and span.endswith(".py"):  # `events/http.py`: a file of the package, as the tree says
        base = ROOT / "shared" / "affiliate_matrix"
    elif "/" not in span:  # `fetch.py`, in the README's tree: some file of that name
        return None if any(ROOT.glob(f"[!.]*/**/{span}")) else "no file of this name in the repository"
    else:
        return None
    return None if any(base.glob(span.rstrip("/"))) else "no such path in the repository"


@cache
def settings() -> set[str]:
    from affiliate_matrix.config import RETIRED, Settings, held

    declared = {f"AMX_{name.upper()}" for kind in (Settings, *held()) for name in kind.model_fields}
    # read from the environment by a tool or a test: os.environ["AMX_TERMS_CORPUS_DIRS"]
    read = set(re.findall(r"""["'](AMX_[A-Z0-9_]+)["']""", sources(*PRODUCT, "tests")))
    return declared | read | set(RETIRED)  # a retired one is named as such (config.RETIRED refuses it)


def setting_problems(text: str) -> list[str]:
    from affiliate_matrix.config import SECRET_ENV_PREFIX

    wrong = []
    for name in re.findall(r"\bAMX_[A-Z0-9_]*\*?", text):
        if name.endswith("*") or name.endswith("_"):  # `AMX_VAULT_*`: a family; it has members
            prefix = name.rstrip("*")
            if not (SECRET_ENV_PREFIX.startswith(prefix) or any(s.startswith(prefix) for s in settings())):
                wrong.append(f"{name}: no setting starts so")
        elif name not in settings() and not name.startswith(SECRET_ENV_PREFIX):  # a secret, not a setting
            wrong.append(f"{name}: no such setting")
    return wrong


@cache
def cli():
    import typer

    from affiliate_matrix.cli import app

    return typer.main.get_command(app)


def command_problem(span: str) -> str | None:
    if not span.startswith("amx ") or PLACEHOLDER.search(span.split(" --")[0]):
        return None
    command, words = cli(), span.split()[1:]
    while words and hasattr(command, "commands") and not words[0].startswith("-"):
        if words[0] not in command.commands:
            return f"{command.name} has no command {words[0]!r}"
        command = command.commands[words.pop(0)]
    options = {"--help", *(option for param in command.params for option in (*param.opts, *param.secondary_opts))}
    unknown = [word for word in words if word.startswith("--") and word.split("=")[0] not in options]
    return f"{command.name} has no option {unknown[0]}" if unknown else None


@cache
def routes() -> set[tuple[str, str]]:
    from tests.support.api_schema import route_tables

    return {(route.method, re.sub(r"\{[^}]*\}", "{}", route.path))
            for api in route_tables().values() for route in api.routes}


def route_problem(span: str) -> str | None:
    path = r"(/(?:[^ ?{]|\{[^}]*\})*)"  # a parameter may hold a space: `{old id}`
    match = re.fullmatch(f"((?:{METHODS})(?:/(?:{METHODS}))*) " + path + r"(?:\?\S*)?(?: .*)?", span)
    if not match:
        return None
    # `/programs/amx_…`: a segment holding a placeholder is a parameter's value, as `{id}` is
    path = re.sub(r"\{[^}]*\}|[^/]*[<…][^/]*", "{}", match.group(2))
    missing = [method for method in match.group(1).split("/") if (method, path) not in routes()]
    return f"no function declares {' '.join(missing)} {path}" if missing else None


def task_problem(span: str) -> str | None:
    """`./task test:fast`, `task bench -- search`: a task Taskfile.yml declares."""
    import yaml

    match = re.fullmatch(r"(?:\./)?task ([a-z][a-z:-]*)(?: .*)?", span)
    if not match:
        return None
    tasks = yaml.safe_load((ROOT / "Taskfile.yml").read_text())["tasks"]
    return None if match.group(1) in tasks else "no such task in Taskfile.yml"


CHECKS = (dotted_problem, class_problem, path_problem, command_problem, route_problem, task_problem)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_reference_in_a_doc_names_what_exists(doc):
    wrong = sorted({f"`{span}`: {problem}" for span in spans(doc) for check in CHECKS
                    if (problem := check(span.strip()))})
    wrong += sorted(set(setting_problems(doc.read_text())))
    assert wrong == [], f"{doc.name} names what is not there:\n" + "\n".join(wrong)


def test_env_examples_comments_name_what_exists():
    """Its settings' lines are test_observability's; its comments name settings and paths too."""
    text = (ROOT / ".env.example").read_text()
    words = re.findall(r"[^\s(),:;`]+", "\n".join(line for line in text.splitlines() if line.startswith("#")))
    wrong = [f"{word}: {problem}" for word in words if "/" in word and (problem := path_problem(word.rstrip(".")))]
    assert wrong + setting_problems(text) == []


def test_the_commands_help_names_only_commands_and_settings_that_exist():
    def texts(command):
        yield command.help or ""
        yield from (getattr(param, "help", None) or "" for param in command.params)
        for sub in getattr(command, "commands", {}).values():
            yield from texts(sub)

    helps = "\n".join(texts(cli()))
    # `amx keys status lists them`: the walk stops at the command, the words after it are its arguments
    wrong = [problem for named in re.findall(r"amx [a-z][^.;:,()`\n]*", helps) if (problem := command_problem(named))]
    assert wrong + setting_problems(helps) == []


def test_the_checks_find_a_stale_name_of_each_shape():
    """The checks above pass by finding nothing: each of them finds what it is there for."""
    assert dotted_problem("sources.EntityWatch") and not dotted_problem("sources.parsed_xml")
    assert dotted_problem("sync.failed_twice") and dotted_problem("index.records_lost")
    assert not dotted_problem("sync.failed") and not dotted_problem("connection.deleted")
    assert class_problem("Listing.gone") and not class_problem("Listing.closed")
    assert path_problem("tests/unit/test_gone.py") and not path_problem("tests/unit/test_doc_names.py")
    assert setting_problems("`AMX_FLAGS_TTL` and AMX_NOPE_*") and not setting_problems("AMX_DATA_DIR, AMX_VAULT_*")
    assert command_problem("amx rules frob") and command_problem("amx search --frob")
    assert not command_problem("amx rules test ID --program p_1")
    assert task_problem("./task test:slow") and not task_problem("task bench -- search")
    assert route_problem("GET/DELETE /programs") and not route_problem("GET /programs/{program_id}?x=1")
    assert route_problem("GET /programz/amx_…") and not route_problem("GET /programs/amx_…")


def test_the_readme_lists_every_vocabulary_shown_in_words():
    """The README's paragraph on codes.WORDS names each of its vocabularies: one added there (the Rules page's three
    were not) is missing from the paragraph until it is written in."""
    from affiliate_matrix.codes import WORDS

    phrases = {"category": "`codes.CATEGORY_LABELS`", "country": "countries by name", "kind": "kinds",
               "commission_type": "commission types", "payout_method": "payout methods",
               "payout_frequency": "frequencies", "restriction": "restrictions", "status": "statuses",
               "change": "change types", "contract": "contracts", "approval": "approvals",
               "merchant_key_source": "merchant keys' sources", "sync_status": "a connection's last sync",
               "rule_trigger": "a rule's trigger", "rule_action": "trigger, action",
               "rule_param": "action's parameters", "deeplinks": "what networks say of deep links"}
    readme = " ".join((ROOT / "README.md").read_text().split())
    paragraph = re.search(r"`codes\.CATEGORY_LABELS`.*?\(`codes\.WORDS`\).*?keep the codes", readme).group()
    assert set(phrases) == set(WORDS)  # a vocabulary added to WORDS is named here, and in the README
    assert [name for name, phrase in phrases.items() if phrase not in paragraph] == []


def test_the_readme_layout_names_every_module_of_the_package_and_every_function():
    """README's Layout is where a newcomer looks for where a thing lives: a module or function added since (config.py,
    runtime.py and the functions themselves were missing) is named there, a line saying what it is."""
    layout = (ROOT / "README.md").read_text().split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    functions_part, package_part = layout.split("\n| `shared/affiliate_matrix/` |", 1)

    def named(part: str) -> set[str]:
        return {name.split("<")[0] for line in re.findall(r"^\| ` [├└] ([^`]*)` \|", part, re.MULTILINE)
                for name in line.split()}

    package = ROOT / "shared" / "affiliate_matrix"
    modules = {p.name + "/" if p.is_dir() else p.name for p in package.iterdir()
               if p.suffix == ".py" and p.name != "__init__.py" or (p / "__init__.py").is_file()}
    functions = {p.parent.name + "/" for p in (ROOT / "functions").glob("*/main.py")}
    unnamed = sorted(modules - named(package_part))
    unnamed += sorted(f"functions/{name}" for name in functions - named(functions_part))
    assert unnamed == []
