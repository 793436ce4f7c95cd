"""Durable commits per second on yloft's storage, beside raw OPFS in the same run.

    .venv/bin/python bench/bench_storage.py [--rounds 5] [--commits 300] [--only REGEX]

Headless Chromium (Debian's, build.CHROMIUM_FLAGS) with a fresh on-disk profile opens
bench/web/storage-lab.html; its worker loads bare Pyodide and runs Python's sqlite3 on each
storage configuration. One commit = BEGIN IMMEDIATE; INSERT one row (100-byte blob, one
index entry); COMMIT; the commit hook (os.fsync on the mount); await afterCommit().

Measured side by side, interleaved round by round so machine noise hits all alike:
- OPFS per journal mode (DELETE, TRUNCATE, PERSIST, WAL) and locking mode,
- OPFS page sizes and cache sizes for the chosen mode (cache sizes on a 20,000-row table,
  with random index lookups timed too),
- IndexedDB fallback, plain memory (not durable, the ceiling),
- raw OPFS: append the same 100 bytes through a sync access handle + flush().

Prints a table of medians and ratios to raw OPFS; writes bench/results/storage.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import build  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CHOSEN = {"journalMode": "wal", "lockingMode": "exclusive", "pageSize": 4096}


def configs() -> list[dict[str, Any]]:
    """Every storage configuration measured, each with a unique label."""
    out: list[dict[str, Any]] = []
    for locking in ("exclusive", "normal"):
        for mode in ("delete", "truncate", "persist", "wal"):
            out.append(
                {"force": "opfs", "journalMode": mode, "lockingMode": locking, "pageSize": 4096}
            )
    for page_size in (8192, 16384):
        out.append({"force": "opfs", **CHOSEN, "pageSize": page_size})
    for cache in (-500, -2000, -16000):
        out.append({"force": "opfs", **CHOSEN, "cacheSize": cache, "prefill": 20_000})
    for mode in ("truncate", "wal"):
        out.append({"force": "idb", **CHOSEN, "journalMode": mode})
    out.append({"force": "memory", **CHOSEN, "journalMode": "truncate"})
    out.append({"force": "memory", **CHOSEN})
    for i, c in enumerate(out):
        c["label"] = " ".join(
            [c["force"], c["journalMode"], c["lockingMode"], f"page={c['pageSize']}"]
            + ([f"cache={c['cacheSize']}", f"rows={c['prefill']}"] if "prefill" in c else [])
        )
        c["path"] = f"/bench{i}"
    return out


def lab_root() -> Path:
    """The lab page, the storage modules and the Pyodide runtime in a private folder."""
    return build.lab_root()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--commits", type=int, default=300, help="commits per round")
    parser.add_argument("--only", help="measure only configurations whose label matches")
    parser.add_argument("--out", default="storage.json", help="file name under bench/results")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("chromium is not installed (python3 build.py test installs it)")
    root = lab_root()
    server = build.make_server(0, root)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bench/web/storage-lab.html"
    profile = tempfile.mkdtemp(prefix="yloft-bench-profile-")
    cfgs = [c for c in configs() if not args.only or re.search(args.only, c["label"])]
    samples: dict[str, list[float]] = {c["label"]: [] for c in cfgs}
    per_commit: dict[str, dict[str, float]] = {}
    raw: list[float] = []
    reads: dict[str, list[float]] = {}
    fs_reads: dict[str, float] = {}
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path=chromium, args=build.CHROMIUM_FLAGS
            )
            page = ctx.new_page()
            page.set_default_timeout(600_000)
            page.goto(url)
            page.wait_for_selector("html[data-lab=ready]")
            call = lambda method, arg: page.evaluate(  # noqa: E731
                "([m, a]) => lab.call(m, a)", [method, arg]
            )
            for c in cfgs:
                call("mount", {"force": c["force"], "path": c["path"], "name": "bench"})
                call("openDb", c)
                if "prefill" in c:
                    call("py", {"code": prefill_code(c["path"], c["prefill"])})
                call("benchCommits", {"path": c["path"], "start": 10_000_000, "n": 20})  # warm-up
            next_id = 0
            for r in range(args.rounds):
                raw_r = call("benchRawOpfs", {"file": "raw.bin", "n": args.commits})
                raw.append(raw_r["commitsPerSecond"])
                for c in cfgs:
                    res = call(
                        "benchCommits", {"path": c["path"], "start": next_id, "n": args.commits}
                    )
                    samples[c["label"]].append(res["commitsPerSecond"])
                    per_commit[c["label"]] = res["perCommit"]
                    if "prefill" in c:
                        rd = call("benchReads", {"path": c["path"], "n": 2000, "seed": r})
                        reads.setdefault(c["label"], []).append(rd["readsPerSecond"])
                        fs_reads[c["label"]] = rd["fsReadsPerLookup"]
                next_id += args.commits
                print(f"round {r + 1}/{args.rounds} done", flush=True)
            checks = {c["label"]: call("check", {"path": c["path"]})["integrity"] for c in cfgs}
            ctx.close()
    finally:
        server.shutdown()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)

    raw_median = statistics.median(raw)
    rows = []
    for c in cfgs:
        med = statistics.median(samples[c["label"]])
        rows.append(
            {
                "label": c["label"],
                "config": {k: v for k, v in c.items() if k not in {"label", "path"}},
                "commits_per_s_median": round(med, 1),
                "commits_per_s_samples": [round(s, 1) for s in samples[c["label"]]],
                "ratio_to_raw_opfs": round(med / raw_median, 3),
                "per_commit": {k: round(v, 2) for k, v in per_commit[c["label"]].items()},
                "integrity": checks[c["label"]],
            }
        )
        if c["label"] in reads:
            rows[-1]["lookups_per_s_median"] = round(statistics.median(reads[c["label"]]), 1)
            rows[-1]["fs_reads_per_lookup"] = round(fs_reads[c["label"]], 3)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rounds": args.rounds,
        "commits_per_round": args.commits,
        "raw_opfs_append_flush": {
            "commits_per_s_median": round(raw_median, 1),
            "commits_per_s_samples": [round(s, 1) for s in raw],
        },
        "configs": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(result, indent=1))
    print(f"\nraw OPFS append 100 B + flush: {raw_median:.0f}/s (median of {args.rounds})")
    print(f"{'configuration':58} {'commits/s':>9} {'x raw':>6}  per commit")
    for row in rows:
        pc = row["per_commit"]
        calls = ", ".join(f"{k}={v}" for k, v in pc.items() if k != "bytesWritten")
        print(
            f"{row['label']:58} {row['commits_per_s_median']:9.0f} "
            f"{row['ratio_to_raw_opfs']:6.3f}  {calls} [{row['integrity']}]"
        )
    print("\nrandom index lookups (2,000 per round) on the 20,000-row table:")
    for row in rows:
        if "lookups_per_s_median" in row:
            print(
                f"{row['label']:58} {row['lookups_per_s_median']:9.0f}/s "
                f"OPFS reads per lookup {row['fs_reads_per_lookup']}"
            )
    print(f"\nwrote {RESULTS / args.out}")


def prefill_code(path: str, rows: int) -> str:
    """Python that fills the open database with `rows` rows in one transaction."""
    return (
        f"db = labs[{path!r}]\n"
        "db.con.execute('BEGIN')\n"
        "db.con.executemany('INSERT INTO t(id, k, v) VALUES (?, ?, ?)',"
        f" ((-1 - i, (i * 7919) % 10007, payload(i, 100)) for i in range({rows})))\n"
        "db.con.execute('COMMIT')\n"
        "import os; os.fsync(db.fd)\n"
        "json.dumps(True)"
    )


if __name__ == "__main__":
    main()
