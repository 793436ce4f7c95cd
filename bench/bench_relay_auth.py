"""Access control's cost: connection set-up with signed tokens against a shared secret,
and relay throughput with the ``--auth`` hook against without, at the standard load.

    .venv/bin/python bench/bench_relay_auth.py [--connects 200] [--rounds 3] [--seconds 60]

Set-up: one relay (SQLite) taking a shared secret and three key kinds; each round opens
``connects`` space-protocol connections one after the other, each HELLO → (ACCESS,)
WELCOME → empty CATCHUP → close, and the per-connection time is its median; subjects:
the shared secret, and JWTs signed with HS256, EdDSA (Ed25519) and ES256 (P-256).

Throughput: the load generator of bench/bench_relay.py (bench/bench_relay_load.mjs,
100 raw y-websocket clients in 10 rooms, 5 updates/s each) on a relay with
``--tokens`` only, then on one whose ``--auth`` hook (a membership lookup in a dict)
decides every connection, and then with scoped JWTs (each client's token names only
the collection it writes, so every delivery checks a scope). Same run, one after the
other; the machine is shared, so compare within a run.

Writes bench/results/relay_auth.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_relay import NODE, PY, RESULTS, ROOT, Server, cpu_s, free_port
from websockets.asyncio.client import connect

from yloft.sync import protocol as p

sys.path.insert(0, str(ROOT / "tests" / "relay"))
from authkit import Keys

HOOK = """
MEMBERS = {"bench": {"token:bench", "alice"}}


def decide(req):
    if req.grant is None or req.grant.principal not in MEMBERS.get(req.space, ()):
        return None
    return req.grant
"""


def relay(tmp: Path, keys: Keys, *extra: str) -> tuple[Server, int]:
    port = free_port()
    cmd = [PY, "-m", "yloft_relay", "--port", str(port), "--db", str(tmp / f"r{port}.db"),
           "--tokens", "bench=t", *keys.relay_args(), "--log-level", "WARNING",
           "--rate", "1e6", "--burst", "1e6", *extra]  # fmt: skip
    return Server("yloft", cmd, "listening on", {"PYTHONPATH": str(tmp)}), port


async def connect_once(url: str, token: str, i: int) -> float:
    t0 = time.perf_counter()
    async with connect(url, compression=None) as ws:
        await ws.send(p.encode(p.Hello("bench", token, f"c{i}", 0)))
        while True:
            frame = await ws.recv()
            assert isinstance(frame, bytes)
            msg = p.decode(frame)
            if isinstance(msg, p.Catchup) and msg.done:
                break
    return (time.perf_counter() - t0) * 1e3


async def setup_round(url: str, tokens: dict[str, str], n: int) -> dict[str, float]:
    """Median ms per connection for each subject, interleaved so load hits all alike."""
    times: dict[str, list[float]] = {k: [] for k in tokens}
    for i in range(n):
        for name, token in tokens.items():
            times[name].append(await connect_once(url, token, i))
    return {k: statistics.median(v) for k, v in times.items()}


def run_load(urls: list[str], seconds: int, pid: int) -> dict[str, Any]:
    cpu0 = cpu_s(pid)
    cfg = {"rooms": urls, "clients": 10, "rate": 5, "seconds": seconds, "drain": 5}
    cmd = [NODE, str(ROOT / "bench" / "bench_relay_load.mjs"), json.dumps(cfg)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 180)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["server_cpu_s"] = cpu_s(pid) - cpu0
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--connects", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    results: dict[str, Any] = {"connects": args.connects, "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        keys = Keys.make(tmp / "keys")
        (tmp / "benchhook.py").write_text(HOOK)
        tokens = {"shared secret": "t"}
        for kid, label in (("hs", "JWT HS256"), ("ed", "JWT EdDSA"), ("es", "JWT ES256")):
            tokens[label] = keys.token(kid, spaces={"bench": {"rights": ["read", "write"]}})
        srv, port = relay(tmp, keys)
        try:
            url = f"ws://127.0.0.1:{port}/relay"
            rounds = [asyncio.run(setup_round(url, tokens, args.connects))
                      for _ in range(args.rounds)]  # fmt: skip
        finally:
            srv.stop()
        results["setup_ms"] = {k: [r[k] for r in rounds] for k in tokens}
        for k, v in results["setup_ms"].items():
            print(f"set-up {k:14s} median {statistics.median(v):.2f} ms per connection", flush=True)

        scoped = keys.token("ed", spaces={"bench": {"rights": ["read", "write"],
                                                    "collections": ["load"]}})  # fmt: skip
        variants = {"no hook": ([], "t"), "--auth hook": (["--auth", "benchhook:decide"], "t"),
                    "scoped JWT": ([], scoped)}  # fmt: skip
        results["load"] = {}
        for name, (extra, token) in variants.items():
            srv, port = relay(tmp, keys, *extra)
            try:
                urls = [f"ws://127.0.0.1:{port}/relay/yws/bench/load/room{i}?token={token}"
                        for i in range(10)]  # fmt: skip
                r = run_load(urls, args.seconds, srv.proc.pid)
            finally:
                srv.stop()
            results["load"][name] = r
            print(f"load {name:12s} {r['throughput_per_s']:.0f}/s delivered "
                  f"{100 * r['delivered_ratio']:.1f} %, p50 {r['p50_ms']:.1f} ms, p99 "
                  f"{r['p99_ms']:.1f} ms, CPU {r['server_cpu_s']:.1f} s", flush=True)  # fmt: skip
    s = results["setup_ms"]
    base = statistics.median(s["shared secret"])
    results["ratios"] = {
        "setup_jwt_vs_secret": {k: statistics.median(v) / base for k, v in s.items()},
        "throughput_hook_vs_none": results["load"]["--auth hook"]["throughput_per_s"]
        / results["load"]["no hook"]["throughput_per_s"],
        "cpu_hook_vs_none": results["load"]["--auth hook"]["server_cpu_s"]
        / max(1e-9, results["load"]["no hook"]["server_cpu_s"]),
    }
    print(json.dumps(results["ratios"]), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "relay_auth.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
