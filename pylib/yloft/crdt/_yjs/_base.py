"""What Map, Text and Array share: prelim/integrated state, wrapping, observers, events."""

from __future__ import annotations

from collections.abc import Callable
from inspect import signature
from typing import TYPE_CHECKING, Any

from pyodide.ffi import JsException, create_proxy  # type: ignore[import-not-found]

from . import _js
from ._core import DocCore, core_of
from ._transaction import ReadTransaction, forbid_read_transaction
from ._values import PASS_THROUGH, from_js_plain

if TYPE_CHECKING:
    from ._doc import Doc

# Filled in by _map/_text/_array: JS kind code -> wrapper class.
type_for_kind: dict[int, type[BaseType]] = {}


class Subscription:
    """A live observer; pass it to ``unobserve``. Owns the JS proxy of the callback."""

    def __init__(self, target: Any, method: str, proxy: Any, *args: Any) -> None:
        self._target = target
        self._method = method
        self._args = args
        self._proxy = proxy

    def drop(self) -> None:
        """Stop observing and free the callback's JS proxy (idempotent)."""
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            getattr(self._target, self._method)(*self._args, proxy)
            proxy.destroy()


class BaseType:
    """A shared type, either prelim (a Python value waiting to be inserted) or integrated."""

    _prelim: Any
    _integrated: Any
    _doc: Doc[Any] | None
    _core: DocCore | None

    def __init__(self, init: Any = None, *, _doc: Doc[Any] | None = None, _integrated: Any = None):
        self._type_name = type(self).__name__.lower()
        self._subscriptions: list[Subscription] = []
        if _integrated is not None:
            self._doc = _doc
            self._core = None if _doc is None else core_of(_doc)
            self._prelim = None
            self._integrated = _integrated
            return
        self._doc = None
        self._core = None
        self._prelim = init
        self._integrated = None

    # -- state ---------------------------------------------------------------

    @property
    def integrated(self) -> Any:
        """The Yjs type behind this object.

        Raises:
            RuntimeError: Not integrated in a document yet.
        """
        if self._integrated is None:
            raise RuntimeError("Not integrated in a document yet")
        core = self._core
        if core is not None and core.pending_map is not None:
            core.send_batched_sets()
        return self._integrated

    @property
    def doc(self) -> Doc[Any]:
        """The document this shared type belongs to.

        Raises:
            RuntimeError: Not integrated in a document yet.
        """
        if self._doc is None:
            raise RuntimeError("Not integrated in a document yet")
        return self._doc

    @property
    def is_prelim(self) -> bool:
        return self._prelim is not None

    @property
    def is_integrated(self) -> bool:
        return self._integrated is not None

    @property
    def prelim(self) -> Any:
        return self._prelim

    @property
    def type_name(self) -> str:
        return self._type_name

    def _writable(self) -> Any:
        """The Yjs type, after checking that a write is allowed now."""
        if self._core is None:
            raise RuntimeError("Not integrated in a document yet")
        core = self._core
        forbid_read_transaction(core.txn)
        if core.pending_map is not None:
            core.send_batched_sets()
        return self._integrated

    _root_getter = ""  # the Y.Doc method that gets or creates a root of this type

    def _new_js(self) -> Any:
        """A new, empty Yjs type of this class (to insert into a parent)."""
        raise NotImplementedError

    def _get_root(self, name: str, doc: Doc[Any]) -> Any:
        """Get or create the root type ``name`` of ``doc`` as this class."""
        try:
            return getattr(core_of(doc).ydoc, self._root_getter)(name)
        except JsException as exc:
            raise TypeError(
                f"root {name!r} already exists with another type; get it with that type"
            ) from exc

    def _init(self, value: Any) -> None:
        """Fill a just-integrated type with its prelim value."""
        raise NotImplementedError

    def _integrate(self, doc: Doc[Any], integrated: Any) -> Any:
        prelim = self._prelim
        self._doc = doc
        self._core = core_of(doc)
        self._prelim = None
        self._integrated = integrated
        return prelim

    def _integrate_and_init(self, doc: Doc[Any], integrated: Any) -> None:
        self._init(self._integrate(doc, integrated))

    def _wrap(self, value: Any) -> Any:
        """The Python value for a value read from Yjs in this type's document."""
        return wrap(value, self.doc)

    def to_py(self) -> Any:
        raise NotImplementedError

    # -- observers -----------------------------------------------------------

    def observe(self, callback: Callable[..., None]) -> Subscription:
        """Call ``callback(event)`` (or ``callback(event, txn)``) after each change.

        Example:
            >>> sub = text.observe(lambda event: print(event.delta))
        """
        return self._subscribe("observe", "unobserve", callback, deep=False)

    def observe_deep(self, callback: Callable[..., None]) -> Subscription:
        """Call ``callback(events)`` with this type's and nested types' events."""
        return self._subscribe("observeDeep", "unobserveDeep", callback, deep=True)

    def unobserve(self, subscription: Subscription) -> None:
        """Stop a subscription made by ``observe`` or ``observe_deep``."""
        self._subscriptions.remove(subscription)
        subscription.drop()

    def _subscribe(
        self, method: str, unmethod: str, callback: Callable[..., None], deep: bool
    ) -> Subscription:
        doc = self.doc
        core = core_of(doc)
        param_nb = len(signature(callback).parameters)

        def on_event(js_event: Any, js_txn: Any) -> None:
            txn = ReadTransaction(doc, origin=core.origin_of(js_txn), _js_txn=js_txn)
            with txn:
                try:
                    if deep:
                        event: Any = [make_event(e, doc, txn) for e in js_event]
                    else:
                        event = make_event(js_event, doc, txn)
                    params = (event, txn)
                    callback(*params[:param_nb])
                except Exception as exc:
                    core.exceptions.append(exc)

        proxy = create_proxy(on_event)
        getattr(self.integrated, method)(proxy)
        sub = Subscription(self.integrated, unmethod, proxy)
        self._subscriptions.append(sub)
        return sub


