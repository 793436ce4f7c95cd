"""Run the benchmark suite side by side and write one JSON per run.

    .venv/bin/python bench/run.py [--quick] [--only NAME[,NAME]]
    python3 build.py bench [--quick] [--only NAME]        (the same, after setup/build)

Every benchmark is a script in bench/ run as its own process (so a crash or a leak in
one cannot skew the next). Its own JSON result is turned into *comparisons*: one
measured quantity (for example "ms per durable edit"), several subjects measured on the
same data in the same run (yloft and its baselines), each with min/median/max over the
rounds, and every subject's ratio to the baseline named in the comparison.

Written:
- ``bench/results/run-<UTC time>[-quick].json``: machine, versions, every comparison;
- full runs also update ``bench/results/summary.json`` (the one committed result: a
  ``--only`` run replaces just its benchmarks there) and regenerate
  ``docs/benchmarks.md`` with its charts (bench/report.py);
- quick runs render their report to ``bench/results/benchmarks-quick.md`` instead, so
  ``build.py test`` never rewrites the committed documents.

Exit status 1 when a benchmark failed or produced no figures (names and reasons are
printed); timings are never judged here.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

import figures  # noqa: E402

PY = sys.executable


@dataclass(frozen=True)
class Bench:
    """One benchmark script: how to run it fully and quickly, and how to read its JSON."""

    name: str
    title: str
    script: str
    full: list[str]
    quick: list[str]
    output: str
    to_comparisons: Callable[[dict[str, Any]], list[dict[str, Any]]]
    browser: bool = True  # runs headless Chromium (the quick run's second lane)
    timeout_s: int = 1800


SUITE = [
    Bench("writes", "Durable local writes (comparison 1)", "bench_writes.py",
          [], ["--quick"], "writes.json", figures.writes),
    Bench("queries", "Queries over content (comparison 2)", "bench_queries.py",
          [], ["--quick"], "queries.json", figures.queries),
    Bench("coldstart", "Cold start (comparison 3)", "bench_coldstart.py",
          [], ["--quick"], "coldstart.json", figures.coldstart),
    Bench("tabs", "Tab-to-tab latency (comparison 4)", "bench_tabs.py",
          [], ["--edits", "50", "--warmup", "10", "--throughput", "20", "--takeovers", "2"],
          "tabs.json",
          figures.tabs),
    Bench("typing", "Typing into a shared editor (db.doc)", "bench_typing.py",
          [], ["--keys", "30", "--sustain", "5", "--cycles", "20"], "typing.json",
          figures.typing),
    Bench("relay", "Relay (comparison 5)", "bench_relay.py",
          ["--seconds", "20", "--rounds", "3", "--warmup", "3", "--capacity-step-s", "8",
           "--capacity-trials", "6", "--capacity-repeats", "3"],
          ["--seconds", "3", "--rounds", "1", "--warmup", "1", "--capacity-step-s", "1",
           "--capacity-trials", "1", "--capacity-repeats", "1"], "relay.json",
          figures.relay, browser=False),
    Bench("relay_cluster", "Relay cluster on PostgreSQL", "bench_relay_cluster.py",
          ["--seconds", "20", "--rounds", "3", "--warmup", "3"],
          ["--seconds", "4", "--rates", "5", "--rounds", "1", "--warmup", "1"],
          "relay_cluster.json",
          figures.relay_cluster, browser=False),
    Bench("relay_auth", "Relay access control: JWT set-up, --auth hook", "bench_relay_auth.py",
          ["--seconds", "60"], ["--connects", "20", "--rounds", "1", "--seconds", "4"],
          "relay_auth.json", figures.relay_auth, browser=False),
    Bench("size", "Storage size (comparison 6)", "bench_size.py",
          [], ["--quick"], "size.json", figures.size),
    Bench("store", "Store vs plain sqlite3 (CPython)", "bench_store.py",
          [], ["--quick"], "store.json", figures.store, browser=False),
    Bench("crdt", "yloft.crdt vs JS Yjs (Pyodide in Node)", "bench_crdt.py",
          ["--rounds", "21"], ["--quick"], "crdt.json", figures.crdt, browser=False),
    Bench("app", "Your own app: yloft build, bundle, first query", "bench_app.py",
          [], ["--quick"], "app.json", figures.app),
    Bench("storage", "OPFS storage configurations vs raw OPFS (Chromium)", "bench_storage.py",
          ["--rounds", "5", "--commits", "300"], ["--rounds", "1", "--commits", "30"],
          "storage.json", figures.storage),
    Bench("app_tabs", "The notes app in several tabs, 10,000 notes (issue 24)",
          "bench_app_tabs.py", ["--notes", "10000", "--rounds", "3"], ["--quick"],
          "app_tabs.json", figures.app_tabs),
    Bench("engines", "Start-up, durable edit and tab latency per browser engine (issue 26)",
          "bench_engines.py", [], ["--quick"], "engines.json", figures.passthrough),
]  # fmt: skip


def capture(cmd: list[str]) -> str:
    """A tool's version line, or "" when it is missing."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else ""


def npm_version(name: str) -> str:
    try:
        data = json.loads((ROOT / "node_modules" / name / "package.json").read_text())
    except OSError:
        return ""
    return str(data.get("version", ""))


