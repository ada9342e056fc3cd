"""The house's health in numbers: import cycles, upward arrows, longest functions.

    python scripts/house_metrics.py [PACKAGE_DIR]

Reads the package's source with ``ast`` (nothing is imported). An arrow is a
module-level import of one kneeload module by another; imports inside
functions are lazy by design and not counted, type-only imports (``if
TYPE_CHECKING:``) are, since a cycle there is still a knot in the design. A
cycle is a strongly connected group of two or more modules. The layers, from
the bottom: readers (io), summary, store, history, analysis, report, mail,
cli; an upward arrow is an import of a higher layer by a lower one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

#: Layer of each top-level module or package, from the bottom up.
LAYERS = {
    "errors": 0,
    "units": 0,
    "schema": 0,
    "geo": 0,
    "io": 1,
    "cadence_units": 1,
    "sport": 1,
    "summary": 2,
    "ingest": 3,
    "store": 3,
    "notes": 3,
    "config": 3,
    "history": 4,
    "analysis": 5,
    "report": 6,
    "mail": 7,
    "cli": 8,
    "commands": 8,
    "__init__": 9,
    "__main__": 9,
    "_testing": 9,  # test support may use anything
}


def module_name(root: Path, path: Path) -> str:
    """Dotted module name of ``path`` inside the package ``root``."""
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(tree: ast.Module, current: str, is_pkg: bool) -> set[str]:
    """Targets of module-level imports, ``if TYPE_CHECKING:`` blocks included."""
    found: set[str] = set()
    base = current if is_pkg else current.rpartition(".")[0]
    for node in tree.body:
        subs = ast.walk(node) if isinstance(node, ast.If | ast.Try) else [node]
        for sub in subs:
            if isinstance(sub, ast.Import):
                found.update(a.name for a in sub.names)
            elif isinstance(sub, ast.ImportFrom):
                if sub.level:
                    anchor = base
                    if sub.level > 1:
                        anchor = base.rsplit(".", sub.level - 1)[0]
                    target = f"{anchor}.{sub.module}" if sub.module else anchor
                else:
                    target = sub.module or ""
                # "from pkg import mod" is an arrow to pkg.mod; a name that is no
                # module is an arrow to pkg itself (resolved in ``graph``).
                found.update(f"{target}.{a.name}|{target}" for a in sub.names)
    return found


def graph(root: Path) -> dict[str, set[str]]:
    """Module → the kneeload modules it imports at module level."""
    files = {module_name(root, p): p for p in root.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        raw = _top_level_imports(tree, name, path.name == "__init__.py")
        targets = set()
        for item in raw:
            full, _, parent = item.partition("|")
            hit = full if full in files else (parent or full)
            if hit in files and hit != name:
                targets.add(hit)
        edges[name] = targets
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1] if len(parts) > 1 else "__init__")


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports of a higher layer by a lower one."""
    bad = []
    for src, targets in edges.items():
        for dst in targets:
            a, b = _layer(src), _layer(dst)
            if a is not None and b is not None and b > a:
                bad.append((src, dst))
    return sorted(bad)


def longest_functions(root: Path, n: int = 8) -> list[tuple[int, str]]:
    """The ``n`` longest functions, as (lines, "path:line name")."""
    found = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                where = f"{path.relative_to(root.parent)}:{node.lineno} {node.name}"
                found.append((size, where))
    return sorted(found, reverse=True)[:n]


def main(argv: list[str]) -> int:
    """Print the numbers for the package folder given (default ``kneeload``)."""
    root = Path(argv[1] if len(argv) > 1 else "kneeload").resolve()
    edges = graph(root)
    groups = cycles(edges)
    ups = upward(edges)
    print(f"modules: {len(edges)}, arrows: {sum(map(len, edges.values()))}")
    print(f"cycles: {len(groups)}")
    for g in groups:
        print("  " + " <-> ".join(g))
    print(f"upward arrows: {len(ups)}")
    for src, dst in ups:
        print(f"  {src} -> {dst}")
    print("longest functions:")
    for size, where in longest_functions(root):
        print(f"  {size:4d}  {where}")
    return 1 if groups or ups else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
