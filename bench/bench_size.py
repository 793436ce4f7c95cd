"""Comparison 6, storage size: bytes for the same notes and edits, yloft vs y-indexeddb.

    .venv/bin/python bench/bench_size.py [--quick] [--notes 10000] [--edits 100000]

Headless Chromium with a fresh on-disk profile. The same notes go into a yloft Store on
OPFS and into y-indexeddb 9.0.12 (its defaults: one IndexedDB database per document);
then the same pattern of small edits (alternately a 5-character text insert and a title
change, spread evenly over the notes, each edit its own durable transaction) is applied
to both. Measured after the notes and again after the edits:
- yloft: the OPFS files' sizes (database + WAL/journal), and its pages in use;
- y-indexeddb: the bytes of the updates it stores;
- on disk: the profile's ``File System`` (OPFS) and ``IndexedDB`` folders (while the
  browser runs, and after it closed for the final state);
- where yloft's bytes go: its database file copied out of the profile and read with
  CPython's sqlite3 ``dbstat`` (bytes per table, indexes counted with their table);
- the baseline: the documents' compacted Yjs state (``encodeStateAsUpdate``), the least
  any store of these documents must keep.
Then (issue 16) the store is exported to a file and imported into an empty store: the
file's size beside the database and y-indexeddb's bytes, and the export and import times
beside copying the database file (all three write to memory, MEMFS /tmp).
One run (sizes do not vary between rounds). Writes bench/results/size.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from _browser import BenchBrowser
from figures import comp

RESULTS = Path(__file__).resolve().parent / "results"
BASE = "compacted Yjs state"
COPY = "floor: copy the database file"


def head(path: Path) -> bytes:
    """A file's first 16 bytes (where SQLite writes its magic string)."""
    with path.open("rb") as f:
        return f.read(16)


def table_bytes(folder: Path) -> dict[str, int]:
    """Bytes per table (its indexes included) of the largest SQLite file under ``folder``.

    Chromium keeps OPFS files as plain files in the profile, so CPython's sqlite3 reads a
    copy of yloft's database with the ``dbstat`` table: where the bytes go.
    """
    files = [f for f in folder.rglob("*") if f.is_file() and f.stat().st_size >= 100]
    dbs = [f for f in files if head(f) == b"SQLite format 3\x00"]
    if not dbs:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.db"
        shutil.copyfile(max(dbs, key=lambda f: f.stat().st_size), copy)
        con = sqlite3.connect(copy)
        try:
            owner = dict(con.execute("SELECT name, tbl_name FROM sqlite_schema"))
            out: dict[str, int] = {}
            for name, size in con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
                table = owner.get(name, name)
                out[table] = out.get(table, 0) + int(size)
        finally:
            con.close()
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def breakdown_note(tables: dict[str, int]) -> str:
    """The report's line saying where yloft's bytes go."""
    total = sum(tables.values()) or 1
    parts = [f"{name} {size / 1e6:.1f} MB ({100 * size / total:.0f} %)"
             for name, size in tables.items() if size / total >= 0.01]  # fmt: skip
    return "yloft's database by table (dbstat, indexes counted with their table): " + (
        ", ".join(parts) if parts else "not measured"
    )


def measure(lab: BenchBrowser, n: int) -> dict[str, Any]:
    pages = lab.call("py", "db_pages", [])
    sizes = lab.call("yidbSizes", {"prefix": "s", "n": n})
    return {
        "yloft_files": lab.call("opfsBytes", "/yloft"),
        "yloft_pages_in_use_bytes": (pages["page_count"] - pages["freelist"]) * pages["page_size"],
        "yloft_state_bytes": lab.call("py", "state_bytes", []),
        "yidb": sizes,
        "disk_opfs_bytes": lab.profile_bytes("File System"),
        "disk_indexeddb_bytes": lab.profile_bytes("IndexedDB"),
        "yloft_table_bytes": table_bytes(lab.profile / "Default" / "File System"),
    }


def subjects(m: dict[str, Any]) -> dict[str, float]:
    return {
        "yloft OPFS files": sum(m["yloft_files"].values()),
        "yloft on disk (profile OPFS folder)": m["disk_opfs_bytes"],
        "y-indexeddb stored updates": m["yidb"]["stored_update_bytes"],
        "y-indexeddb on disk (profile IndexedDB folder)": m["disk_indexeddb_bytes"],
        BASE: m["yidb"]["state_bytes"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 notes, 1,000 edits")
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--edits", type=int, default=100_000)
    args = ap.parse_args()
    n, edits = (300, 1000) if args.quick else (args.notes, args.edits)
    t0 = time.monotonic()
    with BenchBrowser() as lab:
        lab.call("loadPython")
        lab.call("mount", {"name": "notes", "path": "/yloft"})
        lab.call("py", "open_store", ["/yloft/notes.db"], "/yloft")
        timing: dict[str, Any] = {"yloft_fill": lab.call("py", "fill", [n])}
        timing["yidb_create"] = lab.call("yidbCreate", {"prefix": "s", "n": n})
        after_notes = measure(lab, n)
        print("after notes:", json.dumps(subjects(after_notes)), flush=True)
        timing["yloft_edits"] = lab.call("py", "many_edits", [edits])
        timing["yidb_edits"] = lab.call("yidbManyEdits", {"prefix": "s", "n": n, "edits": edits})
        after_edits = measure(lab, n)
        print("after edits:", json.dumps(subjects(after_edits)), flush=True)
        moved = lab.call("py", "export_import", ["/yloft"])
        assert moved["rows"] == n, moved
        print("export/import:", json.dumps(moved), flush=True)
        lab.call("py", "close_store", [])
        lab.ctx.close()
        lab.ctx = None
        closed = {
            "disk_opfs_bytes": lab.profile_bytes("File System"),
            "disk_indexeddb_bytes": lab.profile_bytes("IndexedDB"),
        }
    final = {**after_edits, **closed}
    comparisons = [
        comp("size.notes", f"Bytes for {n:,} notes (Chromium)", "bytes", BASE,
             subjects(after_notes), floors=[BASE], note="measured while the browser runs. "
             + breakdown_note(after_notes["yloft_table_bytes"])),
        comp("size.edits", f"Bytes after {edits:,} more edits (Chromium)", "bytes", BASE,
             subjects(final), note="on-disk folders measured after the browser closed. "
             + breakdown_note(after_edits["yloft_table_bytes"]),
             floors=[BASE]),
        comp("size.export", f"Export file of {n:,} notes after the edits (Chromium)", "bytes",
             BASE, {"yloft export file": moved["file_bytes"], **{
                 k: v for k, v in subjects(after_edits).items()
                 if k in ("yloft OPFS files", "y-indexeddb stored updates", BASE)}},
             floors=[BASE]),
        comp("size.export_time", f"Export and import of {n:,} notes (Pyodide)", "ms", COPY,
             {"export to a file": moved["export_ms"],
              "import into an empty store": moved["import_ms"], COPY: moved["copy_ms"]},
             floors=[COPY]),
    ]  # fmt: skip
    result = {"notes": n, "edits": edits, "timing": timing, "export_import": moved,
              "after_notes": after_notes,
              "after_edits_running": after_edits, "after_edits_closed": closed,
              "wall_s": time.monotonic() - t0, "comparisons": comparisons}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "size.json").write_text(json.dumps(result, indent=1))
    for c in comparisons:
        for s in c["subjects"]:
            print(f"{c['id']:11} {s['name']:48} {s['median']:14,.0f} B  x{s['ratio']:.2f}")


if __name__ == "__main__":
    main()
