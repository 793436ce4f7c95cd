"""A tiny edit language replayed the same way on both CRDT engines.

An edit sequence is a JSON list of ops on a document with the roots ``m`` (Map),
``t`` (Text) and ``a`` (Array). Positions are fractions in [0, 1] of the current
length, so any sequence is valid on any document. The interop test generates
sequences with Hypothesis on CPython and replays them in Pyodide.
"""

from __future__ import annotations

from typing import Any

from yloft.crdt import Array, Doc, Map, Text


def _value(spec: Any) -> Any:
    """A plain value, or a prelim shared type for ``{"$map"|"$arr"|"$text": ...}``."""
    if isinstance(spec, dict) and len(spec) == 1:
        (tag, inner), *_ = spec.items()
        if tag == "$map":
            return Map({k: _value(v) for k, v in inner.items()})
        if tag == "$arr":
            return Array([_value(v) for v in inner])
        if tag == "$text":
            return Text(inner)
    return spec


def _pos(fraction: float, length: int) -> int:
    return min(length, int(fraction * (length + 1)))


def apply_op(doc: Doc, op: list[Any]) -> None:
    """Apply one op (see the module docstring)."""
    m, t, a = doc.get("m", type=Map), doc.get("t", type=Text), doc.get("a", type=Array)
    kind = op[0]
    if kind == "txn":
        with doc.transaction():
            for inner in op[1]:
                apply_op(doc, inner)
    elif kind == "mset":
        m[op[1]] = _value(op[2])
    elif kind == "mdel":
        if op[1] in m:
            del m[op[1]]
    elif kind == "tins":
        # Text indices are UTF-8 bytes; land on a character boundary (pycrdt writes
        # inconsistent updates when asked to insert inside a multi-byte character).
        s = str(t)
        t.insert(len(s[: _pos(op[1], len(s))].encode()), op[2])
    elif kind == "tdel":
        # Delete whole characters of str(t), given as UTF-8 byte offsets.
        s = str(t)
        start = _pos(op[1], len(s))
        stop = min(len(s), start + op[2])
        byte_start = len(s[:start].encode())
        del t[byte_start : byte_start + len(s[start:stop].encode())]
    elif kind == "ains":
        a.insert(_pos(op[1], len(a)), _value(op[2]))
    elif kind == "adel":
        if len(a):
            del a[min(len(a) - 1, _pos(op[1], len(a)))]
    else:
        raise ValueError(f"unknown op {kind!r}")


def replay(ops: list[list[Any]], client_id: int, updates: list[bytes] = ()) -> Doc:  # type: ignore[assignment]
    """A new document with ``client_id``: ``updates`` applied, then ``ops``."""
    doc = Doc(client_id=client_id)
    for update in updates:
        doc.apply_update(update)
    for op in ops:
        apply_op(doc, op)
    return doc


def state(doc: Doc) -> dict[str, Any]:
    """The whole document as plain Python values."""
    return {
        "m": doc.get("m", type=Map).to_py(),
        "t": str(doc.get("t", type=Text)),
        "a": doc.get("a", type=Array).to_py(),
    }
