"""No test or benchmark hands Playwright's ``wait_for_function`` an async predicate.

``wait_for_function`` polls until the predicate's value is truthy, and it does not await
a promise: an async predicate (``async () => ...``, ``....then(...)``, ``new Promise``)
counts as true at the first poll, whatever it resolves to, so the wait waits for nothing.
A CI run failed on exactly that (a wait for two orphaned tab changes that returned before
the closed tab's lock was gone). Async conditions go through ``apppage.wait_until``.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASYNC_MARKS = ("async ", "await ", ".then(", "Promise")


def _files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "tests", "bench", "examples"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return [ROOT / line for line in out.splitlines() if line.endswith(".py")]


def async_waits(source: str) -> list[int]:
    """Lines of ``*.wait_for_function(...)`` calls whose predicate text looks async."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "wait_for_function" or not node.args:
            continue
        text = "".join(
            n.value for n in ast.walk(node.args[0])
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        )  # fmt: skip
        if any(mark in text for mark in ASYNC_MARKS):
            lines.append(node.lineno)
    return lines


def test_the_check_finds_an_async_predicate() -> None:
    bad = 'page.wait_for_function("() => db.query(q, []).then((r) => r.length === 1)")\n'
    bad += 'page.wait_for_function(\n    "async () => "\n    "(await f()) === 2")\n'
    good = 'page.wait_for_function("() => window.db.status.unsaved === 0")\n'
    assert async_waits(bad + good) == [1, 2]


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_wait_for_function_gets_an_async_predicate(path: Path) -> None:
    lines = async_waits(path.read_text(encoding="utf-8"))
    assert lines == [], (
        f"{path.relative_to(ROOT)} lines {lines}: wait_for_function does not await a "
        "promise; use apppage.wait_until (tests) or poll page.evaluate"
    )
