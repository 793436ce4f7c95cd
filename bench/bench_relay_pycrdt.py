"""pycrdt-websocket 0.16.5 as a standalone y-websocket server (baseline for bench_relay.py).

    .venv/bin/python bench/bench_relay_pycrdt.py PORT [ROOM ...]

Rooms are named by the request path (``/room0``); prints "listening" once it accepts
connections. Every ROOM given (a path, e.g. ``/room0``) is created and started before the
server listens.

Why pre-create: in pycrdt-websocket 0.16.5, ``WebsocketServer.get_room`` creates a room
and starts it without a lock (``if not room.started.is_set(): await
task_group.start(room.start)``). When several clients join a new room at the same
instant, each starts it; ``YRoom.start`` then serialises them on its own lock, and the
second caller waits for the first one's room task to end — that is, forever — so every
joiner after the first never gets past the sync handshake. (bench_relay.py once showed it
at 0 % delivered: 10 of 100 clients synced, one per room.) Creating the rooms first is
what a deployment can do for rooms it knows of, keeps the clients' behaviour identical
for the three servers (all join at once), and measures the server's real forwarding
work rather than the race.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

from pycrdt.websocket import WebsocketServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


class Channel:
    """pycrdt's Channel protocol over a websockets server connection."""

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        assert ws.request is not None
        self._path = ws.request.path

    @property
    def path(self) -> str:
        return self._path

    async def send(self, message: bytes) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(message)

    async def recv(self) -> bytes:
        data = await self.ws.recv()
        return data if isinstance(data, bytes) else data.encode()

    def __aiter__(self) -> Channel:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except ConnectionClosed:
            raise StopAsyncIteration from None


async def main(port: int, rooms: list[str]) -> None:
    # auto_clean_rooms=False: a pre-created room must outlive a moment with no clients.
    async with WebsocketServer(auto_clean_rooms=False) as server:
        for name in rooms:
            await server.get_room(name)  # created and started one at a time: no race

        async def handler(ws: ServerConnection) -> None:
            await server.serve(Channel(ws))

        async with serve(handler, "127.0.0.1", port, max_size=None, compression=None):
            print(f"pycrdt-websocket listening on 127.0.0.1:{port}", flush=True)
            await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2:]))
