"""Python side of the browser benchmarks, run inside Pyodide by bench/web/bench-worker.js.

Every function takes and returns JSON strings (or plain numbers), so no JS proxy
outlives a call. ``flush`` arguments are the storage mount's commit hook: yloft's
Store calls it after every COMMIT, and the raw-SQLite floor calls it the same way.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from yloft import Field, Store
from yloft.crdt import Doc, Map, Text

WORDS = [
    "milk",
    "bread",
    "apple",
    "local",
    "first",
    "python",
    "browser",
    "sqlite",
    "yjs",
    "document",
    "column",
    "index",
    "search",
    "query",
    "relay",
    "tab",
    "sync",
    "merge",
    "edit",
    "store",
    "field",
    "text",
    "array",
    "map",
    "commit",
    "durable",
]
FIELDS = {
    "title": Field("meta.title", str, index=True),
    "done": Field("meta.done", bool, index=True),
    "tags": Field("meta.tags", list),
    "rank": Field("meta.rank", float),
    "body": Field("body", str, fts=True),
}
FILTER_SQL = "SELECT title FROM notes WHERE done = 0 AND title > ? ORDER BY title LIMIT 50"
S: dict[str, Any] = {}


def make_notes(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` notes: title, done, tags, rank and a ~1 KB body with one rare word ``wNNN``."""
    rng = random.Random(seed)
    notes = []
    for i in range(n):
        words: list[str] = []
        size = 0
        while size < 1000:
            words.append(rng.choice(WORDS))
            size += len(words[-1]) + 1
        words.insert(rng.randrange(len(words)), f"w{rng.randrange(1000)}")
        notes.append({
            "title": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i:06d}",
            "done": rng.random() < 0.5,
            "tags": rng.sample(WORDS, 2),
            "rank": rng.random(),
            "body": " ".join(words),
        })  # fmt: skip
    return notes


def notes_json(n: int) -> str:
    return json.dumps(make_notes(n))


def rare_word() -> str:
    """The rare word of the first note: the full-text search looks for it."""
    body = make_notes(1)[0]["body"]
    return json.dumps(next(w for w in body.split() if w[0] == "w" and w[1:].isdigit()))


def open_store(flush: Callable[[], object], pragmas: str, path: str) -> str:
    """Open (or create) the notes Store on a mounted database file."""
    t0 = time.perf_counter()
    store = Store(path, on_commit=flush, pragmas=json.loads(pragmas))
    S["store"] = store
    S["notes"] = store.collection("notes", FIELDS)
    return json.dumps({"open_ms": (time.perf_counter() - t0) * 1e3})


def fill(n: int) -> str:
    """Create ``n`` notes (the same data as y-indexeddb gets), 500 per transaction."""
    notes = S["notes"]
    data = make_notes(n)
    t0 = time.perf_counter()
    ids = []
    for start in range(0, n, 500):
        with S["store"].atomic():
            for item in data[start : start + 500]:
                nid = notes.create()
                with notes.edit(nid) as doc:
                    meta = doc.get("meta", type=Map)
                    meta["title"] = item["title"]
                    meta["done"] = item["done"]
                    meta["tags"] = item["tags"]
                    meta["rank"] = item["rank"]
                    doc.get("body", type=Text).insert(0, item["body"])
                ids.append(nid)
    S["ids"] = ids
    return json.dumps({"ms": (time.perf_counter() - t0) * 1e3, "count": len(ids)})


def close_store() -> str:
    S.pop("store").close()
    return "true"


# ------------------------------------------------------------ comparison 2: queries


def filter_query(arg: str) -> str:
    t0 = time.perf_counter()
    rows = S["store"].query(FILTER_SQL, (arg,))
    ms = (time.perf_counter() - t0) * 1e3
    return json.dumps({"ms": ms, "titles": [r["title"] for r in rows]})


