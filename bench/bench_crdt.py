"""yloft.crdt's Yjs engine (Python in Pyodide) against plain JS Yjs, in Node.

    .venv/bin/python bench/bench_crdt.py [--rounds 21] [--quick]

Each side runs in its own ``node --expose-gc bench/bench_crdt.mjs`` process: the
Python side loads Pyodide and yloft.crdt, the JS side loads Yjs alone (no Pyodide in its
heap, as in a page that uses Yjs alone). This script drives both, one round at a time:
the two processes take turns, alternating which goes first, and the one waiting is idle
with its heap already collected. Before each timed operation its process runs Python's
``gc.collect()`` (Python side) and a V8 minor GC (``gc({type: "minor"})``), so no op
pays for the young garbage of the op before it. One warm-up round runs first on both
sides and is not counted; then 21 counted rounds (``--quick``: 3), each op once per
side per round. Measured (issue 4's operations):

- ``map_sets``: 10,000 single-key ``Map`` sets in one transaction;
- ``text_inserts``: 10,000 one-character ``Text`` inserts, each its own transaction
  (``text.insert(i, "x")``; ``text_iadd_txn`` is ``with doc.transaction(): text += "x"``);
- ``get_update_100k``: ``doc.get_update()`` of a ~100 KB document, per call (each side
  its own copy loaded from the same update; see ``build_big_doc``);
- ``apply_update_100k``: ``Doc().apply_update(update)`` of that document, per call;
- ``apply_small_updates``: 200 one-character remote edits applied one by one to a
  replica of that document, per update (``apply_small_updates_warm``: the 199 after the
  first, which on the Yjs engine pays for building the document's vetting copy);
- heap over 100,000 edits (25,000 rounds of set/insert/delete/read), after full GCs,
  each side in its own process.

Why this order (issue 27). Before, both sides shared one process over 7 rounds with no
warm-up, alternating which side went first: when plain Yjs ran right after Python's
``apply_update_100k`` it collected Python's garbage, and its small-update times split
into two groups (12-19 us against 4-6 us), so the baseline's median fell in the slow
group in most runs. Tried on 2026-12-07, 15 rounds, three runs each on this shared
2-core machine: a process per side with a minor GC before each op, and one process
interleaved op by op with a minor GC before each op, gave alike spreads of the paired
ratios (interquartile range 12-79 % and 20-74 % of the median across ops, in the two
runs each at load 4-5; the first, at load 7, was wider for both); a process
per side with no GC before an op was wider, and its Python warm small update was 3x
slower in two runs of three. A major GC before each op, the only way to clear in a
shared heap the old generation another op left, slowed the op after it (plain Yjs's
map sets 5 -> 40 ms in isolation). A process per side is kept: it keeps the other
side's garbage out by construction rather than by GC calls. ``--one-process`` and
``--gc`` run the alternatives.

Prints and writes to bench/results/crdt.json, per op and side, the samples and their
min/median/max; the ratio of medians; and the per-round Python/JS ratios ("paired",
each round's two measurements ran back to back) with their min/median/max. 21 rounds:
in resamples of these runs, the paired median of the small-update and map-set rows
moved +-9-11 % (90 %) against +-22-26 % with 7. This file is also imported inside
Pyodide by the .mjs driver for the Python side of each measurement.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

BIG: Any = None
N = 10_000  # edits per map_sets / text_inserts (the .mjs's N)
ROUNDS = 21  # counted rounds of a full run


# ----------------------------------------------------- Python side (inside Pyodide)


def map_sets(n: int, repeat: int) -> float:
    from yloft.crdt import Doc, Map

    doc: Doc[Any] = Doc()
    m = doc.get("m", type=Map)
    t0 = time.perf_counter()
    with doc.transaction():
        for i in range(n):
            m[f"k{i}"] = i
    return (time.perf_counter() - t0) * 1000


def text_inserts(n: int, repeat: int) -> float:
    from yloft.crdt import Doc, Text

    doc: Doc[Any] = Doc()
    t = doc.get("t", type=Text)
    t0 = time.perf_counter()
    for i in range(n):
        t.insert(i, "x")
    return (time.perf_counter() - t0) * 1000


def text_iadd_txn(n: int, repeat: int) -> float:
    from yloft.crdt import Doc, Text

    doc: Doc[Any] = Doc()
    t = doc.get("t", type=Text)
    t0 = time.perf_counter()
    for _ in range(n):
        with doc.transaction():
            t += "x"
    return (time.perf_counter() - t0) * 1000


def build_big_doc() -> None:
    """A document whose update is about 100 KB: text edited in many places, a map.

    ``BIG`` is a copy loaded from the edited document's update, as the JS side's is: Yjs
    encodes a document built by 4,000 edits about twice as slowly as the same document
    loaded from its update (the bytes are identical), so both sides encode a loaded one.
    """
    import random

    from yloft.crdt import Array, Doc, Map, Text

    global BIG
    rng = random.Random(4)
    doc: Doc[Any] = Doc(client_id=1)
    text = doc.get("body", type=Text)
    meta = doc.get("meta", type=Map)
    for i in range(4000):
        with doc.transaction():
            text.insert(rng.randint(0, len(text)), f"word{i} ")
            if i % 10 == 0:
                meta[f"field{i % 300}"] = {"n": i, "tags": ["a", "b"], "title": f"t{i}"}
            if i % 50 == 0:
                meta[f"list{i}"] = Array([1, 2, Map({"x": "y"})])
    BIG = Doc()
    BIG.apply_update(doc.get_update())


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
    from pyodide.ffi import to_js  # type: ignore[import-not-found]

    from yloft.crdt import Doc, Text

    if not _SMALL:
        source: Doc[Any] = Doc()
        source.apply_update(BIG.get_update())
        source.observe(lambda event: _SMALL.append(event.update))
        text = source.get("body", type=Text)
        for i in range(200):
            text.insert(i * 7, "x")
    return to_js([to_js(u) for u in _SMALL])


def apply_small_updates(n: int, repeat: int) -> float:
    from yloft.crdt import Doc

    replica: Doc[Any] = Doc()
    replica.apply_update(BIG.get_update())
    t0 = time.perf_counter()
    for update in _SMALL:
        replica.apply_update(update)
    return (time.perf_counter() - t0) * 1000 / len(_SMALL)


def apply_small_updates_warm(n: int, repeat: int) -> float:
    """The same edits after the first: the replica already took one remote update."""
    from yloft.crdt import Doc

    replica: Doc[Any] = Doc()
    replica.apply_update(BIG.get_update())
    replica.apply_update(_SMALL[0])
    t0 = time.perf_counter()
    for update in _SMALL[1:]:
        replica.apply_update(update)
    return (time.perf_counter() - t0) * 1000 / (len(_SMALL) - 1)


def collect() -> None:
    """Python's cycle collector, run before each timed op (with V8's full GC)."""
    import gc

    gc.collect()


_MEM: dict[str, Any] = {}


def memory_setup() -> None:
    from yloft.crdt import Doc, Map, Text

    doc: Doc[Any] = Doc()
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


class _Side:
    """One ``node bench/bench_crdt.mjs`` process (side "js", "py" or "both"), one JSON
    line per command each way."""

    def __init__(self, root: Path, side: str) -> None:
        import subprocess

        self.side = side
        cmd = ["node", "--expose-gc", str(root / "bench" / "bench_crdt.mjs"), str(root), side]
        self.proc = subprocess.Popen(
            cmd, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.hello = self._read()

    def _read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise SystemExit(f"bench_crdt.mjs ({self.side}) exited ({code}); its stderr is above")
        return json.loads(line)

    def ask(self, **msg: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        import subprocess

        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write('{"cmd": "quit"}\n')
                self.proc.stdin.close()
                self.proc.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def _spread(values: list[float]) -> dict[str, float]:
    import statistics

    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def measure(
    root: Path, rounds: int, warmup: int, chunks: int, one_process: bool, gc: str
) -> tuple[dict[str, dict[str, list[float]]], dict[str, Any], int, dict[str, Any]]:
    """Run the rounds: per op and side, the counted rounds' times (ms); the heap series
    per side; the big document's update size; the Node and Pyodide versions."""
    import base64
    import sys

    procs: list[_Side] = []
    try:
        if one_process:
            procs.append(_Side(root, "both"))
            data = procs[0].ask(cmd="data")
        else:
            # Python's process builds the document and its updates; the JS process loads
            # Yjs alone and takes them as bytes.
            procs.append(_Side(root, "py"))
            data = procs[0].ask(cmd="data")
            procs.append(_Side(root, "js"))
            procs[1].ask(cmd="data", big=data["big"], small=data["small"])
        times: dict[str, dict[str, list[float]]] = {}
        for r in range(warmup + rounds):
            # Alternate which process goes first (in one process, the .mjs alternates
            # op by op); the other waits on its stdin, idle and already collected.
            got: dict[str, dict[str, float]] = {}
            for proc in procs if r % 2 == 0 else procs[::-1]:
                for op, sides in proc.ask(cmd="round", round=r, gc=gc)["times"].items():
                    got.setdefault(op, {}).update(sides)
            note = " (warm-up, not counted)" if r < warmup else ""
            print(f"round {r + 1}/{warmup + rounds}{note}", file=sys.stderr, flush=True)
            if r >= warmup:
                for op, sides in got.items():
                    for side, ms in sides.items():
                        times.setdefault(op, {}).setdefault(side, []).append(ms)
        memory: dict[str, Any] = {}
        for proc in procs:
            memory.update(proc.ask(cmd="memory", chunks=chunks)["memory"])
    finally:
        for proc in procs:
            proc.close()
    versions = {p.side: p.hello["versions"] for p in procs}
    return times, memory, len(base64.b64decode(data["big"])), versions


