"""The notes app's data layer: runs in the browser's engine worker (and on CPython).

The engine calls :func:`setup` once with the open store; the page calls the other
public functions with ``db.call(name, ...args)``.
"""

from __future__ import annotations

from typing import Any

from yloft import Collection, Field, Store, YloftError
from yloft.crdt import Map, Text

__all__ = ["create_note", "delete_note", "get_note", "search_notes", "setup", "update_note"]

# The title and the body are shared texts (Y.Text), so people typing into them at the
# same time all keep their characters; done and tags are plain values in the meta map.
FIELDS = {
    "title": Field("title", str, index=True, fts=True),
    "done": Field("meta.done", bool, index=True),
    "tags": Field("meta.tags", list),
    "body": Field("body", str, fts=True),
}

_notes: Collection | None = None


def setup(store: Store) -> None:
    """Declare the ``notes`` collection (columns id, title, body, done, tags, updated_at)."""
    global _notes
    _notes = store.collection("notes", FIELDS)


def _collection() -> Collection:
    if _notes is None:
        raise YloftError("notes_app.setup(store) has not been called")
    return _notes


def replace_text(text: Text, new: str) -> None:
    """Turn ``text`` into ``new`` by editing only the changed middle part.

    Keeping the common prefix and suffix makes an edit from a textarea a small
    character-level change, so concurrent edits elsewhere in the text merge.
    """
    old = str(text)
    if old == new:
        return
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    # pycrdt's Text indices count UTF-8 bytes, so turn character offsets into bytes.
    at = len(old[:start].encode())
    if end_old > start:
        del text[at : at + len(old[start:end_old].encode())]
    if end_new > start:
        text.insert(at, new[start:end_new])


def create_note(title: str, body: str = "", tags: list[str] | None = None) -> str:
    """Create a note and return its id."""
    notes = _collection()
    nid = notes.create()
    with notes.edit(nid) as doc:
        doc.get("title", type=Text).insert(0, str(title))
        meta = doc.get("meta", type=Map)
        meta["done"] = False
        meta["tags"] = [str(t) for t in (tags or [])]
        doc.get("body", type=Text).insert(0, str(body))
    return nid


def update_note(
    nid: str,
    title: str | None = None,
    body: str | None = None,
    done: bool | None = None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """Change the given fields of a note (in one transaction) and return its row.

    A text given here replaces the whole field (a script's "set the title to X"); the
    page edits texts keystroke by keystroke through ``db.doc()`` instead.
    """
    notes = _collection()
    with notes.edit(nid) as doc:
        meta = doc.get("meta", type=Map)
        if title is not None:
            replace_text(doc.get("title", type=Text), str(title))
        if done is not None and meta.get("done") != bool(done):
            meta["done"] = bool(done)
        if tags is not None:
            meta["tags"] = [str(t) for t in tags]
        if body is not None:
            replace_text(doc.get("body", type=Text), str(body))
    return notes.row(nid)


def get_note(nid: str) -> dict[str, Any]:
    """The note's row (title, body, done, tags, times)."""
    return _collection().row(nid)


def delete_note(nid: str) -> None:
    """Delete a note everywhere it syncs to."""
    _collection().delete(nid)


def search_notes(q: str) -> list[dict[str, Any]]:
    """Full-text search over titles and bodies, best match first.

    What a person types is searched as word prefixes ("mil" finds "milk"); FTS5
    operators are not interpreted, so any input is a valid query.
    """
    words = [w for w in q.replace('"', " ").split() if w]
    if not words:
        return []
    return _collection().search(" ".join(f'"{w}"*' for w in words))
