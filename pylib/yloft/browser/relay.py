"""Relay sync driven from the browser's engine worker (the socket is a JS WebSocket).

The engine worker's ``web/worker/relay-sync.js`` owns the WebSocket and the timers;
this module owns the store side, and the session decides everything else. The
boundary is bytes and str: JS calls :meth:`BrowserRelaySync.opened`,
:meth:`~BrowserRelaySync.receive` and :meth:`~BrowserRelaySync.closed`, and Python hands
frames back through a ``send(frame: bytes)`` callable. The core class needs no ``js``
import and is tested on CPython; :func:`start_js` is the thin Pyodide wrapper that
converts JS values and owns the JS callbacks.

The session itself (what to send, applying what arrives, the cursor kept in the
store, what a close means, when to renew the token, the backoff, the status) is
:class:`yloft.sync.session.RelaySession`, shared with the CPython adapter; this module
only moves frames, and the JS only runs the timers the session names.

Example:
    >>> from yloft import Store
    >>> from yloft.sync import protocol as p
    >>> store = Store(":memory:")
    >>> sent = []
    >>> sync = BrowserRelaySync(store, "team", "secret", sent.append)
    >>> sync.opened()
    >>> p.decode(sent[0]).space
    'team'
    >>> sync.status()["state"]
    'syncing'
    >>> sync.closed(1006).action
    'retry'
    >>> sync.close(); store.close()
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..sync.client import ONLINE, Change
from ..sync.closecodes import CloseCode
from ..sync.policy import Decision, LinkPolicy
from ..sync.session import RelaySession, SyncStatus

if TYPE_CHECKING:
    from ..store import Store

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
        space: the space name; token: its token ("": ask for one first).
        send: called with each frame to write to the socket.
        renews: the page can give new tokens (``getToken``): the session then asks
            for one after an expiry or a refusal, and ahead of the token's expiry.
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
        renews: bool = False,
        on_change: Callable[[], object] | None = None,
        on_awareness: Callable[[str, str, bytes], object] | None = None,
        trim_every: int | None = TRIM_EVERY,
    ) -> None:
        self.store = store
        self.session = RelaySession(
            store, space, token, trim_every=trim_every, policy=LinkPolicy(renews=renews)
        )
        self.session.on_awareness = on_awareness
        self.client = self.session.client
        self._send = send
        self._on_change = on_change
        self._remove_hook: Callable[[], None] | None = store.on_update(self._on_update)
        self.session.local()

    @property
    def refused_updates(self) -> int:
        """How many relay updates the store (or the codec) refused (logged and skipped)."""
        return self.session.refused_updates

    # ------------------------------------------------------------ socket events

    def opened(self) -> None:
        """The socket is open: sends HELLO (the outbox follows the relay's WELCOME)."""
        self._send(self.session.connect())

    def closed(self, code: int = CloseCode.ABNORMAL_CLOSURE, reason: str = "") -> Decision:
        """The socket closed: what to do next (:meth:`RelaySession.closed`)."""
        return self.session.closed(code, reason)

    def receive(self, frame: bytes) -> None:
        """Handle one frame from the relay and send what it answers.

        Raises:
            ProtocolError: malformed frame or out of order: close the socket.
        """
        for f in self.session.receive(frame):
            self._send(f)

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

    def status(self) -> SyncStatus:
        """The session's :class:`~yloft.sync.session.SyncStatus` (``db.status.relay``)."""
        return self.session.status()

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
    """The Pyodide wrapper ``relay-sync.js`` drives: JS values in, str/bool/float out.

    Decisions and statuses cross as JSON strings (no proxy to leak). It holds the only
    references to the JS callbacks it was given and drops them in :meth:`close`; the JS
    side destroys this object's PyProxy after that.
    """

    def __init__(self, sync: BrowserRelaySync, owned: list[Any]) -> None:
        self.sync = sync
        self.session = sync.session
        self._owned = owned

    def opened(self) -> None:
        self.sync.opened()

    def receive(self, data: Any) -> str:
        """``data`` is a JS Uint8Array (copied to bytes here); returns the status JSON."""
        self.sync.receive(data.to_bytes() if hasattr(data, "to_bytes") else bytes(data))
        return self.status_json()

    def closed(self, code: int, reason: str) -> str:
        """The decision as JSON: ``{"action": "retry"|"renew"|"stop", "delay": s}``."""
        return json.dumps(self.sync.closed(int(code), str(reason)).to_dict())

    def token_failed(self) -> str:
        """``getToken`` failed: the decision as JSON (renew after a backoff)."""
        return json.dumps(self.session.token_failed().to_dict())

    def needs_token(self) -> bool:
        return self.session.needs_token

    def set_token(self, token: str) -> bool:
        """True when the open link must be reopened (closed with 1000) to use it."""
        return self.session.set_token(str(token))

    def renew_in(self, now: float) -> float | None:
        """Seconds until the token should be renewed (``now``: unix seconds), or None."""
        return self.session.renew_in(float(now))

    def reset_backoff(self) -> None:
        """The network is back: the next attempt waits the shortest delay."""
        self.session.policy.reset()

    def status_json(self) -> str:
        return json.dumps(self.sync.status())

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
    renews: bool,
    js_send: Any,
    js_changed: Any,
    js_awareness: Any = None,
) -> JsRelaySync:
    """Pyodide only: sync ``engine.store``; ``js_send(Uint8Array)``, ``js_changed()``,
    ``js_awareness(collection, doc_id, Uint8Array)`` for presence from other clients;
    ``renews``: the page passed ``getToken``.

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
        engine.store, str(space), str(token), send, renews=bool(renews),
        on_change=lambda: js_changed(), on_awareness=awareness,
    )  # fmt: skip
    return JsRelaySync(sync, [js_send, js_changed, js_awareness])


__all__ = ["BrowserRelaySync", "JsRelaySync", "outgoing_changes", "start_js"]
