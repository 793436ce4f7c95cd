"""The change feed and sync bookkeeping of a store: ``store.feed``.

Every committed update has a ``seq`` (commit order, never reused) and an ``origin``;
the feed is the store's update log itself (``_feed`` holds its SQL). Sync layers read
from here what to send, keep their cursors here (in the transaction of the updates a
cursor covers), and trim what a relay acknowledged. The one rule of what goes to the
relay: every update whose origin is not :data:`RELAY_ORIGIN`.

Example:
    >>> from yloft import Store
    >>> store = Store(":memory:")
    >>> notes = store.collection("notes", {})
    >>> nid = notes.create()
    >>> [(c, d == nid) for _, c, d, _ in store.feed.changes()]
    [('notes', True)]
    >>> store.feed.head(), store.feed.floor()
    (1, 0)
    >>> store.close()
"""

from __future__ import annotations

import sqlite3

from . import _feed
from ._compaction import compact_through
from ._writer import LOG_TABLES, Writer

Change = _feed.Change
RELAY_ORIGIN = _feed.RELAY_ORIGIN
"""The origin updates from the relay are stored with (never sent back to it)."""


class Feed:
    """A store's change feed and sync cursors (``store.feed``; see the module docstring).

    Args:
        con: the store's connection.
        writer: the store's write path (reads see every write of the open transaction).
    """

    def __init__(self, con: sqlite3.Connection, writer: Writer) -> None:
        self._con = con
        self._writer = writer

    def changes(
        self, since: int = 0, *, local_only: bool = False, limit: int | None = None
    ) -> list[Change]:
        """Updates committed to the store after ``since``, in commit order.

        Each item is ``(seq, collection, doc_id, update)``. ``local_only`` keeps only
        updates made by this store's own edits (``apply_update`` without an origin
        counts as local too); updates applied with an ``origin`` are left out.
        """
        con = self._writer.settled()
        if local_only:
            return _feed.local(con, since, limit)
        return _feed.changes(con, since, limit=limit)

    def to_send(self, since: int = 0, *, limit: int | None = None) -> list[Change]:
        """The updates after ``since`` that a relay must get from this store.

        Everything except what the relay itself delivered (origin ``"relay"``): the
        store's own edits and those its replica tabs pushed (origin ``"tab:…"``).

        Example:
            >>> from yloft import Store
            >>> store = Store(":memory:")
            >>> notes = store.collection("notes", {})
            >>> mine = notes.create()
            >>> notes.apply_update("x" * 32, notes.get_update(mine), origin="relay")
            >>> [d == mine for _, _, d, _ in store.feed.to_send()]
            [True]
            >>> store.close()
        """
        return _feed.to_send(self._writer.settled(), since, limit)

    def floor(self) -> int:
        """The seq at or below which :meth:`changes` returns nothing (trimmed)."""
        return _feed.floor(self._writer.settled())

    def head(self) -> int:
        """The newest seq of the change feed (0 for a new store)."""
        return _feed.head(self._writer.settled())

    def document_seqs(self) -> list[tuple[int, str, str]]:
        """``(newest seq, collection, doc_id)`` of every stored document, oldest first."""
        return _feed.doc_seqs(self._writer.settled())

    def cursor(self, name: str) -> str | None:
        """The sync cursor saved under ``name`` with :meth:`save_cursor`, or None."""
        return _feed.cursor(self._writer.settled(), name)

    def save_cursor(self, name: str, value: str) -> None:
        """Save a sync cursor; inside ``atomic()`` it commits with the updates it covers.

        Example:
            >>> from yloft import Store
            >>> store = Store(":memory:")
            >>> with store.atomic():
            ...     store.feed.save_cursor("relay:team", '{"last_seq": 3}')
            >>> store.feed.cursor("relay:team")
            '{"last_seq": 3}'
            >>> store.close()
        """
        with self._writer.transaction():
            _feed.save_cursor(self._con, name, value)

    def trim(self, upto: int, *, compact: bool = False) -> None:
        """Say that feed entries up to ``upto`` were consumed; frees their space.

        Entries at or below ``upto`` are no longer returned by :meth:`changes`; the
        log rows that compaction already folded into snapshots are deleted. With
        ``compact``, documents with rows at or below ``upto`` are compacted first.
        """
        with self._writer.transaction() as frame:
            if compact:
                compact_through(self._con, self._writer.find, upto)
            _feed.trim(self._con, upto)
            frame.written |= LOG_TABLES
