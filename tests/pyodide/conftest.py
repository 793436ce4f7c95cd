"""Fixtures of the tests/pyodide layer: one Pyodide-under-Node process per session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import PyodideNode


@pytest.fixture(scope="session")
def pyodide() -> Iterator[PyodideNode]:
    """The Node process running Pyodide; `@run_in_pyodide` tests use it implicitly."""
    node = PyodideNode()
    node.start()
    yield node
    node.stop()
