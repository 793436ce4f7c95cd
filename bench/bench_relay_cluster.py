"""The relay on SQLite, on PostgreSQL, and three relay processes on one PostgreSQL.

    .venv/bin/python bench/bench_relay_cluster.py [--seconds 20] [--rates 5,10,20,40]

Same load generator as bench/bench_relay.py (bench/bench_relay_load.mjs): 100 raw
y-websocket clients in 10 rooms (spaces' documents), each sending ``rate`` updates/s.
Variants, in --rounds rounds at the first rate (order reversed every other round, each
run on fresh processes after --warmup seconds of the same load, CPU counted from there),
then one run per higher rate until one fails:
  - ``sqlite-1``: one relay process, log in SQLite (the default);
  - ``pg-1``: one relay process, log in a throw-away PostgreSQL 15;
  - ``pg-3``: three relay processes on that PostgreSQL, each room's clients spread
    round-robin over the three.
Reported per variant and rate: delivered updates/s, p50/p99 latency, CPU-seconds per
1,000 delivered updates summed over the relays AND the PostgreSQL processes, and the
highest rate whose p99 stays under 100 ms with at least 99 % delivered.

On this machine everything (load generator, relays, PostgreSQL) shares 2 cores: the
figures compare costs; they cannot show the three-process cluster scaling out.

Writes bench/results/relay_cluster.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_relay import NODE, PY, RESULTS, ROOT, Server, cpu_s, free_port

sys.path.insert(0, str(ROOT / "tests" / "relay"))
from pgserver import PgServer


def pg_pids(pg: PgServer) -> list[int]:
    """The postmaster and its children (backends, walwriter, …)."""
    pid = int((pg.data / "postmaster.pid").read_text().split()[0])
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [pid, *(int(x) for x in out.stdout.split())]


def run_variant(
    name: str, rate: int, seconds: int, tmp: Path, pg: PgServer, warmup: float = 0
) -> dict[str, Any]:
    n = 3 if name == "pg-3" else 1
    db = str(tmp / f"{name}-{rate}.db") if name == "sqlite-1" else pg.new_db()
    servers = []
    try:
        for _ in range(n):
            port = free_port()
            cmd = [PY, "-m", "yloft_relay", "--port", str(port), "--db", db,
                   "--tokens", "bench=t", "--log-level", "WARNING"]  # fmt: skip
            servers.append((Server(name, cmd, "listening on", {}), port))
        rooms = [
            [f"ws://127.0.0.1:{port}/relay/yws/bench/load/room{i}?token=t" for _s, port in servers]
            for i in range(10)
        ]
        pids = [s.proc.pid for s, _p in servers] + (pg_pids(pg) if name != "sqlite-1" else [])
        cfg = {"rooms": rooms, "clients": 10, "rate": rate, "seconds": seconds, "drain": 5,
               "warmup": warmup}  # fmt: skip
        gen = subprocess.Popen(
            [NODE, str(ROOT / "bench" / "bench_relay_load.mjs"), json.dumps(cfg)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert gen.stdout is not None and gen.stderr is not None
        cpu0 = {pid: cpu_s(pid) for pid in pids}
        lines = []
        for line in gen.stdout:  # CPU is counted from the end of the warm-up
            if line.strip() == "measuring":
                pids += [p for p in (pg_pids(pg) if name != "sqlite-1" else []) if p not in pids]
                cpu0 = {pid: cpu_s(pid) for pid in pids}
            else:
                lines.append(line)
        err = gen.stderr.read()
        if gen.wait(seconds + warmup + 180) != 0:
            raise RuntimeError(f"load generator failed on {name}:\n{err[-3000:]}")
        result: dict[str, Any] = json.loads(lines[-1])
        pids += [p for p in (pg_pids(pg) if name != "sqlite-1" else []) if p not in cpu0]
        cpu = sum(cpu_s(pid) - cpu0.get(pid, 0.0) for pid in pids)
        result["cpu_s"] = cpu
        result["cpu_s_per_1000"] = 1000 * cpu / max(1, result["delivered"])
        result["rate"] = rate
        return result
    finally:
        for s, _p in servers:
            s.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3, help="rounds at the first rate")
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--rates", default="5,10,20,40")
    ap.add_argument("--only", default="sqlite-1,pg-1,pg-3")
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    names = args.only.split(",")
    results: dict[str, Any] = {"seconds": args.seconds, "rounds": args.rounds,
                               "warmup_s": args.warmup, "variants": {}}  # fmt: skip
    pg = PgServer()

    def run(name: str, rate: int, tmp: str) -> dict[str, Any]:
        r = run_variant(name, rate, args.seconds, Path(tmp), pg, args.warmup)
        print(f"{name:9s} rate {rate:3d}/s/client: {r['throughput_per_s']:.0f}/s"
              f" delivered {100 * r['delivered_ratio']:.1f} %, p50 {r['p50_ms']:.1f} ms,"
              f" p99 {r['p99_ms']:.1f} ms, CPU {r['cpu_s_per_1000']:.3f} s/1000",
              flush=True)  # fmt: skip
        return r

    def passes(r: dict[str, Any]) -> bool:
        return bool(r["p99_ms"] <= 100 and r["delivered_ratio"] >= 0.99)

    try:
        with tempfile.TemporaryDirectory() as tmp:
            # The first rate: rounds, the variants' order reversed every other round.
            first: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
            for i in range(args.rounds):
                for name in names if i % 2 == 0 else names[::-1]:
                    first[name].append(run(name, rates[0], tmp))
            for name in names:
                runs = [min(first[name], key=lambda r: abs(r["p99_ms"] - median_p99(first[name])))]
                for rate in rates[1:]:  # higher rates: one run each, until one fails
                    if not passes(runs[-1]):
                        break
                    runs.append(run(name, rate, tmp))
                ok = [r["rate"] for r in runs if passes(r)]
                results["variants"][name] = {
                    "rounds": first[name],
                    "runs": runs,
                    "max_rate_p99_under_100ms": max(ok or [0]),
                }
    finally:
        pg.close()
    v = results["variants"]
    med = {n: {k: statistics.median(r[k] for r in x["rounds"]) for k in ("p99_ms",
                                                                          "cpu_s_per_1000")}
           for n, x in v.items()}  # fmt: skip
    if "sqlite-1" in med and "pg-1" in med:
        results["pg1_vs_sqlite1_p99"] = med["pg-1"]["p99_ms"] / med["sqlite-1"]["p99_ms"]
    if "pg-1" in med and "pg-3" in med:
        results["pg3_vs_pg1_cpu_per_update"] = (
            med["pg-3"]["cpu_s_per_1000"] / med["pg-1"]["cpu_s_per_1000"]
        )
    print(json.dumps({k: x for k, x in results.items() if k != "variants"}), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "relay_cluster.json").write_text(json.dumps(results, indent=1))


def median_p99(runs: list[dict[str, Any]]) -> float:
    return float(statistics.median(r["p99_ms"] for r in runs))


if __name__ == "__main__":
    main()
