"""Doc: a shared document (pycrdt.Doc) over Y.Doc."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from pyodide.ffi import JsException, create_proxy, to_js  # type: ignore[import-not-found]

from . import _js
from ._base import BaseType, Subscription, type_for_kind
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


class Doc(Generic[T]):
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
        self._ydoc: Any = _js.Y.Doc.new(to_js(opts, dict_converter=_js.js_object))
        if client_id is not None:
            self._ydoc.clientID = client_id
        self._client_id = int(self._ydoc.clientID)
        _js.track_texts(self._ydoc)
        self._txn: Transaction | None = None
        self._exceptions: list[Exception] = []
        self._origins: dict[int, Any] = {}
        self._next_origin = 1
        # Plain-value Map sets made inside a transaction, not yet sent to Yjs (see
        # Map.__setitem__): one JS call per batch instead of one per set. Everything
        # that reads or writes the Y.Doc otherwise calls _flush() first.
        self._pending_map: Any = None
        self._pending_keys: list[str] = []
        self._pending_values: list[Any] = []
        self._subscriptions: list[Subscription] = []
        for k, v in (init or {}).items():
            self[k] = v

    # -- identity --------------------------------------------------------------

    @property
    def guid(self) -> str:
        """The GUID of the document."""
        return str(self._ydoc.guid)

    @property
    def client_id(self) -> int:
        """The document's client ID."""
        return int(self._ydoc.clientID)

    # -- transactions ----------------------------------------------------------

    def transaction(self, origin: Any = None) -> Transaction:
        """The current transaction, or a new one (use it with ``with``).

        Raises:
            RuntimeError: Nested transactions must have same origin as root transaction.
        """
        if self._txn is not None:
            if origin is not None and origin != self._txn.origin:
                raise RuntimeError("Nested transactions must have same origin as root transaction")
            return self._txn
        if origin is not None:
            try:
                hash(origin)
            except Exception:
                raise TypeError("Origin must be hashable") from None
        return Transaction(self, origin=origin)

    def _register_origin(self, origin: Any) -> int:
        token = self._next_origin
        self._next_origin += 1
        self._origins[token] = origin
        return token

    def _origin_of(self, js_txn: Any) -> Any:
        token = js_txn.origin
        if token is None or type(token) is not int:
            return None
        return self._origins.get(token)

    def _flush(self) -> None:
        """Send the batched Map sets to Yjs (a no-op when there are none)."""
        ymap = self._pending_map
        if ymap is None:
            return
        keys, values = self._pending_keys, self._pending_values
        self._pending_map, self._pending_keys, self._pending_values = None, [], []
        _js.map_set_many(ymap, to_js(keys), to_js(values))

    def _keep_client_id(self) -> None:
        # Yjs picks a new client ID when an update carries changes under ours; pycrdt
        # keeps it, and so do we.
        if self._ydoc.clientID != self._client_id:
            self._ydoc.clientID = self._client_id

    def _raise_observer_errors(self) -> None:
        if self._exceptions:
            exceptions = tuple(self._exceptions)
            self._exceptions.clear()
            raise ExceptionGroup("Observer callback error", exceptions)

    # -- updates ---------------------------------------------------------------

    def get_state(self) -> bytes:
        """The document's state vector."""
        self._flush()
        return bytes(_js.Y.encodeStateVector(self._ydoc).to_bytes())

    def get_update(self, state: bytes | None = None) -> bytes:
        """The changes not covered by ``state`` (all changes when it is None).

        Raises:
            ValueError: Cannot decode state.
        """
        self._flush()
        if state is None:
            return bytes(_js.Y.encodeStateAsUpdate(self._ydoc).to_bytes())
        try:
            update = _js.Y.encodeStateAsUpdate(self._ydoc, to_js(bytes(state)))
        except JsException:
            raise ValueError("Cannot decode state") from None
        return bytes(update.to_bytes())

    def apply_update(self, update: bytes) -> None:
        """Apply an update from another replica; the document is unchanged if it fails.

        Raises:
            ValueError: Cannot decode update: ...
        """
        forbid_read_transaction(self._txn)
        self._flush()
        data = to_js(bytes(update))
        txn = self._txn
        if txn is not None:
            txn._applied_update = True  # the client id is restored at commit
        # Outside a transaction this one call is its own Yjs transaction.
        error = _js.apply_checked(self._ydoc, data)
        if error is not None:
            raise ValueError(f"Cannot decode update: {error}")
        if txn is None:
            self._raise_observer_errors()

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
            self._flush()
            integrated = value._get_root(key, self)
            value._integrate_and_init(self, integrated)

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
        self._flush()
        out: dict[str, Any] = {}
        for name in _js.root_names(self._ydoc):
            ytype = _js.root(self._ydoc, name)
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
        exceptions = self._exceptions

        def on_update(update: Any, origin: Any, ydoc: Any, js_txn: Any) -> None:
            try:
                callback(TransactionEvent(bytes(update.to_bytes()), js_txn))
            except Exception as exc:
                exceptions.append(exc)

        proxy = create_proxy(on_update)
        self._ydoc.on("update", proxy)
        sub = Subscription(self._ydoc, "off", proxy, "update")
        self._subscriptions.append(sub)
        return sub

    def unobserve(self, subscription: Subscription) -> None:
        """Stop a subscription made by ``observe``."""
        self._subscriptions.remove(subscription)
        subscription.drop()
