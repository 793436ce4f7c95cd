"""Relay sync driven from the browser's engine worker (the socket is a JS WebSocket).

The engine worker's ``web/worker/relay-sync.js`` owns the WebSocket, reconnects with
backoff and keeps a copy of the cursor in IndexedDB; this module owns the store side. The
boundary is bytes and str: JS calls :meth:`BrowserRelaySync.opened`,
:meth:`~BrowserRelaySync.receive` and :meth:`~BrowserRelaySync.closed`, and
Python hands frames back through a ``send(frame: bytes)`` callable. The core
class needs no ``js`` import and is tested on CPython; :func:`start_js` is the
thin Pyodide wrapper that converts JS values and owns the JS callbacks.

The session itself (what to send, applying what arrives, the cursor kept in the
store) is :class:`yloft.sync.session.RelaySession`, shared with the CPython adapter;
this module only moves frames.

Example:
    >>> from yloft import Store
    >>> from yloft.sync import protocol as p
    >>> store = Store(":memory:")
    >>> sent = []
    >>> sync = BrowserRelaySync(store, "team", "secret", sent.append)
    >>> sync.opened()
    >>> p.decode(sent[0]).space
    'team'
    >>> sync.status()["sync"]
    'syncing'
    >>> sync.close(); store.close()
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..sync.client import ONLINE, Change, SyncState
from ..sync.session import RELAY_ORIGIN, RelaySession, parse_state

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("yloft.sync")
ORIGIN = RELAY_ORIGIN
POLICY_VIOLATION = 1008
TOKEN_EXPIRED = 4401
TRIM_EVERY = 256
"""The browser trims its change feed once this many relay-acknowledged entries wait
(a trim compacts the documents behind them: one transaction, not one per ack)."""


def outgoing_changes(store: Store, since: int) -> list[Change]:
    """The store's changes to send after ``since`` (``store.feed.to_send``)."""
    return store.feed.to_send(since)


class BrowserRelaySync:
    """One store syncing one relay space over a socket the caller owns.

    Args:
        store: the writer tab's store (every collection of it syncs).
        space: the space name; token: its token.
        send: called with each frame to write to the socket.
        state: a cursor saved outside the store (:func:`parse_state`), used when the
            store holds none yet; None starts as a new device.
        on_change: called after a local edit changed the outbox (refresh the status).
        on_awareness: called with ``(collection, doc_id, payload)`` for each presence
            update other clients sent (never stored; see :meth:`awareness`).
        trim_every: see :class:`RelaySession` (None keeps the whole feed).
    """

    def __init__(
        self,
        store: Store,
        space: str,
        token: str,
        send: Callable[[bytes], object],
        *,
        state: SyncState | None = None,
        on_change: Callable[[], object] | None = None,
        on_awareness: Callable[[str, str, bytes], object] | None = None,
        trim_every: int | None = TRIM_EVERY,
    ) -> None:
        self.store = store
        self.session = RelaySession(store, space, token, state=state, trim_every=trim_every)
        self.session.on_awareness = on_awareness
        self.client = self.session.client
        self.error = ""
        self.refused = False
        self.auth = ""
        """"ok" once welcomed, "refused" (1008 before WELCOME) or "expired" (4401)."""
        self._send = send
        self._on_change = on_change
        self._remove_hook: Callable[[], None] | None = store.on_update(self._on_update)
        self.session.local()

    @property
    def refused_updates(self) -> int:
        """How many relay updates the store refused (logged and skipped)."""
        return self.session.refused_updates

    # ------------------------------------------------------------ socket events

    def opened(self) -> None:
        """The socket is open: sends HELLO (the outbox follows the relay's WELCOME)."""
        self._send(self.session.connect())

    def closed(self, code: int = 1006, reason: str = "") -> None:
        """The socket closed; a 1008 before WELCOME means the relay refused the token,
        4401 that it expired (``relay-sync.js`` then asks ``getToken`` for a new one)."""
        if code == TOKEN_EXPIRED:
            self.auth = "expired"
            self.error = "the relay token expired; a new one is needed to sync"
        elif code == POLICY_VIOLATION and not self.client.welcomed:
            self.refused = True
            self.auth = "refused"
            self.error = (
                f"the relay refused space {self.client.space!r} ({reason or 'policy violation'})"
                "; check the space name and token"
            )
        elif code not in (1000, 1001, 1005, 1006):
            self.error = f"the relay connection closed ({code} {reason})".strip()
        self.session.disconnect()

    def receive(self, frame: bytes) -> bool:
        """Handle one frame from the relay; True when the cursor moved.

        The cursor is kept in the store, in the transaction of the updates it covers
        (see :class:`RelaySession`); ``state_json`` stays available for callers that
        keep a copy of it.

        Raises:
            ProtocolError: malformed frame or out of order: close the socket.
        """
        before = self.client.state()
        frames = self.session.receive(frame)
        if self.client.welcomed:
            self.error = ""
            self.refused = False
            self.auth = "ok"
        for f in frames:
            self._send(f)
        return self.client.state() != before

    def awareness(self, collection: str, doc_id: str, payload: bytes) -> bool:
        """Send a presence update (a y-protocols awareness update) for one document.

        Returns False when it was not sent because the relay has not welcomed us yet;
        presence is not queued (it is re-announced once the link is up).
        """
        frame = self.client.awareness(collection, doc_id, payload)
        if frame is None:
            return False
        self._send(frame)
        return True

    # ------------------------------------------------------------- store events

    def _on_update(self, collection: str, doc_id: str, update: bytes, origin: str | None) -> None:
        if not RelaySession.sends(origin):
            return
        for f in self.session.local():
            self._send(f)
        if self._on_change is not None:
            self._on_change()

    # ------------------------------------------------------------------ state

    def status(self) -> dict[str, Any]:
        """``{"sync": "online"|"offline"|"syncing", "outbox": n, "syncError": str, ...}``."""
        return {
            "sync": self.client.status,
            "outbox": self.client.outbox_size,
            "lastSeq": self.client.last_seq,
            "syncError": self.error,
            "access": "read-write" if self.client.write else "read-only",
            "auth": self.auth,
            "expiresAt": self.client.expires_at,
        }

    def set_token(self, token: str) -> None:
        """Use ``token`` from the next connection on (a renewed one from ``getToken``)."""
        self.client.token = token

    def status_json(self) -> str:
        return json.dumps(self.status())

    def state_json(self) -> str:
        """The cursor as JSON (a copy: the store keeps the one that counts)."""
        return self.session.state_json()

    @property
    def online(self) -> bool:
        return self.client.status == ONLINE

    def close(self) -> None:
        """Stop watching the store (the caller closes the socket)."""
        if self._remove_hook is not None:
            self._remove_hook()
            self._remove_hook = None
        self.session.disconnect()


