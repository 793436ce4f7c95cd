"""Untrusted update bytes on the Yjs engine (Pyodide): applied or refused with
pycrdt's ValueError, never half-applied. Same inputs and check as
tests/unit/test_crdt_bad_input.py runs on pycrdt."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings

from harness import run_in_pyodide

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"
sys.path.insert(0, str(CONFORMANCE))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

import crdt_cases  # noqa: E402
from test_crdt_bad_input import GOOD, _flip, mutations  # noqa: E402


@run_in_pyodide
def apply_untrusted(conformance: str, batch: Any) -> Any:
    import sys

    if conformance not in sys.path:
        sys.path.insert(0, conformance)
    import crdt_cases

    from yloft.crdt import ENGINE

    assert ENGINE == "yjs"
    return [crdt_cases.check_apply_untrusted(data) for data in batch]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutations())
# Decodes, but Yjs throws half-way through integrating it (found by this test).
@example(data=_flip(GOOD, [(35, 15)]))
@example(data=_flip(GOOD, [(2, 0), (21, 2)]))  # pycrdt half-applies it; Yjs takes it
def test_untrusted_updates_on_yjs(pyodide, data: bytes) -> None:  # type: ignore[no-untyped-def]
    [outcome] = apply_untrusted(pyodide=pyodide, conformance=str(CONFORMANCE), batch=[data])
    assert outcome in {"ok", "rejected"}
    # The engines need not agree on odd but decodable bytes (pycrdt accepts some
    # inconsistent updates that Yjs refuses); both must refuse what they cannot apply.
    # pycrdt half-applies some bytes that Yjs takes whole, like the second @example.
    if crdt_cases.check_apply_untrusted(data) == "rejected":
        assert outcome == "rejected"


def test_truncated_updates_are_rejected_on_yjs(pyodide) -> None:  # type: ignore[no-untyped-def]
    batch = [GOOD[:n] for n in range(1, len(GOOD) - 1)]
    outcomes = apply_untrusted(pyodide=pyodide, conformance=str(CONFORMANCE), batch=batch)
    assert outcomes == ["rejected"] * len(batch)
