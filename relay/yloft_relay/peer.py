"""One websocket connection: its frames in (paced, parsed), its frames out, its close.

Fan-out never awaits a client: :meth:`Peer.send` writes the frame into the
connection's transport at once (websockets' :func:`~websockets.asyncio.connection.broadcast`,
no task and no ``await`` per receiver), and :func:`deliver` writes one encoded frame
to many peers in one call. The transport buffers what the client has not read yet; when
that passes ``max_pending_bytes`` the client is a slow reader and is closed with 1008 (the
reason says "slow reader"): it reconnects and catches up by its cursor, and it never
holds back the others — the relay never buffers without bound. A token bucket paces the
messages a client may send per second (reading pauses; nothing is dropped). The peer
also carries its :class:`~.auth.Grant`: what it may see and write, and when its token
expires (the connection is then closed with 4401).

Example (inside a running relay)::

    peer = Peer(ws, limits, "127.0.0.1:5000 space=team")
    peer.send(frame)                  # never blocks
    deliver(room_peers, frame)        # one frame, many connections
    peer.fail(CloseCode.POLICY_VIOLATION, "slow reader")  # logs, closes with that code
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from typing import Any, TypeVar

from websockets.asyncio.connection import broadcast
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from yloft.errors import ProtocolError
from yloft.sync.closecodes import CloseCode

from .auth import Grant
from .config import Limits

log = logging.getLogger("yloft_relay")
T = TypeVar("T")


class Peer:
    """Outbound writes, live-update gate during catch-up, rate limit, and close."""

    def __init__(self, ws: ServerConnection, limits: Limits, label: str) -> None:
        self.ws = ws
        self.limits = limits
        self.label = label
        self.held_bytes = 0
        """Bytes of ``pending``."""
        self.pending: list[tuple[int, bytes]] | None = None
        """Frames held back while catch-up is being sent: ``(seq, frame)``, seq 0 for a
        frame that is not an update (an ACK, presence). None when frames go out at once."""
        self.closed = False
        self._tokens = limits.rate_burst
        self._stamp = time.monotonic()
        self.throttled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.awareness: dict[tuple[str, str], dict[int, int]] = {}
        """Awareness client ids announced on this connection, per (collection, doc_id) →
        their last clock: removed for everyone when the connection goes."""
        self.grant: Grant | None = None
        self.joined = 0
        """The relay's tick when this peer joined its room (see ``PushJob.early``)."""
        self._everything = True
        self._expiry: asyncio.TimerHandle | None = None

    def admit(self, grant: Grant) -> None:
        """The gate admitted this connection: enforce ``grant`` from now on."""
        self.grant = grant
        self._everything = grant.whole_space
        if grant.expires_at is not None:
            delay = max(0.0, grant.expires_at - time.time())
            self._expiry = asyncio.get_running_loop().call_later(
                delay,
                self.fail,
                CloseCode.TOKEN_EXPIRED,
                "the token expired: get a new one and reconnect",
            )

    def join_room(self, tick: int) -> None:
        """This peer joined its room at the relay's ``tick`` (see ``PushJob.early``)."""
        self.joined = tick

    def sees(self, collection: str, doc_id: str) -> bool:
        """True when the document may appear in what this connection receives."""
        if self._everything:
            return True
        return self.grant is not None and self.grant.sees(collection, doc_id)

    def may_write(self, collection: str, doc_id: str) -> bool:
        """True when this connection may store updates to the document."""
        return self.grant is not None and self.grant.write and self.sees(collection, doc_id)

    def note_awareness(self, key: tuple[str, str], states: list[tuple[int, int, str]]) -> None:
        """Remember which awareness clients this connection announced (``parse_awareness``)."""
        clients = self.awareness.setdefault(key, {})
        for client, clock, state in states:
            if state == "null":
                clients.pop(client, None)
            else:
                clients[client] = clock
        if not clients:
            del self.awareness[key]

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def accepts(self, size: int) -> bool:
        """True when ``size`` more bytes may be written to this connection now; a slow
        reader (over ``max_pending_bytes`` unread) is closed with 1008 instead."""
        if self.closed:
            return False
        transport = self.ws.transport
        unread = transport.get_write_buffer_size() if transport is not None else 0
        if unread + size > self.limits.max_pending_bytes:
            self.fail(
                CloseCode.POLICY_VIOLATION,
                f"slow reader: over {self.limits.max_pending_bytes} bytes unread",
            )
            return False
        return True

    def send(self, frame: bytes) -> None:
        """Write ``frame`` now (never blocks), or hold it while catch-up is in flight;
        close the connection (1008) if it is reading too slowly."""
        if self.pending is not None:
            self.live(0, frame)
        elif self.accepts(len(frame)):
            broadcast((self.ws,), frame)

    def live(self, seq: int, frame: bytes) -> bool:
        """Hold a frame while this peer's catch-up is in flight: True when held (or
        refused), False when the caller should deliver it now. ``seq`` is the update's,
        or 0 for a frame that is not an update (always sent on release)."""
        if self.pending is None:
            return False
        self.pending.append((seq, frame))
        self.held_bytes += len(frame)
        if self.held_bytes > self.limits.max_pending_bytes:
            self.fail(
                CloseCode.POLICY_VIOLATION, "slow reader: too many live updates during catch-up"
            )
        return True

    def release(self, through_seq: int) -> None:
        """Catch-up up to ``through_seq`` is sent: send the held frames, except updates
        the catch-up already carried."""
        held, self.pending = self.pending or [], None
        self.held_bytes = 0
        for seq, frame in held:
            if seq == 0 or seq > through_seq:
                self.send(frame)

    async def pace(self) -> None:
        """Take one token from the rate bucket, waiting for one when it is empty.

        Waiting stops reading this socket, so a client over the rate is slowed down
        by TCP backpressure (and logged once per episode) — never disconnected: a
        device resending a large outbox must still make progress.
        """
        lim = self.limits
        now = time.monotonic()
        self._tokens = min(lim.rate_burst, self._tokens + (now - self._stamp) * lim.rate_per_s)
        self._stamp = now
        if self._tokens < 1:
            if not self.throttled:
                self.throttled = True
                log.warning("throttling %s: over %g messages/s", self.label, lim.rate_per_s)
            await asyncio.sleep((1 - self._tokens) / lim.rate_per_s)
            self._tokens = 1.0
            self._stamp = time.monotonic()
        else:
            self.throttled = False
        self._tokens -= 1

    async def messages(self, parse: Callable[[bytes], T], what: str) -> AsyncIterator[T]:
        """This peer's frames, paced and parsed, until it closes or sends one ``parse``
        refuses (then it is closed: see :meth:`parse`)."""
        async for frame in self.ws:
            if self.closed:
                return
            await self.pace()
            msg = self.parse(frame, parse, what)
            if msg is None:
                return
            yield msg

    def parse(self, frame: str | bytes, parse: Callable[[bytes], T], what: str) -> T | None:
        """``frame`` parsed, or None once this peer is closed: UNSUPPORTED_DATA for a text
        frame, PROTOCOL_ERROR for one ``parse`` refuses (the reason starts with ``what``)."""
        if isinstance(frame, str):
            self.fail(
                CloseCode.UNSUPPORTED_DATA, "text frames are not supported: send binary frames"
            )
            return None
        try:
            return parse(frame)
        except ProtocolError as exc:
            self.fail(CloseCode.PROTOCOL_ERROR, f"{what}: {exc}")
            return None

    def fail(self, code: CloseCode, reason: str) -> None:
        """Log and close this connection with ``code``; the relay goes on serving others."""
        if self.closed:
            return
        self.closed = True
        log.warning("closing %s with %d: %s", self.label, code, reason)
        self._spawn(self.ws.close(code, reason[:120]))

    async def stop(self) -> None:
        """Mark closed and wait for the close tasks."""
        self.closed = True
        if self._expiry is not None:
            self._expiry.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await t


def deliver(peers: Iterable[Peer], frame: bytes) -> None:
    """Write one encoded ``frame`` to every peer that is not a slow reader."""
    size = len(frame)
    broadcast([peer.ws for peer in peers if peer.accepts(size)], frame)
