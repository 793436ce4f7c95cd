"""The change feed and sync bookkeeping, as SQL over the store's internal tables.

The update log ``_yloft_updates`` doubles as the change feed: every committed update
has a ``seq`` (commit order) and an ``origin``. This module is the only place that
reads the feed for sync, so the one rule of what goes to the relay lives here:

    **Sent to the relay: every update whose origin is not** :data:`RELAY_ORIGIN`.
    That is the store's own edits (origin None) and what replica tabs pushed to the
    writer tab (origin ``"tab:…"``) — never what the relay itself delivered.

``local_only`` (origin None only) is a different question — "what did *this* store's
code edit" — asked by a replica tab about its own outbox.

Sync cursors (the relay's ``last_seq`` and friends) are kept in ``_yloft_meta`` under
``sync:<name>``, written by the caller inside the transaction that stores the
updates they cover, so a cursor can never run ahead of the data.
"""

from __future__ import annotations

import sqlite3

Change = tuple[int, str, str, bytes]
"""A change-feed entry: (seq, collection, doc_id, update)."""

RELAY_ORIGIN = "relay"
"""The origin updates from the relay are stored with (never sent back to it)."""

_CHANGES = (
    "SELECT u.seq, d.collection, d.id, u.data FROM _yloft_updates u"
    " JOIN _yloft_docs d ON d.key = u.doc WHERE u.seq > ?"
)
_WHERE_LOCAL = " AND u.origin IS NULL"
_WHERE_TO_SEND = f" AND u.origin IS NOT '{RELAY_ORIGIN}'"


def floor(con: sqlite3.Connection) -> int:
    """The feed floor: entries at or below it were trimmed (:func:`trim`)."""
    row = con.execute("SELECT value FROM _yloft_meta WHERE key = 'feed_floor'").fetchone()
    return 0 if row is None else int(row[0])


def head(con: sqlite3.Connection) -> int:
    """The highest seq ever given to an update (0 for a new store)."""
    row = con.execute("SELECT coalesce(max(seq), 0) FROM _yloft_updates").fetchone()
    return int(row[0])


def changes(
    con: sqlite3.Connection, since: int, *, where: str = "", limit: int | None = None
) -> list[Change]:
    sql = _CHANGES + where + " ORDER BY u.seq"
    params: list[int] = [max(int(since), floor(con))]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [(int(s), str(c), str(i), bytes(u)) for s, c, i, u in con.execute(sql, params)]


def local(con: sqlite3.Connection, since: int, limit: int | None = None) -> list[Change]:
    """Updates made by this store's own code (origin None) after ``since``."""
    return changes(con, since, where=_WHERE_LOCAL, limit=limit)


def to_send(con: sqlite3.Connection, since: int, limit: int | None = None) -> list[Change]:
    """Updates to send to the relay after ``since`` (see the module docstring)."""
    return changes(con, since, where=_WHERE_TO_SEND, limit=limit)


def doc_seqs(con: sqlite3.Connection) -> list[tuple[int, str, str]]:
    """(newest seq, collection, doc_id) of every document, oldest first."""
    rows = con.execute(
        "SELECT max(coalesce(max(u.seq), 0), d.snap_seq) AS s, d.collection, d.id"
        " FROM _yloft_docs d LEFT JOIN _yloft_updates u ON u.doc = d.key"
        " GROUP BY d.key ORDER BY s"
    ).fetchall()
    return [(int(s), str(c), str(i)) for s, c, i in rows]


def trim(con: sqlite3.Connection, upto: int) -> None:
    """Raise the feed floor to ``upto``; delete log rows already in snapshots below it."""
    new_floor = max(int(upto), floor(con))
    con.execute(
        "INSERT OR REPLACE INTO _yloft_meta (key, value) VALUES ('feed_floor', ?)",
        (str(new_floor),),
    )
    con.execute(
        "DELETE FROM _yloft_updates WHERE seq <= ? AND seq <="
        " (SELECT snap_seq FROM _yloft_docs WHERE key = _yloft_updates.doc)",
        (new_floor,),
    )
    # Give the freed pages back to the file system (databases made with auto_vacuum =
    # incremental). Python's sqlite3 steps a statement without result columns once,
    # and each step of incremental_vacuum frees one page: hence one call per page.
    if con.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
        for _ in range(con.execute("PRAGMA freelist_count").fetchone()[0]):
            con.execute("PRAGMA incremental_vacuum(1)")


def cursor(con: sqlite3.Connection, name: str) -> str | None:
    """The sync cursor saved under ``name`` (None: never saved)."""
    row = con.execute("SELECT value FROM _yloft_meta WHERE key = ?", (f"sync:{name}",)).fetchone()
    return None if row is None else str(row[0])


def save_cursor(con: sqlite3.Connection, name: str, value: str) -> None:
    """Write a sync cursor (inside the caller's transaction)."""
    con.execute(
        "INSERT OR REPLACE INTO _yloft_meta (key, value) VALUES (?, ?)", (f"sync:{name}", value)
    )
