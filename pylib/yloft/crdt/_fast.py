"""The store's hot paths into a Doc: reading field values, writing its own map.

Every write of the store reads the document's declared fields back (column
extraction) and writes yloft's bookkeeping map (``created_at``/``updated_at``).
Through pycrdt's public API each ``Doc.get`` builds a prelim type and opens a
transaction, each ``Map[key]`` opens one and each ``Map[key] = value`` two; here, on
pycrdt, the same operations go straight to the Rust document (a third of the cost);
on the Yjs engine, to Yjs in one JavaScript call each (roots read as JSON).

``read_paths`` returns plain values: numbers may come back as int or float (JSON
gives ints for integral numbers, ``to_py`` and pycrdt's own reading floats) and byte
strings as bytes or as lists of ints; nested shared types come back as plain
``str``/``list``/``dict``. Callers normalise (``yloft.extract.json_value``).

Example:
    >>> from yloft.crdt import Doc, Map, Text
    >>> doc = Doc()
    >>> write_map(doc, "meta", {"n": 1.5})
    >>> read_paths(doc, (("meta", Map), ("body", Text)), ((0, ("n",)), (1, ()), (0, ("x",))))
    [1.5, '', <missing>]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from itertools import accumulate
from typing import Any

from . import ENGINE, Array, Map, Text


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


#: What ``read_paths`` returns for a path that leads nowhere.
MISSING: Any = _Missing()

Roots = Sequence[tuple[str, type]]
Paths = Sequence[tuple[int, tuple[str, ...]]]


def _read_paths_public(doc: Any, roots: Roots, paths: Paths) -> list[Any]:
    with doc.transaction():
        # to_py(): one call into Yjs per root on the Yjs engine (Y.Map.toJSON).
        trees = [
            str(doc.get(name, type=kind)) if kind is Text else doc.get(name, type=kind).to_py()
            for name, kind in roots
        ]
    return _walk(trees, paths)


def _write_map_public(doc: Any, name: str, items: Mapping[str, object]) -> None:
    with doc.transaction():
        target = doc.get(name, type=Map)
        for key, value in items.items():
            target[key] = value


def _pycrdt_paths() -> Any:
    from pycrdt._pycrdt import Array as RawArray
    from pycrdt._pycrdt import Map as RawMap
    from pycrdt._pycrdt import Text as RawText

    def read(inner: Any, raw: Any, roots: Roots, paths: Paths) -> list[Any]:
        found: list[Any] = []
        for name, kind in roots:
            if kind is Text:
                found.append(inner.get_or_insert_text(raw, name))
            elif kind is Map:
                found.append(inner.get_or_insert_map(raw, name))
            elif kind is Array:
                found.append(inner.get_or_insert_array(raw, name))
            else:
                raise TypeError(f"cannot read a root as {kind.__name__}")
        out: list[Any] = []
        for index, keys in paths:
            value = found[index]
            for key in keys:
                kind = type(value)
                if kind is RawMap:
                    try:
                        value = value.get(raw, key)
                    except ValueError:  # no such key
                        value = MISSING
                        break
                elif kind is dict:  # a plain JSON-like value stored in the map
                    value = value.get(key, MISSING)
                    if value is MISSING:
                        break
                else:
                    value = MISSING
                    break
            kind = type(value)
            if kind is RawText:
                value = value.get_string(raw)
            elif kind is RawMap or kind is RawArray:
                value = json.loads(value.to_json(raw))
            out.append(value)
        return out

    def read_paths(doc: Any, roots: Roots, paths: Paths) -> list[Any]:
        found: list[Any] = _in_transaction(doc, read, roots, paths)
        return found

    return read_paths


def _in_transaction(doc: Any, fn: Any, *args: Any) -> Any:
    """``fn(rust_doc, rust_txn, *args)`` inside the Doc's open transaction, or else a
    bare Rust one, opened and closed as pycrdt's Transaction would, without the Python
    wrapper around it."""
    inner = doc._doc
    if doc._txn is not None or doc._allow_multithreading:
        with doc.transaction() as txn:
            return fn(inner, txn._txn, *args)
    raw = inner.create_transaction()
    try:
        return fn(inner, raw, *args)
    finally:
        raw.commit()
        raw.drop()


def _encode_whole(inner: Any, raw: Any) -> bytes:
    return bytes(inner.get_update(raw, b"\x00"))


def _whole_update_pycrdt(doc: Any) -> bytes:
    return bytes(_in_transaction(doc, _encode_whole))


def _whole_update_public(doc: Any) -> bytes:
    return bytes(doc.get_update())


def _write_map_pycrdt(doc: Any, name: str, items: Mapping[str, object]) -> None:
    """Primitive values only (numbers, bools, str): what the store writes."""
    txn = doc._txn
    if txn is None:
        with doc.transaction() as txn:
            _insert(doc._doc.get_or_insert_map(txn._txn, name), txn._txn, items)
    else:  # inside the caller's transaction (an edit block): write into it
        _insert(doc._doc.get_or_insert_map(txn._txn, name), txn._txn, items)


def _insert(target: Any, raw: Any, items: Mapping[str, object]) -> None:
    for key, value in items.items():
        target.insert(raw, key, value)


def _covered_pycrdt(state: bytes, updates: Sequence[bytes]) -> bool:
    from pycrdt import get_update

    return all(get_update(u, state)[0] == 0 for u in updates)


def _yjs_fast() -> tuple[Any, Any, Any]:
    import yjs  # type: ignore[import-not-found]
    import yloft_js  # type: ignore[import-not-found]  # _yjs/yjs_helpers.js
    from pyodide.ffi import to_js  # type: ignore[import-not-found]

    from ._yjs._core import core_of

    helpers = yloft_js.fastHelpers(yjs)
    read_js, write_js, covered_js = helpers.read, helpers.write, helpers.covered
    specs: dict[Roots, str] = {}
    letter = {Text: "t", Map: "m", Array: "a"}

    def read_paths(doc: Any, roots: Roots, paths: Paths) -> list[Any]:
        spec = specs.get(roots)
        if spec is None:
            spec = specs[roots] = json.dumps([[n, letter[k]] for n, k in roots])  # type: ignore[index]
        core = core_of(doc)
        core.send_batched_sets()  # batched Map sets first
        trees = json.loads(read_js(core.ydoc, spec))
        return _walk(trees, paths)

    def write_map(doc: Any, name: str, items: Mapping[str, object]) -> None:
        with doc.transaction():
            core = core_of(doc)
            core.send_batched_sets()
            write_js(core.ydoc, name, json.dumps(items))

    def covered(state: bytes, updates: Sequence[bytes]) -> bool:
        # One JS call over the updates packed into one buffer: a call per update costs
        # ~80 µs of conversions, which made compaction (200 updates) stall an edit.
        ends = to_js(list(accumulate(map(len, updates))))
        return bool(covered_js(to_js(bytes(state)), to_js(b"".join(updates)), ends))

    return read_paths, write_map, covered


def _walk(trees: list[Any], paths: Paths) -> list[Any]:
    out: list[Any] = []
    for index, keys in paths:
        value = trees[index]
        for key in keys:
            value = value.get(key, MISSING) if type(value) is dict else MISSING
            if value is MISSING:
                break
        out.append(value)
    return out


_PYCRDT = ENGINE == "pycrdt"
if not _PYCRDT:
    _read_paths_yjs, _write_map_yjs, _covered_yjs = _yjs_fast()

#: ``read_paths(doc, roots, paths)``: ``roots`` lists ``(name, Map|Array|Text)``, each
#: path is ``(index into roots, map keys below it)``; one value per path (or
#: ``MISSING``), all read in one transaction.
read_paths: Any = _pycrdt_paths() if _PYCRDT else _read_paths_yjs
#: The same through the public API, on any engine (tests compare the two).
read_paths_public = _read_paths_public
#: ``whole_update(doc)``: ``doc.get_update()``, the document's whole state.
whole_update: Any = _whole_update_pycrdt if _PYCRDT else _whole_update_public
#: ``write_map(doc, name, {key: value})``: set primitive values in root map ``name``.
write_map: Any = _write_map_pycrdt if _PYCRDT else _write_map_yjs
#: ``covered(state, updates)``: True when a Doc with state vector ``state`` holds every
#: struct of each of ``updates`` (none waits for a missing dependency); one call.
covered: Any = _covered_pycrdt if _PYCRDT else _covered_yjs


def _pycrdt_new_doc() -> Any:
    """A factory of pycrdt Docs that skips pycrdt's per-Doc ``anyio.Lock``.

    pycrdt 0.14 builds an ``anyio.Lock`` in every ``Doc()`` for async transactions;
    outside an event loop that raises and catches two exceptions, about half of the
    cost of creating a document, paid for every ``create()``. ``StoreDoc`` is a pycrdt
    ``Doc`` (a subclass) whose lock is made on first use instead. It is used only if
    it holds exactly the attributes a plain ``Doc()`` holds (checked once, here), so a
    pycrdt that changes its ``Doc`` falls back to the plain one.
    """
    import threading

    from pycrdt import Doc
    from pycrdt._pycrdt import Doc as RawDoc

    class StoreDoc(Doc):  # type: ignore[type-arg]
        def __init__(self) -> None:
            # What Doc.__init__ and BaseDoc.__init__ set for Doc() (pycrdt 0.14.13),
            # except the async lock.
            self._doc = RawDoc(None, None, None)
            self._txn = None
            self._exceptions: list[Any] = []
            self._txn_lock = threading.Lock()
            self._Model = None
            self._subscriptions: list[Any] = []
            self._origins: dict[Any, Any] = {}
            self._allow_multithreading = False
            self._task_group = None
            self._send_streams: dict[bool, set[Any]] = {False: set(), True: set()}
            self._event_subscription: dict[bool, Any] = {}

        @property
        def _txn_async_lock(self) -> Any:
            lock = self.__dict__.get("_async_lock")
            if lock is None:
                import anyio

                lock = self.__dict__["_async_lock"] = anyio.Lock()
            return lock

        @_txn_async_lock.setter
        def _txn_async_lock(self, lock: Any) -> None:
            self.__dict__["_async_lock"] = lock

    plain = set(vars(Doc()))
    mine = set(vars(StoreDoc())) | {"_txn_async_lock"}
    return StoreDoc if mine == plain else Doc


#: ``new_doc()``: a new, empty Doc of the engine (on pycrdt: see ``_pycrdt_new_doc``).
new_doc: Any = _pycrdt_new_doc() if _PYCRDT else None
if new_doc is None:
    from . import Doc as _EngineDoc

    new_doc = _EngineDoc
