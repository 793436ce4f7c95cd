"""yloft.crdt's Yjs engine (Python in Pyodide) against plain JS Yjs, same Node process.

    .venv/bin/python bench/bench_crdt.py [--rounds 7] [--quick]

Runs bench/bench_crdt.mjs under ``node --expose-gc``. Measured, interleaved round by
round so machine noise hits both sides alike (issue 4):

- ``map_sets``: 10,000 single-key ``Map`` sets in one transaction;
- ``text_inserts``: 10,000 one-character ``Text`` inserts, each its own transaction
  (``text.insert(i, "x")``; ``text_iadd_txn`` is ``with doc.transaction(): text += "x"``);
- ``get_update_100k``: ``doc.get_update()`` of a ~100 KB document (the same Y.Doc on
  both sides), per call;
- ``apply_update_100k``: ``Doc().apply_update(update)`` of that document, per call;
- ``apply_small_updates``: 200 one-character remote edits applied one by one to a
  replica of that document, per update (``apply_small_updates_warm``: the 199 after the
  first, which on the Yjs engine pays for building the document's vetting copy);
- heap over 100,000 edits (25,000 rounds of set/insert/delete/read), after full GCs.

Prints medians, the ratio of medians and the median of per-round Python/JS ratios
("paired"); writes bench/results/crdt.json. This file is also
imported inside Pyodide by the .mjs driver for the Python side of each measurement.
"""

from __future__ import annotations

import time
from typing import Any

BIG: Any = None


# ----------------------------------------------------- Python side (inside Pyodide)


def map_sets(n: int, repeat: int) -> float:
    from yloft.crdt import Doc, Map

    doc = Doc()
    m = doc.get("m", type=Map)
    t0 = time.perf_counter()
    with doc.transaction():
        for i in range(n):
            m[f"k{i}"] = i
    return (time.perf_counter() - t0) * 1000


def text_inserts(n: int, repeat: int) -> float:
    from yloft.crdt import Doc, Text

    doc = Doc()
    t = doc.get("t", type=Text)
    t0 = time.perf_counter()
    for i in range(n):
        t.insert(i, "x")
    return (time.perf_counter() - t0) * 1000


def text_iadd_txn(n: int, repeat: int) -> float:
    from yloft.crdt import Doc, Text

    doc = Doc()
    t = doc.get("t", type=Text)
    t0 = time.perf_counter()
    for _ in range(n):
        with doc.transaction():
            t += "x"
    return (time.perf_counter() - t0) * 1000


def build_big_doc() -> None:
    """A document whose update is about 100 KB: text edited in many places, a map."""
    import random

    from yloft.crdt import Array, Doc, Map, Text

    global BIG
    rng = random.Random(4)
    doc = Doc(client_id=1)
    text = doc.get("body", type=Text)
    meta = doc.get("meta", type=Map)
    for i in range(4000):
        with doc.transaction():
            text.insert(rng.randint(0, len(text)), f"word{i} ")
            if i % 10 == 0:
                meta[f"field{i % 300}"] = {"n": i, "tags": ["a", "b"], "title": f"t{i}"}
            if i % 50 == 0:
                meta[f"list{i}"] = Array([1, 2, Map({"x": "y"})])
    BIG = doc


def get_update_100k(n: int, repeat: int) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        BIG.get_update()
    return (time.perf_counter() - t0) * 1000 / repeat


def apply_update_100k(n: int, repeat: int) -> float:
    from yloft.crdt import Doc

    update = BIG.get_update()
    t0 = time.perf_counter()
    for _ in range(repeat):
        Doc().apply_update(update)
    return (time.perf_counter() - t0) * 1000 / repeat


_SMALL: list[bytes] = []


def small_updates() -> Any:
    """200 one-character edits of BIG made on a copy, each as its own update (JS array)."""
    from pyodide.ffi import to_js

    from yloft.crdt import Doc, Text

    if not _SMALL:
        source = Doc()
        source.apply_update(BIG.get_update())
        source.observe(lambda event: _SMALL.append(event.update))
        text = source.get("body", type=Text)
        for i in range(200):
            text.insert(i * 7, "x")
    return to_js([to_js(u) for u in _SMALL])


def apply_small_updates(n: int, repeat: int) -> float:
    from yloft.crdt import Doc

    replica = Doc()
    replica.apply_update(BIG.get_update())
    t0 = time.perf_counter()
    for update in _SMALL:
        replica.apply_update(update)
    return (time.perf_counter() - t0) * 1000 / len(_SMALL)


