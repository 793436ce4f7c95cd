"""Document → column values: read each Field's path and convert it to SQL.

Extraction never raises on document content: a missing value is NULL, a value of the
wrong type is NULL plus a logged warning (logger ``yloft.extract``), so a peer's odd
edit can never block the edit or sync that carries it.

Example:
    >>> from yloft.crdt import Doc, Map
    >>> from yloft.schema import CollectionSchema, Field
    >>> doc = Doc()
    >>> doc.get("meta", type=Map)["title"] = "hi"
    >>> s = CollectionSchema.build("n", {"title": Field("meta.title", str)})
    >>> extract(doc, s).values
    {'title': 'hi'}
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

from .crdt import Array, Doc, Map, Text
from .schema import RESERVED_ROOT, CollectionSchema, Field

log = logging.getLogger("yloft.extract")

_MISSING = object()


@dataclass(frozen=True)
class Extracted:
    """Column values of one document plus its yloft bookkeeping."""

    values: dict[str, Any]
    created_at: float | None
    updated_at: float | None
    deleted: bool


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


Roots = dict[tuple[str, type], Any]


def root(doc: Doc[Any], name: str, kind: type, roots: Roots | None = None) -> Any:
    """``doc.get(name, type=kind)``, remembered in ``roots`` when given.

    A root shared type stays valid for the life of its Doc, and getting it again
    costs a write transaction in pycrdt, so callers that read one Doc many times
    keep a ``roots`` dict beside it.

    Example:
        >>> doc, roots = Doc(), {}
        >>> root(doc, "m", Map, roots) is root(doc, "m", Map, roots)
        True
    """
    if roots is None:
        return doc.get(name, type=kind)
    found = roots.get((name, kind))
    if found is None:
        found = roots[(name, kind)] = doc.get(name, type=kind)
    return found


def is_deleted(doc: Doc[Any], roots: Roots | None = None) -> bool:
    """True when the document carries yloft's deletion tombstone."""
    meta = root(doc, RESERVED_ROOT, Map, roots)
    return "deleted" in meta and meta["deleted"] is True


def read_meta(doc: Doc[Any], roots: Roots | None = None) -> tuple[float | None, float | None, bool]:
    """Read (created_at, updated_at, deleted) from the reserved root map."""
    meta = root(doc, RESERVED_ROOT, Map, roots).to_py() or {}
    created = meta.get("created_at")
    updated = meta.get("updated_at")
    deleted = meta.get("deleted") is True
    return _number(created), _number(updated), deleted


def _root(doc: Doc[Any], field: Field, maps: dict[str, Any], roots: Roots | None) -> object:
    """The value at ``field``'s path, as plain Python (shared types converted)."""
    segments = field.segments
    if len(segments) == 1:
        if field.type is str:
            return str(root(doc, segments[0], Text, roots))
        if field.type is list:
            return root(doc, segments[0], Array, roots).to_py()
        return root(doc, segments[0], Map, roots).to_py()
    node = maps.get(segments[0], _MISSING)
    if node is _MISSING:
        # One to_py() per root map: far cheaper than walking shared types key by key.
        node = maps[segments[0]] = root(doc, segments[0], Map, roots).to_py() or {}
    for key in segments[1:]:
        if isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return _MISSING
    return node


def _plain(value: object) -> object:
    if isinstance(value, (Map, Array)):
        return value.to_py()
    if isinstance(value, Text):
        return str(value)
    return value


def convert(value: object, field: Field) -> tuple[Any, bool]:
    """Convert a document value to the field's SQL value.

    Returns ``(sql_value, ok)``; ``ok`` is False when the value had the wrong type
    (then ``sql_value`` is None).

    Example:
        >>> convert(3.0, Field("m.n", int))
        (3, True)
        >>> convert("x", Field("m.n", int))
        (None, False)
    """
    if value is _MISSING or value is None:
        return None, True
    kind = field.type
    if kind is str:
        if isinstance(value, Text):
            return str(value), True
        return (value, True) if isinstance(value, str) else (None, False)
    if kind is bool:
        return (int(value), True) if isinstance(value, bool) else (None, False)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, False
        if isinstance(value, float) and not value.is_integer():
            return None, False
        return int(value), True
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, False
        return (float(value), True) if math.isfinite(value) else (None, False)
    want: tuple[type, ...] = (list, tuple, Array) if kind is list else (dict, Map)
    if not isinstance(value, want):
        return None, False
    try:
        text = json.dumps(
            _plain(value),
            sort_keys=True,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        )
        return text, True
    except (TypeError, ValueError):
        return None, False


def extract(doc: Doc[Any], schema: CollectionSchema, roots: Roots | None = None) -> Extracted:
    """Read every declared field of ``doc`` as SQL values (``roots``: see :func:`root`).

    Example:
        >>> from yloft.crdt import Doc, Text
        >>> from yloft.schema import CollectionSchema, Field
        >>> doc = Doc()
        >>> doc.get("body", type=Text).insert(0, "hello")
        >>> extract(doc, CollectionSchema.build("n", {"b": Field("body", str)})).values
        {'b': 'hello'}
    """
    # One transaction around all reads: every shared-type access would otherwise open
    # and close its own (about a third of the extraction time with pycrdt).
    maps: dict[str, Any] = {}
    with doc.transaction():
        raw = {col: _root(doc, field, maps, roots) for col, field in schema.fields}
        created, updated, deleted = read_meta(doc, roots)
    values: dict[str, Any] = {}
    for col, field in schema.fields:
        value, ok = convert(raw[col], field)
        if not ok:
            log.warning(
                "collection %r: value at %r is not a %s; column %r set to NULL",
                schema.name,
                field.path,
                field.type.__name__,
                col,
            )
        values[col] = value
    return Extracted(values, created, updated, deleted)


def to_python(value: Any, field: Field) -> Any:
    """Convert an SQL column value back to the field's Python type (for ``row``).

    Example:
        >>> to_python(1, Field("m.done", bool)), to_python('["a"]', Field("m.t", list))
        (True, ['a'])
    """
    if value is None:
        return None
    if field.type is bool:
        return bool(value)
    if field.type in (list, dict):
        return json.loads(value)
    return value
