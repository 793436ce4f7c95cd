"""The import graph keeps its declared layers and has no loop outside crdt._yjs (issue 25).

The contracts live in pyproject.toml (``[tool.importlinter]``, import-linter 2.16): the
layers of ``yloft``, of ``yloft.store`` and of ``yloft_relay``, the library never
importing the relay, and no import loop among the siblings of any package but
``yloft.crdt._yjs`` (pycrdt's API over Yjs, which keeps pycrdt's one module per concept
and their mutual imports). ``lint-imports`` checks them; a second check looks at the
whole graph with grimp, so that a loop through a package's ``__init__`` is caught too.
docs/architecture.md ("Import graph") shows the layers and the figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import import_graph  # noqa: E402  (bench/import_graph.py: the figures of the graph)

ALLOWED_LOOP = "yloft.crdt._yjs."


def _env() -> dict[str, str]:
    """This checkout's packages first (the tests may run from another worktree)."""
    paths = [str(ROOT / "pylib"), str(ROOT / "relay"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def test_the_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint), "--no-cache", "--no-logo", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_the_contracts_cover_both_packages_and_loops() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    kinds = {c["id"]: c["type"] for c in config["contracts"]}
    assert kinds == {
        "yloft-layers": "layers",
        "store-layers": "layers",
        "relay-layers": "layers",
        "library-without-relay": "forbidden",
        "no-loops": "acyclic_siblings",
    }


def test_no_loop_outside_crdt_yjs_in_the_whole_graph() -> None:
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import import_graph as g; "
        "print(json.dumps(g.report(None)['modules']['both']['loops']))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "bench")],
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loops = json.loads(run.stdout)
    bad = [loop for loop in loops if not all(m.startswith(ALLOWED_LOOP) for m in loop)]
    assert not bad, f"import loops: {bad}; move the shared piece down a layer"


def test_the_figures_find_a_loop_and_count_layers() -> None:
    edges = {"a": {"b"}, "b": {"a", "c"}, "c": set(), "d": {"a"}}
    figures = import_graph.figures(edges)
    assert figures["loops"] == [["a", "b"]]
    assert figures["layers"] == 3  # d -> (a, b) -> c
    assert figures["arrows"] == 4
