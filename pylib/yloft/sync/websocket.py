"""Sync a :class:`~yloft.Store` with a relay space over a websocket (CPython adapter).

A thin adapter around :class:`yloft.sync.session.RelaySession` (shared with the
browser adapter, which applies what the relay sends with origin ``"relay"`` and keeps
the cursor in the store): this module opens the socket, moves frames, and reconnects
with exponential backoff and jitter. The store is used from the event loop's thread
only.

Example:
    >>> async def main(store):  # doctest: +SKIP
    ...     async with RelaySync(store, "ws://127.0.0.1:8765/relay", "team", "secret",
    ...                          state_path="app.db.sync.json") as sync:
    ...         await sync.wait_online()
    ...         print(sync.status)   # {'state': 'online', 'outbox': 0, ...}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import sqlite3
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from ..errors import AuthError, ProtocolError, SyncError, YloftError
from .client import OFFLINE, ONLINE, SyncState
from .session import RELAY_ORIGIN, RelaySession, parse_state

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("yloft.sync")
ORIGIN = RELAY_ORIGIN


def load_state(path: Path | None) -> SyncState:
    """A cursor an older yloft kept in a file, or a fresh one with a new client id."""
    if path is not None and path.exists():
        return parse_state(path.read_text())
    return SyncState(uuid.uuid4().hex)


class RelaySync:
    """Keeps one store in sync with one relay space; ``async with`` or start()/stop().

    Args:
        store: the store to sync (every collection of it); it keeps the cursor.
        url: the relay's space endpoint, e.g. ``ws://127.0.0.1:8765/relay``.
        space: the space name; token: its token.
        state_path: a cursor file written by an older yloft, read once when the store
            holds no cursor yet (the store keeps it from then on); None: none.
        min_backoff, max_backoff: reconnect delays in seconds (doubling, ±50 % jitter).
        trim_every: trim the change feed once this many relay-acknowledged entries
            wait (see :class:`RelaySession`); None (default) keeps the whole feed.
    """

    def __init__(
        self,
        store: Store,
        url: str,
        space: str,
        token: str,
        *,
        state_path: str | os.PathLike[str] | None = None,
        min_backoff: float = 0.1,
        max_backoff: float = 10.0,
        trim_every: int | None = None,
    ) -> None:
        self.store = store
        self.url = url
        self.state_path = Path(state_path) if state_path is not None else None
        state = load_state(self.state_path)
        self.session = RelaySession(store, space, token, state=state, trim_every=trim_every)
        self.client = self.session.client
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.last_error: BaseException | None = None
        self.connects = 0
        self._local = asyncio.Event()
        self._online = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self._remove_hook: Any = None

    # ----------------------------------------------------------------- public

    @property
    def status(self) -> dict[str, Any]:
        """``{"state": "online"|"offline"|"syncing", "outbox": n, "last_seq": n}``."""
        return self.session.status()

    async def start(self) -> None:
        """Start syncing in the background (returns at once)."""
        if self._task is None:
            self._remove_hook = self.store.on_update(self._on_update)
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Disconnect, save the cursor and stop reconnecting."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._remove_hook is not None:
            self._remove_hook()
            self._remove_hook = None
        self.session.disconnect()

    async def __aenter__(self) -> RelaySync:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_online(self, timeout: float = 30) -> None:
        """Wait until caught up with the relay (status ``online``)."""
        await asyncio.wait_for(self._online.wait(), timeout)

    async def wait_idle(self, timeout: float = 30) -> None:
        """Wait until online with an empty outbox (every local change acknowledged)."""

        async def idle() -> None:
            while not (self.client.status == ONLINE and not self.session.has_unsent()):
                await asyncio.sleep(0.01)

        await asyncio.wait_for(idle(), timeout)

    # -------------------------------------------------------------- internals

    def _on_update(self, collection: str, doc_id: str, update: bytes, origin: str | None) -> None:
        if not RelaySession.sends(origin):
            return
        if self.client.status == OFFLINE:  # queue now so status shows it; sent on WELCOME
            frames = self.session.local()
            assert not frames
        self._local.set()

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._session()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except (OSError, ConnectionClosed, InvalidHandshake, YloftError, sqlite3.Error) as exc:
                self.last_error = exc
                if self.client.status == ONLINE:
                    attempt = 0
                log.info("relay link down (%s); retrying", exc)
            finally:
                self._ws = None
                self._online.clear()
                if not self.store.closed:
                    self.session.disconnect()
            delay = min(self.max_backoff, self.min_backoff * 2**attempt)
            attempt += 1
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))

    async def _session(self) -> None:
        async with connect(self.url, compression=None, max_size=None) as ws:
            self._ws = ws
            self.connects += 1
            await ws.send(self.session.connect())
            sender = asyncio.ensure_future(self._send_local(ws))
            try:
                async for frame in ws:
                    if isinstance(frame, str):
                        raise ProtocolError("the relay sent a text frame")
                    await self._handle(ws, frame)
            except asyncio.CancelledError:  # stop(): a normal close (1000), not 1011
                with contextlib.suppress(OSError, ConnectionClosed):
                    await ws.close(1000, "client stopped")
                raise
            except ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code == 1008 and not self.client.welcomed:
                    space = self.client.space
                    raise AuthError(f"the relay refused space {space!r}: {exc}") from exc
                raise
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await sender
        raise SyncError(f"the relay closed the connection ({ws.close_code} {ws.close_reason})")

    async def _handle(self, ws: ClientConnection, frame: bytes) -> None:
        for f in self.session.receive(frame):
            await ws.send(f)
        if self.client.status == ONLINE and not self._online.is_set():
            self.session.save_cursor()
            self._online.set()
            self._local.set()  # send what was edited meanwhile

    async def _send_local(self, ws: ClientConnection) -> None:
        while True:
            await self._local.wait()
            self._local.clear()
            for f in self.session.local():
                await ws.send(f)


__all__ = ["OFFLINE", "ONLINE", "RelaySync", "load_state"]
