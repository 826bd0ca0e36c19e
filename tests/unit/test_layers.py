"""The product's packages form layers: no package cycles, a pure core, an application layer on top.

Every import of our own code (at module level or inside a function) is an edge from the importing
module's package to the imported module's package. The graph must have no cycle, and the edges
must follow the layer table below, so a newcomer can read the packages bottom-up.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("schema", "phoneunify", "workers", "ingest", "api", "cli")

# Lower layers never import higher ones. Equal ranks may not import each other either (other
# than a package importing itself): ingest and the workers are siblings that share only the base.
RANK = {
    "schema": 0,  # contracts: topics, envelopes, events, commands, tables
    "phoneunify": 1,  # the base every process shares: settings, logs, db, retry, privacy
    "workers.domain": 2,  # the pure core
    "workers.adapters": 3,
    "workers.services": 4,
    "workers.timeline": 4,
    "workers.profiles": 4,  # the profile fetcher: its use case and its process loop
    "ingest": 4,
    "workers.streams": 5,
    "workers.bootstrap": 6,  # the composition root: builds every process's objects
    "api": 6,
    "workers": 7,  # the workers' entry points (python -m workers, extract CLI)
    "workers.timeline.__main__": 7,  # the writer's entry point (python -m workers.timeline)
    "workers.profiles.__main__": 7,  # the profile fetcher's entry point (phoneunify profiles)
    "cli": 8,  # the `phoneunify` command, demo, terminal, simulator: nothing imports it
}

# Edges the ranks would allow but the design does not: services work through the ports
# (workers/domain/ports.py) and the agents through the services; only the composition root
# (workers/bootstrap.py) knows which stores stand behind the ports.
FORBIDDEN = (
    ("workers.services", "workers.adapters"),
    ("workers.streams", "workers.adapters"),
    ("workers.timeline", "workers.adapters"),
    ("workers.profiles", "workers.adapters"),
)

# The pure core does no I/O: none of these may be imported from workers/domain.
IO_LIBRARIES = ("sqlalchemy", "psycopg2", "kafka", "aiokafka", "faust", "mode", "fastapi", "httpx", "urllib")


def _package_of(module: str) -> str:
    """The layer a dotted module name belongs to: the longest RANK key that prefixes it."""
    best = ""
    for name in RANK:
        if (module == name or module.startswith(name + ".")) and len(name) > len(best):
            best = name
    return best


def _modules() -> Iterator[tuple[str, Path]]:
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _imports(module: str, path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            elif node.module:
                yield node.module


def _edges() -> dict[tuple[str, str], list[str]]:
    """(from package, to package) -> the modules that import across."""
    edges: dict[tuple[str, str], list[str]] = {}
    for module, path in _modules():
        source = _package_of(module)
        for imported in _imports(module, path):
            if imported.split(".")[0] not in PRODUCT:
                continue
            target = _package_of(imported)
            if target and target != source:
                edges.setdefault((source, target), []).append(f"{module} -> {imported}")
    return edges


def _cycle(edges: dict[tuple[str, str], list[str]]) -> list[str] | None:
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_every_product_module_belongs_to_a_layer() -> None:
    unplaced = [module for module, _ in _modules() if not _package_of(module)]
    assert unplaced == []


def test_no_package_cycles() -> None:
    cycle = _cycle(_edges())
    assert cycle is None, "package cycle: " + " -> ".join(cycle or [])


def test_imports_go_down_the_layers() -> None:
    edges = _edges()
    upward = [
        why
        for (source, target), whys in sorted(edges.items())
        if RANK[target] >= RANK[source]
        for why in whys
    ]
    assert upward == []


def test_services_and_agents_see_only_the_ports_of_the_stores() -> None:
    edges = _edges()
    assert [why for pair in FORBIDDEN for why in edges.get(pair, [])] == []


def test_nothing_imports_the_application_layer() -> None:
    assert not [why for (_, target), whys in _edges().items() if target == "cli" for why in whys]


def test_the_core_does_no_io() -> None:
    offending = [
        f"{module} imports {imported}"
        for module, path in _modules()
        if _package_of(module) == "workers.domain"
        for imported in _imports(module, path)
        if imported.split(".")[0] in IO_LIBRARIES
        or (imported.split(".")[0] in PRODUCT and _package_of(imported) not in ("workers.domain", "schema"))
    ]
    assert offending == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({("a", "b"): [], ("b", "a"): []}, ["a", "b", "a"]),
        ({("a", "b"): [], ("b", "c"): []}, None),
        ({("a", "b"): [], ("b", "c"): [], ("c", "a"): []}, ["a", "b", "c", "a"]),
    ],
)
def test_the_cycle_check_finds_cycles(
    edges: dict[tuple[str, str], list[str]], expected: list[str] | None
) -> None:
    assert _cycle(edges) == expected