def summarize(
    times: dict[str, dict[str, list[float]]],
    memory: dict[str, Any],
    **about: Any,
) -> dict[str, Any]:
    """crdt.json: ``about`` (rounds, warmup, method...), then per op each side's samples
    and min/median/max, the ratio of medians and the per-round ratios ("paired") with
    their min/median/max; the heap series and growth per side."""
    summary: dict[str, Any] = {"n": N, **about, "ops": {}}
    summary["warmup_rounds"] = summary.pop("warmup", 0)
    summary["big_update_bytes"] = summary.pop("big_bytes", 0)
    for op, sides in times.items():
        row: dict[str, Any] = {}
        for side in ("js", "py"):
            if side in sides:
                s = _spread(sides[side])
                row.update({f"{side}_median_ms": s["median"], f"{side}_min_ms": s["min"],
                            f"{side}_max_ms": s["max"], f"{side}_ms": sides[side]})  # fmt: skip
        if "js" in sides:
            # Each round's pair ran back to back, so the per-round ratios are steadier
            # than the ratio of medians on a busy machine; their spread is kept too.
            ratios = [p / j for p, j in zip(sides["py"], sides["js"], strict=True)]
            paired = _spread(ratios)
            row.update(ratio=row["py_median_ms"] / row["js_median_ms"],
                       paired_ratio=paired["median"], paired_min=paired["min"],
                       paired_max=paired["max"], paired_ratios=ratios)  # fmt: skip
        summary["ops"][op] = row
    summary["memory"] = memory
    for side, series in memory.items():
        growth = series[-1]["js_heap_used"] - series[1]["js_heap_used"]
        summary[f"heap_growth_{side}_chunks_2_to_10_bytes"] = growth
    return summary


