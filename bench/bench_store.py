"""Store speed and size beside plain sqlite3 doing the same storage work, same run.

Usage: .venv/bin/python bench/bench_store.py [--quick]

Four comparisons from issue 3, each against a floor measured in the same process:

1. create 10,000 documents (5 fields + ~1 KB of text) in one transaction
   - floor: plain sqlite3 inserting the same Yjs bytes into a blob table and the same
     rows into a table with the same indexes and an FTS5 index, one transaction;
2. an indexed query ``WHERE done=0 AND title > ? ORDER BY title LIMIT 50``
   - floor: the same SQL on the floor's plain table (tuples, and tuples turned to dicts);
3. a small edit to a document with a 1,000-edit history, one transaction per edit
   - floor: appending the same update bytes to a plain table, one transaction each;
4. database size against the documents' compacted Yjs state plus the column values.

Both sides use the same pragmas (WAL and synchronous=FULL, the Store's default; the
edit comparison is repeated with synchronous=NORMAL). Medians over rounds, and their
ratios, are printed and written to bench/results/store.json (also by --quick runs;
bench/run.py reads that file, and the JSON says how many documents and rounds it holds).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "pylib"))

from yloft import Field, Store  # noqa: E402
from yloft.crdt import Map, Text  # noqa: E402

FIELDS = {
    "title": Field("meta.title", str, index=True),
    "done": Field("meta.done", bool, index=True),
    "tags": Field("meta.tags", list),
    "rank": Field("meta.rank", float),
    "body": Field("body", str, fts=True),
}
QUERY = "SELECT id, title, rank FROM notes WHERE done = 0 AND title > ? ORDER BY title LIMIT 50"
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


def body_text(rng: random.Random) -> str:
    out: list[str] = []
    size = 0
    while size < 1000:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def make_inputs(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "title": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}",
            "done": rng.random() < 0.5,
            "tags": rng.sample(WORDS, 2),
            "rank": rng.random(),
            "body": body_text(rng),
        }
        for i in range(n)
    ]


def pragmas(sync: str) -> dict[str, str | int]:
    return {"journal_mode": "wal", "synchronous": sync}


def plain_connect(path: Path, sync: str) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    for name, value in pragmas(sync).items():
        con.execute(f"PRAGMA {name}={value}").fetchall()
    return con


def db_size(path: Path) -> int:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    pages -= con.execute("PRAGMA freelist_count").fetchone()[0]  # pages in use only
    size = pages * con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    return int(size)


# -- 1. create ------------------------------------------------------------------------


class Stopwatch:
    """Wall-clock and CPU seconds (this process) since it started. CPU time leaves out
    the time other jobs on this shared machine hold the cores, so its ratios move far
    less from run to run; the floor's fsync wait is in its wall time only."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def yloft_create(
    path: Path, inputs: list[dict[str, Any]]
) -> tuple[tuple[float, float], Store, list[str]]:
    store = Store(path, pragmas=pragmas("full"))
    notes = store.collection("notes", FIELDS)
    ids: list[str] = []
    watch = Stopwatch()
    with store.atomic():
        for item in inputs:
            nid = notes.create()
            with notes.edit(nid) as doc:
                meta = doc.get("meta", type=Map)
                meta["title"] = item["title"]
                meta["done"] = item["done"]
                meta["tags"] = item["tags"]
                meta["rank"] = item["rank"]
                doc.get("body", type=Text).insert(0, item["body"])
            ids.append(nid)
    return watch.read(), store, ids


def crdt_only(inputs: list[dict[str, Any]]) -> tuple[float, float]:
    """Reference, not a floor: the CRDT work of the yloft run with the CRDT library
    alone, storing nothing: per document a Doc, one transaction (the same field writes
    plus created_at/updated_at) and the encoded update (what Store.create + edit do
    inside one atomic())."""
    from yloft.crdt import Doc

    watch = Stopwatch()
    for item in inputs:
        doc: Doc[Any] = Doc()
        with doc.transaction():
            meta = doc.get("meta", type=Map)
            meta["title"] = item["title"]
            meta["done"] = item["done"]
            meta["tags"] = item["tags"]
            meta["rank"] = item["rank"]
            doc.get("body", type=Text).insert(0, item["body"])
            own = doc.get("_yloft", type=Map)
            own["created_at"] = 1.0
            own["updated_at"] = 2.0
        doc.get_update()
    return watch.read()


