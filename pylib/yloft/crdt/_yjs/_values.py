"""Converting plain values between Python and Yjs the way pycrdt does.

pycrdt (yrs) writes every Python number into updates as an IEEE double, so every
replica reads numbers back as ``float`` (a BigInt written by a JS peer reads as
``int``); bytes come out as ``bytearray``; ``None`` is written as null. This
module reproduces those rules on top of Pyodide's FFI, where JS numbers that happen
to be integral arrive as ``int`` and must become ``float``.
"""

from __future__ import annotations

from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import JsBigInt, jsnull, to_js  # type: ignore[import-not-found]

MAX_SAFE = 2**53 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
_OBJECT_FROM_ENTRIES = js.Object.fromEntries


def to_js_value(value: Any) -> Any:
    """A JS value for a plain Python value (str, number, bool, None, bytes, list, dict).

    Raises:
        TypeError: ``value`` (or something inside it) is not a supported type.
        OverflowError: an int does not fit in 64 bits.
    """
    t = type(value)
    if t in PASS_THROUGH:
        return value
    prepared = _prepare(value)
    if t is int or value is None:
        return prepared  # a scalar (a float, or null)
    return to_js(prepared, dict_converter=_OBJECT_FROM_ENTRIES)


def _int_to_js(value: int) -> Any:
    # Stored as a double, as pycrdt encodes it in updates (it keeps an int beyond 2**53
    # in memory, but writes it as a float, so every replica reads a float).
    if -MAX_SAFE <= value <= MAX_SAFE:
        return float(value)
    if not I64_MIN <= value <= I64_MAX:
        raise OverflowError(f"int {value} does not fit in 64 bits; store it as a str")
    return float(value)


# Types that cross between Python and JS unchanged, both ways.
PASS_THROUGH = frozenset({str, float, bool})


def _prepare(value: Any) -> Any:
    """Normalize a nested value so that one ``to_js`` call converts it faithfully."""
    t = type(value)
    if t in PASS_THROUGH:
        return value
    if t is int:
        return _int_to_js(value)
    if value is None:
        return jsnull
    if t is bytes:
        return to_js(value)  # a Uint8Array copy
    if t is list or t is tuple:
        return [_prepare(v) for v in value]
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise TypeError(f"Map keys must be str, not {type(k).__name__}")
            out[k] = _prepare(v)
        return out
    raise TypeError("Type not supported")


def from_js_plain(value: Any) -> Any:
    """The Python value of a plain JS value read from Yjs (no shared types inside).

    Also converts each element of a ``JsProxy.to_py()`` tree (see ``_from_py_tree``).
    """
    t = type(value)
    if t in PASS_THROUGH:
        return value
    if t is int:
        return float(value)
    if value is None or value is jsnull:
        return None
    if isinstance(value, JsBigInt):
        return int(value)
    if t is list or t is dict or t is memoryview:
        return _from_py_tree(value)
    return _from_py_tree(value.to_py())


def _from_py_tree(value: Any) -> Any:
    """Fix up a list, dict or memoryview from ``JsProxy.to_py()`` to pycrdt's types."""
    t = type(value)
    if t is list:
        return [from_js_plain(v) for v in value]
    if t is dict:
        return {k: from_js_plain(v) for k, v in value.items()}
    if t is memoryview:
        return bytearray(value)
    raise TypeError(f"unexpected value from Yjs: {value!r}")


def json_ready(value: Any) -> Any:
    """``value`` with integral floats as ints and bytes as lists, so JSON looks like yrs's."""
    if type(value) is float and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray):
        return list(value)
    return value
