"""Imports between capabilities point one way: down the layers below.

Why: when two capabilities import each other, neither can be read, tested or
changed alone, and import order starts to matter. A lower layer that needs a
higher one offers a hook (ldnsite/hooks.py) that the higher one registers
with. Imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ldnsite"

# Lowest first. A module may import from its own part and from lower layers only; parts in one layer
# (content and mail; moderation and search) do not import each other.
LAYERS: list[set[str]] = [
    {"config"},
    {"db", "extensions", "hooks", "logs", "paging", "sanitising", "security"},
    {"content", "mail"},
    {"accounts"},
    {"forum"},
    {"moderation", "search"},
    {"__init__", "models_registry"},  # the app factory and Alembic's model list assemble everything
]
LAYER = {part: level for level, parts in enumerate(LAYERS) for part in parts}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """The capability (or infrastructure module) a module belongs to: ldnsite.forum.posting -> forum."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imported_modules(path: Path) -> set[str]:
    """Every ldnsite module the file imports, at any depth (inside functions and TYPE_CHECKING blocks too)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                # `from ldnsite.forum import posting` imports the module ldnsite.forum.posting;
                # `from ldnsite.forum import bp` imports ldnsite.forum itself.
                name = f"{target}.{alias.name}"
                found.add(name if is_module(name) else target)
    return {m for m in found if m == "ldnsite" or m.startswith("ldnsite.")}


def import_graph() -> dict[str, set[str]]:
    return {module_name(path): imported_modules(path) for path in sorted(PACKAGE.rglob("*.py"))}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one node (Tarjan), each sorted: the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_part_has_a_layer():
    parts = {part_of(module) for module in import_graph()}
    assert parts - set(LAYER) == set(), "add the new capability to LAYERS"


def test_imports_only_point_down():
    wrong = []
    for module, imports in import_graph().items():
        source = part_of(module)
        for target in sorted(imports):
            dest = part_of(target)
            if dest != source and LAYER[dest] >= LAYER[source]:
                wrong.append(f"{module} imports {target} ({source} is not above {dest})")
    assert wrong == []


def test_no_cycle_between_capabilities():
    between: dict[str, set[str]] = defaultdict(set)
    for module, imports in import_graph().items():
        between[part_of(module)].update(part_of(t) for t in imports if part_of(t) != part_of(module))
    assert cycles(between) == []


def test_no_cycle_between_modules():
    """Within a capability too (content's store and markdown once imported each other). A package's
    blueprint module importing `bp` back from the package's __init__ is the Flask pattern, not a cycle."""
    graph = {module: {t for t in imports if not module.startswith(t + ".")} for module, imports in import_graph().items()}
    assert cycles(graph) == []


def test_the_check_sees_a_cycle_and_an_upward_import():
    """The checks above would pass on a graph they cannot read; this one proves they read one."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    imports = import_graph()["ldnsite.forum.posting"]
    assert "ldnsite.accounts.models" in imports and "ldnsite.forum.screening" in imports
    assert LAYER["accounts"] < LAYER["forum"] < LAYER["search"]