def floor_create(
    path: Path, rows: list[tuple[Any, ...]], blobs: list[bytes]
) -> tuple[float, float]:
    con = plain_connect(path, "full")
    con.execute("CREATE TABLE docs (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, data BLOB)")
    con.execute(
        "CREATE TABLE notes (id TEXT NOT NULL UNIQUE, title TEXT, done INTEGER, tags TEXT,"
        " rank REAL, body TEXT, created_at REAL, updated_at REAL)"
    )
    con.execute("CREATE INDEX notes_title ON notes(title)")
    con.execute("CREATE INDEX notes_done ON notes(done)")
    con.execute(
        "CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='rowid')"
    )
    watch = Stopwatch()
    con.execute("BEGIN IMMEDIATE")
    for key, (row, blob) in enumerate(zip(rows, blobs, strict=True), start=1):
        con.execute("INSERT INTO docs (key, id, data) VALUES (?, ?, ?)", (key, row[0], blob))
        con.execute(
            "INSERT INTO notes (rowid, id, title, done, tags, rank, body, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, *row),
        )
        con.execute("INSERT INTO notes_fts (rowid, body) VALUES (?, ?)", (key, row[5]))
    con.execute("COMMIT")
    elapsed = watch.read()
    con.close()
    return elapsed


# -- 2. query -------------------------------------------------------------------------


def query_bench(store: Store, floor_path: Path, repeat: int) -> dict[str, float]:
    """Per-call medians; the three variants run interleaved so load spikes hit all."""
    params = [(w,) for w in WORDS]
    con = plain_connect(floor_path, "full")

    def plain_tuples(p: tuple[str]) -> Any:
        return con.execute(QUERY, p).fetchall()

    def plain_dicts(p: tuple[str]) -> Any:
        cur = con.execute(QUERY, p)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def ours(p: tuple[str]) -> Any:
        return store.query(QUERY, p)

    assert [list(r.values()) for r in ours(params[0])] == [list(r) for r in plain_tuples(params[0])]
    variants = {"plain_tuples_s": plain_tuples, "plain_dicts_s": plain_dicts, "yloft_s": ours}
    samples: dict[str, list[float]] = {k: [] for k in variants}
    for fn in variants.values():  # warm statement caches and pages
        for p in params:
            fn(p)
    for _ in range(repeat):
        for p in params:
            for name, fn in variants.items():
                t0 = time.perf_counter()
                fn(p)
                samples[name].append(time.perf_counter() - t0)
    con.close()
    return {k: statistics.median(v) for k, v in samples.items()}


# -- 3. edit with history --------------------------------------------------------------


def edit_bench(tmp: Path, sync: str, history: int, edits: int, cache: bool) -> dict[str, float]:
    """Each yloft edit is followed by the floor appending that edit's update bytes in
    its own transaction, so both see the same machine load; medians per operation."""
    store = Store(
        tmp / f"edit-{sync}-{cache}.db", pragmas=pragmas(sync), cache_size=32 if cache else 0
    )
    notes = store.collection("notes", FIELDS)
    nid = notes.create()
    rng = random.Random(3)
    with notes.edit(nid) as doc:
        doc.get("body", type=Text).insert(0, body_text(rng))
    for i in range(history):
        with notes.edit(nid) as doc:
            if i % 2:
                doc.get("meta", type=Map)["title"] = f"title {i}"
            else:
                doc.get("body", type=Text).insert(i % 500, "x")
    captured: list[bytes] = []
    store.on_update(lambda c, d, u, o: captured.append(u))
    con = plain_connect(tmp / f"edit-floor-{sync}-{cache}.db", sync)
    con.execute("CREATE TABLE log (seq INTEGER PRIMARY KEY, doc INTEGER, data BLOB)")
    per_edit: list[float] = []
    per_append: list[float] = []
    for i in range(edits):
        t0 = time.perf_counter()
        with notes.edit(nid) as doc:
            doc.get("meta", type=Map)["rank"] = float(i)
        per_edit.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO log (doc, data) VALUES (?, ?)", (1, captured[-1]))
        con.execute("COMMIT")
        per_append.append(time.perf_counter() - t0)
    store.close()
    con.close()
    return {
        "yloft_s": statistics.median(per_edit),
        "floor_s": statistics.median(per_append),
        "yloft_min_s": min(per_edit),
        "yloft_max_s": max(per_edit),
        "floor_min_s": min(per_append),
        "floor_max_s": max(per_append),
        "update_bytes_median": statistics.median(len(u) for u in captured),
    }


