"""The import graph of our own code: no circles, and layers that point one way.

Every module of ``shared/``, ``functions/`` and ``tools/`` is parsed with ``ast``; every import
counts, also one inside a function (a lazy import is still an edge: it runs on the request
path). Imports under ``if TYPE_CHECKING:`` are left out: they never run.

Layering rules enforced here (STYLE.md, "Layers point one way"):

1. No module under ``shared/`` imports ``shared.http`` (the HTTP skeleton), except the HTTP edge
   itself: ``shared.http``, ``shared.worker``, ``shared.webhooks.*`` and the app function's web
   layer ``shared.web.*`` (Flask views: the HTTP edge of the app). Services raise the
   errors of ``shared.errors``; ``shared.http`` maps them to status codes.
2. No module under ``shared/`` imports ``shared.runtime`` (the wiring that builds the ports),
   except that same edge (``shared.worker``, ``shared.webhooks.*``, which read the settings of
   the running instance). Services take a ``shared.ports.Ports`` argument instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("shared", "functions", "tools")

# Known circles, each allowed only as (a part of) itself. Remove an entry once it is fixed.
KNOWN_CYCLES: list[frozenset[str]] = [
    # issue 10: tools.devstack -> tools.demo -> tools.simulate -> tools.devstack (being untangled
    # on its own branch; this test keeps anything else from joining it).
    frozenset({"tools.devstack", "tools.demo", "tools.simulate"}),
]

HTTP_EDGE = ("shared.http", "shared.worker", "shared.webhooks", "shared.web")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported_names(tree: ast.AST, module: str, is_package: bool, known: set[str] | frozenset[str] = frozenset()
                    ) -> list[str]:
    """The dotted names of the modules ``tree`` imports (``known``: our modules; the caller
    keeps the names that are ours). The parent packages Python imports on the way are not
    edges: every module has them."""
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from a import b`` is an import of the module ``a.b`` when there is one, else of ``a``
            names.extend(f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in known else prefix
                         for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for imported in _imported_names(tree, name, path.name == "__init__.py", set(modules)):
            candidate = imported
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
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
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return components


def _describe(graph: dict[str, set[str]], component: list[str]) -> str:
    members = set(component)
    edges = [f"  {a} -> {b}" for a in component for b in sorted(graph[a]) if b in members]
    return "circle of " + ", ".join(component) + ":\n" + "\n".join(edges)


def test_no_import_circles():
    graph = _graph()
    unknown = [c for c in _cycles(graph) if not any(set(c) <= known for known in KNOWN_CYCLES)]
    assert not unknown, "import circles:\n" + "\n".join(_describe(graph, c) for c in unknown)


def _in(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_only_the_http_edge_imports_shared_http():
    graph = _graph()
    offenders = sorted(m for m, targets in graph.items()
                       if _in(m, ("shared",)) and not _in(m, HTTP_EDGE) and "shared.http" in targets)
    assert offenders == [], f"modules under shared/ that import shared.http: {offenders}"


def test_no_service_imports_the_wiring():
    graph = _graph()
    offenders = sorted(m for m, targets in graph.items()
                       if _in(m, ("shared",)) and not _in(m, HTTP_EDGE + ("shared.runtime",))
                       and "shared.runtime" in targets)
    assert offenders == [], f"modules under shared/ that import shared.runtime: {offenders}"


def test_the_graph_sees_lazy_and_relative_imports():
    """The checks above can only fail if the parser finds imports inside functions and relative
    ones: prove it on a tiny module."""
    tree = ast.parse("def f():\n    from shared.voice import calls\nfrom . import twiml\n"
                     "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import shared.http\n")
    names = _imported_names(tree, "shared.voice.answer", is_package=False,
                            known={"shared.voice.calls", "shared.voice.twiml"})
    assert "shared.voice.calls" in names and "shared.voice.twiml" in names
    assert "shared.http" not in names
