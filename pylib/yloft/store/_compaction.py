"""Compaction: fold a document's log rows into its snapshot."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..crdt import merge_updates
from ..crdt._fast import covered
from ._cached import CachedDoc
from ._feed import floor


def compact(con: sqlite3.Connection, cached: CachedDoc) -> None:
    """Fold a stored document's log rows into its snapshot.

    The log rows stay while the change feed still needs them (above the feed floor).
    """
    key = cached.key
    assert key is not None
    snapshot, snap_seq = con.execute(
        "SELECT snapshot, snap_seq FROM _yloft_docs WHERE key = ?", (key,)
    ).fetchall()[0]
    rows = con.execute(
        "SELECT seq, data FROM _yloft_updates WHERE doc = ? AND seq > ? ORDER BY seq",
        (key, snap_seq),
    ).fetchall()
    if not rows:
        return
    parts = ([snapshot] if snapshot is not None else []) + [d for _, d in rows]
    if covered(cached.doc.get_state(), parts):
        new_snapshot = cached.doc.get_update()
    else:  # some structs wait for missing dependencies: keep them, merged
        new_snapshot = merge_updates(*parts)
    last = rows[-1][0]
    con.execute(
        "UPDATE _yloft_docs SET snapshot = ?, snap_seq = ? WHERE key = ?",
        (new_snapshot, last, key),
    )
    upto = min(last, floor(con))
    con.execute("DELETE FROM _yloft_updates WHERE doc = ? AND seq <= ?", (key, upto))
    cached.log_count = 0
    cached.log_bytes = 0


def compact_through(
    con: sqlite3.Connection, find: Callable[..., CachedDoc | None], upto: int
) -> int:
    """Compact every document with log rows at or below ``upto``; return how many.

    ``find`` is :meth:`Writer.find`. Run before raising the feed floor to ``upto``, so
    that trimming then deletes those rows: the documents' logs stay compacted.
    """
    rows = con.execute(
        "SELECT DISTINCT d.collection, d.id FROM _yloft_updates u"
        " JOIN _yloft_docs d ON u.doc = d.key WHERE u.seq > d.snap_seq AND u.seq <= ?",
        (upto,),
    ).fetchall()
    for collection, doc_id in rows:
        cached = find(collection, doc_id, keep=False)
        if cached is not None and cached.key is not None:
            compact(con, cached)
    return len(rows)
