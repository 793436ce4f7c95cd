"""Relay benchmarks: fan-out under load beside two other Yjs servers, and catch-up size.

    .venv/bin/python bench/bench_relay.py [--seconds 20] [--rounds 3] [--warmup 3]
        [--only yloft,node,pycrdt] [--skip-load] [--skip-stuck] [--skip-capacity]
        [--skip-catchup] [--capacity-step-s 8] [--capacity-trials 6]
        [--capacity-repeats 3] [--capacity-only yloft,node]

Load: one Node load generator (bench/bench_relay_load.mjs) drives 100 raw y-websocket
clients in 10 rooms, each sending 5 small updates per second, against
  - yloft_relay (its y-websocket rooms, /relay/yws/<space>/<collection>/<doc>),
  - @y/websocket-server 0.1.5 (the official Node backend),
  - pycrdt-websocket 0.16.5 (bench/bench_relay_pycrdt.py),
in --rounds rounds, the servers' order reversed every other round, each run on a fresh
server given --warmup seconds of the same load before --seconds measured ones. Reported
per server, median over the rounds (each round's figure is a sample, so the tables show
the spread): delivered updates/s and share of those expected, p50/p99 end-to-end latency
(sender's clock = receiver's clock: one process), the server's CPU per 1,000 delivered
updates (user + system, from /proc, over the measured seconds and the drain after), and
its resident memory. "yloft-stuck" runs in the same rounds: the yloft relay under the
same load plus one client in the first room that stops reading its socket; its p99 (of
everyone else) beside the plain yloft run's is the slow-reader row.

pycrdt-websocket is started with its 10 rooms already created (bench_relay_pycrdt.py
says why): in 0.16.5 a room that several clients join at the same instant is started
twice without a lock and every joiner after the first waits forever, which once showed
as 0 % delivered. Pre-creating the rooms, rather than staggering the joins for that
server only, keeps the clients' behaviour the same for all three servers (all 100 join
at once) and measures the forwarding, not the race.

Capacity (--capacity-only servers): the same 100 clients in 10 rooms at a rising rate
per client: doubling from 5 updates/s per client while a step passes (halving if the
first fails), then bisecting (geometric middle) between the last pass and the first
failure, --capacity-trials steps in all. Each step is --capacity-repeats runs, each on a
fresh server with --warmup seconds of the step's load, then --capacity-step-s measured.
A step passes when every run synced every client and delivered at least 99.9 % of the
updates, and the median p99 is at most 100 ms. Reported: the highest passing rate, as
updates sent per second by all clients (each one delivered to the 9 others in its room),
the server's CPU per 1,000 delivered there, and whether the server saturated: at its
first failing step it used at least 85 % of a core. A server that failed below that (a
stall, not a lack of CPU) has no capacity figure, and one with no failing step has only
a lower bound. The load generator is one Node process on the same machine (2 cores
here), so at high rates it competes with the server for the CPU: the figure is a
ceiling of this set-up, measured the same way for every server.

Catch-up: a device synced 1,000 documents, then missed 10,000 updates to them (10 each);
it reconnects with its last seq. Reported: time to caught-up and bytes received, beside
the sum over documents of the Yjs diff a per-document sync would send (pycrdt
``doc.get_update(device_state)`` of each document against the state the device had).

Writes bench/results/relay.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pycrdt
from websockets.asyncio.client import ClientConnection, connect

from yloft.sync import protocol as p

ROOT = Path(__file__).resolve().parent.parent
ROOMS, CLIENTS = 10, 10  # 10 rooms of 10 clients: 100 clients
BASE_RATE = 5.0  # updates/s per client of the fixed load
P99_LIMIT_MS = 100.0  # capacity: the highest rate whose latency p99 stays at or below this
MIN_DELIVERED = 0.999  # capacity: share of the updates a passing step must deliver
SATURATED = 0.85  # capacity: a server whose first failing step used this share of a core
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
NODE = shutil.which("node") or "node"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process used so far (from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    """A server subprocess, ready when it printed ``ready_text``; memory sampled."""

    def __init__(self, name: str, cmd: list[str], ready_text: str, env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        ready = threading.Event()

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line)
                if ready_text in line:
                    ready.set()

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()
        if not ready.wait(60):
            self.stop()
            raise RuntimeError(f"{name} did not start:\n{''.join(self.lines)}")
        self.samples: list[int] = []
        self._stop = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.samples.append(rss_kib(self.proc.pid))

    def stop(self) -> None:
        if hasattr(self, "_stop"):
            self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(20)
        self.pump.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def start_server(name: str, port: int, db: Path) -> tuple[Server, list[str]]:
    rooms = range(ROOMS)
    if name == "yloft":
        cmd = [PY, "-m", "yloft_relay", "--port", str(port), "--db", str(db),
               "--tokens", "bench=t", "--log-level", "WARNING"]  # fmt: skip
        srv = Server(name, cmd, "listening on", {})
        urls = [f"ws://127.0.0.1:{port}/relay/yws/bench/load/room{i}?token=t" for i in rooms]
    elif name == "node":
        script = ROOT / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
        srv = Server(name, [NODE, str(script)], "running", {"HOST": "127.0.0.1", "PORT": str(port)})
        urls = [f"ws://127.0.0.1:{port}/room{i}" for i in rooms]
    elif name == "pycrdt":
        # Rooms created before anyone joins: see the docstring and bench_relay_pycrdt.py.
        cmd = [PY, str(ROOT / "bench" / "bench_relay_pycrdt.py"), str(port),
               *(f"/room{i}" for i in rooms)]  # fmt: skip
        srv = Server(name, cmd, "listening", {})
        urls = [f"ws://127.0.0.1:{port}/room{i}" for i in rooms]
    else:
        raise SystemExit(f"unknown server {name}")
    return srv, urls


def commit_times(port: int) -> dict[str, Any]:
    """yloft's own account of its durable commits (its /metrics): how many batches, the
    mean commit (fsync included) and the share of commits within each bucket."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError as exc:
        return {"error": str(exc)}
    count = total = 0.0
    buckets: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("yloft_relay_commit_seconds_count"):
            count = float(line.split()[-1])
        elif line.startswith("yloft_relay_commit_seconds_sum"):
            total = float(line.split()[-1])
        elif line.startswith("yloft_relay_commit_seconds_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets[le] = float(line.split()[-1])
    pushes = next((float(x.split()[-1]) for x in text.splitlines()
                   if x.startswith("yloft_relay_pushes_total")), 0.0)  # fmt: skip
    return {"batches": count, "pushes": pushes, "mean_ms": 1000 * total / count if count else None,
            "within_ms": {str(1000 * float(le)) if le != "+Inf" else "inf": n / count
                          for le, n in buckets.items()} if count else {}}  # fmt: skip


def run_load(
    name: str, seconds: float, tmp: Path, rate: float = BASE_RATE, drain: float = 5,
    warmup: float = 0, stuck: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """One load run on a fresh server: ``warmup`` seconds of the same load first (not
    counted), then ``seconds`` measured; server CPU counted from the measured start."""
    port = free_port()
    srv, urls = start_server(name, port, tmp / f"{name}-{rate:g}-{time.monotonic_ns()}.db")
    try:
        idle_kib = rss_kib(srv.proc.pid)
        cfg = {"rooms": urls, "clients": CLIENTS, "rate": rate, "seconds": seconds,
               "drain": drain, "syncTimeout": 15, "warmup": warmup, "stuck": stuck}  # fmt: skip
        gen = subprocess.Popen(
            [NODE, str(ROOT / "bench" / "bench_relay_load.mjs"), json.dumps(cfg)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        timer = threading.Timer(seconds + drain + warmup + 180, gen.kill)
        timer.start()
        try:
            assert gen.stdout is not None
            cpu0 = cpu_s(srv.proc.pid)
            lines = []
            for line in gen.stdout:
                if line.strip() == "measuring":
                    cpu0 = cpu_s(srv.proc.pid)
                else:
                    lines.append(line)
            cpu1 = cpu_s(srv.proc.pid)
            err = gen.stderr.read() if gen.stderr is not None else ""
            code = gen.wait()
        finally:
            timer.cancel()
        if code != 0:
            if code < 0:
                return {"error": "load generator timed out", "delivered": 0}
            raise RuntimeError(f"load generator failed on {name}:\n{err[-3000:]}")
        result: dict[str, Any] = json.loads(lines[-1])
        result["server_cpu_s"] = cpu1 - cpu0
        if result.get("delivered"):
            result["cpu_s_per_1000"] = 1000 * result["server_cpu_s"] / result["delivered"]
        result["rss_idle_mib"] = idle_kib / 1024
        result["rss_peak_mib"] = max(srv.samples, default=0) / 1024
        result["rss_end_mib"] = rss_kib(srv.proc.pid) / 1024
        result["alive"] = srv.proc.poll() is None
        if name == "yloft":
            result["commits"] = commit_times(port)
        return result
    finally:
        srv.stop()


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The rounds of one server: each numeric figure's median over the rounds (counts
    summed), and the rounds themselves."""
    ok = [r for r in rounds if "error" not in r]
    if not ok:
        return {"error": rounds[0].get("error", "no round ran"), "rounds": rounds, "delivered": 0}
    out: dict[str, Any] = {"rounds": rounds}
    for key, value in ok[0].items():
        values = [r[key] for r in ok if isinstance(r.get(key), (int, float))]
        if isinstance(value, bool) or not values:
            continue
        summed = key in ("sent", "expected", "delivered")
        out[key] = sum(values) if summed else statistics.median(values)
    out["delivered_ratio"] = out["delivered"] / out["expected"] if out.get("expected") else 0
    out["alive"] = all(r.get("alive", True) for r in ok)
    commits = [r["commits"] for r in ok if r.get("commits", {}).get("batches")]
    if commits:
        batches = sum(c["batches"] for c in commits)
        out["commits"] = {
            "batches": batches,
            "pushes": sum(c["pushes"] for c in commits),
            "mean_ms": sum(c["mean_ms"] * c["batches"] for c in commits) / batches,
        }
    return out


# ------------------------------------------------------------------ capacity


def passes(r: dict[str, Any]) -> bool:
    """A capacity step passes: all synced, (nearly) all delivered, p99 within the limit."""
    p99 = r.get("p99_ms")
    return (
        r.get("synced") == r.get("clients")
        and r.get("delivered_ratio", 0) >= MIN_DELIVERED
        and p99 is not None
        and p99 <= P99_LIMIT_MS
    )


def next_rate(steps: list[dict[str, Any]]) -> float | None:
    """The per-client rate of the next capacity step, or None when the search is done.

    Doubling from BASE_RATE while every step passed (halving while every step failed),
    then the geometric middle of the highest pass and the lowest failure.
    """
    if not steps:
        return BASE_RATE
    ok = [s["rate"] for s in steps if s["pass"]]
    bad = [s["rate"] for s in steps if not s["pass"]]
    if not bad:
        return max(ok) * 2
    if not ok:
        lowest = min(bad)
        return lowest / 2 if lowest > BASE_RATE / 64 else None
    lo, hi = max(ok), min(r for r in bad if r > max(ok))
    return (lo * hi) ** 0.5 if hi / lo > 1.1 else None


def capacity(
    name: str, step_s: float, trials: int, tmp: Path, repeats: int = 3, warmup: float = 3
) -> dict[str, Any]:
    """Search the highest rate that passes: each step ``repeats`` runs, each on a fresh
    server given ``warmup`` seconds of the step's load first. A step passes when every
    run synced every client and delivered ≥ 99.9 %, and the median p99 is within the
    limit. The first failing step tells whether the server saturated: its median CPU
    over the measured seconds, as a share of one core."""
    steps: list[dict[str, Any]] = []
    while len(steps) < trials:
        rate = next_rate(steps)
        if rate is None:
            break
        runs = [run_load(name, step_s, tmp, rate=rate, drain=1, warmup=warmup)
                for _ in range(repeats)]  # fmt: skip
        whole = all(r.get("synced") == r.get("clients") and r.get("p99_ms") is not None
                    and r.get("delivered_ratio", 0) >= MIN_DELIVERED for r in runs)  # fmt: skip
        p99 = statistics.median(r.get("p99_ms") or float("inf") for r in runs)
        step = {
            "rate": rate,
            "pass": whole and p99 <= P99_LIMIT_MS,
            "p99_ms": p99,
            "cpu_share": statistics.median(r.get("server_cpu_s", 0) / step_s for r in runs),
            "cpu_s_per_1000": statistics.median(r.get("cpu_s_per_1000") or 0 for r in runs),
            # what the clients really sent (timers drift at high rates)
            "sent_per_s": statistics.median((r.get("sent") or 0) / step_s for r in runs),
            "runs": [{k: r.get(k) for k in ("synced", "clients", "sent", "delivered_ratio",
                                            "p50_ms", "p99_ms", "server_cpu_s", "error")}
                     for r in runs],
        }  # fmt: skip
        steps.append(step)
        print(f"  capacity {name:7s} {rate * CLIENTS * ROOMS:8.0f}/s offered:"
              f" {'pass' if step['pass'] else 'FAIL'} (median p99 {p99:.1f} ms over {repeats},"
              f" server CPU {100 * step['cpu_share']:.0f} % of a core)", flush=True)  # fmt: skip
    best = max((s for s in steps if s["pass"]), key=lambda s: s["rate"], default=None)
    fails = [s for s in steps if not s["pass"] and (best is None or s["rate"] > best["rate"])]
    first_fail = min(fails, key=lambda s: s["rate"], default=None)
    return {
        "steps": steps,
        "step_s": step_s,
        "repeats": repeats,
        "warmup_s": warmup,
        "best_rate_per_client": best["rate"] if best else 0.0,
        "sent_per_s": best["sent_per_s"] if best else 0.0,
        "cpu_s_per_1000": best["cpu_s_per_1000"] if best else None,
        "found": first_fail is not None,
        "fail_cpu_share": first_fail["cpu_share"] if first_fail else None,
        # it failed because it ran out of CPU, not because of a stall at a fraction of it
        "saturated": first_fail is not None and first_fail["cpu_share"] >= SATURATED,
    }


# ------------------------------------------------------------------ catch-up


async def hello(url: str, client: str, last_seq: int, relay_id: str) -> tuple[
    ClientConnection, list[p.Entry], int, int, str
]:  # fmt: skip
    ws = await connect(url, max_size=None, compression=None)
    await ws.send(p.encode(p.Hello("bench", "t", client, last_seq, relay_id)))
    nbytes = 0
    entries: list[p.Entry] = []
    welcome = None
    while True:
        frame = await ws.recv()
        assert isinstance(frame, bytes)
        nbytes += len(frame)
        msg = p.decode(frame)
        if isinstance(msg, p.Welcome):
            welcome = msg
        elif isinstance(msg, p.Catchup):
            entries += msg.entries
            if msg.done:
                assert welcome is not None
                return ws, entries, msg.through_seq, nbytes, welcome.relay_id


async def push_all(ws: ClientConnection, pushes: list[tuple[str, bytes]], first_id: int) -> None:
    window = asyncio.Semaphore(256)

    async def acks() -> None:
        for _ in pushes:
            msg = p.decode(await ws.recv())  # type: ignore[arg-type]
            assert isinstance(msg, p.Ack) and msg.seq > 0, msg
            window.release()

    task = asyncio.ensure_future(acks())
    for i, (doc_id, update) in enumerate(pushes):
        await window.acquire()
        await ws.send(p.encode(p.Push(first_id + i, "notes", doc_id, update)))
    await task


def small_edit(doc: pycrdt.Doc, rng: random.Random) -> bytes:
    before = doc.get_state()
    text = doc.get("body", type=pycrdt.Text)
    meta = doc.get("meta", type=pycrdt.Map)
    if rng.random() < 0.7:
        text.insert(rng.randint(0, len(text)), rng.choice(["milk ", "eggs ", "and ", "x"]))
    else:
        meta["title"] = f"title {rng.randint(0, 999)}"
    return doc.get_update(before)


async def catchup_bench(docs_n: int = 1000, per_doc: int = 10) -> dict[str, Any]:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        # Pushes are unthrottled here only to fill the log quickly; catch-up is unpaced.
        cmd = [PY, "-m", "yloft_relay", "--port", str(port), "--db", f"{tmp}/relay.db",
               "--rate", "1e6", "--tokens", "bench=t", "--log-level", "WARNING"]  # fmt: skip
        srv = Server("yloft", cmd, "listening on", {})
        url = f"ws://127.0.0.1:{port}/relay"
        try:
            authors = {f"d{i}": pycrdt.Doc() for i in range(docs_n)}
            writer, *_ = await hello(url, "writer", 0, "")
            await push_all(writer, [(d, small_edit(doc, rng)) for d, doc in authors.items()], 1)
            device, entries, seq, _, relay_id = await hello(url, "device", 0, "")
            await device.close()
            mine: dict[str, pycrdt.Doc] = {}
            for e in entries:
                mine.setdefault(e.doc_id, pycrdt.Doc()).apply_update(e.update)
            states = {d: doc.get_state() for d, doc in mine.items()}
            pushes = []
            for _ in range(per_doc):  # documents in random order, each one's edits in order
                order = list(authors)
                rng.shuffle(order)
                pushes += [(d, small_edit(authors[d], rng)) for d in order]
            await push_all(writer, pushes, docs_n + 1)
            await asyncio.sleep(1.0)  # let idle-time compaction run, as it would in life
            t0 = time.perf_counter()
            device, entries, _, nbytes, _ = await hello(url, "device", seq, relay_id)
            elapsed = time.perf_counter() - t0
            await device.close()
            for e in entries:
                mine[e.doc_id].apply_update(e.update)
            for d, doc in authors.items():
                assert mine[d].get_state() == doc.get_state(), d
            minimal = sum(len(doc.get_update(states[d])) for d, doc in authors.items())
            t0 = time.perf_counter()
            fresh, fresh_entries, _, fresh_bytes, _ = await hello(url, "fresh", 0, "")
            fresh_s = time.perf_counter() - t0
            await fresh.close()
            await writer.close()
            full = sum(len(doc.get_update()) for doc in authors.values())
        finally:
            srv.stop()
    return {
        "documents": docs_n,
        "missed_updates": len(pushes),
        "catchup_s": elapsed,
        "catchup_bytes": nbytes,
        "catchup_entries": len(entries),
        "minimal_diff_bytes": minimal,
        "bytes_ratio": nbytes / minimal,
        "fresh_device_s": fresh_s,
        "fresh_device_bytes": fresh_bytes,
        "fresh_device_entries": len(fresh_entries),
        "full_state_bytes": full,
        "fresh_bytes_ratio": fresh_bytes / full,
    }


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"  {name:11s} synced {r['synced']}/{r['clients']},"
        f" delivered {r['delivered']}/{r['expected']}"
        f" ({100 * r['delivered_ratio']:.1f} %), {r['throughput_per_s']:.0f}/s,"
        f" p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms,"
        f" RSS peak {r['rss_peak_mib']:.0f} MiB,"
        f" server CPU {r['server_cpu_s']:.1f} s ({r.get('cpu_s_per_1000', 0):.3f} s per 1,000)",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=20, help="measured seconds of a load round")
    ap.add_argument("--rounds", type=int, default=3, help="load rounds, servers alternating")
    ap.add_argument("--warmup", type=float, default=3, help="seconds of load before measuring")
    ap.add_argument("--only", default="yloft,node,pycrdt")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-stuck", action="store_true")
    ap.add_argument("--skip-capacity", action="store_true")
    ap.add_argument("--skip-catchup", action="store_true")
    ap.add_argument("--capacity-step-s", type=float, default=8.0)
    ap.add_argument("--capacity-trials", type=int, default=6)
    ap.add_argument("--capacity-repeats", type=int, default=3)
    ap.add_argument("--capacity-only", default="yloft,node")
    args = ap.parse_args()
    results: dict[str, Any] = {"load": {}, "seconds": args.seconds, "rounds": args.rounds,
                               "warmup_s": args.warmup, "clients": ROOMS * CLIENTS,
                               "rooms": ROOMS, "rate": BASE_RATE,
                               "pycrdt_rooms": "created before the clients join"}  # fmt: skip
    names = args.only.split(",")
    if not args.skip_load:
        # Rounds alternate the order of the servers; "yloft-stuck" is the yloft relay with
        # one more client in the first room that stops reading (a slow reader).
        subjects = names + (["yloft-stuck"] if "yloft" in names and not args.skip_stuck else [])
        rounds: dict[str, list[dict[str, Any]]] = {n: [] for n in subjects}
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.rounds):
                for name in subjects if i % 2 == 0 else subjects[::-1]:
                    print(f"load round {i + 1}: {name} …", flush=True)
                    stuck = int(name.endswith("-stuck"))
                    r = run_load(name.removesuffix("-stuck"), args.seconds, Path(tmp),
                                 warmup=args.warmup, stuck=stuck)  # fmt: skip
                    rounds[name].append(r)
                    if r.get("delivered"):
                        show(name, r)
                    else:
                        print(f"  {name}: nothing delivered", r, flush=True)
        for name, rs in rounds.items():
            target = results if name == "yloft-stuck" else results["load"]
            target["stuck" if name == "yloft-stuck" else name] = summarize(rs)
        load = results["load"]
        if "yloft" in load and "node" in load and load["yloft"].get("delivered"):
            y, n = load["yloft"], load["node"]
            results["yloft_vs_node"] = {
                key: y[key] / n[key] for key in ("throughput_per_s", "p50_ms", "p99_ms",
                                                 "cpu_s_per_1000") if n.get(key) and key in y
            }  # fmt: skip
            print("yloft vs node (medians):", results["yloft_vs_node"], flush=True)
    if not args.skip_capacity:
        results["capacity"] = {"p99_limit_ms": P99_LIMIT_MS, "min_delivered": MIN_DELIVERED,
                               "servers": {}}  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            for name in args.capacity_only.split(","):
                print(f"capacity: {name} …", flush=True)
                cap = capacity(name, args.capacity_step_s, args.capacity_trials, Path(tmp),
                               args.capacity_repeats, args.warmup)  # fmt: skip
                results["capacity"]["servers"][name] = cap
                print(f"  {name:7s} highest passing rate: {cap['sent_per_s']:.0f} updates/s"
                      f" sent ({cap['best_rate_per_client']:g}/s per client)"
                      f"{'' if cap['found'] else ', no failing step reached'}"
                      f"{', saturated' if cap['saturated'] else ', not saturated'}",
                      flush=True)  # fmt: skip
    if not args.skip_catchup:
        print("catch-up …", flush=True)
        c = asyncio.run(catchup_bench())
        results["catchup"] = c
        print(
            f"  missed {c['missed_updates']} updates on {c['documents']} docs: "
            f"{c['catchup_s']:.2f} s, {c['catchup_bytes']} bytes in {c['catchup_entries']} "
            f"entries vs per-document Yjs diffs {c['minimal_diff_bytes']}"
            f" (x{c['bytes_ratio']:.2f}); "
            f"fresh device {c['fresh_device_bytes']} bytes vs full state "
            f"{c['full_state_bytes']} (x{c['fresh_bytes_ratio']:.2f})"
            f" in {c['fresh_device_s']:.2f} s",
            flush=True,
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "relay.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
