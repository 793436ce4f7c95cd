"""Array: a shared ``list`` (pycrdt.Array) over Y.Array."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from . import _js
from ._base import (
    BaseType,
    DeltaEvent,
    Subscription,
    integrate,
    new_js,
    slice_bounds,
    type_for_kind,
)
from ._values import from_js_plain, json_ready, to_js_value

T = TypeVar("T")


class Array(BaseType, Generic[T]):
    """An ordered sequence of values, like a Python ``list``.

    Example:
        >>> doc["a"] = array = Array(["milk"])
        >>> array.append("eggs")
        >>> array.to_py()
        ['milk', 'eggs']
    """

    def __init__(
        self, init: list[Any] | None = None, *, _doc: Any = None, _integrated: Any = None
    ) -> None:
        super().__init__(init, _doc=_doc, _integrated=_integrated)

    _root_getter = "getArray"

    def _new_js(self) -> Any:
        return _js.Y.Array.new()

    def _init(self, value: list[Any] | None) -> None:
        if value is None:
            return
        with self.doc.transaction():
            self._insert_many(0, value)

    def _insert_many(self, index: int, values: list[Any]) -> None:
        """Insert values at ``index``: runs of plain values go to Yjs in one call."""
        yarray = self._writable()
        run: list[Any] = []
        for value in values:
            if isinstance(value, BaseType):
                if run:
                    _js.array_insert(yarray, index, to_js_value(run))
                    index += len(run)
                    run = []
                child = new_js(value)
                _js.array_insert(yarray, index, _js.Y_list(child))
                integrate(value, self.doc, child)
                index += 1
            else:
                run.append(value)
        if run:
            _js.array_insert(yarray, index, to_js_value(run))

    def __len__(self) -> int:
        return int(_js.array_length(self.integrated))

    def append(self, value: Any) -> None:
        """Append one item."""
        with self.doc.transaction():
            self += [value]

    def extend(self, value: list[Any]) -> None:
        """Append every item of ``value``."""
        with self.doc.transaction():
            self += value

    def clear(self) -> None:
        """Remove every item."""
        del self[:]

    def insert(self, index: int, object: Any) -> None:
        """Insert one item at ``index``."""
        self[index:index] = [object]

    def pop(self, index: int = -1) -> Any:
        """Remove and return the item at ``index`` (a nested type comes back as ``to_py()``)."""
        with self.doc.transaction():
            index = self._check_index(index)
            res = self[index]
            if isinstance(res, BaseType):
                res = res.to_py()
            del self[index]
            return res

    def __add__(self, value: list[Any]) -> Array[T]:
        with self.doc.transaction():
            length = len(self)
            self[length:length] = value
            return self

    def __radd__(self, value: list[Any]) -> Array[T]:
        with self.doc.transaction():
            self[0:0] = value
            return self

    def __setitem__(self, key: int | slice, value: Any) -> None:
        with self.doc.transaction():
            if isinstance(key, int):
                key = self._check_index(key)
                del self[key]
                self[key:key] = [value]
            elif isinstance(key, slice):
                if key.step is not None:
                    raise RuntimeError("Step not supported")
                if key.start != key.stop:
                    raise RuntimeError("Start and stop must be equal")
                if key.start > len(self) or key.start < 0:
                    raise RuntimeError("Index out of range")
                self._insert_many(key.start, list(value))
            else:
                raise RuntimeError("Index must be of type integer")

    def _check_index(self, idx: int) -> int:
        if not isinstance(idx, int):
            raise RuntimeError("Index must be of type integer")
        length = len(self)
        if idx < 0:
            idx += length
        if idx < 0 or idx >= length:
            raise IndexError("Array index out of range")
        return idx

    def __delitem__(self, key: int | slice) -> None:
        yarray = self._writable()
        with self.doc.transaction():
            if isinstance(key, int):
                key = self._check_index(key)
                _js.array_delete(yarray, key, 1)
            elif isinstance(key, slice):
                i, stop = slice_bounds(key, len(self))
                n = stop - i
                if n < 0:
                    # pycrdt passes n to Rust as u32 and fails like this.
                    raise OverflowError("number too small to fit in target type")
                if i + n > len(self):
                    # pycrdt (yrs) panics with this message; we refuse cleanly.
                    raise IndexError("Length exceeded")
                if n:
                    _js.array_delete(yarray, i, n)
            else:
                raise TypeError(
                    f"Array indices must be integers or slices, not {type(key).__name__}"
                )

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, int):
            key = self._check_index(key)
            return self._wrap(_js.at(self.integrated, key))
        if isinstance(key, slice):
            i0 = 0 if key.start is None else key.start
            i1 = len(self) if key.stop is None else key.stop
            step = 1 if key.step is None else key.step
            return [self[i] for i in range(i0, i1, step)]
        return None  # what pycrdt returns for other keys

    def __iter__(self) -> Iterator[Any]:
        doc = self.doc
        from ._base import wrap

        return iter([wrap(v, doc) for v in _js.array_items(self.integrated)])

    def __contains__(self, item: Any) -> bool:
        return item in list(self)

    def __str__(self) -> str:
        return json.dumps(json_ready(self.to_py()), separators=(",", ":"))

    def to_py(self) -> list[Any] | None:
        """The array as a ``list``, nested shared types converted (None if prelim empty)."""
        if self._integrated is None:
            py = self._prelim
            if py is None:
                return None
            py = list(py)
        else:
            # Y.Array.toJSON converts nested types the way to_py() does, in one call.
            return from_js_plain(_js.to_json(self.integrated))  # type: ignore[no-any-return]
        for idx, val in enumerate(py):
            if isinstance(val, BaseType):
                py[idx] = val.to_py()
        return py

    def observe(self, callback: Callable[..., None]) -> Subscription:
        """Call ``callback(event: ArrayEvent)`` after each transaction that changes it."""
        return super().observe(callback)


class ArrayEvent(DeltaEvent):
    """An array change: ``target``, ``delta`` (insert/retain/delete ops), ``path``."""

    __slots__ = ()


type_for_kind[_js.K_YARRAY] = Array
