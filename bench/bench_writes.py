"""Comparison 1, durable local writes: small edits to 100 documents, each one durable.

    .venv/bin/python bench/bench_writes.py [--quick] [--docs 100] [--rounds 7]

Headless Chromium, one dedicated worker; per round each of the documents gets one small
edit (a number set in a map), committed durably before the next edit starts:
- yloft: ``with notes.edit(id)`` on a Store on OPFS; commit = SQLite COMMIT + the
  storage flush (the Store's on_commit hook);
- JS Yjs + y-indexeddb 9.0.12 (defaults): ``map.set`` then wait until IndexedDB
  committed the write (a readonly transaction queued behind it);
- floor 1: raw SQLite in the same Pyodide on the same OPFS storage: insert yloft's
  update bytes of that round into a plain table, one transaction + flush each;
- floor 2: raw OPFS: append the same bytes through a sync access handle + ``flush()``.
A warm-up round runs first for every subject. Figures: ms per durable edit, one value
per round (the round's mean), min/median/max over rounds. Writes
bench/results/writes.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from _browser import BenchBrowser
from figures import comp

RESULTS = Path(__file__).resolve().parent / "results"
NAMES = {
    "yloft": "yloft (OPFS)",
    "yidb": "JS Yjs + y-indexeddb",
    "sqlite": "floor: raw SQLite, same bytes",
    "opfs": "floor: raw OPFS write + flush",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds")
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    n, rounds = args.docs, (2 if args.quick else args.rounds)
    t0 = time.monotonic()
    samples: dict[str, list[float]] = {k: [] for k in NAMES}
    update_bytes: list[int] = []
    yidb_bytes: list[int] = []
    with BenchBrowser() as lab:
        lab.call("loadPython")
        lab.call("mount", {"name": "notes", "path": "/yloft"})
        lab.call("py", "open_store", ["/yloft/notes.db"], "/yloft")
        lab.call("py", "fill", [n])
        lab.call("mount", {"name": "raw", "path": "/raw"})
        lab.call("py", "raw_sqlite_setup", ["/raw/raw.db"], "/raw")
        lab.call("yidbCreate", {"prefix": "w", "n": n})
        for r in range(rounds + 1):  # round 0 is the warm-up
            ours = lab.call("py", "edit_round", [float(r * n)])
            updates = ours["updates"]
            raw = lab.call("py", "raw_sqlite_round", [updates])
            opfs = lab.call("rawOpfs", {"file": "raw.bin", "updates": updates, "rounds": 1})
            yidb = lab.call("yidbEdits", {"prefix": "w", "n": n, "rounds": 1, "start": r * n})
            if r == 0:
                update_bytes = [len(u) for u in updates]
                yidb_bytes = yidb["update_bytes"]
                continue
            samples["yloft"].append(ours["per_edit_ms"])
            samples["sqlite"].append(raw["per_edit_ms"])
            samples["opfs"].append(opfs["per_edit_ms"][0])
            samples["yidb"].append(yidb["per_edit_ms"][0])
            last = ", ".join(f"{k} {v[-1]:.3f} ms" for k, v in samples.items())
            print(f"round {r}/{rounds}: {last}", flush=True)
    comparisons = [
        comp("writes.edit", f"Durable small edit, {n} documents (Chromium)", "ms",
             NAMES["yidb"], {NAMES[k]: v for k, v in samples.items()},
             floors=[NAMES["sqlite"], NAMES["opfs"]],
             note=f"update bytes per edit (median): yloft {statistics.median(update_bytes)}, "
                  f"y-indexeddb {statistics.median(yidb_bytes)}"),
    ]  # fmt: skip
    result = {"docs": n, "rounds": rounds, "wall_s": time.monotonic() - t0,
              "comparisons": comparisons}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "writes.json").write_text(json.dumps(result, indent=1))
    for s in comparisons[0]["subjects"]:
        print(f"{s['name']:32} median {s['median']:8.3f} ms per edit  x{s['ratio']:.3f}")


if __name__ == "__main__":
    main()
