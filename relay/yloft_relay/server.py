"""The relay: websockets server, spaces, fan-out, and both wire protocols.

``/relay`` speaks the space protocol (:mod:`yloft.sync.protocol`): HELLO with a
token before anything else, catch-up in batched frames, pushes acknowledged
once durable, live updates and awareness fanned out as raw bytes. Rooms at
``/relay/yws/<space>/<collection>/<doc_id>?token=…`` speak the y-websocket
protocol for one document of a space, over the same log, so stock Yjs clients
and yloft stores edit the same document. Updates are checked (decoded) but
never applied to a server-side document on the hot path.

Who may do what is decided once per connection by the :class:`~.auth.Gate` (shared
secrets, signed tokens, a hook); the :class:`~.auth.Grant` it returns is enforced
here: a read-only connection's first push closes it, documents outside its scope
are left out of everything it receives, and it is closed when its token expires.

Close codes (:class:`~yloft.sync.closecodes.CloseCode`): PROTOCOL_ERROR (1002) malformed
frame or protocol violation, UNSUPPORTED_DATA (1003) text frame or invalid Yjs update,
POLICY_VIOLATION (1008) refused token, a write without the right to, or slow reader,
MESSAGE_TOO_BIG (1009) frame over ``max_frame_bytes``, INTERNAL_ERROR (1011) storage
failure (a push not stored, or the log unreachable: the client retries later),
TOKEN_EXPIRED (4401) token expired. Each close is logged.

Example:
    >>> async def main(db):  # doctest: +SKIP
    ...     async with Relay(db, TokenBook.parse("team=secret"), port=0) as relay:
    ...         print(relay.port)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import weakref
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from yloft.errors import ProtocolError
from yloft.sync import protocol as p
from yloft.sync.closecodes import QUIET, CloseCode

from . import ysync
from .auth import Gate, Grant, Refused
from .config import Limits, TokenBook
from .docdiff import EMPTY_UPDATE, diff_for, valid_update
from .fanout import Fanout, Space
from .metrics import Metrics
from .peer import Peer, deliver
from .static import make_process_request, parse_yws_path
from .storage import (
    PushJob,
    Reader,
    Result,
    StorageUnavailable,
    Writer,
    is_postgres,
    open_log,
)  # fmt: skip

log = logging.getLogger("yloft_relay")
QUERY_AWARENESS = bytes([ysync.KIND_QUERY_AWARENESS])
NEVER = 1 << 62
"""``compact_after`` with ``--opaque-updates``: opaque rows cannot be merged."""


__all__ = ["Relay", "Space", "describe"]


class Relay:
    """The relay service; ``async with Relay(...)`` or ``start()`` / ``stop()``."""

    def __init__(
        self,
        db: str | Path,
        tokens: TokenBook | Gate,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: Limits | None = None,
        static_root: Path | None = None,
    ) -> None:
        self.db = str(db)
        self.gate = tokens if isinstance(tokens, Gate) else Gate(tokens=tokens)
        self.room_grants: weakref.WeakKeyDictionary[ServerConnection, Grant] = (
            weakref.WeakKeyDictionary()
        )
        """Grants of room connections, decided during the HTTP handshake."""
        self.host = host
        self.requested_port = port
        self.limits = limits or Limits()
        self.static_root = static_root
        self.spaces: dict[str, Space] = {}
        self.relay_id = ""
        self.started = asyncio.Event()
        self._server: Server | None = None
        self._writer: Writer | None = None
        self._reader: Reader | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.metrics = Metrics(self)
        self.fanout = Fanout(
            self.spaces,
            lambda: self.reader,
            self.metrics.fanout_lag.observe,
            lambda space, seq: self.writer.is_inflight(space, seq),
        )
        self.cluster: Any = None
        """:class:`.cluster.Cluster` when the log is in PostgreSQL, else None."""
        self._ticks = itertools.count(1)
        """Room joins and room pushes, in the order they happened (``PushJob.early``)."""
        self._poller: asyncio.Task[None] | None = None

    # ---------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        """The port actually bound (useful with ``port=0``)."""
        assert self._server is not None, "start() the relay first"
        sock = next(iter(self._server.sockets))
        return int(sock.getsockname()[1])

    async def start(self) -> None:
        """Open the log, start the writer thread, bind the socket.

        Raises:
            StorageUnavailable: the PostgreSQL log cannot be reached.
        """
        self._loop = loop = asyncio.get_running_loop()
        backend = await asyncio.to_thread(open_log, self.db)
        self.relay_id = backend.relay_id
        lim = self.limits
        self._writer = Writer(
            self.db,
            self._from_writer,
            batch_max=lim.batch_max,
            compact_after=NEVER if lim.opaque_updates else lim.compact_after,
            compact_max_rows=lim.compact_max_rows,
            backend=backend,
            on_batch=self.metrics.batch,
        )
        self._reader = Reader(self.db, backend)
        if is_postgres(self.db):
            from .cluster import Cluster

            self.cluster = Cluster(
                self.db,
                lambda name, head: loop.call_soon_threadsafe(self.fanout.hint, name, head),
                lambda *a: loop.call_soon_threadsafe(self._remote_awareness, *a),
                getattr(backend, "writer_id", ""),
            )
            await asyncio.to_thread(self.cluster.start)
            self._poller = asyncio.ensure_future(self._poll_forever())
        self._server = await serve(
            self._handle,
            self.host,
            self.requested_port,
            process_request=make_process_request(
                self.gate, self.static_root, self.metrics, self.room_grants.__setitem__
            ),
            max_size=lim.max_frame_bytes,
            compression=None,
            max_queue=64,
        )
        self.started.set()
        log.info("relay %s on %s:%d, db %s", self.relay_id, self.host, self.port, self.db)

    async def stop(self) -> None:
        """Close every connection, then finish queued commits and close the log."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._poller is not None:
            self._poller.cancel()
        if self.cluster is not None:
            await asyncio.to_thread(self.cluster.stop)
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)
        self.started.clear()

    async def _poll_forever(self) -> None:
        """Read loaded spaces' heads every ``poll_s``: covers NOTIFYs lost with the listener."""
        while True:
            await asyncio.sleep(self.limits.poll_s)
            await self.fanout.poll()

    async def __aenter__(self) -> Relay:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Start and serve until cancelled."""
        async with self:
            await asyncio.Future()

    @property
    def writer(self) -> Writer:
        assert self._writer is not None, "start() the relay first"
        return self._writer

    @property
    def reader(self) -> Reader:
        assert self._reader is not None, "start() the relay first"
        return self._reader

    # ------------------------------------------------------------ fan-out

    def _space(self, name: str) -> Space:
        space = self.spaces.get(name)
        if space is None:
            space = self.spaces[name] = Space(name)
        return space

    def _unload_if_idle(self, space: Space) -> None:
        if space.idle() and self.spaces.get(space.name) is space:
            del self.spaces[space.name]

    def _from_writer(self, results: list[Result]) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._committed, results)

    def _committed(self, results: list[Result]) -> None:
        """Runs on the loop once a batch is durable: ack and fan out in seq order."""
        self.fanout.committed(results)
        self.writer.settled([(r.job.space, r.seq) for r in results if r.seq > 0])

    def _remote_awareness(self, space_name: str, collection: str, doc_id: str, data: bytes) -> None:
        space = self.spaces.get(space_name)
        if space is None:
            return
        if not data:  # a room peer joined on another process: ask ours to re-announce
            for peer in space.rooms.get((collection, doc_id), ()):
                peer.send(QUERY_AWARENESS)
            return
        self._awareness(space, collection, doc_id, data, None)

    def _query_awareness(self, space: Space, key: tuple[str, str], joined: Peer) -> None:
        """A room peer joined: the others (here and on other processes) re-announce
        themselves, so it learns their presence; awareness is kept nowhere."""
        for peer in space.rooms.get(key, ()):
            if peer is not joined:
                peer.send(QUERY_AWARENESS)
        if self.cluster is not None:
            self.cluster.publish_awareness(space.name, *key, b"")

    def _awareness(
        self, space: Space, collection: str, doc_id: str, payload: bytes, origin: Peer | None
    ) -> None:
        if origin is not None and self.cluster is not None:
            self.cluster.publish_awareness(space.name, collection, doc_id, payload)
        frame = p.encode(p.Awareness(collection, doc_id, payload))
        deliver([peer for peer in space.peers if peer is not origin
                 and (not collection or peer.sees(collection, doc_id))
                 and not peer.live(0, frame)], frame)  # fmt: skip
        room = space.rooms.get((collection, doc_id)) if collection else None
        if room:
            deliver([peer for peer in room if peer is not origin], ysync.awareness_frame(payload))

    def _forget_awareness(self, space: Space, peer: Peer) -> None:
        """The connection is gone: tell everyone its awareness clients left."""
        for (collection, doc_id), clients in peer.awareness.items():
            gone = ysync.awareness_removal(clients)
            self._awareness(space, collection, doc_id, gone, peer)
        peer.awareness.clear()

    # ----------------------------------------------------------- sessions

    async def _handle(self, ws: ServerConnection) -> None:
        label = f"{ws.remote_address[0]}:{ws.remote_address[1]}" if ws.remote_address else "?"
        assert ws.request is not None
        path = ws.request.path
        peer = Peer(ws, self.limits, label)
        try:
            room = parse_yws_path(path)
            if room is None:
                await self._space_session(ws, peer)
            else:
                await self._room_session(ws, peer, *room)
        except ConnectionClosed as exc:
            close = exc.rcvd or exc.sent
            code = close.code if close else CloseCode.ABNORMAL_CLOSURE
            if exc.sent and exc.sent.code == CloseCode.MESSAGE_TOO_BIG:
                log.warning(
                    "closing %s with 1009: frame over %d bytes", label, self.limits.max_frame_bytes
                )
            elif code not in QUIET:
                log.info("connection %s closed with %d", label, code)
        except StorageUnavailable as exc:  # PostgreSQL down: the client retries later
            log.warning("session of %s ended: %s", label, exc)
            peer.fail(CloseCode.INTERNAL_ERROR, "the relay's log is unavailable; retry later")
        except Exception:
            log.exception("session of %s failed", label)
            peer.fail(CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            await peer.stop()

    async def _space_session(self, ws: ServerConnection, peer: Peer) -> None:
        try:
            first = await asyncio.wait_for(ws.recv(), self.limits.hello_timeout_s)
        except TimeoutError:
            peer.fail(CloseCode.POLICY_VIOLATION, "no HELLO in time")
            return
        hello = peer.parse(first, p.decode, "bad HELLO")
        if hello is None:
            return
        if not isinstance(hello, p.Hello):
            peer.fail(CloseCode.PROTOCOL_ERROR, "the first message must be HELLO")
            return
        try:
            grant = await self.gate.admit(hello.space, hello.token)
        except Refused as exc:
            peer.fail(exc.code, exc.reason)
            return
        peer.label += f" space={hello.space} principal={grant.principal}"
        peer.admit(grant)
        space = self._space(hello.space)
        peer.pending = []
        space.peers.add(peer)
        try:
            await self.fanout.ensure_cursor(space)
            last = hello.last_seq if hello.relay_id == self.relay_id else 0
            # Opaque updates cannot be merged: each row goes as it is.
            read = self.reader.since if self.limits.opaque_updates else self.reader.catchup
            rows, head = await asyncio.to_thread(read, hello.space, last)
            if last > head:  # restored from a backup older than the client: start over
                rows, head = await asyncio.to_thread(read, hello.space, 0)
            if hello.version >= 2:  # what this link may do, before anything else
                expires = int(grant.expires_at or 0)
                await ws.send(p.encode(p.Access(grant.write, expires)))
            await ws.send(p.encode(p.Welcome(self.relay_id, head)))
            entries = (p.Entry(s, c, d, bytes(u)) for s, c, d, u in rows
                       if grant.whole_space or grant.sees(c, d))  # fmt: skip
            del rows
            for frame in p.catchup_frames(entries, head, self.limits.catchup_frame_bytes):
                await ws.send(frame)
            peer.release(head)
            await self._space_loop(ws, peer, space, hello.client_id)
        finally:
            space.peers.discard(peer)
            self._forget_awareness(space, peer)
            self._unload_if_idle(space)

    async def _space_loop(
        self, ws: ServerConnection, peer: Peer, space: Space, client_id: str
    ) -> None:
        async for msg in peer.messages(p.decode, "malformed frame"):
            if isinstance(msg, p.Push):
                if not msg.collection or not msg.doc_id or not msg.msg_id:
                    peer.fail(
                        CloseCode.PROTOCOL_ERROR,
                        "PUSH needs a collection, a doc_id and a msg_id > 0",
                    )
                    return
                if not peer.may_write(msg.collection, msg.doc_id):
                    why = "read-only" if peer.sees(msg.collection, msg.doc_id) else "out of scope"
                    peer.fail(CloseCode.POLICY_VIOLATION, f"this token may not write there ({why})")
                    return
                if not self.limits.opaque_updates and not valid_update(msg.update):
                    peer.fail(CloseCode.UNSUPPORTED_DATA, "PUSH carries an invalid Yjs update")
                    return
                self.writer.submit(
                    PushJob(
                        space.name,
                        client_id,
                        msg.msg_id,
                        msg.collection,
                        msg.doc_id,
                        msg.update,
                        peer,
                    )
                )
            elif isinstance(msg, p.Awareness):
                if msg.collection and not peer.sees(msg.collection, msg.doc_id):
                    peer.fail(
                        CloseCode.POLICY_VIOLATION,
                        "presence for a document outside this token's scope",
                    )
                    return
                if msg.collection and msg.doc_id:
                    # Tracked so the device's presence goes when its socket does; an
                    # undecodable payload is still only forwarded, as it always was.
                    with contextlib.suppress(ProtocolError):
                        states = ysync.parse_awareness(msg.payload)
                        peer.note_awareness((msg.collection, msg.doc_id), states)
                self._awareness(space, msg.collection, msg.doc_id, msg.payload, peer)
            else:
                peer.fail(CloseCode.PROTOCOL_ERROR, f"{type(msg).__name__} is not a client message")
                return

    async def _room_session(
        self, ws: ServerConnection, peer: Peer, space_name: str, collection: str, doc_id: str
    ) -> None:
        grant = self.room_grants.pop(ws, None)  # decided by process_request
        if self.limits.opaque_updates:  # a room speaks Yjs: it cannot diff opaque rows
            peer.fail(CloseCode.UNSUPPORTED_DATA, "this relay stores opaque updates: no rooms")
            return
        if grant is None:
            peer.fail(CloseCode.POLICY_VIOLATION, "wrong or missing token for this space")
            return
        peer.label += f" room={space_name}/{collection}/{doc_id} principal={grant.principal}"
        peer.admit(grant)
        space = self._space(space_name)
        key = (collection, doc_id)
        room = space.rooms.setdefault(key, set())
        peer.join_room(next(self._ticks))
        room.add(peer)
        try:
            await self.fanout.ensure_cursor(space)
            self._query_awareness(space, key, peer)
            # Registered first, read second: anything committed later arrives live.
            state = await self._doc_diff(space_name, collection, doc_id, None)
            peer.send(ysync.sync_step1(state))
            async for yframe in peer.messages(ysync.parse, "malformed y-websocket frame"):
                await self._room_frame(peer, space, key, yframe)
        finally:
            room.discard(peer)
            self._forget_awareness(space, peer)
            if not room and space.rooms.get(key) is room:
                del space.rooms[key]
            self._unload_if_idle(space)

    async def _room_frame(
        self, peer: Peer, space: Space, key: tuple[str, str], msg: ysync.YFrame
    ) -> None:
        collection, doc_id = key
        if msg.kind == ysync.KIND_SYNC and msg.step == ysync.STEP1:
            try:
                diff = await self._doc_diff(space.name, collection, doc_id, msg.payload)
            except ValueError:
                peer.fail(CloseCode.PROTOCOL_ERROR, "sync step 1 carries an invalid state vector")
                return
            peer.send(ysync.sync_step2(diff))
        elif msg.kind == ysync.KIND_SYNC:
            if msg.payload == EMPTY_UPDATE:
                return
            if not peer.may_write(collection, doc_id):
                peer.fail(CloseCode.POLICY_VIOLATION, "this token may not write there (read-only)")
                return
            if not valid_update(msg.payload):
                peer.fail(CloseCode.UNSUPPORTED_DATA, "invalid Yjs update")
                return
            # A room has no ACK and no seq, and a room client offers its whole state again
            # at every connect (sync step 2): so the room's writers get the update now,
            # while it is being stored, and any of them would store it again if the relay
            # lost it. The space's peers, read-only room peers (whose step 2 the relay
            # refuses) and room peers joining meanwhile get it once it is durable.
            early = next(self._ticks)
            room = space.rooms.get(key, ())
            writers = [o for o in room if o is not peer and o.may_write(collection, doc_id)]
            deliver(writers, ysync.sync_update(msg.payload))
            job = PushJob(space.name, "", 0, collection, doc_id, msg.payload, peer, early)
            self.writer.submit(job)
        elif msg.kind == ysync.KIND_AWARENESS:
            try:
                states = ysync.parse_awareness(msg.payload)
            except ProtocolError as exc:
                peer.fail(CloseCode.PROTOCOL_ERROR, f"malformed awareness update: {exc}")
                return
            peer.note_awareness(key, states)
            self._awareness(space, collection, doc_id, msg.payload, peer)
        # KIND_QUERY_AWARENESS: awareness is not stored, peers re-announce themselves.

    async def _doc_diff(
        self, space: str, collection: str, doc_id: str, state_vector: bytes | None
    ) -> bytes:
        """State vector (``state_vector is None``) or diff of one stored document."""

        def work() -> bytes:
            return diff_for(self.reader.doc_updates(space, collection, doc_id), state_vector)

        return await asyncio.to_thread(work)


def describe(relay: Relay) -> dict[str, Any]:
    """A small status snapshot (for logs and tests)."""
    return {
        "spaces": len(relay.spaces),
        "peers": sum(len(s.peers) for s in relay.spaces.values()),
        "rooms": sum(len(s.rooms) for s in relay.spaces.values()),
        "batches": relay.writer.batches,
        "compactions": relay.writer.compactions,
    }