def integrate(value: BaseType, doc: Doc[Any], integrated: Any) -> None:
    """Make prelim ``value`` the Python side of Yjs type ``integrated``, filled."""
    value._integrate_and_init(doc, integrated)


def get_root(value: BaseType, name: str, doc: Doc[Any]) -> Any:
    """Get or create root ``name`` of ``doc`` as ``value``'s type."""
    return value._get_root(name, doc)


def slice_bounds(key: slice, length: int) -> tuple[int, int]:
    """``(start, stop)`` of a slice as pycrdt takes it (no step, no negative bounds)."""
    if key.step is not None:
        raise RuntimeError("Step not supported")
    if key.start is None:
        start = 0
    elif key.start < 0:
        raise RuntimeError("Negative start not supported")
    else:
        start = key.start
    if key.stop is None:
        stop = length
    elif key.stop < 0:
        raise RuntimeError("Negative stop not supported")
    else:
        stop = key.stop
    return start, stop


def new_js(value: BaseType) -> Any:
    """A new, empty Yjs type of ``value``'s class (to insert into a parent)."""
    return value._new_js()


def wrap(value: Any, doc: Doc[Any]) -> Any:
    """A Python value (plain or shared-type wrapper) for a value read from Yjs."""
    t = type(value)
    if t in PASS_THROUGH:
        return value
    if t is int or value is None:
        return from_js_plain(value)
    kind = _js.kind(value)
    cls = type_for_kind.get(kind)
    if cls is not None:
        return cls(_doc=doc, _integrated=value)
    if kind == _js.K_YDOC or kind == _js.K_OTHER:
        raise NotImplementedError(
            "subdocuments and XML types are not supported by yloft's Yjs engine"
        )
    return from_js_plain(value)


class BaseEvent:
    """An event on a shared type; attributes depend on the subclass."""

    __slots__ = ("path", "target", "transaction")
    path: list[int | str]
    target: Any
    transaction: ReadTransaction

    def __str__(self) -> str:
        parts = [f"{slot}: {getattr(self, slot)}" for slot in self._fields()]
        return "{" + ", ".join(parts) + "}"

    def _fields(self) -> tuple[str, ...]:
        raise NotImplementedError


class DeltaEvent(BaseEvent):
    """A change of a sequence (text or array): ``target``, ``delta``, ``path``."""

    __slots__ = ("delta",)
    delta: list[dict[str, Any]]

    def _fields(self) -> tuple[str, ...]:
        return ("target", "delta", "path", "transaction")


def make_event(js_event: Any, doc: Doc[Any], txn: ReadTransaction) -> BaseEvent:
    """The pycrdt-shaped event for a Yjs YEvent."""
    from ._array import ArrayEvent
    from ._map import MapEvent
    from ._text import TextEvent

    target = wrap(js_event.target, doc)
    path = [p if type(p) is str else int(p) for p in js_event.path.to_py()]
    event: BaseEvent
    if isinstance(target, type_for_kind[_js.K_YMAP]):
        event = MapEvent()
        event.keys = _map_keys(js_event, doc)
    else:
        is_text = isinstance(target, type_for_kind[_js.K_YTEXT])
        event = TextEvent() if is_text else ArrayEvent()
        js_delta = _js.text_delta(js_event) if is_text else None
        event.delta = _delta(js_event.delta if js_delta is None else js_delta, doc)
    event.target = target
    event.path = path
    event.transaction = txn
    return event


def _map_keys(js_event: Any, doc: Doc[Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    target = js_event.target
    for key in js_event.keysChanged:
        change = js_event.changes.keys.get(key)
        action = change.action
        entry: dict[str, Any] = {"action": action}
        if action != "add":
            entry["oldValue"] = wrap(change.oldValue, doc)
        if action != "delete":
            entry["newValue"] = wrap(_js.map_get(target, key), doc)
        out[key] = entry
    return out


def _delta(js_delta: Any, doc: Doc[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for op in js_delta:
        item: dict[str, Any] = {}
        ins = getattr(op, "insert", None)
        if ins is not None:
            item["insert"] = ins if type(ins) is str else [wrap(v, doc) for v in ins]
        elif (retain := getattr(op, "retain", None)) is not None:
            item["retain"] = int(retain)
        elif (delete := getattr(op, "delete", None)) is not None:
            item["delete"] = int(delete)
        attributes = getattr(op, "attributes", None)
        if attributes is not None:
            item["attributes"] = from_js_plain(attributes)
        out.append(item)
    return out
