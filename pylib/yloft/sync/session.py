"""One store syncing one relay space: the session both relay adapters run (sans-I/O).

:class:`RelaySession` joins the protocol state machine (:class:`RelayClient`) to the
store: it feeds the store's changes to send into the outbox, applies what the relay
sends with origin ``"relay"`` and keeps the cursor in the store itself, written in
the same transaction as the updates it covers — so on every platform the cursor can
never run ahead of the data. An adapter (``websocket`` on CPython, ``browser`` in the
engine worker) only moves frames: it calls :meth:`~RelaySession.connect` when its
socket opens, :meth:`~RelaySession.receive` for each frame, :meth:`~RelaySession.local`
when the store committed a local change, and sends back the frames they return.

Example:
    >>> from yloft import Store
    >>> from yloft.sync import protocol as p
    >>> store = Store(":memory:")
    >>> session = RelaySession(store, "team", "secret")
    >>> p.decode(session.connect()).space
    'team'
    >>> session.receive(p.encode(p.Welcome("relay-a", 0)))
    []
    >>> session.receive(p.encode(p.Catchup((), 0, True)))
    []
    >>> session.client.status
    'online'
    >>> store.close()
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import TransactionAbortedError, UnknownCollectionError, YloftError
from ..store.feed import RELAY_ORIGIN
from . import protocol as p
from .client import RelayClient, SyncState

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("yloft.sync")


def parse_state(text: str) -> SyncState:
    """A cursor saved by :meth:`RelaySession.state_json`; ``""``: a new device."""
    if not text:
        return SyncState(uuid.uuid4().hex)
    try:
        data = json.loads(text)
        return SyncState(
            str(data["client_id"]),
            str(data["relay_id"]),
            int(data["last_seq"]),
            int(data["acked"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise YloftError(
            f"the saved relay cursor is not valid ({exc}); delete it to sync as a new device"
        ) from exc


def apply_relay_updates(store: Store, updates: Iterable[p.Entry]) -> int:
    """Apply updates from the relay in one transaction; return how many were refused.

    An update for a collection this store has not declared is held until it is
    (:meth:`Store.hold_update`). A refused update (``YloftError``: not valid Yjs, a bad
    collection name, ...) records nothing — it is checked before it is stored — so it
    is logged and skipped and the others go on. A SQLite failure
    (``TransactionAbortedError``, or the error itself) rolls the whole batch back; the
    cursor does not move, so it is fetched again.
    """
    refused = 0
    with store.atomic():
        for e in updates:
            try:
                try:
                    store.apply_update(e.collection, e.doc_id, e.update, origin=RELAY_ORIGIN)
                except UnknownCollectionError:  # a newer app version's: keep it for later
                    store.hold_update(e.collection, e.doc_id, e.update, origin=RELAY_ORIGIN)
            except TransactionAbortedError:
                raise
            except YloftError as exc:
                refused += 1
                log.error("relay update %d for %s/%s refused: %s",
                          e.seq, e.collection, e.doc_id, exc)  # fmt: skip
    return refused


class RelaySession:
    """The store side of relay sync; the adapter owns the socket.

    Args:
        store: the store to sync (every collection of it).
        space: the space name; token: its token.
        state: the cursor to start from when the store holds none yet (a cursor
            kept elsewhere by an older yloft); None starts as a new device.
        trim_every: trim the change feed once this many entries the relay
            acknowledged are above the feed floor (the browser does; None: never).
    """

    def __init__(
        self,
        store: Store,
        space: str,
        token: str,
        *,
        state: SyncState | None = None,
        trim_every: int | None = None,
    ) -> None:
        self.store = store
        self.trim_every = trim_every
        """Trim the store's change feed (compacting) once this many acknowledged
        entries are above its floor; None keeps the feed (see :meth:`trim`)."""
        self.key = f"relay:{space}"
        saved = store.feed.cursor(self.key)
        if saved is not None:
            state = parse_state(saved)
        self.client = RelayClient.from_state(space, token, state or SyncState(uuid.uuid4().hex))
        self.refused_updates = 0
        self.on_awareness: Callable[[str, str, bytes], object] | None = None
        """Called with ``(collection, doc_id, payload)`` for presence other clients sent."""
        self._stored = self.client.state()  # saved once it moves

    @staticmethod
    def sends(origin: str | None) -> bool:
        """True when an update committed with ``origin`` goes to the relay."""
        return origin != RELAY_ORIGIN

    # ------------------------------------------------------------ socket events

    def connect(self) -> bytes:
        """The socket opened: the HELLO to send (the outbox follows the WELCOME)."""
        hello = self.client.connect()
        self.local()
        return hello

    def disconnect(self) -> None:
        """The socket closed: save a cursor that moved without updates."""
        self.client.disconnect()
        self.save_cursor()

    def receive(self, frame: bytes) -> list[bytes]:
        """Handle one frame from the relay; return the frames to send back.

        Remote updates are applied in one transaction with origin ``"relay"``, and the
        cursor that covers them is written in that same transaction. An update the
        store refuses is logged and skipped, never half-applied.

        Raises:
            ProtocolError: malformed frame or out of order: close the socket.
        """
        client = self.client
        before = client.state()
        out = client.receive(frame)
        frames = list(out.frames)
        if out.reset:  # a new relay log: it needs everything again
            frames += client.add_local(self.to_send(0))
        if out.updates or (out.cursor_moved and client.relay_id != before.relay_id):
            try:
                with self.store.atomic():
                    self.refused_updates += apply_relay_updates(self.store, out.updates)
                    self.save_cursor()
            except BaseException:
                client.last_seq, client.relay_id = before.last_seq, before.relay_id
                raise
        if self.on_awareness is not None:
            for msg in out.awareness:
                self.on_awareness(msg.collection, msg.doc_id, msg.payload)
        if self.trim_every is not None and client.acked > before.acked:
            self.trim(self.trim_every)
        return frames

    def local(self) -> list[bytes]:
        """Queue the store's changes not handed to the client yet; frames to send now."""
        return self.client.add_local(self.to_send(self.client.queued))

    def to_send(self, since: int) -> list[tuple[int, str, str, bytes]]:
        """What goes to the relay after feed seq ``since``.

        The store's changes to send, unless the feed was trimmed above ``since`` (a
        relay log restored or replaced after the device trimmed): then every document
        changed after ``since`` goes whole, its seq being its newest, which covers the
        trimmed entries too.
        """
        store = self.store
        if since >= store.feed.floor():
            return list(store.feed.to_send(since))
        return [
            (seq, coll, doc_id, store.get_update(coll, doc_id))
            for seq, coll, doc_id in store.feed.document_seqs()
            if seq > since
        ]

    def trim(self, every: int = 1) -> bool:
        """Trim the feed up to what the relay acknowledged, once ``every`` entries wait.

        Tabs need no feed entries (a tab behind the floor gets whole documents), and
        the relay holds what it acknowledged, so those entries and the log rows behind
        them go, and the documents they belong to are compacted. Returns True if it
        trimmed.
        """
        acked, store = self.client.acked, self.store
        if store.closed or acked - store.feed.floor() < max(every, 1):
            return False
        store.feed.trim(min(acked, store.feed.head()), compact=True)
        return True

    # ------------------------------------------------------------------ state

    def save_cursor(self) -> None:
        """Write the cursor to the store when it moved (a no-op otherwise).

        Moves without updates (ACKs, an empty catch-up) are saved lazily here: a stale
        one only makes the relay send or take something again, which changes nothing.
        """
        state = self.client.state()
        if state != self._stored and not self.store.closed:
            self.store.feed.save_cursor(self.key, json.dumps(state.__dict__))
            self._stored = state

    def state_json(self) -> str:
        """The cursor as JSON (:func:`parse_state` reads it back)."""
        return json.dumps(self.client.state().__dict__)

    def has_unsent(self) -> bool:
        """True while a change to send is not acknowledged by the relay."""
        if self.client.outbox_size or self.client.queued < self.store.feed.floor():
            return True
        return bool(self.store.feed.to_send(self.client.queued, limit=1))

    def status(self) -> dict[str, Any]:
        """``{"state": "online"|"offline"|"syncing", "outbox": n, "last_seq": n,
        "access": "read-write"|"read-only"}`` (access as the relay last said)."""
        return {
            "state": self.client.status,
            "outbox": self.client.outbox_size,
            "last_seq": self.client.last_seq,
            "access": "read-write" if self.client.write else "read-only",
        }


__all__ = ["RELAY_ORIGIN", "RelaySession", "apply_relay_updates", "parse_state"]
