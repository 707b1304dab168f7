"""The package's shape (README, Architecture): no import circles, layers import down only, and no
study or validation code imports a private name of the SEM core.

Every import counts, the ones inside functions too (a lazy import is still a dependency).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Layers from the bottom (README: the SEM core, data-first statistics, the study, the faces).
LAYERS = [("analysis.sem",), ("analysis.psychometrics",), ("analysis.study",), ("analysis.cli", "analysis.pipeline")]


def _modules() -> dict[str, Path]:
    out = {}
    for p in (ROOT / "analysis").rglob("*.py"):
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


def _imports(name: str, path: Path, modules: dict) -> list[tuple[str, list[str]]]:
    """``(module imported, names taken from it)`` for every import of a module (relative ones resolved)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rsplit(".", 1)[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            names = [a.name for a in node.names]
            out.append((target, names))
            out += [(f"{target}.{n}", []) for n in names if f"{target}.{n}" in modules]
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


@pytest.fixture(scope="module")
def graph():
    modules = _modules()
    return modules, {m: _imports(m, p, modules) for m, p in modules.items()}


def test_no_import_circles(graph):
    modules, imports = graph
    edges = {m: {t for t, _ in imports[m] if t in modules and t != m and t != "analysis.sem"} for m in modules}
    state, stack, circles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == "open":
                circles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"

    for m in sorted(modules):
        if m not in state:
            visit(m)
    assert not circles, circles


def test_layers_import_down_only(graph):
    modules, imports = graph

    def layer(m):
        return next((k for k, prefixes in enumerate(LAYERS) if any(m == p or m.startswith(p + ".") for p in prefixes)),
                    None)

    up = [(m, t) for m in modules for t, _ in imports[m]
          if layer(m) is not None and layer(t) is not None and layer(t) > layer(m)]
    assert not up, up


def test_no_private_name_of_the_core_outside_it(graph):
    modules, imports = graph
    private = [(m, t, n) for m in modules if not m.startswith("analysis.sem")
               for t, names in imports[m] if t.startswith("analysis.sem") for n in names if n.startswith("_")]
    assert not private, private
    validation = ROOT / "validation"
    for p in validation.rglob("*.py") if validation.exists() else []:
        for t, names in _imports("validation." + p.stem, p, modules):
            assert not (t.startswith("analysis.sem") and any(n.startswith("_") for n in names)), (p, t, names)
