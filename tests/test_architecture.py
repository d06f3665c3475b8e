"""The shape of the package: data flows one way, no module imports a layer above its own, no import circles.

Read from the source with the standard library's ``ast`` (nothing is imported): every ``import`` counts,
including those inside functions and under ``if TYPE_CHECKING:``, since a circle of type hints is still a
circle a reader must untangle. The layers are those of docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "profiler"

# Bottom to top. A module may import its own package and anything in a lower layer; packages that share a
# layer are independent of each other.
LAYERS: list[set[str]] = [
    {"errors", "_version", "_threads", "_arrays", "files"},
    {"canonical", "yamlsource"},
    {"artifacts", "documents"},
    {"resources"},
    {"store"},
    {"questionnaire"},
    {"factors", "irt"},
    {"cat"},
    {"administration"},
    {"norms", "simulation"},
    {"jobmodel", "fairness", "oversight", "integration"},
    {"pipeline", "batch"},
    {"reports"},
    {"demo", "web"},
    {"cli"},
    {"__main__"},
]
# Old locations kept so that code written against them still runs: each is only a module-level __getattr__
# that warns and forwards to the new place, and nothing in profiler imports them.
DEPRECATED_SHIMS = {"profiler.assessment", "profiler.jobmodel.model", "profiler.oversight.audit_log",
                    "profiler.oversight.fairness_audit", "profiler.pipeline.batch", "profiler.pipeline.batch_csv",
                    "profiler.questionnaire.model", "profiler.reports.stored"}
FACADE = "profiler"  # profiler/__init__.py re-exports the public API lazily; no module imports it


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The module a dotted import name resolves to (a name imported from a module resolves to the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    path, is_package = MODULES[module]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # "from pkg import sub" imports the submodule, not (only) the package's __init__
            subs = [f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in MODULES]
            targets = subs if len(subs) == len(node.names) else [source, *subs]
        else:
            continue
        for target in targets:
            if target == "profiler" or target.startswith("profiler."):
                owner = _owner(target)
                if owner is not None and owner != module:
                    out.add(owner)
    return out


GRAPH = {module: _imports(module) for module in MODULES if module not in DEPRECATED_SHIMS}


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else module
    for level, names in enumerate(LAYERS):
        if top in names:
            return level
    raise AssertionError(f"{module}: package {top!r} is in no layer; add it to LAYERS and to docs/architecture.md")


def _top(module: str) -> str:
    return module.split(".")[1]


def test_every_package_has_a_layer():
    for module in GRAPH:
        if module != FACADE:
            _layer(module)


def _violations(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        if module == FACADE:
            continue
        for target in targets:
            if target == FACADE:
                wrong.append(f"{module} imports the facade profiler/__init__.py (import the defining module)")
            elif target in DEPRECATED_SHIMS:
                wrong.append(f"{module} imports the deprecated {target}")
            elif _top(target) != _top(module) and _layer(target) >= _layer(module):
                wrong.append(f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})")
    return sorted(wrong)


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
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
                circles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return circles


def test_no_module_imports_a_higher_layer_or_a_sibling_package():
    assert _violations(GRAPH) == []


def test_no_import_circles():
    assert _circles(GRAPH) == []


def test_the_checks_catch_an_upward_import_and_a_circle():
    upward = {**GRAPH, "profiler.norms.table": GRAPH["profiler.norms.table"] | {"profiler.pipeline.assessment"}}
    assert _violations(upward) == ["profiler.norms.table (layer 9) imports profiler.pipeline.assessment (layer 11)"]
    circle = {**GRAPH, "profiler.jobmodel.checks": GRAPH["profiler.jobmodel.checks"] | {"profiler.jobmodel.jobmodel"}}
    assert any("profiler.jobmodel.checks" in c and "profiler.jobmodel.jobmodel" in c for c in _circles(circle))


@pytest.mark.parametrize("shim", sorted(DEPRECATED_SHIMS))
def test_deprecated_locations_only_forward(shim):
    tree = ast.parse(MODULES[shim][0].read_text(encoding="utf-8"))
    body = [node for node in tree.body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    functions = [node.name for node in body if isinstance(node, ast.FunctionDef)]
    assert functions == ["__getattr__"]
    assert all(isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef) for node in body)
    source = MODULES[shim][0].read_text(encoding="utf-8")
    assert "DeprecationWarning" in source


def test_the_layers_are_documented():
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for names in LAYERS:
        for name in names - {"_version", "__main__"}:
            assert f"`{name}" in text, f"docs/architecture.md does not place {name}"