def apply_small_updates_warm(n: int, repeat: int) -> float:
    """The same edits after the first: the replica already took one remote update."""
    from yloft.crdt import Doc

    replica = Doc()
    replica.apply_update(BIG.get_update())
    replica.apply_update(_SMALL[0])
    t0 = time.perf_counter()
    for update in _SMALL[1:]:
        replica.apply_update(update)
    return (time.perf_counter() - t0) * 1000 / (len(_SMALL) - 1)


_MEM: dict[str, Any] = {}


def memory_setup() -> None:
    from yloft.crdt import Doc, Map, Text

    doc = Doc()
    _MEM.update(doc=doc, m=doc.get("m", type=Map), t=doc.get("t", type=Text))


def memory_chunk(rounds: int) -> None:
    """Set/insert/delete/read like the JS side, plus an observer added and removed."""
    import gc

    doc, m, t = _MEM["doc"], _MEM["m"], _MEM["t"]
    sub = doc.observe(lambda event: None)
    for i in range(rounds):
        m["k"] = i
        t.insert(0, "x")
        del t[0]
        m["k"]
    doc.unobserve(sub)
    gc.collect()


# ------------------------------------------------------------ host side (CPython)


def main() -> None:
    import argparse
    import json
    import statistics
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 1 round, heap tracked over 20,000 edits only",
    )
    args = parser.parse_args()
    rounds, chunks = (1, 2) if args.quick else (args.rounds, 10)
    out = subprocess.run(
        ["node", "--expose-gc", str(root / "bench" / "bench_crdt.mjs"), str(root),
         str(rounds), str(chunks)],
        cwd=root, check=False, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"bench_crdt.mjs failed ({out.returncode}):\n{out.stderr[-4000:]}")
    raw = json.loads(out.stdout)
    summary: dict[str, Any] = {"n": raw["n"], "rounds": raw["rounds"],
                               "big_update_bytes": raw["big_update_bytes"], "ops": {}}  # fmt: skip
    print(f"{'operation':<22}{'plain Yjs ms':>14}{'yloft.crdt ms':>15}{'ratio':>8}"
          f"{'paired':>8}")  # fmt: skip
    for op, sides in raw["times"].items():
        py_ms = statistics.median(sides["py"])
        row: dict[str, Any] = {"py_median_ms": py_ms, "py_ms": sides["py"]}
        if "js" in sides:
            js_ms = statistics.median(sides["js"])
            # Median of the per-round ratios: each round's pair ran back to back, so
            # this is steadier than the ratio of medians on a busy machine.
            paired = statistics.median(p / j for p, j in zip(sides["py"], sides["js"], strict=True))
            row.update(js_median_ms=js_ms, js_ms=sides["js"], ratio=py_ms / js_ms,
                       paired_ratio=paired)  # fmt: skip
            print(f"{op:<22}{js_ms:>14.3f}{py_ms:>15.3f}{py_ms / js_ms:>8.2f}{paired:>8.2f}")
        else:
            print(f"{op:<22}{'':>14}{py_ms:>15.3f}{'':>8}")
        summary["ops"][op] = row
    mem = raw["memory"]
    summary["memory"] = mem
    for side in ("js", "py"):
        series = mem[side]
        first, after1, last = series[0], series[1], series[-1]
        growth = last["js_heap_used"] - after1["js_heap_used"]
        wasm = last["wasm_memory"] - first["wasm_memory"]
        summary[f"heap_growth_{side}_chunks_2_to_10_bytes"] = growth
        print(f"heap {side}: JS heap used after chunk 1 = {after1['js_heap_used'] / 1e6:.2f} MB, "
              f"after chunk 10 = {last['js_heap_used'] / 1e6:.2f} MB "
              f"(+{growth / 1e6:.2f} MB over {(len(series) - 2) * 10_000:,} edits); "
              f"wasm memory {first['wasm_memory'] / 1e6:.1f} -> {last['wasm_memory'] / 1e6:.1f} MB "
              f"(+{wasm / 1e6:.1f})")  # fmt: skip
    results = root / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "crdt.json").write_text(json.dumps(summary, indent=1))
    print(f"update size of the big document: {raw['big_update_bytes']} bytes")
    print(f"wrote {results / 'crdt.json'}")


if __name__ == "__main__":
    main()
