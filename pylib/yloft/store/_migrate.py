"""Schema changes of a collection: DDL, then the rows backfilled from the documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import SchemaError
from ..extract import Extracted, extract
from ..schema import CollectionSchema, plan_migration, quote
from ._rows import RowSQL, sync_row
from ._writer import Writer


def migrate(writer: Writer, old: CollectionSchema | None, new: CollectionSchema) -> set[str]:
    """Bring the collection's tables from ``old`` to ``new``; the tables written.

    Runs inside the caller's write transaction (:meth:`Writer.transaction`).
    """
    plan = plan_migration(old, new)
    con = writer.con
    writer.write_recorded()
    if old is None:
        clash = con.execute(
            "SELECT name FROM sqlite_master WHERE name IN (?, ?)",
            (new.name, new.fts_table),
        ).fetchone()
        if clash is not None:
            raise SchemaError(
                f"the database already has a table {clash[0]!r} that is not a yloft "
                "collection; pick another collection name"
            )
    if plan.rebuild:
        if old is not None:
            con.execute(f"DROP TABLE IF EXISTS {quote(old.fts_table)}")
            con.execute(f"DROP TABLE IF EXISTS {quote(old.name)}")
        for stmt in new.create_sql():
            con.execute(stmt)
        _backfill(writer, new, None)
    else:
        for col in plan.drop_index:
            con.execute(f"DROP INDEX IF EXISTS {quote(new.index_name(col))}")
        fields = dict(new.fields)
        for col in plan.add:
            con.execute(
                f"ALTER TABLE {quote(new.name)} ADD COLUMN {quote(col)} {fields[col].sql_type}"
            )
        if plan.add:
            _backfill(writer, new, plan.add)
        for col in plan.add_index:
            con.execute(new.create_index_sql(col))
    con.execute(
        "INSERT OR REPLACE INTO _yloft_meta (key, value) VALUES (?, ?)",
        (f"collection:{new.name}", new.to_json()),
    )
    writer.cache.clear()  # cached rows have the old shape
    return set(new.tables()) | (set() if old is None else set(old.tables()))


def _backfill(writer: Writer, schema: CollectionSchema, columns: Sequence[str] | None) -> None:
    con = writer.con
    docs = con.execute(
        "SELECT key, id FROM _yloft_docs WHERE collection = ? AND deleted = 0 ORDER BY key",
        (schema.name,),
    ).fetchall()
    sql = RowSQL(schema)
    for key, doc_id in docs:
        extracted = extract(writer.cache.load(key).doc, schema)
        if columns is None:
            sync_row(con, sql, key, _row_of(doc_id, extracted), ())
        elif not extracted.deleted:
            sets = ", ".join(f"{quote(c)} = ?" for c in columns)
            con.execute(
                f"UPDATE {quote(schema.name)} SET {sets} WHERE rowid = ?",
                (*(extracted.values[c] for c in columns), key),
            )


def _row_of(doc_id: str, extracted: Extracted) -> tuple[Any, ...]:
    """The collection row of an extraction (``()`` for a deleted document)."""
    if extracted.deleted:
        return ()
    return (doc_id, *extracted.values.values(), extracted.created_at, extracted.updated_at)