def show(summary: dict[str, Any]) -> None:
    def cell(r: dict[str, Any], s: str) -> str:
        return f"{r[s + '_median_ms']:.4g} ({r[s + '_min_ms']:.3g}-{r[s + '_max_ms']:.3g})"

    print(f"{'operation':<26}{'plain Yjs ms (min-max)':>28}{'yloft.crdt ms (min-max)':>28}"
          f"{'ratio':>7}{'paired (min-max)':>20}")  # fmt: skip
    for op, row in summary["ops"].items():
        if "js_ms" in row:
            print(f"{op:<26}{cell(row, 'js'):>28}{cell(row, 'py'):>28}{row['ratio']:>7.2f}"
                  f"{row['paired_ratio']:>8.2f} ({row['paired_min']:.2f}-"
                  f"{row['paired_max']:.2f})")  # fmt: skip
        else:
            print(f"{op:<26}{'':>28}{cell(row, 'py'):>28}")
    for side, series in summary["memory"].items():
        first, after1, last = series[0], series[1], series[-1]
        growth = summary[f"heap_growth_{side}_chunks_2_to_10_bytes"]
        wasm = last["wasm_memory"] - first["wasm_memory"]
        print(f"heap {side}: JS heap used after chunk 1 = {after1['js_heap_used'] / 1e6:.2f} MB, "
              f"after chunk {len(series) - 1} = {last['js_heap_used'] / 1e6:.2f} MB "
              f"(+{growth / 1e6:.2f} MB over {(len(series) - 2) * 10_000:,} edits)"
              + (f"; wasm memory {first['wasm_memory'] / 1e6:.1f} -> "
                 f"{last['wasm_memory'] / 1e6:.1f} MB (+{wasm / 1e6:.1f})"
                 if first["wasm_memory"] else ""))  # fmt: skip
    print(f"update size of the big document: {summary['big_update_bytes']} bytes")


def main() -> None:
    import argparse

    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="counted rounds")
    parser.add_argument("--warmup", type=int, default=1, help="rounds run first, not counted")
    parser.add_argument(
        "--quick", action="store_true",
        help="smoke run: 3 counted rounds, heap tracked over 20,000 edits only",
    )  # fmt: skip
    parser.add_argument(
        "--one-process", action="store_true",
        help="both sides in one Node process, op by op (the method not chosen, to compare)",
    )  # fmt: skip
    parser.add_argument(
        "--gc", choices=["minor", "major", "none"], default="minor",
        help="V8 collection before each timed op, with Python's gc.collect() unless none",
    )  # fmt: skip
    args = parser.parse_args()
    rounds, chunks = (3, 2) if args.quick else (args.rounds, 10)
    times, memory, big_bytes, versions = measure(
        root, rounds, args.warmup, chunks, args.one_process, args.gc
    )
    method = "one process, op by op" if args.one_process else "a process per side"
    summary = summarize(times, memory, rounds=rounds, warmup=args.warmup, quick=args.quick,
                        method=method, gc=args.gc, big_bytes=big_bytes,
                        versions=versions)  # fmt: skip
    show(summary)
    results = root / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "crdt.json").write_text(json.dumps(summary, indent=1))
    print(f"wrote {results / 'crdt.json'}")


if __name__ == "__main__":
    main()
