"""The public surface: ``kneeload.__all__`` and documented, annotated functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kneeload

PACKAGE = Path(kneeload.__file__).parent


def test_all_names_resolve_and_nothing_else_is_advertised() -> None:
    for name in kneeload.__all__:
        assert getattr(kneeload, name) is not None, name
    assert sorted(kneeload.__all__) == sorted(set(kneeload.__all__))


def test_importing_the_package_stays_light() -> None:
    # the CLI imports kneeload on every call; pandas and matplotlib load lazily
    code = (
        "import sys, kneeload; "
        "print('pandas' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def _public_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            found += [n for n in node.body if isinstance(n, ast.FunctionDef)]
        elif isinstance(node, ast.FunctionDef):
            found.append(node)
    return [f for f in found if not f.name.startswith("_")]


def test_public_functions_have_type_hints_and_a_docstring() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for func in _public_functions(ast.parse(path.read_text(encoding="utf-8"))):
            args = [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]
            unannotated = [
                a.arg
                for a in args
                if a.annotation is None and a.arg not in ("self", "cls")
            ]
            if func.returns is None:
                unannotated.append("return")
            doc = ast.get_docstring(func)
            if unannotated or not doc:
                where = f"{path.relative_to(PACKAGE.parent)}:{func.lineno} {func.name}"
                problems.append(f"{where} docstring={bool(doc)} {unannotated}")
    assert problems == []
