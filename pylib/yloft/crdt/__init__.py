"""The CRDT seam: the only place yloft and apps import CRDT types from.

On CPython this is pycrdt itself (re-exported). In Pyodide it is pycrdt too when a
wheel of it is installed; otherwise it is yloft's pycrdt-compatible layer over the
JS Yjs library (``yloft.crdt._yjs``), which needs Yjs registered as the JS module
``yjs``. ``ENGINE`` says which one is in use.

Example:
    >>> from yloft.crdt import Doc, Map
    >>> doc = Doc()
    >>> doc["todo"] = Map({"title": "milk"})
    >>> len(doc.get_update()) > 0
    True
"""

from __future__ import annotations

import sys


def _has_pycrdt() -> bool:
    try:
        import pycrdt  # noqa: F401
    except ImportError:
        return False
    return True


if sys.platform == "emscripten" and not _has_pycrdt():
    # pycrdt's names (those below and a few more) from yloft's layer over JS Yjs.
    from ._yjs import *  # noqa: F403

    ENGINE = "yjs"
else:
    from pycrdt import (
        Array,
        ArrayEvent,
        Doc,
        Map,
        MapEvent,
        Subscription,
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
    "Subscription",
    "Text",
    "TextEvent",
    "Transaction",
    "TransactionEvent",
    "get_state",
    "get_update",
    "merge_updates",
]
