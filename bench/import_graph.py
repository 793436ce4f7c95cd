"""The import graph of yloft and yloft_relay in figures: layers, arrows, loops.

    .venv/bin/python bench/import_graph.py                 # this checkout
    .venv/bin/python bench/import_graph.py --root /tmp/old  # another checkout (git worktree)

Built with grimp (it comes with import-linter, pinned in pyproject's dev extra), imports
under ``if TYPE_CHECKING:`` included: they are dependencies of the code too. Two views:

- *modules*: every module and package (``__init__``) is a node;
- *folders*: what a package's folder shows, each direct child of ``yloft`` or
  ``yloft_relay`` one node (``yloft.store``, ``yloft.crdt`` ... with everything in them).

For each package, and for both together, it prints:

- *nodes*: modules (or folder entries);
- *arrows*: direct imports from one node to another (A → B once, however often);
- *layers*: the number of nodes on the longest import chain, a loop counted as one
  node (the depth of the graph with each loop collapsed);
- *loops*: the strongly connected components of more than one node.

docs/architecture.md ("Import graph") holds the figures before and after issue 25.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PACKAGES = ("yloft", "yloft_relay")


def _graph(root: Path | None) -> dict[str, set[str]]:
    """module → the modules of PACKAGES it imports directly."""
    if root is not None:
        sys.path[:0] = [str(root / "pylib"), str(root / "relay")]
    import grimp

    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def _loops(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), each sorted; singletons too."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(edges) + 100))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def figures(edges: dict[str, set[str]]) -> dict[str, object]:
    """modules, arrows, layers and loops of one graph (see the module docstring)."""
    sccs = _loops(edges)
    comp_of = {m: i for i, comp in enumerate(sccs) for m in comp}
    depth: dict[int, int] = {}
    # Tarjan emits a component after every component it reaches: depths in one pass.
    for i, comp in enumerate(sccs):
        below = {comp_of[w] for m in comp for w in edges[m]} - {i}
        depth[i] = 1 + max((depth[j] for j in below), default=0)
    return {
        "modules": len(edges),
        "arrows": sum(len(ws - {m}) for m, ws in edges.items()),
        "layers": max(depth.values(), default=0),
        "loops": [comp for comp in sccs if len(comp) > 1],
    }


def _folders(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph with everything under a package's direct child squashed into it."""

    def top(module: str) -> str:
        return ".".join(module.split(".")[:2])

    out: dict[str, set[str]] = {}
    for m, ws in edges.items():
        out.setdefault(top(m), set()).update(top(w) for w in ws)
    return {m: ws - {m} for m, ws in out.items()}


def report(root: Path | None) -> dict[str, dict[str, dict[str, object]]]:
    """view -> package (or "both") -> figures; arrows between the packages count in "both"."""
    edges = _graph(root)
    out: dict[str, dict[str, dict[str, object]]] = {}
    for view, graph in (("modules", edges), ("folders", _folders(edges))):
        out[view] = {}
        for pkg in PACKAGES:
            mine = {m for m in graph if m == pkg or m.startswith(pkg + ".")}
            out[view][pkg] = figures({m: graph[m] & mine for m in mine})
        out[view]["both"] = figures(graph)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, help="a checkout of this repository")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    result = report(args.root)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print("| view | package | nodes | arrows | layers | loops |")
    print("|---|---|---|---|---|---|")
    for view, packages in result.items():
        for name, fig in packages.items():
            loops = fig["loops"]
            assert isinstance(loops, list)
            text = "; ".join(" ↔ ".join(comp) for comp in loops) or "none"
            cells = [view, name, fig["modules"], fig["arrows"], fig["layers"], text]
            print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
