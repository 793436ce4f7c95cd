"""kill -9 during a stream of pushes: nothing acknowledged is lost, service resumes."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

from conftest import RelayProcess
from relaykit import TEAM, Session, docs_from, run, text_of, text_update
from websockets.exceptions import ConnectionClosed

from yloft.sync import protocol as p

DOCS = 10


def marker(i: int) -> str:
    return f"<{i}>"


async def stream(s: Session, ids: range, acked: dict[int, int], window: int = 64) -> None:
    """Push ``ids`` with up to ``window`` unacknowledged; record acks until the link dies."""
    inflight = asyncio.Semaphore(window)

    dead = False

    async def reader() -> None:
        nonlocal dead
        try:
            while True:
                msg = await s.recv(timeout=60)
                assert isinstance(msg, p.Ack), msg
                acked[msg.msg_id] = msg.seq
                inflight.release()
        finally:
            dead = True  # link gone: unblock the sender so it stops too
            for _ in range(window):
                inflight.release()

    task = asyncio.ensure_future(reader())
    try:
        for i in ids:
            await inflight.acquire()
            if dead:
                break
            await s.push(i, "notes", f"n{i % DOCS}", text_update(marker(i)))
        while not dead and len([i for i in ids if i in acked]) < len(ids):
            await asyncio.sleep(0.01)
    except ConnectionClosed:
        pass
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await task


def test_kill9_loses_no_acknowledged_update(relay: RelayProcess) -> None:
    total = 1500
    acked: dict[int, int] = {}
    rounds = [300, 700, 1100]  # kill once this many pushes are acknowledged

    async def main() -> None:
        next_id = 1
        for kill_at in rounds:
            s = await Session.open(relay.url, TEAM, "writer")
            # Outbox semantics: resend everything not yet acknowledged, then go on.
            unacked = [i for i in range(1, next_id) if i not in acked]
            for i in unacked:
                await s.push(i, "notes", f"n{i % DOCS}", text_update(marker(i)))
            task = asyncio.ensure_future(stream(s, range(next_id, total + 1), acked))
            while len(acked) < kill_at:
                await asyncio.sleep(0.005)
            relay.kill9()  # pushes are in flight right now
            await asyncio.wait_for(task, 60)
            next_id = max(acked) + 1
            await s.close()
            before_restart = dict(acked)
            relay.start()
            check = await Session.open(relay.url, TEAM, "checker")
            docs = docs_from(check.entries)
            texts = "".join(text_of(d) for d in docs.values())
            lost = [i for i in before_restart if marker(i) not in texts]
            assert lost == [], f"acknowledged pushes lost after kill -9: {lost[:20]}"
            assert check.welcome.head_seq >= max(s for s in before_restart.values())
            await check.close()
        # Finish the stream on the restarted relay: every push ends up stored once acked.
        s = await Session.open(relay.url, TEAM, "writer")
        for i in [i for i in range(1, next_id) if i not in acked]:
            await s.push(i, "notes", f"n{i % DOCS}", text_update(marker(i)))
        await stream(s, range(next_id, total + 1), acked)
        await s.close()
        final = await Session.open(relay.url, TEAM, "checker")
        texts = "".join(text_of(d) for d in docs_from(final.entries).values())
        assert [i for i in range(1, total + 1) if marker(i) not in texts] == []
        await final.close()

    run(main(), timeout=240)
    relay.stop()
    if isinstance(relay.db, str):  # PostgreSQL: test_relay_cluster checks its rows
        return
    with sqlite3.connect(relay.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        seqs = [r[0] for r in conn.execute("SELECT seq FROM log WHERE space='team'")]
    conn.close()
    assert len(seqs) == len(set(seqs))
