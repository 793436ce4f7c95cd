"""yloft.sync.protocol: every message round-trips; any other bytes raise ProtocolError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yloft import wire
from yloft.errors import ProtocolError, YloftError
from yloft.sync import protocol as p

u63 = st.integers(0, wire.MAX_VARUINT)
small = st.integers(0, 2**40)
name = st.text(max_size=40).filter(lambda s: len(s.encode()) <= wire.MAX_NAME_BYTES)
blob = st.binary(max_size=200)
entry = st.builds(p.Entry, small, name, name, blob)

messages = st.one_of(
    st.builds(p.Hello, name, st.text(max_size=60), name, u63, name),
    st.builds(p.Welcome, name, u63),
    st.builds(p.Push, u63, name, name, blob),
    st.builds(p.Ack, u63, u63),
    st.builds(p.Update, entry),
    st.builds(p.Awareness, name, name, blob),
    st.builds(p.Access, st.booleans(), u63),
    st.builds(p.Hello, name, st.text(max_size=60), name, u63, name, st.sampled_from([1, 2])),
    st.lists(entry, max_size=8, unique_by=lambda e: e.seq).map(
        lambda es: p.Catchup(
            tuple(sorted(es, key=lambda e: e.seq)), max([e.seq for e in es], default=0), True
        )
    ),
)


@given(messages)
def test_every_message_round_trips(msg: p.Message) -> None:
    assert p.decode(p.encode(msg)) == msg


@given(messages, st.data())
def test_every_truncation_is_a_protocol_error(msg: p.Message, data: st.DataObject) -> None:
    frame = p.encode(msg)
    cut = data.draw(st.integers(0, len(frame) - 1))
    with pytest.raises(ProtocolError):
        p.decode(frame[:cut])


@given(messages, st.binary(min_size=1, max_size=8))
def test_trailing_bytes_are_refused(msg: p.Message, extra: bytes) -> None:
    with pytest.raises(ProtocolError, match="unexpected bytes"):
        p.decode(p.encode(msg) + extra)


@settings(max_examples=3000)
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_raise_protocol_error(frame: bytes) -> None:
    try:
        msg = p.decode(frame)
    except ProtocolError:
        return
    # Whatever decodes is canonical: it encodes back to the same bytes.
    assert p.encode(msg) == frame


@given(u63)
def test_varuint_round_trip(n: int) -> None:
    buf = bytearray()
    p.write_varuint(buf, n)
    r = p.Reader(bytes(buf))
    assert r.read_varuint() == n
    assert r.at_end()


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\x63",  # unknown type
        b"\x80\x00",  # non-minimal varuint
        b"\xff" * 10 + b"\x01",  # over 63 bits
        b"\x01\x03",  # hello of protocol version 3
        b"\x01\x00",  # hello of protocol version 0
        bytes([p.MsgType.ACCESS, 2, 0]),  # write flag of 2
        bytes([p.MsgType.AWARENESS, 2, 0xC3, 0x28, 0, 0]),  # invalid UTF-8
        bytes([p.MsgType.CATCHUP, 0, 2, 0]),  # bool of 2
        bytes([p.MsgType.CATCHUP, 0, 1, 0x7F]),  # 127 entries claimed, none present
    ],
)
def test_malformed_frames(frame: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        p.decode(frame)
    assert isinstance(info.value, YloftError)


def test_catchup_must_ascend() -> None:
    e1, e2 = p.Entry(5, "c", "d", b""), p.Entry(3, "c", "d", b"")
    frame = p.encode(p.Catchup((e1, e2), 5, True))
    with pytest.raises(ProtocolError, match="ascending"):
        p.decode(frame)


def test_overlong_names_are_refused_both_ways() -> None:
    with pytest.raises(ProtocolError, match="limit"):
        p.encode(p.Push(1, "x" * 300, "d", b""))
    frame = bytearray([p.MsgType.PUSH, 1])
    p.write_bytes(frame, b"x" * 300)
    p.write_str(frame, "d")
    p.write_bytes(frame, b"")
    with pytest.raises(ProtocolError, match="limit"):
        p.decode(bytes(frame))


@given(st.lists(entry, max_size=60, unique_by=lambda e: e.seq), st.integers(64, 2000))
def test_catchup_frames_carry_every_entry_once(entries: list[p.Entry], limit: int) -> None:
    entries.sort(key=lambda e: e.seq)
    through = max([e.seq for e in entries], default=0)
    frames = [p.decode(f) for f in p.catchup_frames(entries, through, limit)]
    assert all(isinstance(f, p.Catchup) for f in frames)
    got = [e for f in frames if isinstance(f, p.Catchup) for e in f.entries]
    assert got == entries
    done = [f for f in frames if isinstance(f, p.Catchup) and f.done]
    assert len(done) == 1 and frames[-1] == done[0] and done[0].through_seq == through
