"""pycrdt-websocket 0.16.5 as a standalone y-websocket server (baseline for bench_relay.py).

    .venv/bin/python bench/bench_relay_pycrdt.py PORT

Rooms are named by the request path; prints "listening" once it accepts connections.
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


async def main(port: int) -> None:
    async with WebsocketServer() as server:

        async def handler(ws: ServerConnection) -> None:
            await server.serve(Channel(ws))

        async with serve(handler, "127.0.0.1", port, max_size=None, compression=None):
            print(f"pycrdt-websocket listening on 127.0.0.1:{port}", flush=True)
            await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
