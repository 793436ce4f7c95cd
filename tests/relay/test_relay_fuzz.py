"""Thousands of random, truncated and hostile frames: the bad ones close their own
connection with the right code and store nothing; the relay keeps serving everyone."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pycrdt
from conftest import RelayProcess
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from relaykit import TEAM, Session, run, text_update
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from yloft.errors import ProtocolError
from yloft.sync import protocol as p
from yloft_relay import ysync
from yloft_relay.docdiff import valid_update

REAL = text_update("a real update with some text in it")
PROBE = p.encode(p.Push(1, "probe", "p", REAL))


def expected_space(frame: bytes) -> int | str:
    """What the relay must do with ``frame`` after HELLO: a close code, 'store' or 'relay'."""
    try:
        msg = p.decode(frame)
    except ProtocolError:
        return 1002
    if isinstance(msg, p.Push):
        if not msg.collection or not msg.doc_id or not msg.msg_id:
            return 1002
        return "store" if valid_update(msg.update) else 1003
    if isinstance(msg, p.Awareness):
        return "relay"
    return 1002


def expected_room(frame: bytes) -> int | str:
    try:
        msg = ysync.parse(frame)
    except ProtocolError:
        return 1002
    if msg.kind == ysync.KIND_SYNC and msg.step == ysync.STEP1:
        try:
            pycrdt.get_update(b"\x00\x00", msg.payload)
        except Exception:
            return 1002
        return "answer"
    if msg.kind == ysync.KIND_SYNC:
        if msg.payload == b"\x00\x00":
            return "ignore"
        return "store" if valid_update(msg.payload) else 1003
    if msg.kind == ysync.KIND_AWARENESS:
        try:
            ysync.parse_awareness(msg.payload)
        except ProtocolError:
            return 1002
        return "relay"
    return "ignore"


def mutate(data: bytes, draw: st.DrawFn) -> bytes:
    how = draw(st.sampled_from(["flip", "cut", "insert", "random"]))
    if how == "random" or not data:
        return draw(st.binary(max_size=80))
    i = draw(st.integers(0, len(data) - 1))
    if how == "flip":
        return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]
    if how == "cut":
        return data[:i]
    return data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]


@st.composite
def space_frames(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["random", "typed", "truncated", "hostile", "mutated"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    if kind == "typed":
        return bytes([draw(st.integers(0, 9))]) + draw(st.binary(max_size=100))
    real = p.encode(p.Push(draw(st.integers(2, 10**6)), "notes", "n1", REAL))
    if kind == "truncated":
        return real[: draw(st.integers(0, len(real) - 1))]
    if kind == "mutated":
        return mutate(real, draw)
    return p.encode(p.Push(draw(st.integers(2, 10**6)), "notes", "n1", mutate(REAL, draw)))


@st.composite
def room_frames(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["random", "typed", "hostile", "mutated"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    if kind == "typed":
        return bytes([draw(st.integers(0, 4)), draw(st.integers(0, 3))]) + draw(
            st.binary(max_size=100)
        )
    if kind == "mutated":
        return mutate(ysync.sync_update(REAL), draw)
    return ysync.sync_update(mutate(REAL, draw))


def rows(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute("SELECT space, seq, collection, doc_id, data FROM log"))
    finally:
        conn.close()


class SpaceFuzzer:
    def __init__(self, relay: RelayProcess) -> None:
        self.relay = relay
        self.ws: ClientConnection | None = None
        self.stack = contextlib.ExitStack()
        self.stored: list[tuple[str, str, bytes]] = []
        self.closes: dict[int, int] = {}

    def connect(self) -> ClientConnection:
        if self.ws is None:
            ws = self.stack.enter_context(connect(self.relay.url, compression=None))
            ws.send(p.encode(p.Hello(*TEAM, "fuzzer", 0)))
            while not (isinstance(m := p.decode(ws.recv(20)), p.Catchup) and m.done):
                pass
            self.ws = ws
        return self.ws

    def check(self, frame: bytes) -> None:
        want = expected_space(frame)
        ws = self.connect()
        try:
            ws.send(frame)
            ws.send(PROBE)  # a duplicate push: acked with seq 0, never stored
            acks = [p.decode(ws.recv(20)) for _ in range(2 if want == "store" else 1)]
            assert acks[-1] == p.Ack(1, 0)  # the probe's
            for msg in acks[:-1]:  # the fuzz push's: stored, or a duplicate msg_id
                assert isinstance(msg, p.Ack), msg
                if msg.seq > 0:
                    push = p.decode(frame)
                    assert isinstance(push, p.Push) and push.msg_id == msg.msg_id
                    self.stored.append((push.collection, push.doc_id, push.update))
            got: int | str = "store" if want == "store" else "relay"
        except ConnectionClosed as exc:
            assert exc.rcvd is not None
            got = exc.rcvd.code
            self.closes[got] = self.closes.get(got, 0) + 1
            ws.close()
            self.ws = None
        assert got == want, (frame, got, want)

    def close(self) -> None:
        self.stack.close()


class RoomFuzzer:
    def __init__(self, relay: RelayProcess) -> None:
        self.url = relay.room_url("team", "notes", "n1", TEAM[1])
        self.ws: ClientConnection | None = None
        self.stack = contextlib.ExitStack()
        self.stored: list[tuple[str, str, bytes]] = []

    def connect(self) -> ClientConnection:
        if self.ws is None:
            self.ws = self.stack.enter_context(connect(self.url, compression=None))
            # Live updates (e.g. of the previous connection's last push) may come first.
            while ysync.parse(self.ws.recv(20)).step != ysync.STEP1:
                pass
        return self.ws

    def check(self, frame: bytes) -> None:
        want = expected_room(frame)
        ws = self.connect()
        replies = 2 if want == "answer" else 1
        try:
            ws.send(frame)
            ws.send(ysync.sync_step1(b"\x00"))
            while replies:
                msg = ysync.parse(ws.recv(20))
                replies -= msg.step == ysync.STEP2
            got: int | str = want
            if want == "store":
                self.stored.append(("notes", "n1", ysync.parse(frame).payload))
        except ConnectionClosed as exc:
            assert exc.rcvd is not None
            got = exc.rcvd.code
            ws.close()
            self.ws = None
        assert got == want, (frame, got, want)

    def close(self) -> None:
        self.stack.close()


FUZZ = settings(
    max_examples=1500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_hostile_frames_never_reach_the_log(relay_factory: type[RelayProcess]) -> None:
    # No compaction here, so the log can be compared row by row with what was accepted.
    relay = relay_factory("--compact-after", "1000000000")
    relay.start()

    async def seed() -> None:
        s = await Session.open(relay.url, TEAM, "fuzzer")
        await s.ws.send(PROBE)  # stores msg 1 once; afterwards PROBE is a no-op
        assert await s.recv() == p.Ack(1, 1)
        await s.close()

    run(seed())
    before = rows(relay.db)
    space, room = SpaceFuzzer(relay), RoomFuzzer(relay)

    @FUZZ
    @given(space_frames())
    def fuzz_space(frame: bytes) -> None:
        space.check(frame)

    @FUZZ
    @given(room_frames())
    def fuzz_room(frame: bytes) -> None:
        room.check(frame)

    try:
        fuzz_space()
        fuzz_room()
    except BaseException:
        print(relay.log_text()[-20000:])  # the relay's side of the story
        raise
    finally:
        space.close()
        room.close()
    assert space.closes.get(1002, 0) > 100 and space.closes.get(1003, 0) > 50, space.closes

    async def barrier() -> None:  # a room update is stored without a reply: wait for it
        s = await Session.open(relay.url, TEAM, "fuzzer")
        await s.ws.send(PROBE)  # a duplicate: acked after every write queued before it
        assert await s.recv() == p.Ack(1, 0)
        await s.close()

    run(barrier())
    # Exactly the accepted updates reached the log, byte for byte; nothing else did.
    after = rows(relay.db)
    new = sorted((r[2], r[3], r[4]) for r in after if r not in before)
    assert set(before) <= set(after)
    assert new == sorted(space.stored + room.stored)
    for *_, data in after:  # and each is an update pycrdt can apply
        pycrdt.Doc().apply_update(data)

    async def still_serving() -> None:
        a = await Session.open(relay.url, TEAM, "a")
        b = await Session.open(relay.url, TEAM, "b")
        await a.push(1, "notes", "after", text_update("fine"))
        ack = await a.recv()
        assert isinstance(ack, p.Ack) and ack.seq > 0
        got = await b.recv()
        assert isinstance(got, p.Update) and got.entry.seq == ack.seq

    run(still_serving())
    assert relay.alive()


# ---------------------------------------------------------------- static paths

HOSTILE_PATHS = [
    "/%00",
    "/index.html%00.js",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E%2Fsecret.txt",
    "/..%2fsecret.txt",
    "/.%2e/secret.txt",
    "/app/%2e%2e/%2e%2e/secret.txt",
    "/" + "a" * 300,
    "/" + "b/" * 2000,
    "/..\\secret.txt",
    "/%5c..%5csecret.txt",
    "//etc/passwd",
    "//secret.txt",
    "/app//index.html",
    "/%ff%fe",
    "/%",
    "/%zz",
    "/./index.html",
    "/app/.",
    "/%0a",
    "/%7f",
]


def http_get(port: int, path: str) -> tuple[int, bytes]:
    """One raw HTTP/1.1 GET (no client-side normalisation of ``path``)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    if not data:
        return 0, b""  # the server refused the request line itself
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[-1]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def _fuzz_paths(port: int, data: st.DataObject) -> None:
    alphabet = st.sampled_from(
        [
            "a",
            "/",
            ".",
            "%2e",
            "%2f",
            "%00",
            "%5c",
            "\\",
            "%",
            "%ff",
            "app",
            "index.html",
            "..",
            "secret.txt",
            "~",
            "%20",
            "?x=1",
            "#",
            ";",
        ]
    )
    path = "/" + "".join(data.draw(st.lists(alphabet, max_size=12)))
    status, body = http_get(port, path)
    assert status != 500, path
    assert b"TOP SECRET" not in body, path


def test_static_paths_never_500_nor_escape(
    relay_factory: type[RelayProcess], tmp_path: Path
) -> None:
    site = tmp_path / "site"
    (site / "app").mkdir(parents=True)
    (site / "index.html").write_text("<h1>home</h1>")
    (site / "app" / "index.html").write_text("<h1>app</h1>")
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    relay = relay_factory("--static", str(site))
    relay.start()
    assert http_get(relay.port, "/app/index.html") == (200, b"<h1>app</h1>")
    assert http_get(relay.port, "/")[0] == 200
    for path in HOSTILE_PATHS:
        status, body = http_get(relay.port, path)
        assert status in (0, 400, 404), (path, status)
        assert b"TOP SECRET" not in body, path
    _fuzz_paths(relay.port)
    assert http_get(relay.port, "/app/index.html")[0] == 200  # still serving
    log = relay.log_text()
    assert "Traceback" not in log and "embedded null" not in log, log
