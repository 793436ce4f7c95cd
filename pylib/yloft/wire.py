"""Binary primitives shared by yloft's formats: LEB128 varuints, byte strings and a strict reader.

Integers are unsigned LEB128 varuints (as in y-protocols, at most 63 bits,
minimal encoding only); strings and byte strings are a varuint length followed
by the bytes (strings in UTF-8). The sync protocol (:mod:`yloft.sync.protocol`)
and the export file (:mod:`yloft.store.archive`) are both written with these, so
neither depends on the other. Every malformed input raises
:class:`~yloft.errors.ProtocolError`.
"""

from __future__ import annotations

from .errors import ProtocolError

MAX_VARUINT = (1 << 63) - 1
MAX_NAME_BYTES = 256
"""Longest space, collection, document or client id, in UTF-8 bytes."""


def write_varuint(out: bytearray, value: int) -> None:
    """Append ``value`` as an unsigned LEB128 varuint.

    Example:
        >>> buf = bytearray(); write_varuint(buf, 300); bytes(buf)
        b'\\xac\\x02'
    """
    if not 0 <= value <= MAX_VARUINT:
        raise ProtocolError(f"integer {value} is outside 0..2**63-1: pass a smaller number")
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)


def write_bytes(out: bytearray, data: bytes) -> None:
    """Append a length-prefixed byte string."""
    write_varuint(out, len(data))
    out += data


def write_str(out: bytearray, text: str, limit: int = MAX_NAME_BYTES) -> None:
    """Append a length-prefixed UTF-8 string of at most ``limit`` bytes."""
    raw = text.encode("utf-8")
    if len(raw) > limit:
        raise ProtocolError(f"string of {len(raw)} bytes is over the {limit}-byte limit")
    write_bytes(out, raw)


class Reader:
    """A strict cursor over one frame; every read checks bounds.

    Example:
        >>> r = Reader(b"\\x05hello"); r.read_str(), r.at_end()
        ('hello', True)
    """

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read_varuint(self) -> int:
        value = 0
        shift = 0
        data = self.data
        while True:
            if self.pos >= len(data):
                raise ProtocolError("frame is truncated inside an integer")
            byte = data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                if byte == 0 and shift:
                    raise ProtocolError("integer is not minimally encoded")
                break
            shift += 7
            if shift > 56:
                raise ProtocolError("integer is longer than 63 bits")
        if value > MAX_VARUINT:
            raise ProtocolError("integer is longer than 63 bits")
        return value

    def read_bytes(self, limit: int | None = None) -> bytes:
        n = self.read_varuint()
        if limit is not None and n > limit:
            raise ProtocolError(f"field of {n} bytes is over the {limit}-byte limit")
        end = self.pos + n
        if end > len(self.data):
            raise ProtocolError("frame is truncated inside a byte string")
        out = bytes(self.data[self.pos : end])
        self.pos = end
        return out

    def read_str(self, limit: int = MAX_NAME_BYTES) -> str:
        raw = self.read_bytes(limit)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("string is not valid UTF-8") from exc

    def read_bool(self) -> bool:
        v = self.read_varuint()
        if v > 1:
            raise ProtocolError(f"boolean field holds {v}, expected 0 or 1")
        return v == 1

    def at_end(self) -> bool:
        return self.pos == len(self.data)

    def expect_end(self) -> None:
        if not self.at_end():
            raise ProtocolError(f"{len(self.data) - self.pos} unexpected bytes after the message")
