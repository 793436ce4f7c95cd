"""The CRDT conformance suite on CPython, where yloft.crdt is pycrdt."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))

import crdt_cases


def test_engine_is_pycrdt() -> None:
    import yloft.crdt

    assert yloft.crdt.ENGINE == "pycrdt"


@pytest.mark.parametrize("name", crdt_cases.CASES)
def test_conformance_case(name: str) -> None:
    getattr(crdt_cases, name)()
