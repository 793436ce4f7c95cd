"""The space sync protocol: binary messages in, binary messages out (sans-I/O).

One message is one websocket binary frame. Every message starts with a varuint
message type; integers are unsigned LEB128 varuints (as in y-protocols, at most
63 bits, minimal encoding only); strings and byte strings are a varuint length
followed by the bytes (strings in UTF-8). The layout of each message is in
``docs/protocol.md``.

Decoders are strict: a truncated frame, trailing bytes, an unknown type, a
non-minimal varuint, invalid UTF-8, an over-long name or an out-of-range field
raises :class:`~yloft.errors.ProtocolError` and nothing else.

Example:
    >>> frame = encode(Push(msg_id=1, collection="notes", doc_id="n1", update=b"\\x00\\x00"))
    >>> decode(frame)
    Push(msg_id=1, collection='notes', doc_id='n1', update=b'\\x00\\x00')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ..errors import ProtocolError
from ..wire import Reader, write_bytes, write_str, write_varuint

PROTOCOL_VERSION = 2
"""Version 2 adds ACCESS before WELCOME; a relay still accepts version 1 clients."""
SUPPORTED_VERSIONS = (1, 2)
MAX_TOKEN_BYTES = 4096


class MsgType(IntEnum):
    """The first varuint of every frame."""

    HELLO = 1
    WELCOME = 2
    CATCHUP = 3
    PUSH = 4
    ACK = 5
    UPDATE = 6
    AWARENESS = 7
    ACCESS = 8


@dataclass(frozen=True, slots=True)
class Hello:
    """Client → relay, first frame: who I am and what I already have.

    ``relay_id`` is the id of the relay log the client's ``last_seq`` refers to
    ("" when it never synced); a relay with another id answers as if ``last_seq`` were 0.
    """

    space: str
    token: str
    client_id: str
    last_seq: int
    relay_id: str = ""
    version: int = PROTOCOL_VERSION


@dataclass(frozen=True, slots=True)
class Welcome:
    """Relay → client after a valid Hello: the relay log's id and its head sequence."""

    relay_id: str
    head_seq: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored update of a space: its sequence number and target document."""

    seq: int
    collection: str
    doc_id: str
    update: bytes


@dataclass(frozen=True, slots=True)
class Catchup:
    """Relay → client: many stored updates in one frame.

    When ``done`` is true the client holds everything up to ``through_seq``.
    """

    entries: tuple[Entry, ...]
    through_seq: int
    done: bool


@dataclass(frozen=True, slots=True)
class Push:
    """Client → relay: one local change; ``msg_id`` increases per client id."""

    msg_id: int
    collection: str
    doc_id: str
    update: bytes


@dataclass(frozen=True, slots=True)
class Ack:
    """Relay → client: ``msg_id`` is durable as ``seq`` (0: it was already stored)."""

    msg_id: int
    seq: int


@dataclass(frozen=True, slots=True)
class Update:
    """Relay → client: a live update another client pushed, already durable."""

    entry: Entry


@dataclass(frozen=True, slots=True)
class Awareness:
    """Either way: presence, relayed and never stored.

    ``collection``/``doc_id`` scope it to one document ("" and "" for the whole space);
    ``payload`` is a y-protocols awareness update.
    """

    collection: str
    doc_id: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Access:
    """Relay → client, just before WELCOME (version 2 clients): what this link may do.

    ``write`` false: read-only, a PUSH closes the link with 1008. ``expires_at``: unix
    seconds when the token expires and the link is closed with 4401 (0: never).
    """

    write: bool
    expires_at: int


Message = Hello | Welcome | Catchup | Push | Ack | Update | Awareness | Access


# -------------------------------------------------------------------- encoding


def _write_entry(out: bytearray, e: Entry) -> None:
    write_varuint(out, e.seq)
    write_str(out, e.collection)
    write_str(out, e.doc_id)
    write_bytes(out, e.update)


# The messages made of plain fields: their type and fields in wire order ("u" a varuint,
# "s" a name, "t" a token, "b" bytes). CATCHUP and UPDATE carry entries: written by hand.
_FLAT: dict[type, tuple[MsgType, tuple[tuple[str, str], ...]]] = {
    Hello: (MsgType.HELLO, (("version", "u"), ("space", "s"), ("token", "t"),
                            ("client_id", "s"), ("last_seq", "u"), ("relay_id", "s"))),
    Welcome: (MsgType.WELCOME, (("relay_id", "s"), ("head_seq", "u"))),
    Push: (MsgType.PUSH, (("msg_id", "u"), ("collection", "s"), ("doc_id", "s"),
                          ("update", "b"))),
    Ack: (MsgType.ACK, (("msg_id", "u"), ("seq", "u"))),
    Awareness: (MsgType.AWARENESS, (("collection", "s"), ("doc_id", "s"), ("payload", "b"))),
    Access: (MsgType.ACCESS, (("write", "?"), ("expires_at", "u"))),
}  # fmt: skip
_FLAT_BY_TYPE = {int(kind): (cls, fields) for cls, (kind, fields) in _FLAT.items()}
_WRITE: dict[str, Callable[[bytearray, Any], None]] = {
    "u": write_varuint,
    "s": write_str,
    "t": lambda out, text: write_str(out, text, MAX_TOKEN_BYTES),
    "b": write_bytes,
    "?": lambda out, flag: write_varuint(out, int(bool(flag))),
}
_READ: dict[str, Callable[[Reader], Any]] = {
    "u": Reader.read_varuint,
    "s": Reader.read_str,
    "t": lambda r: r.read_str(MAX_TOKEN_BYTES),
    "b": Reader.read_bytes,
    "?": Reader.read_bool,
}


def encode(msg: Message) -> bytes:
    """Encode one message as one frame.

    Raises:
        ProtocolError: a field is out of range (negative integer, over-long name).
    """
    out = bytearray()
    flat = _FLAT.get(type(msg))
    if flat is not None:
        write_varuint(out, flat[0])
        for name, field in flat[1]:
            _WRITE[field](out, getattr(msg, name))
    elif isinstance(msg, Update):
        write_varuint(out, MsgType.UPDATE)
        _write_entry(out, msg.entry)
    elif isinstance(msg, Catchup):
        write_varuint(out, MsgType.CATCHUP)
        write_varuint(out, msg.through_seq)
        write_varuint(out, int(msg.done))
        write_varuint(out, len(msg.entries))
        for e in msg.entries:
            _write_entry(out, e)
    else:  # pragma: no cover - the union is closed
        raise ProtocolError(f"cannot encode {type(msg).__name__}")
    return bytes(out)


def encode_update(seq: int, collection: str, doc_id: str, update: bytes) -> bytes:
    """Shortcut for the relay's hot path: the UPDATE frame of one stored entry."""
    return encode(Update(Entry(seq, collection, doc_id, update)))


