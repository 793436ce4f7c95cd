"""The CRDT seam: the only place yloft and apps import CRDT types from.

On CPython this is pycrdt itself (re-exported). In Pyodide, where no pycrdt build
exists, it will be a pycrdt-compatible layer over the JS Yjs library (issue 4).
"""

from __future__ import annotations

from pycrdt import (
    Array,
    ArrayEvent,
    Doc,
    Map,
    MapEvent,
    Text,
    TextEvent,
    Transaction,
    TransactionEvent,
    get_state,
    get_update,
    merge_updates,
)

ENGINE = "pycrdt"

__all__ = [
    "ENGINE",
    "Array",
    "ArrayEvent",
    "Doc",
    "Map",
    "MapEvent",
    "Text",
    "TextEvent",
    "Transaction",
    "TransactionEvent",
    "get_state",
    "get_update",
    "merge_updates",
]