def py_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return ""


def machine_info() -> dict[str, Any]:
    """Where and with what the run happened: figures from other machines do not compare."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "machine": {
            "platform": platform.platform(),
            "cpu": cpu,
            "cpus": os.cpu_count(),
            "memory_gib": round(mem_kib / 2**20, 1),
            "load_avg_at_start": os.getloadavg(),
        },
        "versions": {
            "git_commit": capture(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
            "python": platform.python_version(),
            "node": capture(["node", "--version"]),
            "chromium": capture([shutil.which("chromium") or "chromium", "--version"]),
            "npm": {n: npm_version(n) for n in ("pyodide", "yjs", "y-indexeddb",
                                                "@y/websocket-server", "y-websocket")},
            "pypi": {n: py_version(n) for n in ("pycrdt", "pycrdt-websocket", "websockets",
                                                "playwright")},
        },
    }  # fmt: skip


def run_bench(bench: Bench, quick: bool) -> dict[str, Any]:
    """Run one script; its comparisons, or the reason it produced none."""
    script = HERE / bench.script
    entry: dict[str, Any] = {
        "title": bench.title,
        "script": f"bench/{bench.script}",
        # when and on what code this benchmark ran (a --only run replaces just its entry)
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": capture(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
    }
    if not script.exists():
        entry["error"] = f"bench/{bench.script} does not exist"
        return entry
    doc = ast.get_docstring(ast.parse(script.read_text())) or ""
    entry["method"] = "\n".join(line for line in doc.splitlines() if ".venv/bin/python" not in line)
    output = RESULTS / bench.output
    output.unlink(missing_ok=True)  # a stale file must not pass for this run's result
    cmd = [PY, str(script), *(bench.quick if quick else bench.full)]
    entry["command"] = " ".join(["python", f"bench/{bench.script}", *cmd[2:]])
    print(f"[bench] {bench.name}: {entry['command']}", flush=True)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                              timeout=bench.timeout_s, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        entry["error"] = f"timed out after {bench.timeout_s} s"
        return entry
    entry["wall_s"] = round(time.monotonic() - t0, 1)
    log = RESULTS / f"{bench.name}{'-quick' if quick else ''}.log"
    log.write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-1500:]
        entry["error"] = f"exit status {proc.returncode} (log {log.name}):\n{tail}"
        return entry
    try:
        raw = json.loads(output.read_text())
    except (OSError, ValueError) as exc:
        entry["error"] = f"no result in bench/results/{bench.output}: {exc}"
        return entry
    try:
        entry["comparisons"] = bench.to_comparisons(raw)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        entry["error"] = f"could not read its figures: {type(exc).__name__}: {exc}"
        return entry
    entry["raw"] = raw
    problems = figures.missing(entry["comparisons"])
    if problems:
        entry["error"] = "missing figures: " + "; ".join(problems)
    return entry


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run, under 3 minutes")
    ap.add_argument("--only", default="", help="comma-separated names: "
                    + ", ".join(b.name for b in SUITE))  # fmt: skip
    args = ap.parse_args(argv)
    chosen = [b for b in SUITE if not args.only or b.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {b.name for b in SUITE}
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.gmtime()
    run: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", started),
        "quick": args.quick,
        **machine_info(),
        "benches": {},
    }
    t0 = time.monotonic()

    def lane(benches: list[Bench]) -> None:
        for bench in benches:
            entry = run_bench(bench, args.quick)
            if "error" in entry:
                print(f"[bench] {bench.name}: FAILED: {entry['error']}", flush=True)
            else:
                for comp in entry["comparisons"]:
                    print("[bench]   " + figures.one_line(comp), flush=True)
            results[bench.name] = entry

    results: dict[str, dict[str, Any]] = {}
    if args.quick:
        # A smoke run judges no timing: the browser benches and the others run side by
        # side (two lanes) to stay within 3 minutes. Full runs go one at a time.
        lanes = [[b for b in chosen if b.browser], [b for b in chosen if not b.browser]]
        threads = [threading.Thread(target=lane, args=(x,)) for x in lanes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        lane(chosen)
    run["benches"] = {b.name: results[b.name] for b in chosen}
    run["wall_s"] = round(time.monotonic() - t0, 1)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", started)
    path = RESULTS / f"run-{stamp}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(run, indent=1) + "\n")
    print(f"[bench] wrote {path.relative_to(ROOT)} ({run['wall_s']} s)", flush=True)

    import report

    if args.quick:
        out = RESULTS / "benchmarks-quick.md"
        out.write_text(report.render(run, RESULTS / "charts-quick", "charts-quick/"))
    else:
        summary_path = RESULTS / "summary.json"
        summary = run
        if args.only and summary_path.exists():
            summary = json.loads(summary_path.read_text())
            summary["benches"].update(run["benches"])
            summary.setdefault("partial_runs", []).append(run["when"])
        summary_path.write_text(json.dumps(summary, indent=1) + "\n")
        out = report.write_docs(summary)
    print(f"[bench] wrote {out.relative_to(ROOT)}", flush=True)
    failed = [n for n, e in run["benches"].items() if "error" in e]
    if failed:
        print(f"[bench] FAILED: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