def fts_query(word: str) -> str:
    """Full-text search with the FTS index yloft keeps; titles sorted for comparison."""
    t0 = time.perf_counter()
    rows = S["notes"].search(word, limit=50)
    ms = (time.perf_counter() - t0) * 1e3
    return json.dumps({"ms": ms, "titles": sorted(r["title"] for r in rows)})


_LAST: dict[str, Any] = {"blob": None, "doc": None}


def _decode(blob: bytes) -> Doc[Any]:
    """Decode a stored Yjs update into a document (the last one is kept: one row's
    several field lookups decode it once)."""
    if _LAST["blob"] != blob:
        doc: Doc[Any] = Doc()
        doc.apply_update(blob)
        _LAST.update(blob=blob, doc=doc)
    return _LAST["doc"]  # type: ignore[no-any-return]


def y_meta(blob: bytes, key: str) -> Any:
    value = _decode(blob).get("meta", type=Map).get(key)
    return int(value) if isinstance(value, bool) else value


def y_text(blob: bytes, name: str) -> str:
    return str(_decode(blob).get(name, type=Text))


def udf_setup(flush: Callable[[], object], pragmas: str, path: str) -> str:
    """The UDF baseline: the same Yjs blobs in a plain table, decoded in SQL at query
    time by Python functions registered with create_function (samwillis' approach)."""
    con = sqlite3.connect(path, isolation_level=None)
    for name, value in json.loads(pragmas).items():
        con.execute(f"PRAGMA {name}={value}").fetchall()
    con.execute("CREATE TABLE IF NOT EXISTS docs (id TEXT PRIMARY KEY, data BLOB)")
    notes = S["notes"]
    con.execute("BEGIN")
    con.execute("DELETE FROM docs")
    con.executemany("INSERT INTO docs VALUES (?, ?)", ((i, notes.get_update(i)) for i in S["ids"]))
    con.execute("COMMIT")
    flush()
    con.create_function("y_meta", 2, y_meta, deterministic=True)
    con.create_function("y_text", 2, y_text, deterministic=True)
    S["udf"] = con
    return json.dumps({"rows": len(S["ids"])})


def udf_filter(arg: str) -> str:
    _LAST.update(blob=None, doc=None)
    t0 = time.perf_counter()
    rows = (
        S["udf"]
        .execute(
            "SELECT y_meta(data, 'title') AS t FROM docs WHERE y_meta(data, 'done') = 0"
            " AND y_meta(data, 'title') > ? ORDER BY t LIMIT 50",
            (arg,),
        )
        .fetchall()
    )
    return json.dumps({"ms": (time.perf_counter() - t0) * 1e3, "titles": [r[0] for r in rows]})


def udf_fts(word: str) -> str:
    _LAST.update(blob=None, doc=None)
    t0 = time.perf_counter()
    rows = (
        S["udf"]
        .execute(
            "SELECT y_meta(data, 'title') AS t FROM docs"
            " WHERE ' ' || y_text(data, 'body') || ' ' LIKE ? ORDER BY t LIMIT 50",
            (f"% {word} %",),
        )
        .fetchall()
    )
    return json.dumps({"ms": (time.perf_counter() - t0) * 1e3, "titles": [r[0] for r in rows]})


# ------------------------------------------------------- comparison 1: durable writes


def edit_round(value0: float) -> str:
    """One small durable edit to each note (its own transaction, flushed on commit).
    Returns ms per edit and the update bytes each edit stored."""
    notes = S["notes"]
    captured: list[bytes] = []
    remove = S["store"].on_update(lambda c, d, u, o: captured.append(u))
    t0 = time.perf_counter()
    for k, nid in enumerate(S["ids"]):
        with notes.edit(nid) as doc:
            doc.get("meta", type=Map)["rank"] = value0 + k
    ms = (time.perf_counter() - t0) * 1e3 / len(S["ids"])
    remove()
    return json.dumps({"per_edit_ms": ms, "updates": [list(u) for u in captured]})


def note_count() -> int:
    return len(S["ids"])


