"""Doc: a shared document (pycrdt.Doc) over Y.Doc."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from pyodide.ffi import JsException, create_proxy, to_js  # type: ignore[import-not-found]

from . import _js
from ._base import BaseType, Subscription, get_root, integrate, type_for_kind
from ._core import HasCore
from ._transaction import Transaction, forbid_read_transaction
from ._update import encode_delete_set, encode_state_vector

T = TypeVar("T", bound=BaseType)
MAX_CLIENT_ID = 2**53 - 1


class TransactionEvent:
    """What ``Doc.observe`` callbacks receive once per committed, non-empty transaction.

    Attributes:
        update: the transaction's changes as a Yjs v1 update (bytes).
        before_state / after_state: state vectors before and after it.
        delete_set: the encoded delete set of the transaction.
        transaction: the Yjs transaction (a JS object).
    """

    __slots__ = ("_js_txn", "update")

    def __init__(self, update: bytes, js_txn: Any) -> None:
        self.update = update
        self._js_txn = js_txn

    @property
    def before_state(self) -> bytes:
        return encode_state_vector(_js.flat_map(self._js_txn.beforeState))

    @property
    def after_state(self) -> bytes:
        return encode_state_vector(_js.flat_map(self._js_txn.afterState))

    @property
    def delete_set(self) -> bytes:
        return encode_delete_set(_js.flat_delete_set(self._js_txn.deleteSet))

    @property
    def transaction(self) -> Any:
        return self._js_txn


class Doc(HasCore, Generic[T]):
    """A shared document holding named root types (Map, Text, Array).

    Example:
        >>> doc = Doc()
        >>> doc["todo"] = todo = Map({"title": "milk"})
        >>> other = Doc()
        >>> other.apply_update(doc.get_update())
        >>> other.get("todo", type=Map).to_py()
        {'title': 'milk'}
    """

    def __init__(
        self,
        init: dict[str, BaseType] | None = None,
        *,
        client_id: int | None = None,
        skip_gc: bool | None = None,
        guid: str | None = None,
    ) -> None:
        opts: dict[str, Any] = {}
        if client_id is None:
            pass  # Yjs picks a random 32-bit client ID
        elif client_id < 0:
            raise ValueError("client_id must be a valid u64")
        elif client_id > MAX_CLIENT_ID:
            raise ValueError("client_id cannot overflow 53 bits")
        if skip_gc:
            opts["gc"] = False
        if guid is not None:
            opts["guid"] = guid
        ydoc: Any = _js.Y.Doc.new(to_js(opts, dict_converter=_js.js_object))
        if client_id is not None:
            ydoc.clientID = client_id
        _js.track_texts(ydoc)
        self._attach(ydoc)
        self._ydoc = ydoc  # the Y.Doc, for tests and debugging (the engine uses the core)
        self._subscriptions: list[Subscription] = []
        for k, v in (init or {}).items():
            self[k] = v

    # -- identity --------------------------------------------------------------

    @property
    def guid(self) -> str:
        """The GUID of the document."""
        return str(self._core.ydoc.guid)

    @property
    def client_id(self) -> int:
        """The document's client ID."""
        return int(self._core.ydoc.clientID)

    # -- transactions ----------------------------------------------------------

    def transaction(self, origin: Any = None) -> Transaction:
        """The current transaction, or a new one (use it with ``with``).

        Raises:
            RuntimeError: Nested transactions must have same origin as root transaction.
        """
        if self._core.txn is not None:
            if origin is not None and origin != self._core.txn.origin:
                raise RuntimeError("Nested transactions must have same origin as root transaction")
            return self._core.txn
        if origin is not None:
            try:
                hash(origin)
            except Exception:
                raise TypeError("Origin must be hashable") from None
        return Transaction(self, origin=origin)

    # -- updates ---------------------------------------------------------------

    def get_state(self) -> bytes:
        """The document's state vector."""
        self._core.send_batched_sets()
        return bytes(_js.Y.encodeStateVector(self._core.ydoc).to_bytes())

    def get_update(self, state: bytes | None = None) -> bytes:
        """The changes not covered by ``state`` (all changes when it is None).

        Raises:
            ValueError: Cannot decode state.
        """
        self._core.send_batched_sets()
        if state is None:
            return bytes(_js.Y.encodeStateAsUpdate(self._core.ydoc).to_bytes())
        try:
            update = _js.Y.encodeStateAsUpdate(self._core.ydoc, to_js(bytes(state)))
        except JsException:
            raise ValueError("Cannot decode state") from None
        return bytes(update.to_bytes())

    def apply_update(self, update: bytes) -> None:
        """Apply an update from another replica; the document is unchanged if it fails.

        Raises:
            ValueError: Cannot decode update: ...
        """
        forbid_read_transaction(self._core.txn)
        self._core.send_batched_sets()
        data = to_js(bytes(update))
        txn = self._core.txn
        if txn is not None:
            txn.applied_update()  # the client id is restored at commit
        # Outside a transaction this one call is its own Yjs transaction.
        error = _js.apply_checked(self._core.ydoc, data)
        if error is not None:
            raise ValueError(f"Cannot decode update: {error}")
        if txn is None:
            self._core.raise_observer_errors()

    # -- roots -----------------------------------------------------------------

    def __setitem__(self, key: str, value: BaseType) -> None:
        """Set (or get, if it exists) the root type ``key`` and fill it with ``value``'s prelim.

        Raises:
            RuntimeError: Key must be of type string.
        """
        if not isinstance(key, str):
            raise RuntimeError("Key must be of type string")
        with self.transaction() as txn:
            forbid_read_transaction(txn)
            self._core.send_batched_sets()
            integrate(value, self, get_root(value, key, self))

    def __getitem__(self, key: str) -> Any:
        return self._roots[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def get(self, key: str, *, type: type[T]) -> T:
        """The root type ``key`` as ``type``, created if missing.

        Example:
            >>> text = doc.get("body", type=Text)
        """
        value = type()
        self[key] = value
        return value

    def keys(self) -> Iterable[str]:
        """The names of the root types."""
        return self._roots.keys()

    def values(self) -> Iterable[Any]:
        """The root types."""
        return self._roots.values()

    def items(self) -> Iterable[tuple[str, Any]]:
        """``(name, root type)`` pairs."""
        return self._roots.items()

    @property
    def _roots(self) -> dict[str, Any]:
        self._core.send_batched_sets()
        out: dict[str, Any] = {}
        for name in _js.root_names(self._core.ydoc):
            ytype = _js.root(self._core.ydoc, name)
            cls = type_for_kind.get(_js.kind(ytype))
            out[name] = None if cls is None else cls(_doc=self, _integrated=ytype)
        return out

    # -- observers -------------------------------------------------------------

    def observe(self, callback: Callable[[TransactionEvent], None]) -> Subscription:
        """Call ``callback(event)`` with each committed transaction's ``event.update``.

        Example:
            >>> sub = doc.observe(lambda event: log.append(event.update))
            >>> doc.unobserve(sub)
        """
        exceptions = self._core.exceptions

        def on_update(update: Any, origin: Any, ydoc: Any, js_txn: Any) -> None:
            try:
                callback(TransactionEvent(bytes(update.to_bytes()), js_txn))
            except Exception as exc:
                exceptions.append(exc)

        proxy = create_proxy(on_update)
        self._core.ydoc.on("update", proxy)
        sub = Subscription(self._core.ydoc, "off", proxy, "update")
        self._subscriptions.append(sub)
        return sub

    def unobserve(self, subscription: Subscription) -> None:
        """Stop a subscription made by ``observe``."""
        self._subscriptions.remove(subscription)
        subscription.drop()
