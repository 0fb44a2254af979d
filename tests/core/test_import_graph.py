"""The add-on's module import graph has no cycles, and no import hides inside a function to
dodge one. Read from the source with `ast` (nothing is imported), so it runs without bpy.

Run as a script to print the graph's cycles and the imports inside functions:
`python tests/core/test_import_graph.py`."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Not part of the add-on (blender_manifest.toml's paths_exclude_pattern), or not its code.
NOT_ADDON = {"tests", "bench", "tools", "dist", "manager_scripts", "docs", "wheels", "demo"}
# Imports inside functions that are on purpose: Blender Asset Tracer loads only when a
# submission packs; Blender's own optional modules.
DEFERRED_ON_PURPOSE = {"core.packing", "bpy.utils.previews", "aud"}


def addon_modules() -> dict[str, Path]:
    """Dotted module name (relative to the add-on, "" for its __init__) -> file."""
    found: dict[str, Path] = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in NOT_ADDON or any(p.startswith(".") for p in rel.parts):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _resolve(name: str, path: Path, node: ast.ImportFrom) -> str:
    base = _package_of(name, path).split(".") if _package_of(name, path) else []
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _targets(name: str, path: Path, node: ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    """The add-on modules one `from … import …` runs (the package itself and the submodules named)."""
    if node.level == 0:
        return set()
    target = _resolve(name, path, node)
    hits = {f"{target}.{a.name}".lstrip(".") for a in node.names} & modules.keys()
    if target in modules:
        hits.add(target)
    # A module's own packages are initialised before it runs: importing from them is no cycle.
    return {t for t in hits if not (t == "" or name == t or name.startswith(t + "."))}


def _imported(name: str, path: Path, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> str:
    """The module an import loads: an add-on module by its add-on name, others by theirs."""
    if isinstance(node, ast.Import):
        return node.names[0].name
    if node.level == 0:
        return node.module or ""
    target = _resolve(name, path, node)
    first = f"{target}.{node.names[0].name}".lstrip(".")
    return first if first in modules else target


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """Module-level imports between add-on modules (type-checking-only ones left out, they do
    not run), and every import inside a function: ("module:line: import", module it loads)."""
    modules = addon_modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    inside: list[tuple[str, str]] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        stack: list[tuple[ast.AST, bool]] = [(n, False) for n in tree.body]
        while stack:
            node, in_function = stack.pop()
            if isinstance(node, ast.If) and _is_type_checking(node):
                stack.extend((n, in_function) for n in node.orelse)
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if in_function:
                    inside.append((f"{name or '__init__'}:{node.lineno}: {ast.unparse(node)}",
                                   _imported(name, path, node, modules)))
                elif isinstance(node, ast.ImportFrom):
                    graph[name] |= _targets(name, path, node, modules)
                continue
            function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            stack.extend((child, in_function or function) for child in ast.iter_child_nodes(node))
    return graph, sorted(inside)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph has a few dozen modules, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read() -> None:
    graph, _ = import_graph()
    assert "operators.online" in graph["operators.jobs"] and "jobtypes.registry" in graph["props"]


def test_no_import_cycle() -> None:
    graph, _ = import_graph()
    assert cycles(graph) == []


def test_no_import_inside_a_function_but_the_deferred_ones() -> None:
    _, inside = import_graph()
    assert [entry for entry, module in inside if module not in DEFERRED_ON_PURPOSE] == []


if __name__ == "__main__":
    graph, inside = import_graph()
    print(f"{len(graph)} modules, {sum(len(t) for t in graph.values())} module-level imports between them")
    print("cycles:", len(cycles(graph)) or "none")
    for component in cycles(graph):
        print("  modules importing each other in a circle: " + ", ".join(component))
    print("imports inside functions:")
    for entry, module in inside:
        print(f"  {entry}" + ("" if module in DEFERRED_ON_PURPOSE else "   <- not deferred on purpose"))
