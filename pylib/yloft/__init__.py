"""yloft: local-first apps whose data layer is Python.

Every record is a Yjs CRDT document stored in SQLite, with declared fields kept as
real, indexed, full-text-searchable columns. The same code runs on CPython (with
pycrdt) and in the browser (Pyodide, over the JS Yjs library).
"""

from __future__ import annotations

from ._version import __version__
from .errors import (
    ArchiveError,
    CallbackError,
    DocumentBusyError,
    DocumentDeletedError,
    DocumentNotFoundError,
    DurabilityError,
    FieldPathError,
    FieldTypeError,
    InvalidIdError,
    MalformedUpdateError,
    QueryError,
    ReadOnlyQueryError,
    SchemaError,
    StoreClosedError,
    TransactionAbortedError,
    UnknownCollectionError,
    YloftError,
)
from .schema import Field
from .store import Collection, Store, Subscription

__all__ = [
    "ArchiveError",
    "CallbackError",
    "Collection",
    "DocumentBusyError",
    "DocumentDeletedError",
    "DocumentNotFoundError",
    "DurabilityError",
    "Field",
    "FieldPathError",
    "FieldTypeError",
    "InvalidIdError",
    "MalformedUpdateError",
    "QueryError",
    "ReadOnlyQueryError",
    "SchemaError",
    "Store",
    "StoreClosedError",
    "Subscription",
    "TransactionAbortedError",
    "UnknownCollectionError",
    "YloftError",
    "__version__",
]
