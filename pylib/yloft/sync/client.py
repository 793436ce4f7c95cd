"""The relay client as a state machine: frames in, frames and updates out (sans-I/O).

A transport adapter (``yloft.sync.websocket`` on CPython, the engine worker in the
browser) owns the socket and the store; this class owns the protocol state:

* ``last_seq`` — the highest relay sequence number whose updates the store holds.
  It only advances after a catch-up completes or a live update was handed out,
  so a device that reconnects asks for exactly what it misses.
* the **outbox** — local changes (``msg_id`` = the store's change-feed seq) that
  the relay has not acknowledged. Everything in it is (re)sent after each
  WELCOME; the relay recognises a ``msg_id`` it already stored and acks it with
  seq 0, and Yjs updates are idempotent anyway, so resending is always safe.
* ``acked`` — the change-feed seq up to which the relay acknowledged everything.
* ``write`` / ``expires_at`` — what the relay's ACCESS frame said this link may do: a
  read-only link sends no PUSH (the outbox keeps every local change for later).

Example:
    >>> from yloft.sync import protocol as p
    >>> c = RelayClient("team", "secret", "device-1")
    >>> hello = p.decode(c.connect())
    >>> (hello.space, hello.last_seq, c.status)
    ('team', 0, 'syncing')
    >>> out = c.receive(p.encode(p.Welcome("relay-a", 0)))
    >>> out = c.receive(p.encode(p.Catchup((p.Entry(1, "notes", "n1", b"\\x00\\x00"),), 1, True)))
    >>> ([e.seq for e in out.updates], c.last_seq, c.status)
    ([1], 1, 'online')
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

from ..errors import ProtocolError
from . import protocol as p

LinkState = Literal["offline", "syncing", "online"]
OFFLINE: Final = "offline"
SYNCING: Final = "syncing"
ONLINE: Final = "online"

Change = tuple[int, str, str, bytes]
"""A store change-feed entry: (seq, collection, doc_id, update)."""


@dataclass
class Received:
    """What one incoming frame asks the adapter to do, in this order.

    Attributes:
        updates: remote updates to apply to the store (origin "relay").
        frames: frames to send to the relay.
        reset: the relay's log is not the one we synced with before (new or
            restored relay): the adapter must feed *all* local changes again
            (``add_local(store.feed.changes(0, local_only=True))``).
        cursor_moved: ``last_seq`` or ``acked`` changed: persist :meth:`RelayClient.state`
            after the updates are applied.
        awareness: presence messages from other clients.
    """

    updates: list[p.Entry] = field(default_factory=list)
    frames: list[bytes] = field(default_factory=list)
    reset: bool = False
    cursor_moved: bool = False
    awareness: list[p.Awareness] = field(default_factory=list)


@dataclass(frozen=True)
class SyncState:
    """What a device persists between runs."""

    client_id: str
    relay_id: str = ""
    last_seq: int = 0
    acked: int = 0


class RelayClient:
    """Protocol state of one device syncing one space with one relay."""

    def __init__(
        self,
        space: str,
        token: str,
        client_id: str,
        *,
        relay_id: str = "",
        last_seq: int = 0,
        acked: int = 0,
    ) -> None:
        self.space = space
        self.token = token
        self.client_id = client_id
        self.relay_id = relay_id
        self.last_seq = last_seq
        self.acked = acked
        self.status: LinkState = OFFLINE
        self.outbox: OrderedDict[int, tuple[str, str, bytes]] = OrderedDict()
        self.queued = acked
        """Highest change-feed seq handed to :meth:`add_local`."""
        self._welcomed = False
        self.write = True
        """False when the relay said this link is read-only (ACCESS): no PUSH is sent."""
        self.expires_at = 0
        """Unix seconds when the relay will close this link for an expired token (0: never)."""

    @classmethod
    def from_state(cls, space: str, token: str, state: SyncState) -> RelayClient:
        return cls(
            space,
            token,
            state.client_id,
            relay_id=state.relay_id,
            last_seq=state.last_seq,
            acked=state.acked,
        )

    def state(self) -> SyncState:
        """The cursor to persist (after the updates handed out so far are stored)."""
        return SyncState(self.client_id, self.relay_id, self.last_seq, self.acked)

    @property
    def welcomed(self) -> bool:
        """True once the relay accepted this connection's HELLO."""
        return self._welcomed

    @property
    def outbox_size(self) -> int:
        """Local changes not yet acknowledged by the relay."""
        return len(self.outbox)

    # ----------------------------------------------------------- transport events

    def connect(self) -> bytes:
        """The socket is open: returns the HELLO frame to send first."""
        self.status = SYNCING
        self._welcomed = False
        self.write, self.expires_at = True, 0  # a relay speaking version 1 sends no ACCESS
        hello = p.Hello(self.space, self.token, self.client_id, self.last_seq, self.relay_id)
        return p.encode(hello)

    def disconnect(self) -> None:
        """The socket closed: unacknowledged changes stay in the outbox for next time."""
        self.status = OFFLINE
        self._welcomed = False

    def add_local(self, changes: Iterable[Change]) -> list[bytes]:
        """Queue local changes; returns PUSH frames to send now (empty while offline)."""
        frames = []
        for seq, collection, doc_id, update in changes:
            if seq <= self.queued:
                continue
            self.queued = seq
            self.outbox[seq] = (collection, doc_id, update)
            if self._welcomed and self.write:
                frames.append(p.encode(p.Push(seq, collection, doc_id, update)))
        return frames

    def awareness(self, collection: str, doc_id: str, payload: bytes) -> bytes | None:
        """An AWARENESS frame to send, or None while not connected."""
        if not self._welcomed:
            return None
        return p.encode(p.Awareness(collection, doc_id, payload))

    def receive(self, frame: bytes) -> Received:
        """Handle one frame from the relay.

        Raises:
            ProtocolError: malformed frame or a message out of order (drop the link).
        """
        msg = p.decode(frame)
        out = Received()
        if isinstance(msg, p.Welcome):
            if self._welcomed or self.status != SYNCING:
                raise ProtocolError("WELCOME arrived twice")
            if msg.relay_id != self.relay_id:
                if self.relay_id:
                    out.reset = True  # another relay log: everything local goes again
                    self.outbox.clear()
                    self.queued = self.acked = 0
                self.relay_id = msg.relay_id
                self.last_seq = 0
                out.cursor_moved = True
            self._welcomed = True
            if self.write:
                out.frames = [p.encode(p.Push(s, c, d, u)) for s, (c, d, u) in self.outbox.items()]
        elif isinstance(msg, p.Access):
            if self._welcomed or self.status != SYNCING:
                raise ProtocolError("ACCESS after WELCOME")
            self.write, self.expires_at = msg.write, msg.expires_at
        elif not self._welcomed:
            raise ProtocolError(f"{type(msg).__name__} before WELCOME")
        elif isinstance(msg, p.Catchup):
            if self.status != SYNCING:
                raise ProtocolError("CATCHUP after the catch-up was done")
            out.updates = list(msg.entries)
            if msg.done:
                self.status = ONLINE
                if msg.through_seq != self.last_seq:
                    self.last_seq = msg.through_seq
                    out.cursor_moved = True
        elif isinstance(msg, p.Update):
            if self.status != ONLINE:
                raise ProtocolError("UPDATE during catch-up")
            out.updates = [msg.entry]
            if msg.entry.seq > self.last_seq:
                self.last_seq = msg.entry.seq
                out.cursor_moved = True
        elif isinstance(msg, p.Ack):
            if msg.msg_id not in self.outbox:
                raise ProtocolError(f"ACK for unknown message {msg.msg_id}")
            for key in list(self.outbox):
                if key > msg.msg_id:
                    break
                del self.outbox[key]  # acks come in push order
            self.acked = max(self.acked, msg.msg_id)
            # Frames reach us in seq order, so every seq below this one was already
            # delivered to us: our own update need not come back at the next catch-up.
            if msg.seq > self.last_seq and self.status == ONLINE:
                self.last_seq = msg.seq
            out.cursor_moved = True
        elif isinstance(msg, p.Awareness):
            out.awareness = [msg]
        else:
            raise ProtocolError(f"{type(msg).__name__} is not a relay message")
        return out
