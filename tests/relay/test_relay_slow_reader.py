"""One client stops reading among 100: the others get everything, it catches up later.

The relay writes each frame into every receiver's transport at once (no task per
receiver that could wait on one socket); a client whose unread bytes pass
``--max-pending`` is closed with 1008 and reconnects by its cursor. Behaviour only: the
p99 of the others with and without a stuck reader is a benchmark (bench/bench_relay.py,
``relay.slow_reader_p99_ms``), not a timed test.

Sizes: the kernel's send buffer of a TCP connection grows by itself (to 4 MiB here), and
only what the kernel cannot take stays in the relay. So the stuck client's document gets
large updates that only it may see (a token scoped to that document), while the 98
others, scoped to another document of the same space, get a steady stream of small
ones from the same writer through the same fan-out.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from authkit import Keys
from conftest import RelayProcess
from relaykit import Session, docs_from, run, text_of, text_update
from websockets.exceptions import ConnectionClosed

from yloft.sync import protocol as p

READERS = 98  # with the writer and the stuck one: 100 clients
BIG = 40_000  # bytes of text per update of the stuck client's document
MAX_BIG = 400  # 16 MB: far past the kernel's buffers and --max-pending


def small_window_socket(url: str) -> socket.socket:
    """A client socket with a 4 KiB receive buffer, connected to the relay: the kernel
    then holds little on the client's side for a client that stops reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    sock.connect((parts.hostname, parts.port))
    return sock


async def updates_until(s: Session, last_seq: int) -> list[p.Entry]:
    """The UPDATEs ``s`` receives up to ``last_seq``, checked in increasing seq order."""
    got: list[p.Entry] = []
    while not got or got[-1].seq < last_seq:
        msg = await s.recv(60)
        if isinstance(msg, p.Update):
            assert not got or msg.entry.seq > got[-1].seq, (msg, got[-1])
            got.append(msg.entry)
    return got


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_reader_that_stops_reading_never_holds_back_the_others(
    relay_factory: type[RelayProcess], keys: Keys, backend: str, request: pytest.FixtureRequest
) -> None:
    db = request.getfixturevalue("pg").new_db() if backend == "postgres" else None
    relay = relay_factory(*keys.relay_args(), "--max-pending", "262144", "--rate", "100000",
                          "--burst", "100000", db=db)  # fmt: skip
    relay.start()
    everything = ("team", keys.token())
    only_small = ("team", keys.token(user="reader", docs=["notes/small"]))
    only_big = ("team", keys.token(user="stuck", docs=["notes/big"]))

    async def main() -> None:
        stuck = await Session.open(
            relay.url, only_big, "stuck", sock=small_window_socket(relay.url)
        )
        stuck.ws.transport.pause_reading()  # reads nothing from now on
        readers = [await Session.open(relay.url, only_small, f"r{i}") for i in range(READERS)]
        writer = await Session.open(relay.url, everything, "writer")

        # Big updates for the stuck client, each followed by a small one for the others,
        # until the relay gives up on the stuck client.
        msg_id, small_seqs, bigs = 0, [], []
        while "slow reader" not in relay.log_text():
            assert len(bigs) < MAX_BIG, "the stuck client was never closed"
            for doc_id, text in (("big", f"{len(bigs):04d}" + "y" * BIG), ("small", "s")):
                msg_id += 1
                await writer.push(msg_id, "notes", doc_id, text_update(text))
                ack = await writer.recv(60)
                assert isinstance(ack, p.Ack) and ack.msg_id == msg_id, ack
                (bigs if doc_id == "big" else small_seqs).append(
                    text if doc_id == "big" else ack.seq
                )

        # Every other reader got every small update, in order, while one client was stuck.
        for r in readers:
            assert [e.seq for e in await updates_until(r, small_seqs[-1])] == small_seqs

        # The stuck client reads again: what was written for it, then 1008.
        stuck.ws.transport.resume_reading()
        seen: list[p.Entry] = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                msg = await stuck.recv(60)
                if isinstance(msg, p.Update):
                    assert msg.entry.doc_id == "big"
                    seen.append(msg.entry)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert len(seen) < len(bigs)

        # It reconnects with the last seq it had and catches up whole.
        again = await Session.open(
            relay.url, only_big, "stuck", last_seq=seen[-1].seq if seen else 0,
            relay_id=stuck.welcome.relay_id,
        )  # fmt: skip
        doc = docs_from(seen + again.entries)[("notes", "big")]
        assert sorted(text_of(doc).split("y" * BIG)[:-1]) == [f"{i:04d}" for i in range(len(bigs))]

        # Live traffic reaches it again; the others are still connected.
        await writer.push(msg_id + 1, "notes", "big", text_update("after"))
        await writer.push(msg_id + 2, "notes", "small", text_update("after"))
        for s, doc_id in ((again, "big"), (readers[0], "small"), (readers[-1], "small")):
            msg = await s.recv(60)
            assert isinstance(msg, p.Update) and msg.entry.doc_id == doc_id, msg
        for s in [again, writer, *readers]:
            await s.close()

    run(main(), timeout=300)
