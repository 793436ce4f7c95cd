"""yloft: local-first apps whose data layer is Python.

Every record is a Yjs CRDT document stored in SQLite, with declared fields kept as
real, indexed, full-text-searchable columns. The same code runs on CPython (with
pycrdt) and in the browser (Pyodide, over the JS Yjs library).
"""

from __future__ import annotations

from .errors import YloftError

__version__ = "0.1.0"

__all__ = ["YloftError", "__version__"]
