"""Module-level update functions (pycrdt's ``merge_updates``, ``get_state``,
``get_update``) and the small binary encoders the events need."""

from __future__ import annotations

from typing import Any

from pyodide.ffi import JsException, to_js  # type: ignore[import-not-found]

from . import _js


def merge_updates(*updates: bytes) -> bytes:
    """One update holding all of ``updates``.

    Raises:
        ValueError: Cannot merge updates.
    """
    try:
        js_updates = to_js([to_js(bytes(u)) for u in updates])
        return bytes(_js.Y.mergeUpdates(js_updates).to_bytes())
    except JsException:
        raise ValueError("Cannot merge updates") from None


def get_state(update: bytes) -> bytes:
    """The state vector of the changes in ``update``.

    Raises:
        ValueError: Cannot encode state vector from update.
    """
    try:
        return bytes(_js.Y.encodeStateVectorFromUpdate(to_js(bytes(update))).to_bytes())
    except JsException:
        raise ValueError("Cannot encode state vector from update") from None


def get_update(update: bytes, state: bytes) -> bytes:
    """The changes in ``update`` that ``state`` has not seen.

    Raises:
        ValueError: Cannot diff updates.
    """
    try:
        return bytes(_js.Y.diffUpdate(to_js(bytes(update)), to_js(bytes(state))).to_bytes())
    except JsException:
        raise ValueError("Cannot diff updates") from None


def _var_uint(n: int, out: bytearray) -> None:
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)


def encode_state_vector(flat: Any) -> bytes:
    """Encode ``[client, clock, client, clock, ...]`` like Yjs (clients descending)."""
    values = [int(v) for v in flat]
    pairs = sorted(zip(values[::2], values[1::2], strict=True), reverse=True)
    out = bytearray()
    _var_uint(len(pairs), out)
    for client, clock in pairs:
        _var_uint(client, out)
        _var_uint(clock, out)
    return bytes(out)


def encode_delete_set(flat: Any) -> bytes:
    """Encode ``[client, n, clock, len, ... , client, ...]`` as a v1 delete set."""
    values = [int(v) for v in flat]
    clients: list[tuple[int, list[tuple[int, int]]]] = []
    i = 0
    while i < len(values):
        client, n = values[i], values[i + 1]
        ranges = [(values[i + 2 + 2 * k], values[i + 3 + 2 * k]) for k in range(n)]
        clients.append((client, ranges))
        i += 2 + 2 * n
    out = bytearray()
    _var_uint(len(clients), out)
    for client, ranges in sorted(clients, reverse=True):
        _var_uint(client, out)
        _var_uint(len(ranges), out)
        for clock, length in ranges:
            _var_uint(clock, out)
            _var_uint(length, out)
    return bytes(out)