class JsRelaySync:
    """The Pyodide wrapper ``relay-sync.js`` drives: JS values in, str/bool out.

    It holds the only references to the two JS callbacks it was given and drops them
    in :meth:`close`; the JS side destroys this object's PyProxy after that.
    """

    def __init__(self, sync: BrowserRelaySync, owned: list[Any]) -> None:
        self.sync = sync
        self._owned = owned

    def opened(self) -> str:
        self.sync.opened()
        return self.sync.status_json()

    def receive(self, data: Any) -> bool:
        """``data`` is a JS Uint8Array (copied to bytes here)."""
        return self.sync.receive(data.to_bytes() if hasattr(data, "to_bytes") else bytes(data))

    def closed(self, code: int, reason: str) -> str:
        self.sync.closed(int(code), str(reason))
        return self.sync.status_json()

    def status_json(self) -> str:
        return self.sync.status_json()

    def state_json(self) -> str:
        return self.sync.state_json()

    def refused(self) -> bool:
        return self.sync.refused

    def set_token(self, token: str) -> None:
        self.sync.set_token(str(token))

    def awareness(self, collection: str, doc_id: str, data: Any) -> bool:
        """``data`` is a JS Uint8Array holding a y-protocols awareness update."""
        payload = data.to_bytes() if hasattr(data, "to_bytes") else bytes(data)
        return self.sync.awareness(str(collection), str(doc_id), payload)

    def close(self) -> None:
        self.sync.close()
        self._owned = []  # the last references to the JS callbacks: their JsProxies go


def start_js(
    engine: Any,
    space: str,
    token: str,
    state: str,
    js_send: Any,
    js_changed: Any,
    js_awareness: Any = None,
) -> JsRelaySync:
    """Pyodide only: sync ``engine.store``; ``js_send(Uint8Array)``, ``js_changed()``,
    ``js_awareness(collection, doc_id, Uint8Array)`` for presence from other clients.

    Raises:
        NotImplementedError: outside Pyodide (use :class:`BrowserRelaySync` directly).
    """
    try:
        from pyodide.ffi import to_js  # type: ignore[import-not-found]
    except ImportError as exc:  # CPython
        raise NotImplementedError(
            "start_js needs Pyodide; on CPython use BrowserRelaySync or yloft.sync.websocket"
        ) from exc

    def send(frame: bytes) -> None:
        js_send(to_js(frame))

    def awareness(collection: str, doc_id: str, payload: bytes) -> None:
        if js_awareness is not None:
            js_awareness(collection, doc_id, to_js(payload))

    sync = BrowserRelaySync(
        engine.store, str(space), str(token), send, state=parse_state(str(state)),
        on_change=lambda: js_changed(), on_awareness=awareness,
    )  # fmt: skip
    return JsRelaySync(sync, [js_send, js_changed, js_awareness])


__all__ = ["BrowserRelaySync", "JsRelaySync", "outgoing_changes", "parse_state", "start_js"]
