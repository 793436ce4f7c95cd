"""Sync a :class:`~yloft.Store` with a relay space over a websocket (CPython adapter).

A thin adapter around :class:`yloft.sync.session.RelaySession` (shared with the
browser adapter): this module opens the socket, moves frames and runs the timers the
session asks for. What a close means (retry after a backoff, renew the token, stop),
when to renew a token ahead of its expiry and the backoff itself are the session's
policy (:mod:`yloft.sync.policy`); the status is its :class:`~yloft.sync.session.SyncStatus`.
The store is used from the event loop's thread only.

Tokens that expire: pass ``get_token`` (a function or coroutine function returning a
token) instead of a token. It is asked for a token before the first connection, shortly
before the relay's ACCESS frame says the token expires (the link is then reopened with
the new one: the cursor and the outbox carry over), after the relay closed the link for
an expired token (4401) and after a refusal (1008 before WELCOME). Without it, a refused
or expired token stops the sync (``status["auth"]`` says which, ``status["error"]``
why): it does not fix itself. ``"read-only"`` links (``status["access"]``) send nothing
and keep every local change in the outbox.

Example:
    >>> async def main(store):  # doctest: +SKIP
    ...     async with RelaySync(store, "ws://127.0.0.1:8765/relay", "team", "secret") as sync:
    ...         await sync.wait_online()
    ...         print(sync.status)   # {'state': 'online', 'outbox': 0, ...}
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from ..errors import ProtocolError, SyncError, YloftError
from .client import OFFLINE, ONLINE
from .closecodes import CloseCode
from .codec import IDENTITY, Codec
from .policy import LinkPolicy
from .session import RelaySession, SyncStatus

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("yloft.sync")
GetToken = Callable[[], "str | Awaitable[str]"]


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
        min_backoff, max_backoff: reconnect delays in seconds (doubling, ±50 % jitter).
        trim_every: trim the change feed once this many relay-acknowledged entries
            wait (see :class:`RelaySession`); None (default) keeps the whole feed.
        codec: encodes pushed updates and decodes received ones (:mod:`yloft.sync.codec`;
            a non-identity codec needs a relay run with ``--opaque-updates``).

    Raises:
        TypeError: neither ``token`` nor ``get_token`` given.
        ValueError: backoff delays that are not ``0 < min_backoff <= max_backoff``.
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
        min_backoff: float = 0.25,
        max_backoff: float = 10.0,
        trim_every: int | None = None,
        codec: Codec = IDENTITY,
    ) -> None:
        if token is None and get_token is None:
            raise TypeError("RelaySync needs a token or get_token")
        self.store = store
        self.url = url
        self.get_token = get_token
        policy = LinkPolicy(
            renews=get_token is not None,
            min_backoff=min_backoff,
            max_backoff=max_backoff,
            renew_before=renew_before,
        )
        self.session = RelaySession(
            store, space, token or "", trim_every=trim_every, policy=policy, codec=codec
        )
        self.client = self.session.client
        self.renewals = 0
        """How many times a new token was fetched from ``get_token``."""
        self.last_error: BaseException | None = None
        """Why the last link ended or the last token fetch failed (None before any)."""
        self.connects = 0
        self._local = asyncio.Event()
        self._online = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._remove_hook: Any = None

    # ----------------------------------------------------------------- public

    @property
    def status(self) -> SyncStatus:
        """The session's :class:`~yloft.sync.session.SyncStatus` (a dict)."""
        return self.session.status()

    @property
    def stopped(self) -> bool:
        """True once the policy said stop (a refused or expired token, no ``get_token``)."""
        return self._task is not None and self._task.done()

    async def start(self) -> None:
        """Start syncing in the background (returns at once); again after a stop."""
        if self._task is None or self._task.done():
            if self._remove_hook is None:
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
        session = self.session
        while True:
            if session.needs_token:
                try:
                    await self._fetch_token()
                except TokenFetchError as exc:
                    self.last_error = exc
                    await asyncio.sleep(session.token_failed().delay)
                    continue
            code, reason = await self._link()
            self._online.clear()
            decision = session.closed(code, reason)
            self.last_error = decision.error or self.last_error
            if decision.action == "stop":
                log.warning("%s; not reconnecting (no get_token)", session.error)
                return
            if decision.error is not None:
                log.info("relay link down (%s); %s in %.2f s",
                         decision.error, decision.action, decision.delay)  # fmt: skip
            await asyncio.sleep(decision.delay)

    async def _fetch_token(self) -> bool:
        """Ask ``get_token``; True when the open link must be reopened with the new token."""
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
        self.renewals += 1
        return self.session.set_token(token)

    async def _renew(self, ws: ClientConnection) -> None:
        """Fetch the next token when the session says, then reopen the link with it."""
        await self._online.wait()
        delay = self.session.renew_in(time.time())
        if delay is None:
            return
        await asyncio.sleep(delay)
        try:
            reopen = await self._fetch_token()
        except TokenFetchError as exc:
            self.last_error = exc
            log.warning("renewing the relay token failed; the relay closes the link at expiry")
            return
        if reopen:
            await ws.close(CloseCode.NORMAL_CLOSURE, "renewing the token")

    async def _link(self) -> tuple[int, str]:
        """One connection, until it closes: the close code and reason (the code this side
        sent when it closed the link; 1006 when it never opened or just dropped)."""
        try:
            ws = await connect(self.url, compression=None, max_size=None)
        except (OSError, InvalidHandshake) as exc:  # TimeoutError is an OSError
            return CloseCode.ABNORMAL_CLOSURE, f"cannot reach {self.url}: {exc}"
        self.connects += 1
        tasks: list[asyncio.Task[None]] = []
        try:
            await ws.send(self.session.connect())
            tasks = [asyncio.ensure_future(self._send_local(ws)),
                     asyncio.ensure_future(self._renew(ws))]  # fmt: skip
            async for frame in ws:
                if isinstance(frame, str):
                    await ws.close(CloseCode.UNSUPPORTED_DATA, "text frames are not supported")
                    break
                await self._handle(ws, frame)
        except asyncio.CancelledError:  # stop(): a normal close (1000), not 1011
            with contextlib.suppress(OSError, ConnectionClosed):
                await ws.close(CloseCode.NORMAL_CLOSURE, "client stopped")
            raise
        except ConnectionClosed:
            pass
        except ProtocolError as exc:
            log.warning("bad frame from the relay (%s); reconnecting", exc)
            await ws.close(CloseCode.PROTOCOL_ERROR, str(exc)[:120])
        except (YloftError, sqlite3.Error) as exc:  # the store failed: retried after a backoff
            log.error("applying what the relay sent failed: %s", exc, exc_info=True)
            await ws.close(CloseCode.INTERNAL_ERROR, "the client's store failed")
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, YloftError):
                    await task
        await ws.close()  # a no-op when closed already
        return ws.close_code or CloseCode.ABNORMAL_CLOSURE, ws.close_reason or ""

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


class TokenFetchError(SyncError):
    """``get_token`` raised or returned no token; asked again after a backoff."""


__all__ = ["OFFLINE", "ONLINE", "RelaySync", "TokenFetchError"]
