"""Three relay processes on loopback ports sharing one PostgreSQL log (issue 15)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pycrdt
import pytest
from conftest import RelayProcess
from pgserver import PgServer
from relaykit import OTHER, TEAM, Session, docs_from, run, text_of, text_update
from test_relay_durability import marker, stream

from yloft.sync import protocol as p
from yloft_relay import ysync

ROOT = Path(__file__).resolve().parents[2]
PEER = Path(__file__).with_name("yws_peer.mjs")


def cluster(
    relay_factory: type[RelayProcess], pg: PgServer, *extra: str, n: int = 3
) -> tuple[str, list[RelayProcess]]:
    url = pg.new_db()
    relays = [relay_factory("--poll", "0.5", *extra, db=url) for _ in range(n)]
    for r in relays:
        r.start()
    return url, relays


async def collect(s: Session, until: Callable[[list[int]], bool], timeout: float = 60) -> list[int]:
    """Seqs of UPDATEs and ACKs ``s`` receives, in order, until ``until(seqs)``."""
    seqs: list[int] = [e.seq for e in s.entries]

    async def loop() -> None:
        while not until(seqs):
            msg = await s.recv(timeout=timeout)
            if isinstance(msg, p.Update):
                seqs.append(msg.entry.seq)
            elif isinstance(msg, p.Ack) and msg.seq:
                seqs.append(msg.seq)

    await asyncio.wait_for(loop(), timeout)
    return seqs


def test_every_client_gets_every_seq_in_order_under_concurrent_pushes(
    relay_factory: type[RelayProcess], pg: PgServer
) -> None:
    url, relays = cluster(relay_factory, pg, "--compact-after", "1000000")
    per_writer = 120

    async def main() -> None:
        readers = {
            (space[0], i): await Session.open(r.url, space, f"reader{i}")
            for space in (TEAM, OTHER)
            for i, r in enumerate(relays)
        }
        assert len({s.welcome.relay_id for s in readers.values()}) == 1  # one relay_id
        writers = [
            await Session.open(r.url, space, f"w{i}")
            for space in (TEAM, OTHER)
            for i, r in enumerate(relays)
        ]
        total = per_writer * len(writers) // 2  # per space

        async def write(w: Session, k: int) -> None:
            for i in range(1, per_writer + 1):
                await w.push(i, "notes", f"n{i % 7}", text_update(f"<{k}:{i}>"))

        done = lambda seqs: len(seqs) >= total  # noqa: E731
        got = asyncio.gather(*(collect(s, done) for s in readers.values()))
        mine = asyncio.gather(*(collect(w, done) for w in writers))
        await asyncio.gather(*(write(w, k) for k, w in enumerate(writers)))
        for seqs in [*await got, *await mine]:
            assert seqs == list(range(1, total + 1))  # strictly increasing, 1..head exactly
        for s in [*readers.values(), *writers]:
            await s.close()

    run(main(), timeout=180)
    for space in ("team", "other"):
        count, top = pg.sql(url, "SELECT count(*), max(seq) FROM yloft_log WHERE space=%s", space)[
            0
        ]
        head = pg.sql(url, "SELECT head FROM yloft_spaces WHERE space=%s", space)[0][0]
        assert count == top == head == per_writer * 3


def test_kill9_three_times_loses_nothing_acked(
    relay_factory: type[RelayProcess], pg: PgServer
) -> None:
    url, relays = cluster(relay_factory, pg, "--compact-after", "1000000")
    total = 1500
    acked: dict[int, int] = {}

    async def main() -> None:
        last_seq, relay_id, next_id, at = 0, "", 1, 0
        for kill in range(4):
            s = await Session.open(relays[at].url, TEAM, "writer", last_seq, relay_id)
            relay_id = s.welcome.relay_id
            # The outbox: everything sent before and not acked is sent again, first.
            end = total + 1 if kill == 3 else min(total + 1, next_id + 500)
            ids = [i for i in range(1, next_id) if i not in acked] + list(range(next_id, end))
            task = asyncio.ensure_future(stream(s, ids, acked))  # type: ignore[arg-type]
            if kill < 3:
                while len(acked) < next_id - 1 + 150:
                    await asyncio.sleep(0.005)
                relays[at].kill9()  # in the middle of pipelined pushes
            await task
            next_id = end
            last_seq = max(acked.values(), default=0)
            if kill < 3:
                relays[at].start()
            at = (at + 1) % 3
            await s.close()
        assert len(acked) == total
        docs = []
        for r in relays:
            reader = await Session.open(r.url, TEAM, "final")
            docs.append({k: text_of(d) for k, d in docs_from(reader.entries).items()})
            await reader.close()
        assert docs[0] == docs[1] == docs[2]
        texts = "".join(docs[0].values())
        assert all(texts.count(marker(i)) == 1 for i in range(1, total + 1))

    run(main(), timeout=240)
    rows = pg.sql(url, "SELECT data FROM yloft_log WHERE space='team'")
    stored = b"".join(bytes(r[0]) for r in rows)  # type: ignore[arg-type]
    assert all(stored.count(marker(i).encode()) == 1 for i in acked)  # stored exactly once


def test_lost_listener_is_covered_by_the_poll(
    relay_factory: type[RelayProcess], pg: PgServer
) -> None:
    url, relays = cluster(relay_factory, pg, n=2)

    async def main() -> None:
        reader = await Session.open(relays[1].url, TEAM, "reader")
        writer = await Session.open(relays[0].url, TEAM, "writer")
        got = asyncio.ensure_future(collect(reader, lambda seqs: len(seqs) >= 60))
        for i in range(1, 61):
            if i % 20 == 1:
                pg.sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                       " WHERE application_name = 'yloft-listener'")  # fmt: skip
            await writer.push(i, "notes", "n", text_update(f"<{i}>"))
            await asyncio.sleep(0.01)
        assert await got == list(range(1, 61))
        await reader.close()
        await writer.close()

    run(main(), timeout=120)
    relays[1].wait_log("listener connection lost")


def test_compaction_with_several_writers_and_catch_up_from_every_seq(
    relay_factory: type[RelayProcess], pg: PgServer
) -> None:
    url, relays = cluster(relay_factory, pg, "--compact-after", "8")

    async def main() -> None:
        watcher = await Session.open(relays[2].url, TEAM, "watcher")
        writers = [await Session.open(r.url, TEAM, f"w{i}") for i, r in enumerate(relays)]
        for i in range(1, 31):
            for k, w in enumerate(writers):
                await w.push(i, "notes", "one", text_update(f"<{k}:{i}>"))
        own: list[p.Entry] = []
        while not own or max(e.seq for e in own) < 90:  # 3 writers x 30 pushes
            msg = await watcher.recv()
            if isinstance(msg, p.Update):
                own.append(msg.entry)
        final = text_of(docs_from(own)[("notes", "one")])
        assert all(f"<{k}:{i}>" in final for k in range(3) for i in range(1, 31))
        for s in [0, *sorted({e.seq for e in own})]:
            doc = pycrdt.Doc()
            for e in own:
                if e.seq <= s:
                    doc.apply_update(e.update)
            later = await Session.open(relays[s % 3].url, TEAM, "late", s, watcher.welcome.relay_id)
            for e in later.entries:
                doc.apply_update(e.update)
            assert text_of(doc) == final, s
            await later.close()
        for w in writers:
            await w.close()
        await watcher.close()

    run(main(), timeout=180)
    # Compaction runs in the background of some process, after its commits: wait for the
    # rows to shrink below the 90 pushed. No deadline of its own: a relay that never
    # compacts hangs here until pytest-timeout (pyproject) fails the test at this line.
    while pg.sql(url, "SELECT count(*) FROM yloft_log WHERE space='team'")[0][0] >= 90:
        time.sleep(0.1)


def test_postgres_restart_immediate_loses_nothing_acked(
    relay_factory: type[RelayProcess], pg: PgServer
) -> None:
    _url, relays = cluster(relay_factory, pg, n=1)
    acked: dict[int, int] = {}
    total = 600

    async def main() -> None:
        restarted = False
        while len(acked) < total:
            try:
                s = await Session.open(relays[0].url, TEAM, "writer")
            except Exception:
                await asyncio.sleep(0.3)  # the relay answers 1011 while PostgreSQL is down
                continue
            ids = [i for i in range(1, total + 1) if i not in acked]  # the outbox
            task = asyncio.ensure_future(stream(s, ids, acked))  # type: ignore[arg-type]
            if not restarted:
                while len(acked) < 200:
                    await asyncio.sleep(0.005)
                await asyncio.to_thread(pg.stop, "immediate")
                await asyncio.to_thread(pg.start)
                restarted = True
            await task
            await s.close()
        reader = await Session.open(relays[0].url, TEAM, "final")
        texts = "".join(text_of(d) for d in docs_from(reader.entries).values())
        assert [i for i in acked if marker(i) not in texts] == []
        await reader.close()

    try:
        run(main(), timeout=90)
    except BaseException:
        print(relays[0].log_text()[-6000:], acked and max(acked))
        raise
    relays[0].wait_log("commit failed", "unreachable")


def test_health_metrics_and_unreachable_postgres(
    relay_factory: type[RelayProcess], pg: PgServer
) -> None:
    _url, relays = cluster(relay_factory, pg, n=1)
    base = f"http://127.0.0.1:{relays[0].port}"
    with urllib.request.urlopen(base + "/healthz") as r:
        assert r.read() == b"ok\n"
    with urllib.request.urlopen(base + "/metrics") as r:
        text = r.read().decode()
    for name in ["yloft_relay_connections", "yloft_relay_pushes_total",
                 "yloft_relay_commit_seconds_bucket", "yloft_relay_fanout_lag"]:  # fmt: skip
        assert name in text
    cmd = [sys.executable, "-m", "yloft_relay", "--port", "0", "--tokens", "team=x",
           "--db", "postgresql://postgres@127.0.0.1:1/none"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "cannot reach PostgreSQL at 127.0.0.1:1/none" in out and "Traceback" not in out, out
    assert "listening" not in out


def test_y_websocket_clients_on_two_processes(
    relay_factory: type[RelayProcess], pg: PgServer
) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "y-websocket").is_dir():
        pytest.fail("node and npm's y-websocket are needed: run `python3 build.py build`")
    _url, relays = cluster(relay_factory, pg)

    async def main() -> None:
        watcher = await Session.open(relays[2].url, TEAM, "watcher")
        procs = [
            await asyncio.create_subprocess_exec(
                node,
                str(PEER),
                f"ws://127.0.0.1:{relays[k].port}/relay/yws/team/notes",
                "doc1",
                TEAM[1],
                "",
                f" from-{k}",
                f"from-{1 - k}",
                f"peer-{k}",
                f"peer-{1 - k}",
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
            )
            for k in (0, 1)
        ]
        finals = []
        for proc in procs:
            assert proc.stdout is not None
            while True:
                line = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
                if line["event"] != "synced":
                    break
            finals.append(line)
        assert [f["event"] for f in finals] == ["final", "final"], finals
        for proc in procs:
            assert await asyncio.wait_for(proc.wait(), 30) == 0
        # Presence reached a space client on the third process too.
        names: list[str] = []
        while len(names) < 2:
            msg = await watcher.recv()
            if isinstance(msg, p.Awareness):
                for _c, _k, state in ysync.parse_awareness(msg.payload):
                    if "peer-" in state and state not in names:
                        names.append(state)
        await watcher.close()

    run(main(), timeout=120)