def edit_one(k: int, value: float) -> None:
    """One small edit to the ``k``-th note, its own transaction (flushed on commit);
    bench-worker.js's durableEdits then waits until the storage settled."""
    with S["notes"].edit(S["ids"][k]) as doc:
        doc.get("meta", type=Map)["rank"] = float(value)


def raw_sqlite_setup(flush: Callable[[], object], pragmas: str, path: str) -> str:
    con = sqlite3.connect(path, isolation_level=None)
    for name, value in json.loads(pragmas).items():
        con.execute(f"PRAGMA {name}={value}").fetchall()
    con.execute("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, doc INT, data BLOB)")
    S["raw"] = (con, flush)
    return "true"


def raw_sqlite_round(updates: str) -> str:
    """The floor: insert the same update bytes, one transaction + flush each."""
    con, flush = S["raw"]
    blobs = [bytes(u) for u in json.loads(updates)]
    t0 = time.perf_counter()
    for k, blob in enumerate(blobs):
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO log (doc, data) VALUES (?, ?)", (k, blob))
        con.execute("COMMIT")
        flush()
    return json.dumps({"per_edit_ms": (time.perf_counter() - t0) * 1e3 / len(blobs)})


# ------------------------------------------------------------ comparison 6: size


def many_edits(edits: int) -> str:
    """``edits`` small edits spread over the notes, each its own durable transaction
    (the same pattern as the y-indexeddb side: text inserts and title changes)."""
    notes = S["notes"]
    ids = S["ids"]
    per_doc = -(-edits // len(ids))
    t0 = time.perf_counter()
    done = 0
    for i, nid in enumerate(ids):
        for k in range(per_doc):
            if i * per_doc + k >= edits:
                break
            with notes.edit(nid) as doc:
                if k % 2:
                    doc.get("meta", type=Map)["title"] = f"edited {i} {k}"
                else:
                    text = doc.get("body", type=Text)
                    text.insert((k * 37) % len(text), "edit ")
            done += 1
    return json.dumps({"ms": (time.perf_counter() - t0) * 1e3, "edits": done})


def state_bytes() -> str:
    """Compacted Yjs state of every note (the size a perfect store could not beat)."""
    notes = S["notes"]
    return json.dumps(sum(len(notes.get_update(i)) for i in S["ids"]))


def db_pages() -> str:
    con = S["store"]._con
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    count = con.execute("PRAGMA page_count").fetchone()[0]
    free = con.execute("PRAGMA freelist_count").fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    return json.dumps({"page_count": count, "freelist": free, "page_size": size})


# ------------------------------------------------------------ export and import (issue 16)


def export_import(path: str) -> str:
    """Export the store (database on the mount at ``path``) and import it into a new store.

    The export file, the new store and the floor's copy live in memory (MEMFS /tmp: the
    bench's OPFS mount holds only the database's own files). Times: the export (encode +
    write the file), the import into an empty store (read + check + merge, one
    transaction), and, as the floor, reading the database file and writing a copy.
    """
    store = S["store"]
    store._con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    t0 = time.perf_counter()
    store.export_to("/tmp/notes.yloft")
    export_ms = (time.perf_counter() - t0) * 1e3
    with open("/tmp/notes.yloft", "rb") as f:
        size = len(f.read())
    target = Store("/tmp/imported.db", pragmas={"journal_mode": "wal"})
    t0 = time.perf_counter()
    target.import_from("/tmp/notes.yloft")
    import_ms = (time.perf_counter() - t0) * 1e3
    same = target.query("SELECT count(*) AS n FROM notes")[0]["n"]
    target.close()
    t0 = time.perf_counter()
    with open(path + "/notes.db", "rb") as src, open("/tmp/copy.db", "wb") as dst:
        dst.write(src.read())
    copy_ms = (time.perf_counter() - t0) * 1e3
    return json.dumps({"export_ms": export_ms, "import_ms": import_ms, "copy_ms": copy_ms,
                       "file_bytes": size, "rows": same})  # fmt: skip
