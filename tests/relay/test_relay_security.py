"""Tokens, space isolation and limits, against the relay running as a subprocess."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import RelayProcess
from relaykit import OTHER, TEAM, Session, docs_from, open_ws, run, text_of, text_update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from yloft.sync import protocol as p


async def closed_with(ws_coro_frames: list[bytes], url: str) -> tuple[int, list[bytes]]:
    """Send frames on a fresh connection; return the close code and anything received."""
    got: list[bytes] = []
    async with connect(url, compression=None) as ws:
        for f in ws_coro_frames:
            await ws.send(f)
        try:
            while True:
                frame = await asyncio.wait_for(ws.recv(), 20)
                got.append(frame if isinstance(frame, bytes) else frame.encode())
        except ConnectionClosed as exc:
            assert exc.rcvd is not None
            return exc.rcvd.code, got


@pytest.mark.parametrize(
    ("space", "token"),
    [("team", "wrong"), ("team", ""), ("team", OTHER[1]), ("nosuch", "secret-team"), ("", "")],
)
def test_wrong_or_missing_token_is_refused_before_any_data(
    relay: RelayProcess, space: str, token: str
) -> None:
    async def main() -> None:
        s = await Session.open(relay.url, TEAM)
        await s.push(1, "notes", "n1", text_update("secret text"))
        assert await s.recv() == p.Ack(1, 1)
        hello = p.encode(p.Hello(space, token, "intruder", 0))
        code, got = await closed_with([hello], relay.url)
        assert code == 1008
        assert got == []  # not even a WELCOME
        await s.close()

    run(main())
    assert "wrong or missing token" in relay.wait_log("with 1008")


def test_data_before_hello_is_refused(relay: RelayProcess) -> None:
    push = p.encode(p.Push(1, "notes", "n1", text_update("x")))
    code, got = run(closed_with([push], relay.url))
    assert (code, got) == (1002, [])
    code, got = run(closed_with(["hello as text"], relay.url))  # type: ignore[list-item]
    assert (code, got) == (1003, [])


def test_room_without_valid_token_is_refused_at_handshake(relay: RelayProcess) -> None:
    async def main() -> None:
        for token in ["", "wrong", OTHER[1]]:
            with pytest.raises(InvalidStatus) as info:
                await connect(relay.room_url("team", "notes", "n1", token))
            assert info.value.response.status_code == 403
        with pytest.raises(InvalidStatus) as info:
            await connect(f"ws://127.0.0.1:{relay.port}/elsewhere")
        assert info.value.response.status_code == 404

    run(main())


def test_spaces_are_isolated(relay: RelayProcess) -> None:
    async def main() -> None:
        team = await Session.open(relay.url, TEAM, "t1")
        other = await Session.open(relay.url, OTHER, "o1")
        await team.push(1, "notes", "n1", text_update("team only"))
        assert await team.recv() == p.Ack(1, 1)
        await other.push(1, "notes", "n1", text_update("other only"))
        assert await other.recv() == p.Ack(1, 1)  # seqs are per space
        for s in (team, other):  # neither sees the other's live update
            with pytest.raises(TimeoutError):
                await s.recv(timeout=0.5)
        fresh = await Session.open(relay.url, OTHER, "o2")
        assert [text_of(d) for d in docs_from(fresh.entries).values()] == ["other only"]
        await open_ws(relay.room_url("other", "notes", "n1", OTHER[1]))
        for s in (team, other, fresh):
            await s.close()

    run(main())


def test_oversized_frame_closes_1009(relay: RelayProcess) -> None:
    async def main() -> None:
        s = await Session.open(relay.url, TEAM)
        await s.push(1, "notes", "n1", b"\x00" * (2 << 20))
        with pytest.raises(ConnectionClosed) as info:
            await s.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009

    run(main())
    relay.wait_log("with 1009")


def test_rate_limit_paces_a_flooding_client_without_dropping_it(
    relay_factory: type[RelayProcess],
) -> None:
    relay = relay_factory("--rate", "20", "--burst", "10")
    relay.start()

    async def main() -> None:
        flood = await Session.open(relay.url, TEAM, "flood")
        other = await Session.open(relay.url, TEAM, "other")
        aw = p.encode(p.Awareness("", "", b"\x00"))
        for _ in range(50):
            await flood.ws.send(aw)
        await flood.push(1, "notes", "n1", text_update("after the flood"))
        # The flooder is slowed down, not disconnected: its push still gets through.
        seen = 0
        while True:
            msg = await other.recv()
            if isinstance(msg, p.Update):
                break
            assert isinstance(msg, p.Awareness)
            seen += 1
        assert seen == 50  # nothing was dropped on the way either
        assert await flood.recv() == p.Ack(1, 1)

    run(main())
    assert "over 20 messages/s" in relay.wait_log("throttling")


def test_slow_reader_is_disconnected_not_buffered(relay_factory: type[RelayProcess]) -> None:
    relay = relay_factory("--max-pending", "262144", "--rate", "100000", "--burst", "100000")
    relay.start()

    async def main() -> None:
        slow = await Session.open(relay.url, TEAM, "slow")
        slow.ws.transport.pause_reading()  # stop reading the socket: a stuck client
        fast = await Session.open(relay.url, TEAM, "fast")
        big = text_update("y" * 20_000)
        for i in range(1, 801):
            await fast.push(i, "notes", f"n{i % 7}", big)
        for _ in range(800):
            assert isinstance(await fast.recv(), p.Ack)
        relay.wait_log("slow reader")
        slow.ws.transport.resume_reading()
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await slow.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008
        # The relay keeps serving the others.
        await fast.push(801, "notes", "n1", text_update("still here"))
        assert await fast.recv() == p.Ack(801, 801)

    run(main())


def test_static_files_share_the_port(relay_factory: type[RelayProcess], tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>yloft</h1>")
    (site / "a.wasm").write_bytes(b"\x00asm")
    (tmp_path / "secret.txt").write_text("no")
    relay = relay_factory("--static", str(site))
    relay.start()
    base = f"http://127.0.0.1:{relay.port}"
    with urllib.request.urlopen(base + "/") as r:
        assert r.read() == b"<h1>yloft</h1>"
        assert r.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    with urllib.request.urlopen(base + "/a.wasm") as r:
        assert r.headers["Content-Type"] == "application/wasm"
    for bad in ["/../secret.txt", "/%2e%2e/secret.txt", "/missing"]:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(base + bad)
        assert info.value.code == (404 if bad == "/missing" else 400)  # traversal: never a file
        info.value.close()

    async def main() -> None:  # and the relay still answers on the same port
        s = await Session.open(relay.url, TEAM)
        assert s.welcome.head_seq == 0
        await s.close()

    run(main())
