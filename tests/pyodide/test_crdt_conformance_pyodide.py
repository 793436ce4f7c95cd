"""The CRDT conformance suite inside Pyodide, where yloft.crdt is the Yjs engine.

The case functions are the same ones tests/unit/test_crdt_conformance.py runs on
CPython against pycrdt (tests/conformance/crdt_cases.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness import run_in_pyodide

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"
sys.path.insert(0, str(CONFORMANCE))

import crdt_cases  # noqa: E402


@run_in_pyodide
def engine_in_pyodide() -> str:
    import yloft.crdt

    return yloft.crdt.ENGINE


def test_engine_is_yjs(pyodide) -> None:  # type: ignore[no-untyped-def]
    assert engine_in_pyodide(pyodide=pyodide) == "yjs"


@run_in_pyodide
def run_case(conformance: str, name: str) -> None:
    import importlib
    import sys

    if conformance not in sys.path:
        sys.path.insert(0, conformance)
    cases = importlib.import_module("crdt_cases")
    getattr(cases, name)()


@pytest.mark.parametrize("name", crdt_cases.CASES)
def test_conformance_case(pyodide, name: str) -> None:  # type: ignore[no-untyped-def]
    run_case(pyodide=pyodide, conformance=str(CONFORMANCE), name=name)
