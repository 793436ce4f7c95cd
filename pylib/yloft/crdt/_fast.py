"""The store's hot paths into a Doc: reading roots as text, writing its own map.

Every write of the store reads the document's declared roots back (column
extraction) and writes yloft's bookkeeping map (``created_at``/``updated_at``).
Through pycrdt's public API each ``Doc.get`` builds a prelim type and opens a
transaction, and each ``Map[key] = value`` opens two; here, on pycrdt, the same
operations go straight to the Rust document inside the current transaction (about a
third of the cost). On the Yjs engine they are the public API. Both produce exactly
what the public API produces: ``read_roots`` returns ``str()`` of each root.

Example:
    >>> from yloft.crdt import Doc, Map, Text
    >>> doc = Doc()
    >>> write_map(doc, "meta", {"n": 1.0})
    >>> read_roots(doc, (("meta", Map), ("body", Text)))
    ['{"n":1}', '']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import ENGINE, Array, Map, Text


def _read_roots_public(doc: Any, wanted: Sequence[tuple[str, type]]) -> list[str]:
    with doc.transaction():
        return [str(doc.get(name, type=kind)) for name, kind in wanted]


def _write_map_public(doc: Any, name: str, items: Mapping[str, object]) -> None:
    with doc.transaction():
        target = doc.get(name, type=Map)
        for key, value in items.items():
            target[key] = value


def _read_roots_pycrdt(doc: Any, wanted: Sequence[tuple[str, type]]) -> list[str]:
    inner = doc._doc
    out: list[str] = []
    with doc.transaction() as txn:
        raw = txn._txn
        for name, kind in wanted:
            if kind is Text:
                out.append(inner.get_or_insert_text(raw, name).get_string(raw))
            elif kind is Map:
                out.append(inner.get_or_insert_map(raw, name).to_json(raw))
            elif kind is Array:
                out.append(inner.get_or_insert_array(raw, name).to_json(raw))
            else:
                raise TypeError(f"cannot read a root as {kind.__name__}")
    return out


def _write_map_pycrdt(doc: Any, name: str, items: Mapping[str, object]) -> None:
    """Primitive values only (numbers, bools, str): what the store writes."""
    with doc.transaction() as txn:
        raw = txn._txn
        target = doc._doc.get_or_insert_map(raw, name)
        for key, value in items.items():
            target.insert(raw, key, value)


_PYCRDT = ENGINE == "pycrdt"

#: ``read_roots(doc, [(name, Map|Array|Text), ...])``: ``str()`` of each root (JSON of
#: a Map or Array, the string of a Text), read in one transaction.
read_roots = _read_roots_pycrdt if _PYCRDT else _read_roots_public
#: ``write_map(doc, name, {key: value})``: set primitive values in root map ``name``.
write_map = _write_map_pycrdt if _PYCRDT else _write_map_public
