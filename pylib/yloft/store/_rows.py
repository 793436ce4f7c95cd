"""Writing one document's row and FTS entry: only what changed, FTS in step.

The FTS5 table uses the collection table as external content, so an FTS entry is
removed with the exact values it was indexed with (the old row, read back or
remembered), in the same transaction as the row change.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..schema import CollectionSchema, quote


class RowSQL:
    """Prepared SQL text for writing one collection's rows and FTS entries."""

    def __init__(self, schema: CollectionSchema) -> None:
        self.table = table = quote(schema.name)
        self.columns = cols = schema.columns()
        names = ", ".join(quote(c) for c in cols)
        self.select = f"SELECT {names} FROM {table} WHERE rowid = ?"
        self.insert = (
            f"INSERT INTO {table} (rowid, {names}) VALUES (?, {', '.join('?' for _ in cols)})"
        )
        self.delete = f"DELETE FROM {table} WHERE rowid = ?"
        self.fts_index = tuple(cols.index(c) for c in schema.fts_fields)
        fts = quote(schema.fts_table)
        fts_cols = ", ".join(quote(c) for c in schema.fts_fields)
        marks = ", ".join("?" for _ in schema.fts_fields)
        self.fts_insert = f"INSERT INTO {fts} (rowid, {fts_cols}) VALUES (?, {marks})"
        self.fts_delete = (
            f"INSERT INTO {fts} ({fts}, rowid, {fts_cols}) VALUES ('delete', ?, {marks})"
        )
        self._updates: dict[tuple[int, ...], str] = {}

    def insert_many(self, con: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        """Insert new rows ``(rowid, *row)`` and their FTS entries."""
        con.executemany(self.insert, rows)
        if self.fts_index:
            fts = [(r[0], *[r[i + 1] for i in self.fts_index]) for r in rows]
            con.executemany(self.fts_insert, fts)

    def update(self, changed: tuple[int, ...]) -> str:
        """The UPDATE of the columns at positions ``changed`` (text kept per set)."""
        text = self._updates.get(changed)
        if text is None:
            if len(self._updates) >= 256:
                self._updates.clear()
            sets = ", ".join(f"{quote(self.columns[i])} = ?" for i in changed)
            text = self._updates[changed] = f"UPDATE {self.table} SET {sets} WHERE rowid = ?"
        return text


def sync_row(
    con: sqlite3.Connection,
    sql: RowSQL,
    key: int,
    new: tuple[Any, ...],
    known: tuple[Any, ...] | None,
) -> tuple[Any, ...]:
    """Make the row and FTS entry of document ``key`` be ``new``.

    ``new`` is ``(id, *field values, created_at, updated_at)``, or ``()`` for no row
    (a deleted document); ``known`` is the row as last written (None: read it; ():
    no row). Returns ``new``.
    """
    old = known
    if old is None:
        old = con.execute(sql.select, (key,)).fetchone() or ()
    fts = sql.fts_index
    old_fts = tuple(old[i] for i in fts) if old else ()
    if not new:
        if old:
            if fts:
                con.execute(sql.fts_delete, (key, *old_fts))
            con.execute(sql.delete, (key,))
        return ()
    new_fts = tuple(new[i] for i in fts)
    if not old:
        con.execute(sql.insert, (key, *new))
        if fts:
            con.execute(sql.fts_insert, (key, *new_fts))
        return new
    if tuple(old) == new:
        return new
    changed = tuple(i for i, (o, v) in enumerate(zip(old, new, strict=True)) if o != v)
    con.execute(sql.update(changed), (*(new[i] for i in changed), key))
    if fts and old_fts != new_fts:
        con.execute(sql.fts_delete, (key, *old_fts))
        con.execute(sql.fts_insert, (key, *new_fts))
    return new