# -- 4. size and compaction -------------------------------------------------------------


def content_size(store: Store, ids: list[str]) -> dict[str, int]:
    notes = store.collection("notes")
    yjs = sum(len(notes.get_update(i)) for i in ids)
    cols = 0
    for row in store.query(
        "SELECT id, title, done, tags, rank, body, created_at, updated_at FROM notes", ()
    ):
        for value in row.values():
            cols += 8 if isinstance(value, (int, float)) else len(str(value).encode())
    return {"yjs_state_bytes": yjs, "column_bytes": cols}


def compaction_effect(tmp: Path, history: int) -> dict[str, Any]:
    """One document, ``history`` edits (a map key rewritten + a text insert each), under
    several compaction limits: edit time (compaction included), then after a reopen the
    time to load the document, the database size and the log rows left. With 998 edits
    (999 updates with the create) each limit sits just before its next compaction: the
    worst case for loading."""
    out: dict[str, Any] = {}
    for label, limit in (("every_50", 50), ("every_200_default", 200), ("every_500", 500),
                         ("never", 10**9)):  # fmt: skip
        path = tmp / f"compact-{label}.db"
        store = Store(path, pragmas=pragmas("normal"), max_log_entries=limit, max_log_bytes=2**40)
        notes = store.collection("notes", FIELDS)
        nid = notes.create()
        edits = []
        for i in range(history):
            t0 = time.perf_counter()
            with notes.edit(nid) as doc:
                doc.get("meta", type=Map)["title"] = f"title {i} " + "y" * 40
                doc.get("body", type=Text).insert(0, "z")
            edits.append(time.perf_counter() - t0)
        store.feed.trim(store.feed.changes()[-1][0])  # a consumer took the feed
        store.close()
        store = Store(path, pragmas=pragmas("normal"), cache_size=0)
        notes = store.collection("notes")
        loads = []
        for _ in range(20):
            t0 = time.perf_counter()
            notes.get(nid)
            loads.append(time.perf_counter() - t0)
        log_rows = store.query("SELECT count(*) AS n FROM _yloft_updates", ())[0]["n"]
        state = len(notes.get_update(nid))
        store.close()
        out[label] = {
            "max_log_entries": limit,
            "edit_s_mean": statistics.fmean(edits),
            "edit_s_median": statistics.median(edits),
            "load_s_median": statistics.median(loads),
            "db_bytes": db_size(path),
            "log_rows": log_rows,
            "yjs_state_bytes": state,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer documents and rounds")
    args = ap.parse_args()
    n_docs = 2000 if args.quick else 10_000
    rounds = 1 if args.quick else 3
    history = 1000
    edits = 50 if args.quick else 200
    inputs = make_inputs(n_docs)
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "docs": n_docs,
        "rounds": rounds,
    }
    create_y, create_f, create_c, sizes = [], [], [], []
    cpu: dict[str, list[float]] = {"yloft": [], "floor": [], "crdt_only": []}
    query: dict[str, list[float]] = {"plain_tuples_s": [], "plain_dicts_s": [], "yloft_s": []}
    for r in range(rounds):
        with tempfile.TemporaryDirectory(prefix="yloft-bench-") as tmpdir:
            tmp = Path(tmpdir)
            (elapsed, elapsed_cpu), store, ids = yloft_create(tmp / "y.db", inputs)
            create_y.append(elapsed)
            cpu["yloft"].append(elapsed_cpu)
            notes = store.collection("notes")
            rows = [
                tuple(row.values())
                for row in store.query(
                    "SELECT id, title, done, tags, rank, body, created_at, updated_at"
                    " FROM notes ORDER BY rowid",
                    (),
                )
            ]
            blobs = [notes.get_update(i) for i in ids]
            for side, (wall, used) in (
                ("floor", floor_create(tmp / "f.db", rows, blobs)),
                ("crdt_only", crdt_only(inputs)),
            ):
                (create_f if side == "floor" else create_c).append(wall)
                cpu[side].append(used)
            q = query_bench(store, tmp / "f.db", repeat=3 if args.quick else 10)
            for k, v in q.items():
                query[k].append(v)
            content = content_size(store, ids)
            store.close()
            sizes.append(
                {
                    **content,
                    "yloft_db_bytes": db_size(tmp / "y.db"),
                    "floor_db_bytes": db_size(tmp / "f.db"),
                }
            )
            print(
                f"round {r + 1}/{rounds}: create {elapsed:.2f}s, floor {create_f[-1]:.2f}s,"
                f" crdt alone {create_c[-1]:.2f}s; CPU: {cpu['yloft'][-1]:.2f}s,"
                f" {cpu['floor'][-1]:.2f}s, {cpu['crdt_only'][-1]:.2f}s",
                file=sys.stderr,
            )
    cy, cf = statistics.median(create_y), statistics.median(create_f)
    cc = statistics.median(create_c)
    results["create"] = {
        "yloft_s": cy,
        "floor_s": cf,
        "ratio": cy / cf,
        "target": 3.0,
        "crdt_only_s": cc,
        "yloft_samples_s": create_y,
        "floor_samples_s": create_f,
        "crdt_only_samples_s": create_c,
        "crdt_only_ratio_to_floor": cc / cf,
        "yloft_minus_crdt_ratio_to_floor": (cy - cc) / cf,
        # The same runs in CPU seconds of this process (see Stopwatch).
        "yloft_cpu_s": statistics.median(cpu["yloft"]),
        "floor_cpu_s": statistics.median(cpu["floor"]),
        "crdt_only_cpu_s": statistics.median(cpu["crdt_only"]),
        "cpu_ratio": statistics.median(cpu["yloft"]) / statistics.median(cpu["floor"]),
        "cpu_ratio_per_round": [y / f for y, f in zip(cpu["yloft"], cpu["floor"], strict=True)],
        "crdt_only_cpu_ratio_to_floor": statistics.median(cpu["crdt_only"])
        / statistics.median(cpu["floor"]),
    }
    qm = {k: statistics.median(v) for k, v in query.items()}
    results["query"] = {
        **qm,
        **{k.replace("_s", "_samples_s"): v for k, v in query.items()},
        "ratio_vs_tuples": qm["yloft_s"] / qm["plain_tuples_s"],
        "ratio_vs_dicts": qm["yloft_s"] / qm["plain_dicts_s"],
        "target": 1.5,
    }
    size = sizes[-1]
    base = size["yjs_state_bytes"] + size["column_bytes"]
    results["size"] = {
        **size,
        "ratio_vs_state_plus_columns": size["yloft_db_bytes"] / base,
        "ratio_vs_floor_db": size["yloft_db_bytes"] / size["floor_db_bytes"],
        "target": 2.0,
    }
    with tempfile.TemporaryDirectory(prefix="yloft-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for sync in ("full", "normal"):
            for cache in (True, False):
                e = edit_bench(tmp, sync, history, edits, cache)
                key = f"edit_sync_{sync}" + ("" if cache else "_cold")
                results[key] = {**e, "ratio": e["yloft_s"] / e["floor_s"], "target": 2.0}
        results["compaction"] = compaction_effect(tmp, history - 2)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    target = out / "store.json"  # bench/run.py reads this name after full and quick runs
    target.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
