"""Collections and their extracted fields: validation, DDL and migration plans.

A collection is a named set of documents. Each declared :class:`Field` maps a path
inside a document to a SQL column of the collection's table. This module only turns
declarations into SQL text and plans; it runs no SQL itself.

Example:
    >>> schema = CollectionSchema.build("notes", {"title": Field("meta.title", str)})
    >>> schema.columns()
    ['id', 'title', 'created_at', 'updated_at']
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .errors import FieldPathError, FieldTypeError, SchemaError

#: Root shared type that yloft keeps its own bookkeeping in (timestamps, tombstone).
RESERVED_ROOT = "_yloft"

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_SEGMENT = re.compile(r"[^.\s]+\Z")
_TYPES: dict[type, str] = {
    str: "TEXT",
    int: "INTEGER",
    float: "REAL",
    bool: "INTEGER",
    list: "TEXT",
    dict: "TEXT",
}
_TYPE_NAMES = {t: t.__name__ for t in _TYPES}
_BY_NAME = {name: t for t, name in _TYPE_NAMES.items()}
META_COLUMNS = ("id", "created_at", "updated_at")
_RESERVED_FIELDS = {*META_COLUMNS, "rowid", "oid", "_rowid_"}


def quote(name: str) -> str:
    """Quote an SQL identifier.

    Example:
        >>> quote("notes")
        '"notes"'
    """
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Field:
    """One extracted column: a path in the document, a Python type, index/FTS flags.

    The first path segment names a root shared type; further segments walk map keys.
    With one segment the root is a ``Text`` (``str``), ``Array`` (``list``) or ``Map``
    (``dict``); with two or more segments the root is a ``Map``.

    Example:
        >>> Field("meta.title", str, index=True).segments
        ('meta', 'title')
    """

    path: str
    type: type
    index: bool = False
    fts: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path:
            raise FieldPathError(
                f"Field path {self.path!r} is not valid: give a str like 'meta.title' "
                "(root name, then map keys, separated by dots)"
            )
        segments = self.path.split(".")
        if not all(_SEGMENT.match(s) for s in segments):
            raise FieldPathError(
                f"Field path {self.path!r} is not valid: segments must be non-empty and "
                "contain no whitespace, e.g. 'meta.title'"
            )
        if segments[0] == RESERVED_ROOT:
            raise FieldPathError(
                f"Field path {self.path!r} uses the reserved root {RESERVED_ROOT!r}; "
                "pick another root name"
            )
        if self.type not in _TYPES or not isinstance(self.type, type):
            raise FieldTypeError(
                f"Field type {self.type!r} for path {self.path!r} is not supported: use "
                "one of str, int, float, bool, list, dict"
            )
        if len(segments) == 1 and self.type not in (str, list, dict):
            raise FieldPathError(
                f"Field path {self.path!r} names a root, which can only be read as str "
                f"(Text), list (Array) or dict (Map), not {self.type.__name__}; put "
                "scalars in a map, e.g. 'meta.count'"
            )
        if not isinstance(self.index, bool) or not isinstance(self.fts, bool):
            raise SchemaError(f"Field {self.path!r}: index and fts must be True or False")
        if self.fts and self.type is not str:
            raise FieldTypeError(
                f"Field {self.path!r} has fts=True but type {self.type.__name__}; "
                "full-text search needs a str field"
            )

    @cached_property
    def segments(self) -> tuple[str, ...]:
        """The path split at dots."""
        return tuple(self.path.split("."))

    @property
    def sql_type(self) -> str:
        """The SQL column type."""
        return _TYPES[self.type]

    def to_json(self) -> dict[str, Any]:
        """A JSON-able description, used to stamp the declaration in the database."""
        return {
            "path": self.path,
            "type": _TYPE_NAMES[self.type],
            "index": self.index,
            "fts": self.fts,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Field:
        """Inverse of :meth:`to_json`."""
        return cls(data["path"], _BY_NAME[data["type"]], data["index"], data["fts"])


def check_collection_name(name: object) -> str:
    """Validate a collection name and return it.

    Example:
        >>> check_collection_name("notes")
        'notes'
    """
    if not isinstance(name, str) or not _IDENT.match(name):
        raise SchemaError(
            f"collection name {name!r} is not valid: use letters, digits and '_', "
            "starting with a letter"
        )
    lowered = name.lower()
    if lowered.startswith("sqlite") or "_fts" in lowered:
        raise SchemaError(
            f"collection name {name!r} is reserved (names may not start with 'sqlite' or "
            "contain '_fts'); pick another name"
        )
    return name


@dataclass(frozen=True)
class CollectionSchema:
    """A validated collection declaration.

    Example:
        >>> s = CollectionSchema.build("notes", {"body": Field("body", str, fts=True)})
        >>> s.fts_table, s.fts_fields
        ('notes_fts', ('body',))
    """

    name: str
    fields: tuple[tuple[str, Field], ...]

    def __hash__(self) -> int:
        # Kept: the store looks schemas up on every write, and hashing the nested
        # field tuples each time cost several microseconds per write.
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.name, self.fields))
            object.__setattr__(self, "_hash", cached)
        return cached

    @classmethod
    def build(cls, name: object, fields: object) -> CollectionSchema:
        """Validate ``name`` and ``fields`` (a mapping of column name to Field)."""
        name = check_collection_name(name)
        if not isinstance(fields, dict):
            raise SchemaError(
                f"fields of collection {name!r} must be a dict of column name -> Field; "
                "e.g. {'title': Field('meta.title', str)}"
            )
        items: list[tuple[str, Field]] = []
        seen: set[str] = set()
        for col, field in fields.items():
            if not isinstance(col, str) or not _IDENT.match(col):
                raise SchemaError(
                    f"column name {col!r} in collection {name!r} is not valid: use "
                    "letters, digits and '_', starting with a letter"
                )
            if col.lower() in _RESERVED_FIELDS or col.lower() in seen:
                raise SchemaError(
                    f"column name {col!r} in collection {name!r} is reserved or repeated "
                    f"(reserved: {', '.join(sorted(_RESERVED_FIELDS))}); rename it"
                )
            if not isinstance(field, Field):
                raise FieldTypeError(
                    f"column {col!r} of collection {name!r} must be a Field, not "
                    f"{type(field).__name__}"
                )
            seen.add(col.lower())
            items.append((col, field))
        return cls(name, tuple(items))

    @property
    def fts_table(self) -> str:
        """Name of the FTS5 table (exists only when some field has ``fts=True``)."""
        return f"{self.name}_fts"

    @property
    def fts_fields(self) -> tuple[str, ...]:
        """Column names that are full-text indexed, in declaration order."""
        return tuple(col for col, f in self.fields if f.fts)

    def field_names(self) -> list[str]:
        """Declared column names in order."""
        return [col for col, _ in self.fields]

    def columns(self) -> list[str]:
        """All columns of the table: id, the fields, created_at, updated_at."""
        return ["id", *self.field_names(), "created_at", "updated_at"]

    def tables(self) -> frozenset[str]:
        """Tables this collection writes (for live-query invalidation)."""
        return frozenset({self.name, self.fts_table} if self.fts_fields else {self.name})

    def to_json(self) -> str:
        """Stable JSON stamp of the declaration."""
        return json.dumps([[col, f.to_json()] for col, f in self.fields], sort_keys=True)

    @classmethod
    def from_json(cls, name: str, text: str) -> CollectionSchema:
        """Inverse of :meth:`to_json`."""
        return cls(name, tuple((col, Field.from_json(d)) for col, d in json.loads(text)))

    def index_name(self, col: str) -> str:
        """Name of the index on a field column."""
        return f"{self.name}__{col}__idx"

    def create_sql(self) -> list[str]:
        """Statements that create the table, its indexes and its FTS table."""
        cols = ", ".join(f"{quote(c)} {f.sql_type}" for c, f in self.fields)
        cols = f"{cols}, " if cols else ""
        stmts = [
            f"CREATE TABLE {quote(self.name)} (id TEXT NOT NULL UNIQUE, {cols}"
            "created_at REAL, updated_at REAL)"
        ]
        stmts += [self.create_index_sql(c) for c, f in self.fields if f.index]
        if self.fts_fields:
            stmts.append(self.create_fts_sql())
        return stmts

    def create_index_sql(self, col: str) -> str:
        """The CREATE INDEX statement for one field column."""
        return f"CREATE INDEX {quote(self.index_name(col))} ON {quote(self.name)}({quote(col)})"

    def create_fts_sql(self) -> str:
        """The CREATE VIRTUAL TABLE statement for the external-content FTS5 table."""
        cols = ", ".join(quote(c) for c in self.fts_fields)
        return (
            f"CREATE VIRTUAL TABLE {quote(self.fts_table)} USING fts5({cols}, "
            f"content={quote(self.name)}, content_rowid='rowid')"
        )


@dataclass(frozen=True)
class Migration:
    """What it takes to move a collection's table from one declaration to another.

    ``rebuild`` means drop and recreate the table (and FTS) and re-extract every
    document; otherwise ``add`` columns are added and backfilled and indexes are
    created (``add_index``) or dropped (``drop_index``) in place.
    """

    rebuild: bool
    add: tuple[str, ...] = ()
    add_index: tuple[str, ...] = ()
    drop_index: tuple[str, ...] = ()

    @property
    def is_noop(self) -> bool:
        """True when nothing needs doing."""
        return not (self.rebuild or self.add or self.add_index or self.drop_index)


def plan_migration(old: CollectionSchema | None, new: CollectionSchema) -> Migration:
    """Compare two declarations and say what has to change.

    Example:
        >>> a = CollectionSchema.build("n", {"t": Field("m.t", str)})
        >>> b = CollectionSchema.build("n", {"t": Field("m.t", str), "d": Field("m.d", bool)})
        >>> plan_migration(a, b).add
        ('d',)
    """
    if old is None:
        return Migration(rebuild=True)
    old_fields = dict(old.fields)
    new_fields = dict(new.fields)
    if old.fts_fields != new.fts_fields:
        return Migration(rebuild=True)
    for col, field in old_fields.items():
        other = new_fields.get(col)
        if other is None or (other.path, other.type) != (field.path, field.type):
            return Migration(rebuild=True)
    add = tuple(col for col in new_fields if col not in old_fields)
    add_index = tuple(
        col
        for col, f in new.fields
        if f.index and not (col in old_fields and old_fields[col].index)
    )
    drop_index = tuple(col for col, f in old.fields if f.index and not new_fields[col].index)
    return Migration(rebuild=False, add=add, add_index=add_index, drop_index=drop_index)
