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
from typing import Any

from .crdt import Array, Doc, Map, Text
from .crdt._fast import MISSING, read_paths
from .schema import RESERVED_ROOT, CollectionSchema, Field

log = logging.getLogger("yloft.extract")

_MISSING = MISSING
#: Field types whose values are stored as they are (bool as 0/1); float is not here
#: because it must also be finite.
_SCALARS = frozenset({str, int, bool})


class Extracted:
    """Column values of one document plus its yloft bookkeeping."""

    __slots__ = ("created_at", "deleted", "updated_at", "values")

    def __init__(
        self,
        values: dict[str, Any],
        created_at: float | None,
        updated_at: float | None,
        deleted: bool,
    ) -> None:
        self.values = values
        self.created_at = created_at
        self.updated_at = updated_at
        self.deleted = deleted

    def __repr__(self) -> str:
        return (
            f"Extracted({self.values!r}, created_at={self.created_at!r}, "
            f"updated_at={self.updated_at!r}, deleted={self.deleted!r})"
        )


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


def as_json(node: Any) -> Any:
    """A Map's or Array's content as plain JSON values, read in one call.

    ``str()`` of a shared type is its JSON in both engines (yrs's ``to_json``; the Yjs
    engine mimics it): integral numbers come back as ints, bytes as lists of ints,
    nested shared types as their JSON. That is several times cheaper than ``to_py()``
    in pycrdt, which opens a transaction per key.

    Example:
        >>> doc = Doc()
        >>> doc.get("m", type=Map)["n"] = 2.0
        >>> as_json(doc.get("m", type=Map))
        {'n': 2}
    """
    return json.loads(str(node))


def _meta_values(meta: object) -> tuple[float | None, float | None, bool]:
    if not isinstance(meta, dict):
        return None, None, False
    deleted = meta.get("deleted") is True
    return _number(meta.get("created_at")), _number(meta.get("updated_at")), deleted


def read_meta(doc: Doc[Any], roots: Roots | None = None) -> tuple[float | None, float | None, bool]:
    """Read (created_at, updated_at, deleted) from the reserved root map."""
    return _meta_values(as_json(root(doc, RESERVED_ROOT, Map, roots)))


class _Plan:
    """Which roots a schema's fields read, and the path of each field below its root.

    Every distinct (root name, type) is read once per extraction, the reserved root
    first; ``paths`` holds one ``(root index, map keys)`` per field, then the three
    bookkeeping keys of the reserved root.
    """

    __slots__ = ("fields", "paths", "roots")

    def __init__(self, schema: CollectionSchema) -> None:
        roots: list[tuple[str, type]] = [(RESERVED_ROOT, Map)]
        paths: list[tuple[int, tuple[str, ...]]] = []
        fields: list[tuple[str, Field, type]] = []
        for col, field in schema.fields:
            first, *rest = field.segments
            if rest:
                kind: type = Map
            else:
                kind = Text if field.type is str else Array if field.type is list else Map
            if (first, kind) not in roots:
                roots.append((first, kind))
            paths.append((roots.index((first, kind)), tuple(rest)))
            fields.append((col, field, field.type))
        paths += [(0, ("created_at",)), (0, ("updated_at",)), (0, ("deleted",))]
        self.roots = tuple(roots)
        self.paths = tuple(paths)
        self.fields = tuple(fields)


_PLANS: dict[CollectionSchema, _Plan] = {}


def _plan(schema: CollectionSchema) -> _Plan:
    plan = _PLANS.get(schema)
    if plan is None:
        if len(_PLANS) >= 256:
            _PLANS.clear()
        plan = _PLANS[schema] = _Plan(schema)
    return plan


def _plain(value: object) -> object:
    if isinstance(value, (Map, Array)):
        return value.to_py()
    if isinstance(value, Text):
        return str(value)
    return value


# Built once: json.dumps() with non-default options builds a new encoder per call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
)


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
    plain = type(value) is (list if kind is list else dict)  # what extraction reads
    if not plain:
        want: tuple[type, ...] = (list, tuple, Array) if kind is list else (dict, Map)
        if not isinstance(value, want):
            return None, False
        value = _plain(value)
    if kind is list:
        for item in value:  # type: ignore[attr-defined]
            if type(item) is not str:
                value = json_value(value)
                break
    else:
        value = json_value(value)
    try:
        return _ENCODER.encode(value), True
    except (TypeError, ValueError):
        return None, False


def json_value(value: Any) -> Any:
    """``value`` as Yjs's JSON has it: integral numbers as ints, byte strings as lists
    of ints, non-finite numbers as null (both engines then store the same text).

    Example:
        >>> json_value([1.0, 2.5, b"ab", {"x": float("nan")}])
        [1, 2.5, [97, 98], {'x': None}]
    """
    kind = type(value)
    if kind is float:
        if value - value != 0:
            return None
        return int(value) if value.is_integer() else value
    if kind is list or kind is tuple:
        return [json_value(v) for v in value]
    if kind is dict:
        return {k: json_value(v) for k, v in value.items()}
    if kind is bytes or kind is bytearray:
        return list(value)
    return value


def extract(doc: Doc[Any], schema: CollectionSchema, roots: Roots | None = None) -> Extracted:
    """Read every declared field of ``doc`` as SQL values.

    All roots the schema needs are read in one transaction, each once (``roots`` is
    accepted for compatibility and not needed).

    Example:
        >>> from yloft.crdt import Doc, Text
        >>> from yloft.schema import CollectionSchema, Field
        >>> doc = Doc()
        >>> doc.get("body", type=Text).insert(0, "hello")
        >>> extract(doc, CollectionSchema.build("n", {"b": Field("body", str)})).values
        {'b': 'hello'}
    """
    values, created, updated, deleted = field_values(doc, schema)
    names = [col for col, _, _ in _PLANS[schema].fields]
    return Extracted(dict(zip(names, values, strict=True)), created, updated, deleted)


def field_values(
    doc: Doc[Any], schema: CollectionSchema
) -> tuple[list[Any], float | None, float | None, bool]:
    """The SQL values of the declared fields (in declaration order), then
    ``created_at``, ``updated_at`` and the tombstone flag: what :func:`extract`
    returns, without building a dict (the store's write path).

    Example:
        >>> from yloft.crdt import Doc, Map
        >>> from yloft.schema import CollectionSchema, Field
        >>> doc = Doc()
        >>> doc.get("m", type=Map)["t"] = "x"
        >>> field_values(doc, CollectionSchema.build("n", {"t": Field("m.t", str)}))
        (['x'], None, None, False)
    """
    plan = _PLANS.get(schema) or _plan(schema)
    found: list[Any] = read_paths(doc, plan.roots, plan.paths)
    values: list[Any] = []
    for (col, field, kind), value in zip(plan.fields, found, strict=False):
        if type(value) is kind and kind in _SCALARS:  # the common cases, cheaply
            values.append(value if kind is not bool else 1 if value else 0)
            continue
        if type(value) is float and kind is float and math.isfinite(value):
            values.append(value)
            continue
        sql_value, ok = convert(value, field)
        if not ok:
            log.warning(
                "collection %r: value at %r is not a %s; column %r set to NULL",
                schema.name,
                field.path,
                kind.__name__,
                col,
            )
        values.append(sql_value)
    created, updated, deleted = found[-3:]
    return values, _number(created), _number(updated), deleted is True


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
