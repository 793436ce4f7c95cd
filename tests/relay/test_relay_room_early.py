"""A room's writers get an update while it is being stored; everyone else once it is.

A y-websocket room has no ACK and no seq, and a room client offers its whole state again
at every connect, so the relay writes a room push to the room's writers on arrival. The
space protocol's clients (seqs, "nothing before it is durable") and read-only room
clients (whose re-offer the relay would refuse) get it only after COMMIT. Shown on
PostgreSQL, where another connection can hold the space's counter row and so keep the
relay's COMMIT waiting for as long as the test needs.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from authkit import Keys
from conftest import RelayProcess
from pgserver import PgServer
from relaykit import Session, open_ws, run, text_update
from websockets.asyncio.client import ClientConnection

from yloft.sync import protocol as p
from yloft_relay import ysync


async def next_update(ws: ClientConnection, timeout: float = 30) -> bytes:
    """The payload of the next sync update frame (presence queries are skipped)."""
    while True:
        frame = ysync.parse(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[arg-type]
        if frame.kind == ysync.KIND_SYNC and frame.step != ysync.STEP1:
            return frame.payload


async def step1(ws: ClientConnection) -> None:
    """Read up to the relay's sync step 1 (presence queries are skipped)."""
    while ysync.parse(await asyncio.wait_for(ws.recv(), 30)).step != ysync.STEP1:  # type: ignore[arg-type]
        pass


async def nothing_within(coro: object, seconds: float = 1.5) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(coro, seconds)  # type: ignore[arg-type]


def test_room_writers_get_a_push_while_it_is_stored_the_others_once_it_is(
    relay_factory: type[RelayProcess], keys: Keys, pg: PgServer
) -> None:
    db = pg.new_db()
    relay = relay_factory(*keys.relay_args(), db=db)
    relay.start()
    writer, viewer = keys.token(), keys.token(user="viewer", write=False)

    async def main() -> None:
        device = await Session.open(relay.url, ("team", writer), "device")
        await device.push(1, "notes", "other", text_update("first"))  # the counter row exists
        assert await device.recv() == p.Ack(1, 1)
        rooms = {name: await open_ws(relay.room_url("team", "notes", "n1", token))
                 for name, token in (("a", writer), ("b", writer), ("ro", viewer))}  # fmt: skip
        for ws in rooms.values():
            await step1(ws)

        with psycopg.connect(db) as hold:  # a transaction holding the space's counter row
            hold.execute("SELECT head FROM yloft_spaces WHERE space = 'team' FOR UPDATE")
            await rooms["a"].send(ysync.sync_update(text_update("early")))
            assert b"early" in await next_update(rooms["b"])  # a writer of the room: at once
            await nothing_within(next_update(rooms["ro"]))  # read-only: not before COMMIT
            await nothing_within(device.recv())  # the space protocol: not before COMMIT
            hold.rollback()

        assert b"early" in await next_update(rooms["ro"])
        update = await device.recv()
        assert isinstance(update, p.Update) and update.entry.seq == 2, update
        assert b"early" in update.entry.update
        await nothing_within(next_update(rooms["b"]))  # not a second time
        # A writer joining while a push waits for COMMIT gets it from the fan-out.
        with psycopg.connect(db) as hold:
            hold.execute("SELECT head FROM yloft_spaces WHERE space = 'team' FOR UPDATE")
            await rooms["a"].send(ysync.sync_update(text_update("late")))
            assert b"late" in await next_update(rooms["b"])
            joined = await open_ws(relay.room_url("team", "notes", "n1", writer))
            await step1(joined)
            hold.rollback()
        got = b""
        while b"late" not in got:  # its sync answer has "early"; "late" comes after COMMIT
            got += await next_update(joined)
        for ws in [*rooms.values(), joined]:
            await ws.close()
        await device.close()

    run(main())
