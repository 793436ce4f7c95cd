"""yloft.sync.client: the sans-I/O relay client's cursor and outbox rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yloft.errors import ProtocolError
from yloft.sync import protocol as p
from yloft.sync.client import OFFLINE, ONLINE, SYNCING, RelayClient

U = b"\x00\x00"


def welcome(c: RelayClient, relay_id: str = "r1", entries: tuple[p.Entry, ...] = ()) -> list[bytes]:
    p.decode(c.connect())
    frames = c.receive(p.encode(p.Welcome(relay_id, 0))).frames
    through = entries[-1].seq if entries else c.last_seq
    c.receive(p.encode(p.Catchup(entries, through, True)))
    return frames


def test_outbox_is_resent_after_reconnect_until_acked() -> None:
    c = RelayClient("s", "t", "dev")
    assert c.add_local([(1, "n", "a", U), (2, "n", "b", U)]) == []  # offline: queued only
    assert c.outbox_size == 2 and c.status == OFFLINE
    frames = welcome(c)
    assert [p.decode(f) for f in frames] == [p.Push(1, "n", "a", U), p.Push(2, "n", "b", U)]
    c.receive(p.encode(p.Ack(1, 5)))
    assert c.outbox_size == 1 and c.acked == 1 and c.last_seq == 5
    c.disconnect()
    frames = welcome(c)
    assert [p.decode(f) for f in frames] == [p.Push(2, "n", "b", U)]
    new = c.add_local([(2, "n", "b", U), (3, "n", "c", U)])  # already-queued seqs are skipped
    assert [p.decode(f) for f in new] == [p.Push(3, "n", "c", U)]
    c.receive(p.encode(p.Ack(3, 0)))  # acks come in order: 3 covers 2
    assert c.outbox_size == 0 and c.acked == 3


def test_cursor_moves_only_when_catch_up_is_done() -> None:
    c = RelayClient("s", "t", "dev")
    p.decode(c.connect())
    c.receive(p.encode(p.Welcome("r1", 9)))
    part = c.receive(p.encode(p.Catchup((p.Entry(3, "n", "a", U),), 3, False)))
    assert [e.seq for e in part.updates] == [3] and c.last_seq == 0 and c.status == SYNCING
    c.receive(p.encode(p.Catchup((p.Entry(9, "n", "a", U),), 9, True)))
    assert c.last_seq == 9 and c.status == ONLINE
    c.receive(p.encode(p.Update(p.Entry(10, "n", "b", U))))
    assert c.last_seq == 10
    hello = p.decode(RelayClient.from_state("s", "t", c.state()).connect())
    assert isinstance(hello, p.Hello) and (hello.last_seq, hello.relay_id) == (10, "r1")


def test_another_relay_log_resets_cursor_and_resends_everything() -> None:
    c = RelayClient("s", "t", "dev", relay_id="old", last_seq=50, acked=7)
    p.decode(c.connect())
    out = c.receive(p.encode(p.Welcome("new", 0)))
    assert out.reset and c.last_seq == 0 and c.acked == 0 and c.queued == 0
    assert c.add_local([(1, "n", "a", U)]) != []


@pytest.mark.parametrize(
    "msg",
    [
        p.Update(p.Entry(1, "n", "a", U)),
        p.Ack(1, 1),
        p.Catchup((), 0, True),
        p.Push(1, "n", "a", U),
    ],
)
def test_messages_out_of_order_are_protocol_errors(msg: p.Message) -> None:
    c = RelayClient("s", "t", "dev")
    p.decode(c.connect())
    with pytest.raises(ProtocolError):
        c.receive(p.encode(msg))


@given(st.lists(st.sampled_from(["edit", "ack", "drop"]), max_size=60))
def test_outbox_holds_exactly_the_unacknowledged_changes(ops: list[str]) -> None:
    c = RelayClient("s", "t", "dev")
    welcome(c)
    seq = 0
    sent: list[int] = []  # in flight on the current link, in order
    acked = 0
    relay_seq = 0
    for op in ops:
        if op == "edit":
            seq += 1
            sent += [p.decode(f).msg_id for f in c.add_local([(seq, "n", "d", U)])]  # type: ignore[union-attr]
        elif op == "ack" and sent:
            relay_seq += 1
            acked = sent.pop(0)
            c.receive(p.encode(p.Ack(acked, relay_seq)))
        elif op == "drop":
            c.disconnect()
            sent = [p.decode(f).msg_id for f in welcome(c)]  # type: ignore[union-attr]
        assert list(c.outbox) == list(range(acked + 1, seq + 1))
        assert c.acked == acked
