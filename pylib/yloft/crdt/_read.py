"""Reading root types of a Doc as text, several in one transaction.

This is the hot path of column extraction: every write reads the document's declared
roots back. ``read_roots(doc, [("meta", Map), ("body", Text)])`` returns the JSON of
each Map/Array root and the string of each Text root, exactly what ``str()`` of the
shared type returns in either engine. On pycrdt it talks to the Rust document
directly: ``Doc.get`` builds a prelim type and opens a write transaction per call,
about three times the cost of the read itself.

Example:
    >>> from yloft.crdt import Doc, Map, Text
    >>> doc = Doc()
    >>> doc.get("meta", type=Map)["n"] = 1.0
    >>> read_roots(doc, (("meta", Map), ("body", Text)))
    ['{"n":1}', '']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def read_roots_generic(doc: Any, wanted: Sequence[tuple[str, type]]) -> list[str]:
    """``[str(doc.get(name, type=kind)) for name, kind in wanted]`` in one transaction."""
    with doc.transaction():
        return [str(doc.get(name, type=kind)) for name, kind in wanted]


def _pycrdt_reader() -> Any:
    from pycrdt import Array, Map, Text

    def read_roots(doc: Any, wanted: Sequence[tuple[str, type]]) -> list[str]:
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

    return read_roots


def make_reader(engine: str) -> Any:
    """The fastest ``read_roots`` for ``engine`` ("pycrdt" or "yjs")."""
    return _pycrdt_reader() if engine == "pycrdt" else read_roots_generic
