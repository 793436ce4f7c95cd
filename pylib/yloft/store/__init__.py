"""The store: Yjs documents in SQLite, with declared fields kept as real columns.

:class:`Store` (module ``store``) is the database, :class:`Collection` the documents of
one kind, :class:`Subscription` a live query (``live``); ``archive`` reads and writes
export files. The modules starting with an underscore are the store's own (the write
path, the document cache, compaction, the SQL): docs/store.md describes them.

Example:
    >>> from yloft.store import Store
    >>> with Store(":memory:") as store:
    ...     store.query("SELECT 1 AS one", ())
    [{'one': 1}]
"""

from __future__ import annotations

from .collection import Collection
from .live import Subscription
from .store import Store

__all__ = ["Collection", "Store", "Subscription"]
