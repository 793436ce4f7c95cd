"""Comparison 3, cold start: from navigation to the first query result.

    .venv/bin/python bench/bench_coldstart.py [--quick] [--notes 10000] [--rounds 3]

Headless Chromium with a fresh on-disk profile. Set-up: the same notes are stored in a
yloft Store on OPFS and in y-indexeddb 9.0.12 (one database per document). Then, each
round, a fresh navigation to the bench page (new page, new worker; Pyodide's files come
from the local server, revalidated like the app's) measures, from the page's navigation
start (its performance.timeOrigin) to:
- yloft: Pyodide + micropip + the yloft wheel loaded, OPFS mounted, Store opened, and
  ``done = 0 AND title > 'm' ORDER BY title LIMIT 50`` answered;
- bare Pyodide: ``loadPyodide()`` done and ``1 + 1`` evaluated (the floor of any
  Python-in-the-browser app);
- y-indexeddb: every note loaded (50 databases at a time) and the same query answered
  in JS (the two results are checked to be equal).
The order of the three rotates every round; a warm-up round runs first (not with
--quick, a smoke run). Writes
bench/results/coldstart.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _browser import BenchBrowser
from figures import comp

RESULTS = Path(__file__).resolve().parent / "results"
NAMES = {"yloft": "yloft (Pyodide + Store on OPFS)", "bare": "bare Pyodide load",
         "yidb": "y-indexeddb, load all notes"}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 notes, 1 round, no warm-up")
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    n, rounds = (300, 1) if args.quick else (args.notes, args.rounds)
    t0 = time.monotonic()
    samples: dict[str, list[float]] = {k: [] for k in NAMES}
    parts: dict[str, list[dict[str, float]]] = {"yloft": [], "bare": []}
    with BenchBrowser() as lab:
        lab.call("loadPython")
        lab.call("mount", {"name": "notes", "path": "/yloft"})
        lab.call("py", "open_store", ["/yloft/notes.db"], "/yloft")
        lab.call("py", "fill", [n])
        lab.call("py", "close_store", [])
        lab.call("unmount", "/yloft")
        lab.call("yidbCreate", {"prefix": "c", "n": n})
        order = list(NAMES)
        warm = 0 if args.quick else 1  # a smoke run skips the warm-up round
        for r in range(1 - warm, rounds + 1):  # round 0 is the warm-up
            results = {}
            for mode in order:
                results[mode] = lab.cold(f"?cold={mode}&prefix=c&n={n}&arg=m")
            if results["yloft"]["titles"] != results["yidb"]["titles"]:
                raise SystemExit("yloft and y-indexeddb answered the query differently")
            order = order[1:] + order[:1]
            if r == 0:
                continue
            for mode, res in results.items():
                samples[mode].append(res["navigation_to_result_ms"])
                if mode in parts:
                    parts[mode].append({k: res[k] for k in ("pyodide_ms", "total_ms")})
            line = ", ".join(f"{k} {v[-1]:.0f} ms" for k, v in samples.items())
            print(f"round {r}/{rounds}: {line}", flush=True)
    comparisons = [
        comp("coldstart.first_result", f"Navigation to first query result, {n:,} notes "
             "(Chromium)", "ms", NAMES["yidb"], {NAMES[k]: v for k, v in samples.items()},
             floors=[NAMES["bare"]]),
    ]  # fmt: skip
    result = {"notes": n, "rounds": rounds, "parts": parts, "wall_s": time.monotonic() - t0,
              "comparisons": comparisons}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "coldstart.json").write_text(json.dumps(result, indent=1))
    for s in comparisons[0]["subjects"]:
        print(f"{s['name']:34} median {s['median']:9.0f} ms  x{s['ratio']:.3f}")


if __name__ == "__main__":
    main()
