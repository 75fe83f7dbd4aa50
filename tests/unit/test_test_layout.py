"""The suite's own layout rule: what several test modules share lives in tests/support/, and no test
module imports another (importing one runs its module-level code and ties the two files together)."""

import ast

from tests.support.processes import ROOT


def test_no_test_module_imports_another():
    offending = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):  # from tests.unit.test_x import y, from tests.unit import test_x
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            offending += [f"{path.relative_to(ROOT)}:{node.lineno} imports {name}" for name in names
                          if name.startswith("tests.") and any(p.startswith("test_") for p in name.split("."))]
    assert offending == []
