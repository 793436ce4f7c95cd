"""Sync a :class:`~yloft.Store` with a relay space over a websocket (CPython adapter).

A thin adapter around :class:`yloft.sync.session.RelaySession` (shared with the
browser adapter, which applies what the relay sends with origin ``"relay"`` and keeps
the cursor in the store): this module opens the socket, moves frames, and reconnects
with exponential backoff and jitter. The store is used from the event loop's thread
only.

Tokens that expire: pass ``get_token`` (a function or coroutine function returning a
token) instead of a token. It is asked for a token before the first connection, shortly
before the relay's ACCESS frame says the token expires (the link is then reopened with
the new one: the cursor and the outbox carry over), after the relay closed the link for
an expired token (4401) and after a refusal (1008, retried with backoff). ``status``
says ``auth``: ``"ok"``, ``"expired"`` or ``"refused"`` (with ``error``), and ``access``:
``"read-only"`` links send nothing and keep every local change in the outbox.

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
import inspect
import logging
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from ..errors import AuthError, ProtocolError, SyncError, TokenExpiredError, YloftError
from .client import OFFLINE, ONLINE, SyncState
from .session import RELAY_ORIGIN, RelaySession, parse_state

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("yloft.sync")
ORIGIN = RELAY_ORIGIN
CLOSE_EXPIRED = 4401
GetToken = Callable[[], "str | Awaitable[str]"]


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
        space: the space name; token: its token (or None with ``get_token``).
        get_token: called for a (new) token: before connecting, before the token
            expires, after an expiry or a refusal; may be a coroutine function.
        renew_before: seconds before the token's expiry to fetch the next one (at
            most a fifth of the token's remaining lifetime); None: only after the
            relay closed the link for an expired token.
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
        token: str | None = None,
        *,
        get_token: GetToken | None = None,
        renew_before: float | None = 60.0,
        state_path: str | os.PathLike[str] | None = None,
        min_backoff: float = 0.1,
        max_backoff: float = 10.0,
        trim_every: int | None = None,
    ) -> None:
        if token is None and get_token is None:
            raise TypeError("RelaySync needs a token or get_token")
        self.store = store
        self.url = url
        self.get_token = get_token
        self.renew_before = renew_before
        self.auth = ""
        """"ok" once welcomed, "expired" or "refused" after the relay said so, "" before."""
        self.renewals = 0
        """How many times a new token was fetched from ``get_token``."""
        self._need_token = token is None
        self._renewing = False
        self.state_path = Path(state_path) if state_path is not None else None
        state = load_state(self.state_path)
        self.session = RelaySession(store, space, token or "", state=state, trim_every=trim_every)
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
        """``{"state": "online"|"offline"|"syncing", "outbox": n, "last_seq": n,
        "access": "read-write"|"read-only", "auth": "ok"|"expired"|"refused"|"",
        "error": message or ""}``."""
        refused = self.auth in ("expired", "refused")
        return {**self.session.status(), "auth": self.auth,
                "error": str(self.last_error) if refused and self.last_error else ""}  # fmt: skip

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
        """Wait until online with an empty outbox (every local change acknowledged).

        On a read-only link (``status["access"] == "read-only"``) local changes are never
        sent, so this waits until ``timeout`` when there are any.
        """

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
                if self._need_token and self.get_token is not None:
                    await self._fetch_token()
                await self._session()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except TokenExpiredError as exc:
                self.last_error, self.auth = exc, "expired"
                self._need_token = self.get_token is not None
                log.info("relay token expired (%s)%s", exc,
                         "; fetching a new one" if self._need_token else "")  # fmt: skip
                attempt = min(attempt, 1)  # a new token should work at once
            except AuthError as exc:
                self.last_error, self.auth = exc, "refused"
                self._need_token = self.get_token is not None
                log.warning("%s", exc)
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
            if self._renewing:  # a fresh token is in hand: reconnect at once
                self._renewing = False
                continue
            delay = min(self.max_backoff, self.min_backoff * 2**attempt)
            attempt += 1
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))

    async def _fetch_token(self) -> None:
        assert self.get_token is not None
        try:
            token = self.get_token()
            if inspect.isawaitable(token):
                token = await token
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("get_token failed: %s", exc, exc_info=True)
            raise TokenFetchError(f"get_token failed: {exc}") from exc
        if not isinstance(token, str) or not token:
            raise TokenFetchError(f"get_token returned {token!r}: return the token (a str)")
        self.session.client.token = token
        self._need_token = False
        self.renewals += 1

    async def _renew(self, ws: ClientConnection) -> None:
        """Fetch the next token shortly before this one expires, then reopen the link."""
        connected = time.time()
        while not self.session.client.welcomed:
            await asyncio.sleep(0.05)
        expires = self.session.client.expires_at
        if not expires or self.get_token is None or self.renew_before is None:
            return
        margin = min(self.renew_before, (expires - connected) / 5)
        await asyncio.sleep(max(0.0, expires - margin - time.time()))
        await self._fetch_token()
        self._renewing = True
        await ws.close(1000, "renewing the token")

    async def _session(self) -> None:
        async with connect(self.url, compression=None, max_size=None) as ws:
            self._ws = ws
            self.connects += 1
            await ws.send(self.session.connect())
            sender = asyncio.ensure_future(self._send_local(ws))
            renewer = asyncio.ensure_future(self._renew(ws))
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
                code = exc.rcvd.code if exc.rcvd is not None else None
                space = self.client.space
                if code == CLOSE_EXPIRED:
                    raise TokenExpiredError(f"the relay's token for {space!r} expired") from exc
                if code == 1008 and not self.client.welcomed:
                    raise AuthError(f"the relay refused space {space!r}: {exc}") from exc
                raise
            finally:
                for task in (sender, renewer):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, YloftError):
                        await task
            if ws.close_code == CLOSE_EXPIRED:  # closed while we were not reading
                raise TokenExpiredError(f"the relay's token for {self.client.space!r} expired")
            if self._renewing:
                return
        raise SyncError(f"the relay closed the connection ({ws.close_code} {ws.close_reason})")

    async def _handle(self, ws: ClientConnection, frame: bytes) -> None:
        for f in self.session.receive(frame):
            await ws.send(f)
        if self.client.status == ONLINE and not self._online.is_set():
            self.auth = "ok"
            self.session.save_cursor()
            self._online.set()
            self._local.set()  # send what was edited meanwhile

    async def _send_local(self, ws: ClientConnection) -> None:
        while True:
            await self._local.wait()
            self._local.clear()
            for f in self.session.local():
                await ws.send(f)


class TokenFetchError(SyncError):
    """``get_token`` raised or returned no token; retried with backoff."""


__all__ = ["OFFLINE", "ONLINE", "RelaySync", "TokenFetchError", "load_state"]
