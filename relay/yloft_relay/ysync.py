"""The y-websocket wire format (y-protocols sync + awareness), decoded strictly.

A y-websocket frame is ``varuint kind`` then, for ``kind == 0`` (sync), a varuint
sync step (0 step 1, 1 step 2, 2 update) and a length-prefixed payload (a state
vector for step 1, a Yjs update otherwise); for ``kind == 1`` (awareness), a
length-prefixed awareness update; ``kind == 3`` asks for awareness states.
This module only parses and builds frames; it needs no CRDT library, so it runs
on CPython and in Pyodide alike.

Example:
    >>> parse(sync_update(b"\\x00\\x00"))
    YFrame(kind=0, step=2, payload=b'\\x00\\x00')
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from yloft.errors import ProtocolError
from yloft.wire import Reader, write_bytes, write_varuint

KIND_SYNC = 0
KIND_AWARENESS = 1
KIND_QUERY_AWARENESS = 3
STEP1 = 0
STEP2 = 1
UPDATE = 2


@dataclass(frozen=True, slots=True)
class YFrame:
    """One decoded y-websocket frame; ``step`` is -1 unless ``kind`` is sync."""

    kind: int
    step: int
    payload: bytes


def parse(frame: bytes) -> YFrame:
    """Decode a y-websocket frame.

    Raises:
        ProtocolError: unknown kind or step, truncated payload, trailing bytes.
    """
    r = Reader(bytes(frame))
    kind = r.read_varuint()
    if kind == KIND_SYNC:
        step = r.read_varuint()
        if step not in (STEP1, STEP2, UPDATE):
            raise ProtocolError(f"unknown y-sync step {step}")
        out = YFrame(kind, step, r.read_bytes())
    elif kind == KIND_AWARENESS:
        out = YFrame(kind, -1, r.read_bytes())
    elif kind == KIND_QUERY_AWARENESS:
        out = YFrame(kind, -1, b"")
    else:
        raise ProtocolError(f"unsupported y-websocket message kind {kind}")
    r.expect_end()
    return out


def _sync(step: int, payload: bytes) -> bytes:
    out = bytearray()
    write_varuint(out, KIND_SYNC)
    write_varuint(out, step)
    write_bytes(out, payload)
    return bytes(out)


def sync_step1(state_vector: bytes) -> bytes:
    """A sync step 1 frame carrying our state vector."""
    return _sync(STEP1, state_vector)


def sync_step2(update: bytes) -> bytes:
    """A sync step 2 frame: what the peer's state vector is missing."""
    return _sync(STEP2, update)


def sync_update(update: bytes) -> bytes:
    """A live update frame."""
    return _sync(UPDATE, update)


def awareness_frame(payload: bytes) -> bytes:
    """An awareness frame around a y-protocols awareness update."""
    out = bytearray()
    write_varuint(out, KIND_AWARENESS)
    write_bytes(out, payload)
    return bytes(out)


def parse_awareness(payload: bytes) -> list[tuple[int, int, str]]:
    """Decode an awareness update into ``(client_id, clock, state_json)`` triples.

    Raises:
        ProtocolError: malformed update or a state that is not JSON.
    """
    r = Reader(payload)
    count = r.read_varuint()
    if count > len(payload):
        raise ProtocolError(f"awareness update claims {count} states but is too short")
    out = []
    for _ in range(count):
        client, clock = r.read_varuint(), r.read_varuint()
        state = r.read_str(limit=len(payload))
        try:
            json.loads(state)
        except ValueError as exc:
            raise ProtocolError("awareness state is not JSON") from exc
        out.append((client, clock, state))
    r.expect_end()
    return out


def awareness_removal(clients: dict[int, int]) -> bytes:
    """An awareness update that marks ``{client_id: last_clock}`` as gone (state null)."""
    out = bytearray()
    write_varuint(out, len(clients))
    for client, clock in clients.items():
        write_varuint(out, client)
        write_varuint(out, clock + 1)
        write_bytes(out, b"null")
    return bytes(out)
