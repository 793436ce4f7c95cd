"""One store syncing one relay space: the session both relay adapters run (sans-I/O).

:class:`RelaySession` joins the protocol state machine (:class:`RelayClient`) to the
store: it feeds the store's changes to send into the outbox, applies what the relay
sends with origin ``"relay"`` and keeps the cursor in the store itself, written in
the same transaction as the updates it covers — so on every platform the cursor can
never run ahead of the data. An adapter (``yloft.sync.websocket`` on CPython,
``yloft.browser.relay`` in the engine worker) only moves frames and runs timers: it calls
:meth:`~RelaySession.connect` when its socket opens, :meth:`~RelaySession.receive` for
each frame, :meth:`~RelaySession.local` when the store committed a local change, and
sends back the frames they return; when the socket closes it calls
:meth:`~RelaySession.closed` and does what the returned
:class:`~yloft.sync.policy.Decision` says (retry after a delay, renew the token, stop).
The session also says when to renew a token ahead of its expiry
(:meth:`~RelaySession.renew_in`), reports one :class:`SyncStatus`, and passes update
payloads through its :mod:`codec <yloft.sync.codec>` (identity by default).

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
    >>> session.status()["state"]
    'online'
    >>> session.closed(1006).action
    'retry'
    >>> store.close()
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Literal, TypedDict

from ..errors import (
    AuthError,
    SyncError,
    TokenExpiredError,
    TransactionAbortedError,
    UnknownCollectionError,
    YloftError,
)
from ..store.feed import RELAY_ORIGIN
from . import protocol as p
from .client import OFFLINE, ONLINE, RelayClient, SyncState
from .closecodes import QUIET, CloseCode
from .codec import IDENTITY, Codec
from .policy import Decision, LinkPolicy

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("yloft.sync")


class SyncStatus(TypedDict):
    """The one shape of relay sync status: ``RelaySync.status``, the engine worker's
    ``db.status.relay`` and :meth:`RelaySession.status` all report it.

    Attributes:
        state: ``"offline"`` (no link), ``"syncing"`` (linked, catching up) or
            ``"online"`` (caught up; live).
        outbox: local changes the relay has not acknowledged yet.
        last_seq: the relay's sequence number this device holds everything up to.
        access: ``"read-write"``, or ``"read-only"`` when the relay said so (nothing is
            pushed; the outbox keeps every local change).
        auth: the relay's last word on the token: ``"ok"`` (welcomed), ``"refused"``
            (1008 before WELCOME), ``"expired"`` (4401), or ``""`` before any.
        error: why the last link ended, when it was not a plain disconnection (a
            refusal, an expiry, an error close); ``""`` once the relay welcomed us again.
        expires_at: when the token expires (unix seconds, 0 = never or unknown).
    """

    state: Literal["offline", "syncing", "online"]
    outbox: int
    last_seq: int
    access: Literal["read-write", "read-only"]
    auth: Literal["", "ok", "refused", "expired"]
    error: str
    expires_at: int


def parse_state(text: str) -> SyncState:
    """A cursor :meth:`RelaySession.save_cursor` stored; ``""``: a new device."""
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
        space: the space name; token: its token ("": fetch one before connecting,
            see :attr:`needs_token`).
        trim_every: trim the change feed once this many entries the relay
            acknowledged are above the feed floor (the browser does; None: never).
        policy: what a close means, the backoff and token renewal (the default
            :class:`~yloft.sync.policy.LinkPolicy` renews no token).
        codec: turns pushed updates into the payloads the relay stores and back
            (:mod:`yloft.sync.codec`; identity by default).
    """

    def __init__(
        self,
        store: Store,
        space: str,
        token: str,
        *,
        trim_every: int | None = None,
        policy: LinkPolicy | None = None,
        codec: Codec = IDENTITY,
    ) -> None:
        self.store = store
        self.trim_every = trim_every
        """Trim the store's change feed (compacting) once this many acknowledged
        entries are above its floor; None keeps the feed (see :meth:`trim`)."""
        self.key = f"relay:{space}"
        saved = store.feed.cursor(self.key)
        state = parse_state(saved) if saved is not None else SyncState(uuid.uuid4().hex)
        self.client = RelayClient.from_state(space, token, state)
        self.policy = policy or LinkPolicy()
        self.codec = codec
        self.needs_token = not token
        """True until a token is in hand (none given, or the policy said renew): the
        adapter asks for one (:meth:`set_token`) before it connects."""
        self.auth: Literal["", "ok", "refused", "expired"] = ""
        self.error = ""
        self._reopen = False  # the adapter closes the link to use a renewed token
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

    def closed(self, code: int, reason: str = "") -> Decision:
        """The socket closed with ``code`` (the code received, or the one this side sent):
        record why in the status and return what to do next (retry, renew, stop)."""
        client = self.client
        welcomed, reopen, self._reopen = client.welcomed, self._reopen, False
        space = client.space
        error: SyncError | None = None
        if reopen:
            pass
        elif code == CloseCode.TOKEN_EXPIRED:
            self.auth = "expired"
            self.error = "the relay token expired; a new one is needed to sync"
            error = TokenExpiredError(f"the relay's token for {space!r} expired")
        elif code == CloseCode.POLICY_VIOLATION and not welcomed:
            self.auth = "refused"
            why = reason or "policy violation"
            self.error = (
                f"the relay refused space {space!r} ({why}); check the space name and token"
            )
            error = AuthError(self.error)
        else:
            text = f"the relay connection closed ({code}{f' {reason}' if reason else ''})"
            if code not in QUIET:
                self.error = text
            error = SyncError(text)
        self.disconnect()
        decision = self.policy.after_close(code, welcomed=welcomed, reopen=reopen)
        if decision.action == "renew":
            self.needs_token = True
        return replace(decision, error=error)

    def token_failed(self) -> Decision:
        """Fetching a token failed (or gave none): when to ask again."""
        self.needs_token = True
        return self.policy.after_token_failure()

    def set_token(self, token: str) -> bool:
        """Use ``token`` from the next HELLO on; True when the link is up with the older
        one: the adapter then closes it (1000) and :meth:`closed` says reconnect at once.

        Raises:
            TypeError: ``token`` is not a non-empty str (what ``get_token`` must return).
        """
        if not isinstance(token, str) or not token:
            raise TypeError(f"a relay token is a non-empty str, not {token!r}")
        self.client.token = token
        self.needs_token = False
        self._reopen = self.client.status != OFFLINE
        return self._reopen

    def renew_in(self, now: float) -> float | None:
        """Seconds from ``now`` (unix time) until the token should be renewed ahead of
        its expiry, or None (no expiry, no way to renew, or not welcomed yet)."""
        if not self.client.welcomed:
            return None
        return self.policy.renew_in(self.client.expires_at, now)

    def receive(self, frame: bytes) -> list[bytes]:
        """Handle one frame from the relay; return the frames to send back.

        Remote updates are applied in one transaction with origin ``"relay"``, and the
        cursor that covers them is written in that same transaction. An update the
        store refuses is logged and skipped, never half-applied.

        Raises:
            ProtocolError: malformed frame or out of order: close the socket.
        """
        client = self.client
        before, was, welcomed = client.state(), client.status, client.welcomed
        out = client.receive(frame)
        if client.welcomed and not welcomed:  # the relay accepted this link's token
            self.auth, self.error = "ok", ""
        if client.status == ONLINE and was != ONLINE:
            self.policy.reset()  # caught up: the next reconnect starts from the shortest delay
        frames = list(out.frames)
        if out.reset:  # a new relay log: it needs everything again
            frames += client.add_local(self.to_send(0))
        if out.updates or (out.cursor_moved and client.relay_id != before.relay_id):
            try:
                with self.store.atomic():
                    updates = self._decode(out.updates)
                    self.refused_updates += apply_relay_updates(self.store, updates)
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

    def _decode(self, entries: list[p.Entry]) -> list[p.Entry]:
        """The entries with their payloads decoded; one the codec cannot read is refused."""
        if self.codec is IDENTITY:
            return entries
        out = []
        for e in entries:
            try:
                out.append(replace(e, update=self.codec.decode(e.collection, e.doc_id, e.update)))
            except ValueError as exc:
                self.refused_updates += 1
                log.error("relay update %d for %s/%s refused by the codec: %s",
                          e.seq, e.collection, e.doc_id, exc)  # fmt: skip
        return out

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
            changes = list(store.feed.to_send(since))
        else:
            changes = [
                (seq, coll, doc_id, store.get_update(coll, doc_id))
                for seq, coll, doc_id in store.feed.document_seqs()
                if seq > since
            ]
        if self.codec is IDENTITY:
            return changes
        encode = self.codec.encode
        return [(seq, c, d, encode(c, d, update)) for seq, c, d, update in changes]

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

    def has_unsent(self) -> bool:
        """True while a change to send is not acknowledged by the relay."""
        if self.client.outbox_size or self.client.queued < self.store.feed.floor():
            return True
        return bool(self.store.feed.to_send(self.client.queued, limit=1))

    def status(self) -> SyncStatus:
        """The link's :class:`SyncStatus` (access and expiry as the relay last said)."""
        client = self.client
        return SyncStatus(
            state=client.status,
            outbox=client.outbox_size,
            last_seq=client.last_seq,
            access="read-write" if client.write else "read-only",
            auth=self.auth,
            error=self.error,
            expires_at=client.expires_at,
        )


__all__ = ["RELAY_ORIGIN", "RelaySession", "SyncStatus", "apply_relay_updates", "parse_state"]
