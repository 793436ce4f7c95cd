"""Small helpers over Yjs v1 updates and state vectors (lib0 encoding).

Example:
    >>> decode_state(bytes([1, 5, 3]))
    {5: 3}
"""

from __future__ import annotations

from ..crdt import get_update
from ..errors import MalformedUpdateError

#: What applying untrusted update bytes raises: ``ValueError("Cannot decode update")`` on
#: both engines, and on pycrdt ``RuntimeError("Cannot apply update: ...")`` for bytes that
#: decode but do not integrate, raised after part of them went in: the Doc must be dropped.
BAD_UPDATE = (ValueError, RuntimeError)


def _varuint(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise MalformedUpdateError(
                "state vector ends early; pass bytes made by get_state()/Doc.get_state()"
            )
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def decode_state(state: bytes) -> dict[int, int]:
    """Decode a Yjs state vector into ``{client_id: clock}``."""
    count, pos = _varuint(state, 0)
    result: dict[int, int] = {}
    for _ in range(count):
        client, pos = _varuint(state, pos)
        clock, pos = _varuint(state, pos)
        result[client] = clock
    return result


def covers(state: bytes, update: bytes) -> bool:
    """True when a document with state vector ``state`` holds every struct of ``update``.

    False means the update has structs the document could not integrate yet (their
    dependencies are missing), which Yjs keeps as pending. The diff of the update
    against the state starts with its number of struct groups; zero means covered.

    Example:
        >>> from yloft.crdt import Doc, Map
        >>> d = Doc(); d.get("m", type=Map)["k"] = 1
        >>> covers(d.get_state(), d.get_update()), covers(Doc().get_state(), d.get_update())
        (True, False)
    """
    return _varuint(get_update(update, state), 0)[0] == 0
