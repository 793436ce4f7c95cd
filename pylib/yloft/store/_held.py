"""Updates for collections this store has not declared yet, kept until it does.

A device running an older version of an app receives, through sync, updates for a
collection that only a newer version declares. They cannot be applied (no schema, no
table), but dropping them would lose them for good: the sync cursor moves past them.
So they are *held* in ``_yloft_held`` — written in the same transaction as the cursor —
and applied, in order and with their origin, as soon as the collection is declared.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Protocol

from ..crdt._fast import new_doc
from ..errors import InvalidIdError, MalformedUpdateError
from ._updates import BAD_UPDATE

log = logging.getLogger("yloft.store")

Held = tuple[int, str, bytes, "str | None"]
"""A held update: (seq, doc_id, update, origin)."""


def hold(
    con: sqlite3.Connection, collection: str, doc_id: str, update: bytes, origin: str | None
) -> None:
    """Keep an update (inside the caller's transaction); refuses what could never apply.

    Raises:
        MalformedUpdateError: ``update`` is not a Yjs v1 update.
    """
    data = bytes(update) if isinstance(update, (bytes, bytearray, memoryview)) else None
    try:
        if data is None:
            raise TypeError(f"not {type(update).__name__}")
        new_doc().apply_update(data)
    except (*BAD_UPDATE, TypeError) as exc:
        raise MalformedUpdateError(
            f"update for {collection}/{doc_id} is not a valid Yjs v1 update ({exc}); "
            "pass bytes from get_update()/Doc.get_update() or a Yjs peer"
        ) from exc
    if con.execute(  # a re-delivered update is held once
        "SELECT 1 FROM _yloft_held WHERE collection = ? AND id = ? AND data = ?",
        (collection, doc_id, data),
    ).fetchone():
        return
    con.execute(
        "INSERT INTO _yloft_held (collection, id, origin, data) VALUES (?, ?, ?, ?)",
        (collection, doc_id, origin, data),
    )


def held(con: sqlite3.Connection, collection: str) -> list[Held]:
    """The updates held for ``collection``, oldest first."""
    rows = con.execute(
        "SELECT seq, id, data, origin FROM _yloft_held WHERE collection = ? ORDER BY seq",
        (collection,),
    ).fetchall()
    return [(int(s), str(i), bytes(d), o) for s, i, d, o in rows]


def all_held(con: sqlite3.Connection) -> list[tuple[str, str, bytes, str | None]]:
    """Every held update as ``(collection, doc_id, update, origin)``, oldest first."""
    rows = con.execute("SELECT collection, id, data, origin FROM _yloft_held ORDER BY seq")
    return [(str(c), str(i), bytes(d), o) for c, i, d, o in rows.fetchall()]


class Apply(Protocol):
    """How a declared collection applies an update (``Collection.apply_update``)."""

    def __call__(self, doc_id: str, update: bytes, *, origin: str | None = None) -> None: ...


def apply_to(con: sqlite3.Connection, collection: str, apply: Apply) -> None:
    """Apply (inside the caller's transaction) and forget what was held for ``collection``."""
    waiting = held(con, collection)
    for _, doc_id, update, origin in waiting:
        try:
            apply(doc_id, update, origin=origin)
        except (MalformedUpdateError, InvalidIdError) as exc:  # checked when held: rare
            log.error("held update for %s/%s refused: %s", collection, doc_id, exc)
    if waiting:
        con.execute(
            "DELETE FROM _yloft_held WHERE collection = ? AND seq <= ?",
            (collection, waiting[-1][0]),
        )
