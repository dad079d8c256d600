"""The house's import rules (docs/architecture.md), read from the code's own import statements.

Floors, from the ground up: geo → data → views → exports → components → pages, app.py and cli/. A module imports
only from its own floor or below; a page imports views and components only (never queries, the engine or
geometry); views and exports run without Streamlit; below the pages only data/db/cache.py imports Streamlit; and
no set of modules imports each other in a loop. The one exception: data/__main__.py hands `python -m data …` over
to the command line (cli/), a floor above it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = {"geo": 0, "data": 1, "views": 2, "exports": 3, "components": 4, "pages": 5, "app": 5, "cli": 5}
UPWARD_EXCEPTIONS = {("data.__main__", "cli")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    out = {"app": ROOT / "app.py"}
    for folder in ("geo", "data", "views", "exports", "components", "pages", "cli"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "versions" not in path.parts:  # migration scripts are frozen history
                out[_module_name(path)] = path
    return out


SOURCES = _sources()


def _is_package(name: str) -> bool:
    return SOURCES.get(name, Path()).name == "__init__.py"


def _imports(name: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import of project code in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # `if …:` and `try:` blocks at module level run on import too
        if isinstance(node, (ast.If, ast.Try)):
            top_level |= {id(n) for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".") if _is_package(name) else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in SOURCES else module for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in SOURCES:
                target = target.rpartition(".")[0]
            if target:
                found.append((target, node.lineno, id(node) in top_level))
    return found


GRAPH = {name: _imports(name, path) for name, path in SOURCES.items()}


def _floor(module: str) -> int:
    return FLOORS[module.split(".")[0]]


def _where(module: str, line: int) -> str:
    return f"{SOURCES[module].relative_to(ROOT)}:{line}"


def test_no_import_runs_upward():
    upward = [f"{_where(m, line)} {m} → {t}" for m, edges in GRAPH.items() for t, line, _ in edges
              if _floor(t) > _floor(m) and (m, t.split(".")[0]) not in UPWARD_EXCEPTIONS]
    assert upward == []


def test_pages_reach_data_only_through_views():
    reached = [f"{_where(m, line)} {m} → {t}" for m, edges in GRAPH.items() if m.startswith("pages.")
               for t, line, _ in edges if t.split(".")[0] not in ("views", "components")]
    assert reached == []


def _third_party(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("floor", ["geo", "data", "views", "exports"])
def test_only_the_cache_below_the_pages_imports_streamlit(floor):
    users = [str(p.relative_to(ROOT)) for m, p in SOURCES.items() if m.split(".")[0] == floor
             and "streamlit" in _third_party(p) and m != "data.db.cache"]
    assert users == []


def test_no_import_cycle():
    """Tarjan's strongly connected components over module-level imports (an import inside a function runs when
    called, after every module has loaded)."""
    edges = {m: sorted({t for t, _, top in e if top and t != m}) for m, e in GRAPH.items()}
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_rules_see_the_house():
    """The graph is read from real files: every floor has modules and the pages import views."""
    assert {m.split(".")[0] for m in SOURCES} == set(FLOORS)
    assert any(t.startswith("views.") for m, e in GRAPH.items() if m.startswith("pages.") for t, _, _ in e)
