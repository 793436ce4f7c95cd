"""Tab sync: one writer tab (the leader) and replica tabs (followers), sans-I/O.

Every tab of an app runs its own engine with its own :class:`~yloft.Store`. Exactly one
tab, the *leader* (chosen by the browser adapter with a Web Lock), owns the durable
database; the other tabs, *followers*, keep a full in-memory replica so reads stay
synchronous. The leader plays the relay's role for its tabs with the same messages as
the relay protocol (``yloft.sync.protocol``):

- a follower sends HELLO(last_seq) and gets WELCOME, then CATCHUP frames up to the
  leader's head (its change-feed seq, which lives in the durable database and so stays
  meaningful when another tab becomes leader);
- a follower's own edit commits to its replica first (its UI shows it at once), then goes
  out as PUSH(msg_id = the replica's feed seq); the leader applies it durably with origin
  ``"tab:<id>"``, broadcasts it as UPDATE and answers ACK — only then is it *saved*;
- the leader's own edits are durable at commit and broadcast as UPDATE;
- followers apply UPDATE/CATCHUP with origin ``"leader"``, so nothing echoes back.

When the leader goes away, a follower becomes leader with :meth:`TabSync.take_over`: it
applies its unacknowledged outbox to the durable store and announces itself (a WELCOME
sent to every tab); the other followers answer with HELLO and resend their whole outbox
(re-applying a Yjs update is a no-op, so resending is always safe).

This module does no I/O: ``send(to, frame)`` is given by the adapter (``to`` is a tab id,
or None for every tab) and :meth:`TabSync.receive` is called with each incoming frame.

Example:
    >>> from yloft import Store, Field
    >>> out = []
    >>> leader = TabSync(Store(":memory:"), "a", lambda to, f: out.append((to, f)))
    >>> leader.lead()
    >>> leader.is_leader
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..crdt import merge_updates
from ..store import Store
from .protocol import (
    Ack,
    Catchup,
    Entry,
    Hello,
    Message,
    Push,
    Update,
    Welcome,
    catchup_frames,
    decode,
    encode,
)

Send = Callable[[str | None, bytes], None]
"""``send(to, frame)``: ``to`` is a tab id, or None for every tab."""

LEADER_ORIGIN = "leader"
"""Origin of updates a follower applies from its leader (never pushed back)."""

TAB_SPACE = "tabs"


class TabSync:
    """One tab's side of tab sync.

    Args:
        store: this tab's store (durable for the leader, a replica for a follower).
        tab_id: this tab's id, unique among the open tabs.
        send: how frames leave this tab.
        log_id: names the durable log that sequence numbers refer to; two leaders on
            the same database must use the same value (a memory database: a fresh one).

    Example:
        >>> from yloft import Store
        >>> frames = []
        >>> tab = TabSync(Store(":memory:"), "b", lambda to, f: frames.append(f))
        >>> tab.hello()
        >>> decode(frames[0]).client_id
        'b'
    """

    def __init__(self, store: Store, tab_id: str, send: Send, *, log_id: str = "db") -> None:
        self.store = store
        self.tab_id = tab_id
        self.log_id = log_id
        self._send = send
        self.is_leader = False
        self.leader_id = ""
        self.synced = False
        self.last_seq = 0
        """Follower: the leader's feed seq up to which this replica holds everything."""
        self.acked = 0
        """Follower: the highest own msg_id the leader made durable."""
        self.pushed = 0
        """Follower: the highest own msg_id sent."""
        self.head = 0
        """Leader: the highest feed seq broadcast."""
        self._acks: dict[str, int] = {}
        self._remove_hook = store.on_update(self._on_update)

    # ------------------------------------------------------------------ status

    @property
    def unsaved(self) -> int:
        """How many of this tab's own changes are not durable yet (0 for the leader)."""
        if self.is_leader:
            return 0
        return len(self.store.changes(self.acked, local_only=True))

    def status(self) -> dict[str, object]:
        """A JSON-safe summary for ``db.status``."""
        return {
            "writer": self.is_leader,
            "leader": self.leader_id,
            "synced": self.synced,
            "unsaved": self.unsaved,
            "acked": self.acked,
            "pushed": self.pushed,
            "last_seq": self.last_seq,
        }

    # ------------------------------------------------------------------ roles

    def lead(self) -> None:
        """Become the leader on this (durable) store and announce it to every tab."""
        self.is_leader = True
        self.leader_id = self.tab_id
        self.synced = True
        self.head = self.store.feed_head()
        self._send(None, encode(Welcome(self.log_id, self.head)))

    def hello(self) -> None:
        """Follower: ask the leader (whoever it is) for everything after ``last_seq``."""
        self._send(None, encode(Hello(TAB_SPACE, "", self.tab_id, self.last_seq, self.log_id)))

    def take_over(self, durable: Store, log_id: str | None = None) -> int:
        """Become leader on ``durable``: apply the own unacknowledged outbox to it first.

        Returns how many outbox entries were applied. The replica store is left open for
        the caller to close once nothing refers to it any more. ``log_id`` names the
        durable store's log (default: the one this tab last synced with).
        """
        outbox = self.store.changes(self.acked, local_only=True)
        self._remove_hook()
        self.store = durable
        self.is_leader = True
        self.leader_id = self.tab_id
        self.synced = True
        self.head = durable.feed_head()
        self.acked = self.pushed = 0
        self._acks.clear()
        if log_id is not None:
            self.log_id = log_id
        self._remove_hook = durable.on_update(self._on_update)
        # Announce first, so the outbox's UPDATEs reach tabs that already know us.
        self._send(None, encode(Welcome(self.log_id, self.head)))
        with durable.atomic():
            for _, collection, doc_id, update in outbox:
                durable.apply_update(collection, doc_id, update)
        return len(outbox)

    def close(self) -> None:
        """Stop watching the store."""
        self._remove_hook()

    # ------------------------------------------------------------------ events

    def _on_update(self, collection: str, doc_id: str, update: bytes, origin: str | None) -> None:
        if self.is_leader:
            self._broadcast_new()
        elif origin is None:
            self.push_outbox()

    def _broadcast_new(self) -> None:
        for seq, collection, doc_id, update in self.store.changes(self.head):
            self._send(None, encode(Update(Entry(seq, collection, doc_id, update))))
            self.head = seq

    def push_outbox(self) -> None:
        """Follower: send own changes not sent yet (all unacked ones after a resend)."""
        for seq, collection, doc_id, update in self.store.changes(self.pushed, local_only=True):
            self._send(self.leader_id or None, encode(Push(seq, collection, doc_id, update)))
            self.pushed = seq

    def receive(self, sender: str, frame: bytes, *, direct: bool = False) -> None:
        """Handle one frame from tab ``sender`` (frames meant for the other role are ignored).

        ``direct`` is true when the frame was addressed to this tab (not to every tab).

        Raises:
            ProtocolError: the frame is malformed (nothing was applied).
        """
        msg = decode(frame)
        if self.is_leader:
            self._leader_receive(sender, msg)
        else:
            self._follower_receive(sender, msg, direct)

    def _leader_receive(self, sender: str, msg: Message) -> None:
        if isinstance(msg, Hello):
            since = msg.last_seq if msg.relay_id == self.log_id else 0
            self._send(sender, encode(Welcome(self.log_id, self.head)))
            for frame in catchup_frames(self._catchup(since), self.head):
                self._send(sender, frame)
        elif isinstance(msg, Push):
            if msg.msg_id <= self._acks.get(sender, 0):
                self._send(sender, encode(Ack(msg.msg_id, 0)))
                return
            before = self.head
            self.store.apply_update(msg.collection, msg.doc_id, msg.update, origin=f"tab:{sender}")
            self._broadcast_new()
            self._acks[sender] = msg.msg_id
            self._send(sender, encode(Ack(msg.msg_id, self.head if self.head > before else 0)))

    def _follower_receive(self, sender: str, msg: Message, direct: bool) -> None:
        if isinstance(msg, Welcome):
            if msg.relay_id != self.log_id:
                # Another log (e.g. a new memory database): our seqs mean nothing there.
                self.log_id = msg.relay_id
                self.last_seq = 0
            if sender != self.leader_id:
                # Another leader than the one we know: everything it did not answer yet
                # may be lost, so catch up from it and resend the whole outbox.
                self.leader_id = sender
                self.synced = False
                if not direct:
                    self.hello()
            # A reply to our HELLO (its catch-up follows), or a new leader's announcement.
            self.pushed = self.acked
            self.push_outbox()
        elif isinstance(msg, Catchup):
            with self.store.atomic():
                for e in msg.entries:
                    self.store.apply_update(e.collection, e.doc_id, e.update, origin=LEADER_ORIGIN)
            if sender == self.leader_id:
                self.last_seq = max(self.last_seq, msg.through_seq)
                if msg.done:
                    self.synced = True
        elif isinstance(msg, Update):
            e = msg.entry
            self.store.apply_update(e.collection, e.doc_id, e.update, origin=LEADER_ORIGIN)
            if self.synced and sender == self.leader_id:
                self.last_seq = max(self.last_seq, e.seq)
        elif isinstance(msg, Ack) and sender == self.leader_id:
            self.acked = max(self.acked, msg.msg_id)
            if self.synced:
                self.last_seq = max(self.last_seq, msg.seq)

    def _catchup(self, since: int) -> Iterator[Entry]:
        """What a tab holding everything up to ``since`` misses: one entry per document."""
        if since <= 0 or since < self.store.feed_floor():
            prev = 0
            for seq, collection, doc_id in self.store.document_seqs():
                # Sequence numbers only order the entries here; the tab takes through_seq.
                prev = max(seq, prev + 1)
                yield Entry(prev, collection, doc_id, self.store.get_update(collection, doc_id))
            return
        per_doc: dict[tuple[str, str], tuple[int, list[bytes]]] = {}
        for seq, collection, doc_id, update in self.store.changes(since):
            _, parts = per_doc.get((collection, doc_id), (0, []))
            parts.append(update)
            per_doc[(collection, doc_id)] = (seq, parts)
        for (collection, doc_id), (seq, parts) in sorted(per_doc.items(), key=lambda kv: kv[1][0]):
            merged = parts[0] if len(parts) == 1 else merge_updates(*parts)
            yield Entry(seq, collection, doc_id, merged)
