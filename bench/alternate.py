"""Before/after one change: the same benchmarks run from two checkouts, alternating.

    .venv/bin/python bench/alternate.py --before /tmp/before --after . \\
        --only store,writes,tabs,relay --rounds 3

Each checkout runs its own code with its own ``.venv`` (set one up with
``python3 build.py build`` there). Round 1 runs every benchmark *before* then *after*,
round 2 *after* then *before*, and so on, so neither side always runs on a machine the
other just warmed or dirtied. Each run's JSON is read with this checkout's
``bench/figures.py`` (the result format is the same on both sides) and every subject's
ratio to its baseline **in the same run** is kept, and its own median: the table shows,
per comparison and row, the median over the rounds on each side, the spread (min-max)
and the change after ÷ before. Run settings are those of ``bench/run.py``'s full runs, except
where ``SETTINGS`` below shortens one (the same on both sides).

Written: ``bench/results/alternate-<UTC time>.json`` and ``.md`` (not committed; quote
the table where the change is discussed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as suite  # noqa: E402

SETTINGS = {
    # the relay's full run is 3 load rounds and 6 capacity steps of 3 runs (~15 min); one
    # round and 3 single-run steps keep three alternating rounds of four benchmarks short
    "relay": [
        "--seconds",
        "20",
        "--rounds",
        "1",
        "--capacity-step-s",
        "5",
        "--capacity-trials",
        "3",
        "--capacity-repeats",
        "1",
    ],
}


def run_one(tree: Path, bench: suite.Bench) -> list[dict[str, Any]]:
    """Run ``bench`` from checkout ``tree``; its comparisons (raises on failure)."""
    py = tree / ".venv" / "bin" / "python"
    output = tree / "bench" / "results" / bench.output
    output.unlink(missing_ok=True)
    args = SETTINGS.get(bench.name, bench.full)
    cmd = [str(py), f"bench/{bench.script}", *args]
    proc = subprocess.run(
        cmd, cwd=tree, capture_output=True, text=True, timeout=bench.timeout_s, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"{bench.name} in {tree} failed:\n{(proc.stderr or proc.stdout)[-2000:]}")
    return bench.to_comparisons(json.loads(output.read_text()))


def ratios(comparisons: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """(comparison id, row) -> a subject's ratio to the run's baseline, or its own median."""
    out = {}
    for c in comparisons:
        for s in c["subjects"]:
            if s["name"] != c["baseline"] and s.get("ratio") is not None:
                out[(c["id"], f"{s['name']} / {c['baseline']}")] = s["ratio"]
            if s.get("median") is not None:  # its own median too (in the comparison's unit)
                out[(c["id"], f"{s['name']}, own median ({c['unit']})")] = s["median"]
    return out


def table(rows: dict[tuple[str, str], dict[str, list[float]]]) -> str:
    lines = [
        "| comparison | subject / baseline | before (median, min-max) | after (median, min-max) "
        "| after ÷ before |",
        "|---|---|---|---|---|",
    ]
    for (cid, subject), sides in rows.items():
        b, a = sides.get("before", []), sides.get("after", [])
        if not b or not a:
            continue
        mb, ma = statistics.median(b), statistics.median(a)
        lines.append(
            f"| {cid} | {subject} | {mb:.3g} ({min(b):.3g}-{max(b):.3g}) "
            f"| {ma:.3g} ({min(a):.3g}-{max(a):.3g}) | {ma / mb:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="checkout before the change")
    ap.add_argument("--after", type=Path, default=HERE.parent, help="checkout after it")
    ap.add_argument("--only", default="store,writes,tabs,relay", help="benchmark names")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    by_name = {b.name: b for b in suite.SUITE}
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}: pick from {sorted(by_name)}")
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    rows: dict[tuple[str, str], dict[str, list[float]]] = {}
    started = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for rnd in range(args.rounds):
        order = ["before", "after"] if rnd % 2 == 0 else ["after", "before"]
        for name in names:
            for side in order:
                t0 = time.monotonic()
                got = ratios(run_one(trees[side], by_name[name]))
                print(f"[round {rnd + 1}] {name} {side}: {time.monotonic() - t0:.0f} s", flush=True)
                for key, value in got.items():
                    rows.setdefault(key, {}).setdefault(side, []).append(value)
    md = table(rows)
    print(md)
    out = HERE / "results" / f"alternate-{started}"
    out.with_suffix(".md").write_text(md + "\n")
    dump = {
        "before": str(trees["before"]),
        "after": str(trees["after"]),
        "rounds": args.rounds,
        "rows": [{"comparison": c, "subject": s, **v} for (c, s), v in rows.items()],
    }
    out.with_suffix(".json").write_text(json.dumps(dump, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
