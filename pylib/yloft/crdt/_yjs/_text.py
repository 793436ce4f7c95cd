"""Text: shared text (pycrdt.Text) over Y.Text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from . import _js
from ._base import BaseType, DeltaEvent, Subscription, slice_bounds, type_for_kind
from ._core import core_of
from ._values import to_js_value


def _check_u32(index: int) -> int:
    # pycrdt passes indices to Rust as u32, which refuses negative numbers like this.
    if index < 0:
        raise OverflowError("number too small to fit in target type")
    return index


class Text(BaseType):
    """Collaborative text, like a Python ``str`` that several people edit at once.

    Example:
        >>> doc["t"] = text = Text("Hello")
        >>> text += ", World!"
        >>> str(text)
        'Hello, World!'
    """

    def __init__(
        self, init: str | None = None, *, _doc: Any = None, _integrated: Any = None
    ) -> None:
        super().__init__(init, _doc=_doc, _integrated=_integrated)

    _root_getter = "getText"

    def _new_js(self) -> Any:
        return _js.Y.Text.new()

    def _init(self, value: str | None) -> None:
        if value:
            _js.text_insert(self._writable(), 0, value, None)

    def __iter__(self) -> Iterator[str]:
        return iter(str(self))

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __len__(self) -> int:
        """The length in UTF-8 bytes, like pycrdt (all indices of Text count bytes)."""
        return int(_js.text_length(self.integrated))

    def __str__(self) -> str:
        return str(_js.text_string(self.integrated))

    def to_py(self) -> str | None:
        """The text as a ``str`` (the prelim value if not integrated)."""
        if self._integrated is None:
            return self._prelim  # type: ignore[no-any-return]
        return str(self)

    def __iadd__(self, value: str) -> Text:
        ytext = self._writable()
        doc = self.doc
        with doc.transaction():
            _js.text_insert(ytext, _js.text_length(ytext), value, None)
        return self

    def _check_slice(self, key: slice) -> tuple[int, int]:
        return slice_bounds(key, len(self))

    def _remove(self, ytext: Any, index: int, length: int) -> None:
        _check_u32(index)
        missing = int(_js.text_delete(ytext, index, length))
        if missing:
            # pycrdt (yrs) panics here; we refuse before touching the document.
            raise IndexError(
                f"Couldn't remove {length} elements from an array. "
                f"Only {length - missing} of them were successfully removed."
            )

    def __delitem__(self, key: int | slice) -> None:
        ytext = self._writable()
        with self.doc.transaction():
            if isinstance(key, int):
                self._remove(ytext, key, 1)
            elif isinstance(key, slice):
                start, stop = self._check_slice(key)
                if stop - start > 0:
                    self._remove(ytext, start, stop - start)
            else:
                raise RuntimeError(f"Index not supported: {key}")

    def __getitem__(self, key: int | slice) -> str:
        return str(self)[key]

    def __setitem__(self, key: int | slice, value: str) -> None:
        ytext = self._writable()
        with self.doc.transaction():
            if isinstance(key, int):
                if len(value) != 1:
                    raise RuntimeError(
                        f"Single item assigned value must have a length of 1, not {len(value)}"
                    )
                self._remove(ytext, key, 1)
                _js.text_insert(ytext, key, value, None)
            elif isinstance(key, slice):
                start, stop = self._check_slice(key)
                if stop - start > 0:
                    self._remove(ytext, start, stop - start)
                _js.text_insert(ytext, start, value, None)
            else:
                raise RuntimeError(f"Index not supported: {key}")

    def clear(self) -> None:
        """Remove all the text."""
        del self[:]

    def insert(self, index: int, value: str, attrs: dict[str, Any] | None = None) -> None:
        """Insert ``value`` at ``index`` (past the end appends), with optional attributes."""
        ytext = self._writable()
        _check_u32(index)
        core = core_of(self.doc)  # raises when not integrated
        js_attrs = None if attrs is None else to_js_value(attrs)
        # One Yjs call is one Yjs transaction: no need to open one around it.
        _js.text_insert(ytext, index, value, js_attrs)
        if core.txn is None:
            core.raise_observer_errors()

    def format(self, start: int, stop: int, attrs: dict[str, Any]) -> None:
        """Apply formatting ``attrs`` to the characters in ``[start, stop)``."""
        ytext = self._writable()
        start, stop = self._check_slice(slice(start, stop))
        if stop - start > 0:
            with self.doc.transaction():
                _js.text_format(ytext, start, stop - start, to_js_value(attrs))

    def observe(self, callback: Callable[..., None]) -> Subscription:
        """Call ``callback(event: TextEvent)`` after each transaction that changes the text."""
        return super().observe(callback)


class TextEvent(DeltaEvent):
    """A text change: ``target``, ``delta`` (insert/retain/delete ops), ``path``."""

    __slots__ = ()


type_for_kind[_js.K_YTEXT] = Text
