"""Map: a shared ``dict`` (pycrdt.Map) over Y.Map."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from . import _js
from ._base import BaseEvent, BaseType, Subscription, integrate, new_js, type_for_kind
from ._core import core_of
from ._transaction import forbid_read_transaction
from ._values import MAX_SAFE, from_js_plain, json_ready, to_js_value

_MISSING = object()


T = TypeVar("T")


class Map(BaseType, Generic[T]):
    """A collection of key-value entries, like a Python ``dict``.

    Example:
        >>> doc["m"] = m = Map({"title": "milk", "done": False})
        >>> m["done"] = True
        >>> m.to_py()
        {'title': 'milk', 'done': True}
    """

    def __init__(
        self, init: dict[str, Any] | None = None, *, _doc: Any = None, _integrated: Any = None
    ) -> None:
        super().__init__(init, _doc=_doc, _integrated=_integrated)

    _root_getter = "getMap"

    def _new_js(self) -> Any:
        return _js.Y.Map.new()

    def _init(self, value: dict[str, Any] | None) -> None:
        if value is None:
            return
        with self.doc.transaction():
            for k, v in value.items():
                self._set(k, v)

    def _set(self, key: str, value: Any) -> None:
        ymap = self._writable()
        if isinstance(value, BaseType):
            child = new_js(value)
            _js.map_set(ymap, key, child)
            integrate(value, self.doc, child)
        else:
            _js.map_set(ymap, key, to_js_value(value))

    def __len__(self) -> int:
        return int(_js.map_size(self.integrated))

    def __str__(self) -> str:
        return json.dumps(json_ready(self.to_py()), separators=(",", ":"))

    def to_py(self) -> dict[str, Any] | None:
        """The map as a ``dict``, nested shared types converted too (None if prelim empty)."""
        if self._integrated is None:
            py = self._prelim
            if py is None:
                return None
            py = dict(py)
        else:
            # Y.Map.toJSON converts nested types the way to_py() does, in one call.
            return from_js_plain(_js.to_json(self.integrated))  # type: ignore[no-any-return]
        for key, val in py.items():
            if isinstance(val, BaseType):
                py[key] = val.to_py()
        return py

    def __delitem__(self, key: str) -> None:
        ymap = self._writable()
        self._check_key(key)
        core = core_of(self.doc)  # raises when not integrated
        _js.map_delete(ymap, key)  # one Yjs call: one transaction if none is open
        if core.txn is None:
            core.raise_observer_errors()

    def __getitem__(self, key: str) -> Any:
        self._check_key(key)
        return self._wrap(_js.map_get(self.integrated, key))

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise RuntimeError("Key must be of type string")
        core = self._core
        if core is None or isinstance(value, BaseType):
            with self.doc.transaction():
                self._set(key, value)
            return
        # Hot path (a plain value): checks inlined, one Yjs call, which is a Yjs
        # transaction of its own when no transaction is open.
        txn = core.txn
        if txn is not None:
            forbid_read_transaction(txn)
        t = type(value)
        if t is str or t is float or t is bool:
            js_value = value
        elif t is int and -MAX_SAFE <= value <= MAX_SAFE:
            js_value = float(value)  # stored as a double, like pycrdt
        else:
            js_value = to_js_value(value)
        if txn is None:
            _js.map_set(self.integrated, key, js_value)
            if core.exceptions:
                core.raise_observer_errors()
            return
        # Inside a transaction: batch consecutive sets on this map (see DocCore.send_batched_sets).
        ymap = self._integrated
        if core.pending_map is not ymap:
            core.send_batched_sets()
            core.pending_map = ymap
        core.pending_keys.append(key)
        core.pending_values.append(js_value)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __contains__(self, item: object) -> bool:
        return bool(_js.map_has(self.integrated, item))

    def get(self, key: str, default_value: Any = None) -> Any:
        """The value at ``key``, or ``default_value`` when the key is absent."""
        if key in self:
            return self[key]
        return default_value

    def pop(self, key: str, default_value: Any = _MISSING) -> Any:
        """Remove ``key`` and return its value (a nested type comes back as ``to_py()``)."""
        with self.doc.transaction():
            if key not in self:
                if default_value is _MISSING:
                    raise KeyError
                return default_value
            res = self[key]
            if isinstance(res, BaseType):
                res = res.to_py()
            del self[key]
            return res

    def _check_key(self, key: str) -> None:
        if not isinstance(key, str):
            raise RuntimeError("Key must be of type string")
        if not _js.map_has(self.integrated, key):
            raise KeyError(key)

    def keys(self) -> Iterator[str]:
        """An iterator over the keys."""
        return iter(list(_js.keys(self.integrated)))

    def values(self) -> Iterable[Any]:
        """An iterable over the values."""
        for k in self.keys():
            yield self[k]

    def items(self) -> Iterable[tuple[str, Any]]:
        """An iterable over the ``(key, value)`` pairs."""
        for k in self.keys():
            yield k, self[k]

    def clear(self) -> None:
        """Remove every entry."""
        with self.doc.transaction():
            for k in list(self.keys()):
                del self[k]

    def update(self, value: dict[str, Any]) -> None:
        """Set every entry of ``value``."""
        self._init(value)

    def observe(self, callback: Callable[..., None]) -> Subscription:
        """Call ``callback(event: MapEvent)`` after each transaction that changes the map."""
        return super().observe(callback)


class MapEvent(BaseEvent):
    """A map change: ``target``, ``keys`` ({key: {action, oldValue?, newValue?}}), ``path``."""

    __slots__ = ("keys",)
    keys: dict[str, dict[str, Any]]

    def _fields(self) -> tuple[str, ...]:
        return ("target", "keys", "path", "transaction")


type_for_kind[_js.K_YMAP] = Map