def catchup_frames(
    entries: Iterable[Entry], through_seq: int, max_frame_bytes: int = 256 * 1024
) -> Iterator[bytes]:
    """Pack ``entries`` (ascending seq) into CATCHUP frames of about ``max_frame_bytes``.

    The last frame has ``done`` set and ``through_seq``; earlier frames carry the
    highest seq they contain, so a client may advance as each frame arrives.

    Example:
        >>> frames = list(catchup_frames([Entry(1, "c", "d", b"\\x00\\x00")], 1))
        >>> decode(frames[-1]).done
        True
    """
    batch: list[Entry] = []
    size = 0
    for e in entries:
        cost = len(e.update) + len(e.collection) + len(e.doc_id) + 16
        if batch and size + cost > max_frame_bytes:
            yield encode(Catchup(tuple(batch), batch[-1].seq, False))
            batch, size = [], 0
        batch.append(e)
        size += cost
    yield encode(Catchup(tuple(batch), through_seq, True))


# -------------------------------------------------------------------- decoding


def _read_entry(r: Reader) -> Entry:
    return Entry(r.read_varuint(), r.read_str(), r.read_str(), r.read_bytes())


def decode(frame: bytes) -> Message:
    """Decode one frame into a message, strictly.

    Raises:
        ProtocolError: the frame is malformed in any way.
    """
    if not isinstance(frame, bytes | bytearray | memoryview):
        raise ProtocolError(f"a frame is bytes, not {type(frame).__name__}")
    r = Reader(bytes(frame))
    kind = r.read_varuint()
    msg: Message
    flat = _FLAT_BY_TYPE.get(kind)
    if flat is not None:
        cls, fields = flat
        values = {}
        for name, field in fields:
            values[name] = _READ[field](r)
            if name == "version" and values[name] not in SUPPORTED_VERSIONS:
                raise ProtocolError(
                    f"protocol version {values[name]} is not supported (this side speaks "
                    f"{SUPPORTED_VERSIONS}): upgrade the older side"
                )
        msg = cls(**values)
    elif kind == MsgType.UPDATE:
        msg = Update(_read_entry(r))
    elif kind == MsgType.CATCHUP:
        through = r.read_varuint()
        done = r.read_bool()
        count = r.read_varuint()
        # Each entry takes at least 4 bytes: a cheap bound against huge counts.
        if count * 4 > len(r.data) - r.pos:
            raise ProtocolError(f"catch-up frame claims {count} entries but is too short")
        entries = tuple(_read_entry(r) for _ in range(count))
        prev = -1
        for e in entries:
            if e.seq <= prev:
                raise ProtocolError("catch-up entries are not in ascending seq order")
            prev = e.seq
        if entries and entries[-1].seq > through:
            raise ProtocolError("catch-up entry seq is beyond the frame's through_seq")
        msg = Catchup(entries, through, done)
    else:
        raise ProtocolError(f"unknown message type {kind}")
    r.expect_end()
    return msg


def message_type(frame: bytes) -> int:
    """The type of a frame without decoding the rest (raises ProtocolError if empty)."""
    return Reader(frame).read_varuint()
