"""The engine state of one Doc, shared by its types, transactions and the fast paths.

A :class:`~yloft.crdt._yjs._doc.Doc` keeps the pycrdt-compatible public surface; what
the rest of the engine needs from it — the Y.Doc, the open transaction, the batched Map
sets, the observer errors — lives in its :class:`DocCore`, reached with
:func:`core_of`. Shared types and transactions keep a reference to the core of their
document, so the hot paths pay one attribute lookup, not a call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyodide.ffi import to_js  # type: ignore[import-not-found]

from . import _js

if TYPE_CHECKING:
    from ._transaction import Transaction


class DocCore:
    """The Yjs side of one Doc (see the module docstring)."""

    __slots__ = (
        "client_id",
        "exceptions",
        "next_origin",
        "origins",
        "pending_keys",
        "pending_map",
        "pending_values",
        "txn",
        "ydoc",
    )

    def __init__(self, ydoc: Any) -> None:
        self.ydoc = ydoc
        self.client_id = int(ydoc.clientID)
        self.txn: Transaction | None = None
        #: Exceptions raised by observer callbacks, re-raised at commit.
        self.exceptions: list[Exception] = []
        self.origins: dict[int, Any] = {}
        self.next_origin = 1
        # Plain-value Map sets made inside a transaction, not yet sent to Yjs (see
        # Map.__setitem__): one JS call per batch instead of one per set. Everything
        # that reads or writes the Y.Doc otherwise calls send_batched_sets() first.
        self.pending_map: Any = None
        self.pending_keys: list[str] = []
        self.pending_values: list[Any] = []

    def register_origin(self, origin: Any) -> int:
        token = self.next_origin
        self.next_origin += 1
        self.origins[token] = origin
        return token

    def origin_of(self, js_txn: Any) -> Any:
        token = js_txn.origin
        if token is None or type(token) is not int:
            return None
        return self.origins.get(token)

    def send_batched_sets(self) -> None:
        """Send the batched Map sets to Yjs (a no-op when there are none)."""
        ymap = self.pending_map
        if ymap is None:
            return
        keys, values = self.pending_keys, self.pending_values
        self.pending_map, self.pending_keys, self.pending_values = None, [], []
        _js.map_set_many(ymap, to_js(keys), to_js(values))

    def keep_client_id(self) -> None:
        # Yjs picks a new client ID when an update carries changes under ours; pycrdt
        # keeps it, and so do we.
        if self.ydoc.clientID != self.client_id:
            self.ydoc.clientID = self.client_id

    def raise_observer_errors(self) -> None:
        if self.exceptions:
            exceptions = tuple(self.exceptions)
            self.exceptions.clear()
            raise ExceptionGroup("Observer callback error", exceptions)


class HasCore:
    """The base of ``Doc``: this module owns its ``_core`` attribute."""

    _core: DocCore

    def _attach(self, ydoc: Any) -> DocCore:
        """Give this document its core (called once, by ``Doc.__init__``)."""
        self._core = core = DocCore(ydoc)
        return core


def core_of(doc: HasCore) -> DocCore:
    """The core of ``doc``."""
    return doc._core
