"""Untrusted update bytes on pycrdt (CPython): applied or refused, never half-applied.

The same check runs inside Pyodide on the Yjs engine (tests/pyodide/test_crdt_bad_input_pyodide.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))

import crdt_cases

GOOD = crdt_cases.sample_doc().get_update()


def mutations() -> st.SearchStrategy[bytes]:
    """Random bytes, truncations of a real update, and real updates with bytes changed."""
    truncated = st.integers(0, len(GOOD) - 1).map(lambda n: GOOD[:n])
    flipped = st.lists(
        st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=3
    ).map(lambda edits: _flip(GOOD, edits))
    return st.binary(max_size=64) | truncated | flipped


def _flip(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for index, value in edits:
        out[index] = value
    return bytes(out)


@settings(max_examples=300, deadline=None)
@given(data=mutations())
@example(data=_flip(GOOD, [(2, 0), (21, 2)]))  # pycrdt half-applies it (CI, stop 21)
def test_untrusted_updates_on_pycrdt(data: bytes) -> None:
    assert crdt_cases.check_apply_untrusted(data) in {"ok", "rejected", "half-applied"}


def test_pycrdt_half_applies_an_update_that_decodes_but_does_not_integrate() -> None:
    """The upstream behaviour the store guards against (yloft's Yjs engine refuses it)."""
    assert crdt_cases.check_apply_untrusted(_flip(GOOD, [(2, 0), (21, 2)])) == "half-applied"


def test_truncated_updates_are_rejected_on_pycrdt() -> None:
    for n in range(1, len(GOOD) - 1):
        assert crdt_cases.check_apply_untrusted(GOOD[:n]) == "rejected", n
