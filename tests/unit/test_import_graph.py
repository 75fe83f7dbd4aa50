"""The package's import graph: no module reaches itself again through its imports, counting the
imports inside functions (kept there for cold starts, they must not hide a cycle), and the domain
code never imports the HTTP layer or the web framework. grimp (import-linter's graph library) reads every import
statement of every module; imports under `if TYPE_CHECKING:` never run, so they are left out."""

import textwrap

import grimp

PACKAGE = "affiliate_matrix"
HTTP_LAYER = f"{PACKAGE}.handlers"
# What may import the HTTP layer: the web function's pages render through the programs API's own code, and the CLI's
# searches are made of their options by the API's own code (handlers.programs.query_of), not by a second copy of it.
HTTP_CALLERS = (HTTP_LAYER, f"{PACKAGE}.web", f"{PACKAGE}.cli")
# The functions' web framework: the HTTP layer adapts it (a request's after-the-answer work is runtime.after_answer).
WEB_FRAMEWORK = ("flask", "werkzeug", "functions_framework")
SERVER = f"{PACKAGE}.server"  # the command that serves a function (amx-function) starts the framework's server


def graph_of(package: str, external: bool = False):
    return grimp.build_graph(package, include_external_packages=external, exclude_type_checking_imports=True,
                             cache_dir=None)


def cycles(graph) -> list[str]:
    """Each import that closes a loop, with where it is and the way back."""
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                lines = ", ".join(f"line {d['line_number']}" for d in graph.get_import_details(
                    importer=importer, imported=imported))
                found.append(f"{importer} imports {imported} ({lines}), which leads back: {' -> '.join(back)}")
    return found


def within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_no_module_imports_itself_through_others():
    assert cycles(graph_of(PACKAGE)) == []


def test_domain_code_never_imports_the_http_layer():
    graph = graph_of(PACKAGE)
    offenders = sorted(f"{importer} imports {imported}"
                       for importer in graph.modules if not within(importer, HTTP_CALLERS)
                       for imported in graph.find_modules_directly_imported_by(importer)
                       if within(imported, (HTTP_LAYER,)))
    assert offenders == []


def test_domain_code_never_imports_the_web_framework():
    graph = graph_of(PACKAGE, external=True)
    offenders = sorted(f"{importer} imports {imported} (line {detail['line_number']})"
                       for importer in graph.modules if within(importer, (PACKAGE,))
                       and not within(importer, (*HTTP_CALLERS, SERVER))
                       for imported in graph.find_modules_directly_imported_by(importer)
                       if within(imported, WEB_FRAMEWORK)
                       for detail in graph.get_import_details(importer=importer, imported=imported))
    assert offenders == []
    assert graph.find_modules_directly_imported_by(HTTP_LAYER) & set(WEB_FRAMEWORK)  # the check sees framework imports


def test_an_import_inside_a_function_closes_a_cycle_and_one_for_type_checking_does_not(tmp_path, monkeypatch):
    package = tmp_path / "cycle_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(textwrap.dedent("""
        def late():
            from cycle_probe import b  # cheap to start, but still a cycle
    """))
    (package / "b.py").write_text("import cycle_probe.a\n")
    (package / "c.py").write_text(textwrap.dedent("""
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from cycle_probe.d import Thing  # never runs
    """))
    (package / "d.py").write_text("import cycle_probe.c\nThing = object\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = cycles(graph_of("cycle_probe"))
    assert len(found) == 2 and all("cycle_probe.a" in f and "cycle_probe.b" in f for f in found)
    assert found[0].startswith("cycle_probe.a imports cycle_probe.b (line 3)")
