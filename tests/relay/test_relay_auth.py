"""Access control (issue 18) against a relay subprocess, on SQLite and on PostgreSQL:
signed tokens, refusals before any data, read-only, document scopes (also after
compaction), expiry of live connections."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pycrdt
import pytest
from authkit import Keys, claims_for, collect, dump_log, forge, hello_and_collect, log_state
from conftest import RelayProcess
from relaykit import TEAM, Session, open_ws, run, text_update
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from yloft.sync import protocol as p
from yloft_relay import ysync
from yloft_relay.auth import load_key
from yloft_relay.tokens import issue, space_claim

HIDDEN = "secret-doc-x"
SHOWN = "open-doc-y"


async def next_ack(s: Session) -> p.Message:
    """The next frame that is not presence (a closing peer's presence removal, say)."""
    while isinstance(msg := await s.recv(), p.Awareness):
        pass
    return msg


def cli_token(keys: Keys, kid: str, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "yloft_relay", "token", "--key", keys.signing(kid), *args],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    token = out.stdout.strip()
    assert token.count(".") == 2, out
    return token


def test_signed_tokens_of_each_kind_open_their_space(auth_relay: RelayProcess, keys: Keys) -> None:
    async def main() -> None:
        for kid in ("hs", "ed", "es"):
            s = await Session.open(auth_relay.url, ("team", keys.token(kid)), f"c-{kid}")
            assert s.access.write and s.access.expires_at > time.time() + 3000
            await s.push(1, "notes", f"n-{kid}", text_update(kid))
            assert await s.recv() == p.Ack(1, {"hs": 1, "ed": 2, "es": 3}[kid])
            await s.close()
        token = cli_token(keys, "ed", "--space", "team", "--user", "bob", "--read-only")
        s = await Session.open(auth_relay.url, ("team", token), "cli")
        assert not s.access.write
        assert sorted(e.doc_id for e in s.entries) == ["n-ed", "n-es", "n-hs"]
        # The shared secret still works, with write access and no expiry.
        s = await Session.open(auth_relay.url, TEAM, "secret")
        assert s.access == p.Access(True, 0)

    run(main())


def _bad_tokens(keys: Keys) -> dict[str, tuple[str, int]]:
    """Name → (token, close code)."""
    pub = (keys.folder / "ed.pub").read_bytes()
    secret = (keys.folder / "hs.secret").read_bytes().strip()
    wrong = (keys.folder / "other.secret").read_bytes().strip()
    hs = {"alg": "HS256", "kid": "hs"}
    unknown_kid = load_key(f"nope={keys.folder / 'hs.secret'}", private=True)
    return {
        "bad-signature": (forge(hs, claims_for(), wrong), 1008),
        "wrong-kid": (issue(unknown_kid, "alice", {"team": space_claim()}), 1008),
        "alg-none": (forge({"alg": "none", "kid": "hs"}, claims_for(), None), 1008),
        "alg-confusion": (forge({"alg": "HS256", "kid": "ed"}, claims_for(), pub), 1008),
        "wrong-audience": (forge(hs, claims_for(aud="other"), secret), 1008),
        "past-expiry": (forge(hs, claims_for(exp=int(time.time()) - 5), secret), 4401),
        "other-space": (keys.token("ed", spaces={"other": {"rights": ["read", "write"]}}), 1008),
        "no-read-right": (keys.token("ed", spaces={"team": {"rights": ["write"]}}), 1008),
        "no-spaces-claim": (forge(hs, {**claims_for(), "spaces": None}, secret), 1008),
        "garbage": ("eyJhbGciOi.not-a-token.at-all", 1008),
    }


def test_bad_tokens_are_refused_before_any_data(auth_relay: RelayProcess, keys: Keys) -> None:
    cases = _bad_tokens(keys)

    async def main() -> None:
        s = await Session.open(auth_relay.url, TEAM, "owner")
        await s.push(1, "notes", "n1", text_update("private text"))
        assert await s.recv() == p.Ack(1, 1)
        before = log_state(auth_relay)
        for name, (token, code) in cases.items():
            got_code, got = await hello_and_collect(auth_relay.url, "team", token)
            assert (name, got_code, got) == (name, code, [])  # not even a WELCOME
            room = auth_relay.room_url("team", "notes", "n1", token)
            with pytest.raises(InvalidStatus) as info:
                await connect(room)
            assert (name, info.value.response.status_code) == (name, 401 if code == 4401 else 403)
        assert log_state(auth_relay) == before

    run(main())
    auth_relay.wait_log("unknown", "not one this relay has")
    auth_relay.wait_log("expired")


def test_read_only_receives_everything_but_its_push_closes_1008(
    auth_relay: RelayProcess, keys: Keys
) -> None:
    async def main() -> None:
        owner = await Session.open(auth_relay.url, TEAM, "owner")
        await owner.push(1, "notes", "n1", text_update("before"))
        assert await owner.recv() == p.Ack(1, 1)
        viewer = await Session.open(auth_relay.url, ("team", keys.token("ed", write=False)), "v")
        assert viewer.access.write is False
        assert [e.doc_id for e in viewer.entries] == ["n1"]
        await owner.push(2, "notes", "n1", text_update("live"))
        assert await owner.recv() == p.Ack(2, 2)
        upd = await viewer.recv()
        assert isinstance(upd, p.Update) and upd.entry.seq == 2
        await owner.ws.send(p.encode(p.Awareness("notes", "n1", b"\x01\x07\x01\x02{}")))
        assert await viewer.recv() == p.Awareness("notes", "n1", b"\x01\x07\x01\x02{}")
        # A viewer may announce presence, but not write.
        await viewer.ws.send(p.encode(p.Awareness("notes", "n1", b"\x01\x08\x01\x02{}")))
        assert isinstance(await owner.recv(), p.Awareness)
        before = log_state(auth_relay)
        await viewer.push(1, "notes", "n1", text_update("vandalism"))
        code, got = await collect(viewer.ws, 20)
        assert (code, got) == (1008, [])
        # A duplicate push goes through the writer queue and stores nothing: a barrier.
        await owner.push(2, "notes", "n1", text_update("live"))
        assert await next_ack(owner) == p.Ack(2, 0)
        assert log_state(auth_relay) == before

    run(main())
    auth_relay.wait_log("may not write there (read-only)")


def _names_hidden(frame: bytes) -> bool:
    return HIDDEN.encode() in frame or b"classified" in frame


def test_a_document_out_of_scope_never_appears_even_after_compaction(
    auth_relay: RelayProcess, keys: Keys
) -> None:
    token = cli_token(keys, "hs", "--space", "team", "--user", "carol",
                      "--collection", "notes", "--doc", SHOWN)  # fmt: skip

    async def main() -> None:
        owner = await Session.open(auth_relay.url, TEAM, "owner")
        for i in range(1, 21):  # interleaved, so compaction merges rows of both
            doc = HIDDEN if i % 2 else SHOWN
            text = "classified " if doc == HIDDEN else "ok "
            await owner.push(i, "notes", doc, text_update(text))
            assert isinstance(await owner.recv(), p.Ack)

        def hidden_rows() -> int:
            return sum(1 for r in dump_log(auth_relay) if r[0] == "log" and HIDDEN in r)

        end = time.monotonic() + 30
        while hidden_rows() >= 10 and time.monotonic() < end:
            await asyncio.sleep(0.1)
        assert hidden_rows() < 10, "compaction did not run"
        for last in (0, 3, 10):  # catch-up from the start and from inside merged ranges
            ws = await open_ws(auth_relay.url, max_size=None)
            await ws.send(p.encode(p.Hello("team", token, f"carol{last}", last)))
            frames = []
            while not frames or not (isinstance(m := p.decode(frames[-1]), p.Catchup) and m.done):
                frames.append(await asyncio.wait_for(ws.recv(), 20))
            entries = [e for f in frames if isinstance(m := p.decode(f), p.Catchup)
                       for e in m.entries]  # fmt: skip
            assert {e.doc_id for e in entries} == {SHOWN}, last
            assert not any(_names_hidden(bytes(f)) for f in frames)
            await ws.close()
        ws = await open_ws(auth_relay.url, max_size=None)
        await ws.send(p.encode(p.Hello("team", token, "carol-live", 0)))
        while not (isinstance(m := p.decode(await ws.recv()), p.Catchup) and m.done):  # type: ignore[arg-type]
            pass
        # Live: updates and presence of the hidden document are left out.
        await owner.push(21, "notes", HIDDEN, text_update("classified live"))
        await owner.ws.send(p.encode(p.Awareness("notes", HIDDEN, b"\x01\x09\x01\x02{}")))
        await owner.push(22, "notes", SHOWN, text_update("visible live"))
        await owner.ws.send(p.encode(p.Awareness("notes", SHOWN, b"\x01\x09\x02\x02{}")))
        seen = [p.decode(await asyncio.wait_for(ws.recv(), 20)) for _ in range(2)]  # type: ignore[arg-type]
        # (the hidden ones went first: had they been forwarded, they would be here)
        assert sorted(type(m).__name__ for m in seen) == ["Awareness", "Update"], seen
        ids = [m.doc_id if isinstance(m, p.Awareness) else m.entry.doc_id for m in seen]  # type: ignore[union-attr]
        assert ids == [SHOWN, SHOWN]
        assert [await next_ack(owner), await next_ack(owner)] == [p.Ack(21, 21), p.Ack(22, 22)]
        # Writing to (or announcing presence on) the hidden document closes with 1008.
        before = log_state(auth_relay)
        await ws.send(p.encode(p.Push(1, "notes", HIDDEN, text_update("overwrite"))))
        code, got = await collect(ws, 20)
        assert code == 1008 and not any(_names_hidden(f) for f in got)
        await owner.push(22, "notes", SHOWN, b"\x00\x00")  # barrier: a duplicate, not stored
        assert await next_ack(owner) == p.Ack(22, 0)
        assert log_state(auth_relay) == before
        # Its y-websocket room is refused at the handshake; the visible one opens.
        with pytest.raises(InvalidStatus) as info:
            await connect(auth_relay.room_url("team", "notes", HIDDEN, token))
        assert info.value.response.status_code == 403
        room = await open_ws(auth_relay.room_url("team", "notes", SHOWN, token))
        assert ysync.parse(await asyncio.wait_for(room.recv(), 20)).step == ysync.STEP1  # type: ignore[arg-type]

    run(main())


def test_an_expired_token_closes_the_live_connection_with_4401(
    auth_relay: RelayProcess, keys: Keys
) -> None:
    async def main() -> None:
        token = keys.token("es", expires_in=8)  # room to connect on a slow machine
        s = await Session.open(auth_relay.url, ("team", token), "short")
        # ACCESS carries the token's own expiry (its exp claim), not a time of the relay's.
        payload = token.split(".")[1]
        exp = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]
        assert s.access.expires_at == exp
        room = await open_ws(auth_relay.room_url("team", "notes", "n1", token))
        code, _ = await collect(s.ws, 20)
        assert code == 4401
        code, _ = await collect(room, 20)
        assert code == 4401
        # Reconnecting with the same token is refused as expired, before any data.
        assert await hello_and_collect(auth_relay.url, "team", token) == (4401, [])

    run(main())


