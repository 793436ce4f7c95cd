"""Two CPython stores syncing through a relay subprocess (yloft.sync.websocket)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import RelayProcess
from relaykit import TEAM, edit, open_store, rows, run, until

from yloft import Store
from yloft.errors import AuthError
from yloft.sync.websocket import RelaySync


def test_two_stores_converge_after_offline_edits(relay: RelayProcess, tmp_path: Path) -> None:
    a, b = open_store(tmp_path / "a.db"), open_store(tmp_path / "b.db")

    def sync(store: Store) -> RelaySync:
        return RelaySync(store, relay.url, *TEAM)

    async def main() -> None:
        sa, sb = sync(a), sync(b)
        async with sa, sb:
            await sa.wait_online()
            await sb.wait_online()
            nid = a.collection("notes").create()
            edit(a, nid, "from a", "hello")
            await until(lambda: rows(b) == rows(a))
            assert rows(b)[0]["title"] == "from a"
            await sa.wait_idle()
        # Both offline: edit the same note and new notes on both sides.
        assert sa.status["state"] == "offline"
        edit(a, nid, append=" A-offline")
        edit(b, nid, title="title from b", append=" B-offline")
        for i in range(20):
            edit(a, a.collection("notes").create(), f"a{i}", f"body a{i}")
            edit(b, b.collection("notes").create(), f"b{i}", f"body b{i}")
        assert rows(a) != rows(b)
        sa, sb = sync(a), sync(b)  # restarted devices: the cursor the store keeps
        assert sa.client.last_seq > 0 and sa.client.acked > 0
        async with sa, sb:
            await until(lambda: sa.status["outbox"] == 0 and sb.status["outbox"] == 0)
            await sa.wait_idle()
            await sb.wait_idle()
            await until(lambda: rows(a) == rows(b) and len(rows(a)) == 41)
        note = next(r for r in rows(a) if r["id"] == nid)
        assert note["title"] == "title from b"
        assert "A-offline" in note["body"] and "B-offline" in note["body"]
        for store in (a, b):
            assert store.get_state("notes", nid) == a.get_state("notes", nid)

    run(main())
    a.close()
    b.close()


def test_reconnects_after_relay_restart_with_outbox(relay: RelayProcess, tmp_path: Path) -> None:
    a, b = open_store(tmp_path / "a.db"), open_store(tmp_path / "b.db")

    async def main() -> None:
        sa = RelaySync(a, relay.url, *TEAM, min_backoff=0.05, max_backoff=0.5)
        sb = RelaySync(b, relay.url, *TEAM, min_backoff=0.05, max_backoff=0.5)
        async with sa, sb:
            await sa.wait_online()
            await sb.wait_online()
            relay.kill9()
            await until(lambda: sa.status["state"] == "offline")
            nid = a.collection("notes").create()
            edit(a, nid, "written while the relay was down", "x")
            await asyncio.sleep(0.3)
            assert sa.status["outbox"] >= 1  # queued, not acknowledged
            relay.start()
            await until(lambda: rows(b) == rows(a) and len(rows(b)) == 1)
            await until(lambda: sa.status["outbox"] == 0 and sa.status["state"] == "online")
            assert sa.connects >= 2

    run(main())
    a.close()
    b.close()


def test_wrong_token_is_reported_as_auth_error(relay: RelayProcess, tmp_path: Path) -> None:
    store = open_store(tmp_path / "a.db")

    async def main() -> None:
        sync = RelaySync(store, relay.url, "team", "not-the-token")
        async with sync:
            await until(lambda: sync.stopped)  # a wrong token does not fix itself: no retry
            assert isinstance(sync.last_error, AuthError)
            assert sync.status["state"] == "offline" and sync.status["auth"] == "refused"
            assert "refused space 'team'" in sync.status["error"] and sync.connects == 1

    run(main())
    store.close()


def test_a_large_outbox_gets_through_the_rate_limit(
    relay_factory: type[RelayProcess], tmp_path: Path
) -> None:
    relay = relay_factory("--rate", "200", "--burst", "100")
    relay.start()
    a, b = open_store(tmp_path / "a.db"), open_store(tmp_path / "b.db")
    notes = a.collection("notes")
    with a.atomic():
        for i in range(600):  # offline work: 1,200 changes in the outbox
            edit(a, notes.create(), f"n{i}")

    async def main() -> None:
        sa = RelaySync(a, relay.url, *TEAM)
        sb = RelaySync(b, relay.url, *TEAM)
        async with sa, sb:
            await sa.wait_idle(timeout=60)
            await until(lambda: len(rows(b)) == 600, timeout=60)
            assert sa.connects == 1  # paced by the relay, never dropped
        assert rows(a) == rows(b)

    run(main())
    a.close()
    b.close()


def test_a_replaced_relay_log_gets_everything_again(
    relay_factory: type[RelayProcess], tmp_path: Path
) -> None:
    """A relay restored from nothing (new relay_id): devices push all they have again."""
    first = relay_factory()
    first.start()
    a = open_store(tmp_path / "a.db")
    for i in range(5):
        edit(a, a.collection("notes").create(), f"n{i}", "text")

    async def sync_to(relay: RelayProcess, store: Store) -> RelaySync:
        sync = RelaySync(store, relay.url, *TEAM)
        await sync.start()
        await sync.wait_idle()
        return sync

    async def main() -> None:
        s = await sync_to(first, a)
        await s.stop()
        first.stop()
        second = relay_factory(db=tmp_path / "fresh.db")  # same port is not needed
        second.start()
        s = await sync_to(second, a)  # the cursor names the old relay's log
        b = open_store(tmp_path / "b.db")
        t = await sync_to(second, b)
        await until(lambda: rows(b) == rows(a) and len(rows(b)) == 5)
        await s.stop()
        await t.stop()
        b.close()

    run(main())
    a.close()


def test_a_normal_stop_closes_with_1000(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``async with RelaySync(...)`` exiting is a normal close (1000), not 1011."""
    from websockets.asyncio.server import ServerConnection

    from yloft_relay.config import TokenBook
    from yloft_relay.server import Relay

    codes: list[int | None] = []
    handle = Relay._handle

    async def spy(self: Relay, ws: ServerConnection) -> None:
        try:
            await handle(self, ws)
        finally:
            await ws.wait_closed()
            codes.append(ws.close_code)

    monkeypatch.setattr(Relay, "_handle", spy)
    store = open_store(tmp_path / "a.db")

    async def main() -> None:
        async with Relay(tmp_path / "r.db", TokenBook.parse("team=secret-team")) as relay:
            url = f"ws://127.0.0.1:{relay.port}/relay"
            async with RelaySync(store, url, *TEAM) as sync:
                await sync.wait_online()
                edit(store, store.collection("notes").create(), "t", "b")
                await sync.wait_idle()
            await until(lambda: bool(codes))
        assert codes == [1000]

    run(main())
