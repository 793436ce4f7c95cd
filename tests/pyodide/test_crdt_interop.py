"""Interop both ways: pycrdt (CPython) and the Yjs engine (Pyodide) exchange updates.

Hypothesis generates edit sequences on CPython (tests/conformance/crdt_ops.py); the
same sequences are replayed in Pyodide. Each side applies the other's update and the
two documents must be equal; a sequence replayed alone must give the same document
on both engines; and the per-transaction updates each engine emits must rebuild it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import run_in_pyodide

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"
sys.path.insert(0, str(CONFORMANCE))

import crdt_ops  # noqa: E402

from yloft.crdt import Doc  # noqa: E402

KEYS = st.sampled_from(["a", "b", "c", "d"])
TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=6)
FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)
PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | FLOATS | TEXT
    | st.binary(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)  # fmt: skip
SHARED = st.recursive(
    PLAIN,
    lambda inner: (
        st.builds(lambda d: {"$map": d}, st.dictionaries(KEYS, inner, max_size=3))
        | st.builds(lambda v: {"$arr": v}, st.lists(inner, max_size=3))
        | st.builds(lambda s: {"$text": s}, TEXT)
    ),
    max_leaves=4,
)
FRACTION = st.floats(0, 1)
OP = st.one_of(
    st.tuples(st.just("mset"), KEYS, SHARED),
    st.tuples(st.just("mdel"), KEYS),
    st.tuples(st.just("tins"), FRACTION, TEXT),
    st.tuples(st.just("tdel"), FRACTION, st.integers(0, 4)),
    st.tuples(st.just("ains"), FRACTION, SHARED),
    st.tuples(st.just("adel"), FRACTION),
).map(list)
OPS = st.lists(
    st.one_of(OP, st.lists(OP, min_size=1, max_size=4).map(lambda ops: ["txn", ops])),
    max_size=12,
)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@run_in_pyodide
def yjs_side(conformance: str, ops: Any, client_id: int, updates: Any) -> Any:
    import sys

    if conformance not in sys.path:
        sys.path.insert(0, conformance)
    import crdt_ops

    from yloft.crdt import ENGINE, Doc

    assert ENGINE == "yjs"
    emitted: list[bytes] = []
    doc = Doc(client_id=client_id)
    for update in updates:
        doc.apply_update(update)
    doc.observe(lambda event: emitted.append(event.update))
    for op in ops:
        crdt_ops.apply_op(doc, op)
    return {"update": doc.get_update(), "state": crdt_ops.state(doc), "emitted": emitted}


@SETTINGS
@given(ops_p=OPS, ops_y=OPS)
def test_updates_interoperate_both_ways(pyodide, ops_p, ops_y) -> None:  # type: ignore[no-untyped-def]
    where = str(CONFORMANCE)
    # Each engine edits its own replica (different client ids: concurrent edits).
    pdoc = crdt_ops.replay(ops_p, client_id=1)
    yjs = yjs_side(pyodide=pyodide, conformance=where, ops=ops_y, client_id=2, updates=[])
    # Yjs -> pycrdt
    pdoc.apply_update(yjs["update"])
    # pycrdt -> Yjs (applied to a replica rebuilt from the Yjs update and the pycrdt one)
    merged_y = yjs_side(
        pyodide=pyodide,
        conformance=where,
        ops=[],
        client_id=3,
        updates=[yjs["update"], crdt_ops.replay(ops_p, client_id=1).get_update()],
    )
    assert merged_y["state"] == crdt_ops.state(pdoc)
    # The merged Yjs document's update means the same thing to pycrdt.
    check = Doc()
    check.apply_update(merged_y["update"])
    assert crdt_ops.state(check) == crdt_ops.state(pdoc)


@SETTINGS
@given(ops=OPS)
def test_same_edits_give_the_same_document(pyodide, ops) -> None:  # type: ignore[no-untyped-def]
    pdoc = crdt_ops.replay(ops, client_id=7)
    yjs = yjs_side(pyodide=pyodide, conformance=str(CONFORMANCE), ops=ops, client_id=7, updates=[])
    assert yjs["state"] == crdt_ops.state(pdoc)
    # Per-transaction updates from the Yjs engine rebuild the document in pycrdt.
    rebuilt = Doc()
    for update in yjs["emitted"]:
        rebuilt.apply_update(update)
    assert crdt_ops.state(rebuilt) == crdt_ops.state(pdoc)
