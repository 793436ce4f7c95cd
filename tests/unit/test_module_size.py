"""No source module of pylib/, relay/ or web/ is over 500 lines (issue 14).

A module that long holds more than one concept; split it by concern instead. Only the
project's own tracked sources count: the generated runtime (pylib/yloft/runtime/) and
the bundled third-party code (web/vendor/) are not ours to split.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 500
SUFFIXES = {".py", ".js", ".mjs", ".ts"}


def _sources() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "pylib", "relay", "web"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return [ROOT / line for line in out.splitlines() if Path(line).suffix in SUFFIXES]


def test_there_are_sources_to_check() -> None:
    names = {p.name for p in _sources()}
    assert {"store.py", "engine-worker.js", "server.py"} <= names


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_at_most_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= LIMIT, f"{path.relative_to(ROOT)} has {lines} lines: split it by concern"