def test_relay_refuses_unusable_key_and_auth_settings(tmp_path: Path, keys: Keys) -> None:
    short = tmp_path / "short.secret"
    short.write_text("too-short")
    cases = [
        (["--jwt-key", f"k={short}"], "at least 32"),
        (["--jwt-key", f"k={tmp_path / 'missing'}"], "cannot read key"),
        (["--jwt-key", "nokid"], "KID=PATH"),
        (["--auth", "no_such_module_here:decide"], "cannot import"),
        (["--auth", "json:no_such_function"], "no function"),
        ([], "pass --tokens, --jwt-key or --auth"),
    ]
    for args, message in cases:
        out = subprocess.run(
            [sys.executable, "-m", "yloft_relay", "--port", "0", "--db", str(tmp_path / "r.db"),
             *args], capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 2 and message in out.stderr, (args, out.stderr)
    out = subprocess.run(
        [sys.executable, "-m", "yloft_relay", "token", "--key", keys.signing("hs"),
         "--space", "team", "--user", "u", "--doc", "n1"], capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert out.returncode == 2 and "--doc 'n1'" in out.stderr and out.stdout == ""


PEER = Path(__file__).with_name("yws_auth_peer.mjs")
ROOT = Path(__file__).resolve().parents[2]


def body_update(text: str, doc: pycrdt.Doc) -> bytes:
    """An update appending ``text`` to root Text "body" (what the Node peer shows)."""
    before = doc.get_state()
    doc.get("body", type=pycrdt.Text).__iadd__(text)
    return doc.get_update(before)


class NodePeer:
    """``node yws_auth_peer.mjs``: a stock y-websocket client printing JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(
        cls, relay: RelayProcess, doc_id: str, token: str, append: str = ""
    ) -> NodePeer:
        node = shutil.which("node")
        if node is None or not (ROOT / "node_modules" / "y-websocket").is_dir():
            pytest.fail("node and npm's y-websocket are needed: run `python3 build.py build`")
        url = f"ws://127.0.0.1:{relay.port}/relay/yws/team/notes"
        proc = await asyncio.create_subprocess_exec(
            node, str(PEER), url, doc_id, token, append, cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        return cls(proc)

    async def next(self) -> dict[str, object]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        assert line, "the node peer exited without a word"
        event: dict[str, object] = json.loads(line)
        return event

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
        await self.proc.wait()


def test_a_stock_y_websocket_client_gets_the_same_rules(
    auth_relay: RelayProcess, keys: Keys
) -> None:
    viewer = keys.token("ed", write=False)
    scoped = keys.token("hs", collections=None, docs=["notes/n1"])

    async def main() -> None:
        owner = await Session.open(auth_relay.url, TEAM, "owner")
        doc: pycrdt.Doc = pycrdt.Doc()
        await owner.push(1, "notes", "n1", body_update("hello", doc))
        await owner.push(2, "notes", HIDDEN, body_update("classified", pycrdt.Doc()))
        assert [await next_ack(owner), await next_ack(owner)] == [p.Ack(1, 1), p.Ack(2, 2)]
        # Read-only: catch-up and live updates arrive.
        a = await NodePeer.start(auth_relay, "n1", viewer)
        assert await a.next() == {"event": "synced", "body": "hello"}
        await owner.push(3, "notes", "n1", body_update(" world", doc))
        assert await a.next() == {"event": "body", "body": "hello world"}
        await a.stop()
        # ... but its first update closes it with 1008, and nothing is stored.
        assert await next_ack(owner) == p.Ack(3, 3)
        before = log_state(auth_relay)
        b = await NodePeer.start(auth_relay, "n1", viewer, append=" vandal")
        assert await b.next() == {"event": "synced", "body": "hello world"}
        assert (await b.next())["event"] == "body"  # its own local edit
        assert await b.next() == {"event": "close", "code": 1008, "body": "hello world vandal"}
        await b.stop()
        await owner.push(3, "notes", "n1", b"\x00\x00")  # barrier: a duplicate, not stored
        assert await next_ack(owner) == p.Ack(3, 0)
        assert log_state(auth_relay) == before
        # Scoped to notes/n1: that room opens and takes edits, the hidden one is refused.
        c = await NodePeer.start(auth_relay, "n1", scoped, append="!")
        assert await c.next() == {"event": "synced", "body": "hello world"}
        assert await c.next() == {"event": "body", "body": "hello world!"}
        upd = await next_ack(owner)
        assert isinstance(upd, p.Update) and upd.entry.doc_id == "n1"
        await c.stop()
        d = await NodePeer.start(auth_relay, HIDDEN, scoped)
        closed = await d.next()
        assert closed["event"] == "close" and closed["body"] == "", closed  # HTTP 403
        await d.stop()
        # Expiry closes a live room connection with 4401.
        e = await NodePeer.start(auth_relay, "n1", keys.token("es", write=False, expires_in=8))
        assert (await e.next())["event"] == "synced"
        assert (await e.next())["code"] == 4401
        await e.stop()

    run(main())
    auth_relay.wait_log("refusing room team/notes/secret-doc-x")


@pytest.mark.parametrize("name", ["yloft_relay.auth", "yloft_relay.tokens", "yloft_relay.docdiff"])
def test_docstring_examples(name: str) -> None:
    import doctest
    import importlib

    # In a thread of its own: after the Playwright tests the main thread counts as running
    # an event loop, and the examples call asyncio.run() (as the relay tests' run() does).
    results: list[doctest.TestResults] = []
    worker = threading.Thread(
        target=lambda: results.append(doctest.testmod(importlib.import_module(name)))
    )
    worker.start()
    worker.join(60)
    assert results and results[0].attempted > 0 and results[0].failed == 0, results
