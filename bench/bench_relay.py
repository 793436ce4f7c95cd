"""Relay benchmarks: fan-out under load beside two other Yjs servers, and catch-up size.

    .venv/bin/python bench/bench_relay.py [--seconds 60] [--only yloft,node,pycrdt]
                                          [--skip-load] [--skip-catchup]

Load: one Node load generator (bench/bench_relay_load.mjs) drives 100 raw y-websocket
clients in 10 rooms, each sending 5 small updates per second, against
  - yloft_relay (its y-websocket rooms, /relay/yws/<space>/<collection>/<doc>),
  - @y/websocket-server 0.1.5 (the official Node backend),
  - pycrdt-websocket 0.16.5 (bench/bench_relay_pycrdt.py),
one after the other in the same run. Reported: delivered updates/s and share of those
expected, p50/p99 end-to-end latency (sender's clock = receiver's clock: one process),
and the server's resident memory (peak and at the end, from /proc).

Catch-up: a device synced 1,000 documents, then missed 10,000 updates to them (10 each);
it reconnects with its last seq. Reported: time to caught-up and bytes received, beside
the minimal size of the diffs (pycrdt ``get_update(doc, device_state)`` per document).

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
    rooms = range(10)
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
        cmd = [PY, str(ROOT / "bench" / "bench_relay_pycrdt.py"), str(port)]
        srv = Server(name, cmd, "listening", {})
        urls = [f"ws://127.0.0.1:{port}/room{i}" for i in rooms]
    else:
        raise SystemExit(f"unknown server {name}")
    return srv, urls


def run_load(name: str, seconds: int, tmp: Path) -> dict[str, Any]:
    port = free_port()
    srv, urls = start_server(name, port, tmp / f"{name}.db")
    try:
        idle_kib = rss_kib(srv.proc.pid)
        cpu0 = cpu_s(srv.proc.pid)
        cfg = {"rooms": urls, "clients": 10, "rate": 5, "seconds": seconds, "drain": 5}
        try:
            out = subprocess.run(
                [NODE, str(ROOT / "bench" / "bench_relay_load.mjs"), json.dumps(cfg)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=seconds + 180,
            )
        except subprocess.TimeoutExpired:
            return {"error": "load generator timed out", "delivered": 0}
        if out.returncode != 0:
            raise RuntimeError(f"load generator failed on {name}:\n{out.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        result["server_cpu_s"] = cpu_s(srv.proc.pid) - cpu0
        result["rss_idle_mib"] = idle_kib / 1024
        result["rss_peak_mib"] = max(srv.samples, default=0) / 1024
        result["rss_end_mib"] = rss_kib(srv.proc.pid) / 1024
        result["alive"] = srv.proc.poll() is None
        return result
    finally:
        srv.stop()


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--only", default="yloft,node,pycrdt")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-catchup", action="store_true")
    args = ap.parse_args()
    results: dict[str, Any] = {"load": {}, "seconds": args.seconds}
    if not args.skip_load:
        with tempfile.TemporaryDirectory() as tmp:
            for name in args.only.split(","):
                print(f"load: {name} …", flush=True)
                r = run_load(name, args.seconds, Path(tmp))
                results["load"][name] = r
                if not r.get("delivered"):
                    print(f"  {name}: nothing delivered", r, flush=True)
                    continue
                print(
                    f"  {name:7s} synced {r['synced']}/{r['clients']},"
                    f" delivered {r['delivered']}/{r['expected']}"
                    f" ({100 * r['delivered_ratio']:.1f} %), {r['throughput_per_s']:.0f}/s,"
                    f" p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms,"
                    f" RSS peak {r['rss_peak_mib']:.0f} MiB (idle {r['rss_idle_mib']:.0f}),"
                    f" server CPU {r['server_cpu_s']:.1f} s",
                    flush=True,
                )
        load = results["load"]
        if "yloft" in load and "node" in load:
            y, n = load["yloft"], load["node"]
            results["yloft_vs_node"] = {
                "throughput_ratio": y["throughput_per_s"] / n["throughput_per_s"],
                "p99_ratio": y["p99_ms"] / n["p99_ms"],
                "p50_ratio": y["p50_ms"] / n["p50_ms"],
            }
            print("yloft vs node:", results["yloft_vs_node"], flush=True)
    if not args.skip_catchup:
        print("catch-up …", flush=True)
        c = asyncio.run(catchup_bench())
        results["catchup"] = c
        print(
            f"  missed {c['missed_updates']} updates on {c['documents']} docs: "
            f"{c['catchup_s']:.2f} s, {c['catchup_bytes']} bytes in {c['catchup_entries']} "
            f"entries vs minimal diff {c['minimal_diff_bytes']} (x{c['bytes_ratio']:.2f}); "
            f"fresh device {c['fresh_device_bytes']} bytes vs full state "
            f"{c['full_state_bytes']} (x{c['fresh_bytes_ratio']:.2f})"
            f" in {c['fresh_device_s']:.2f} s",
            flush=True,
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "relay.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
