"""yloft.browser.relay on CPython: the engine worker's relay sync against a real relay.

The browser drives :class:`BrowserRelaySync` from a JS WebSocket; here a blocking
``websockets`` client plays that part, frame by frame, against ``python -m yloft_relay``
in a subprocess, so the same state machine and store wiring run as in the worker.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from yloft import Field, Store
from yloft.browser.relay import BrowserRelaySync, outgoing_changes
from yloft.crdt import Map
from yloft.errors import YloftError
from yloft.sync.session import parse_state

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {"title": Field("m.title", str)}


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("relay") / "relay.db"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "relay"), str(ROOT / "pylib")]))
    cmd = [sys.executable, "-m", "yloft_relay", "--host", "127.0.0.1", "--port", "0"]
    cmd += ["--db", str(db), "--tokens", "team=secret", "--log-level", "WARNING"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert match, f"the relay did not start: {line!r}"
        yield f"ws://127.0.0.1:{match.group(1)}/relay"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()


class Device:
    """A store plus the part relay-sync.js plays: one socket, frames in and out."""

    def __init__(self, path: Path, url: str, token: str = "secret") -> None:
        self.store = Store(path)
        self.notes = self.store.collection("notes", FIELDS)
        self.url = url
        self.out: list[bytes] = []
        self.ws: ClientConnection | None = None
        self.stack = contextlib.ExitStack()
        self.sync = BrowserRelaySync(self.store, "team", token, self.out.append)
        self.decision = ""

    def connect(self) -> None:
        self.stack.close()
        self.ws = self.stack.enter_context(connect(self.url, compression=None, max_size=None))
        self.sync.opened()

    def disconnect(self) -> None:
        self.stack.close()
        self.ws = None
        self.out.clear()  # what was not written is still in the outbox
        self.decision = self.sync.closed(1000, "").action

    def pump(self, until: Callable[[], bool], timeout: float = 30) -> None:
        """Write what Python sent and feed what the relay sends until ``until()``."""
        end = time.monotonic() + timeout
        while not until():
            if time.monotonic() >= end:  # a hang guard, not a speed check
                raise TimeoutError(f"gave up waiting; status {self.sync.status()}")
            assert self.ws is not None
            while self.out:
                self.ws.send(self.out.pop(0))
            try:
                frame = self.ws.recv(timeout=0.05)
            except TimeoutError:
                continue
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else 1006
                reason = exc.rcvd.reason if exc.rcvd is not None else ""
                self.ws = None
                self.decision = self.sync.closed(code, reason).action
                return
            assert isinstance(frame, bytes)
            self.sync.receive(frame)

    def idle(self) -> bool:
        return self.sync.online and self.sync.client.outbox_size == 0 and not self.out

    def edit(self, doc_id: str, title: str) -> None:
        with self.notes.edit(doc_id) as doc:
            m = doc.get("m", type=Map)
            m["title"] = title

    def rows(self) -> list[dict[str, Any]]:
        return self.store.query("SELECT id, title FROM notes ORDER BY id")

    def close(self) -> None:
        self.stack.close()
        self.sync.close()
        self.store.close()


def test_two_devices_converge_after_offline_edits(relay: str, tmp_path: Path) -> None:
    a, b = Device(tmp_path / "a.db", relay), Device(tmp_path / "b.db", relay)
    try:
        a.connect()
        b.connect()
        a.pump(a.idle)
        b.pump(b.idle)
        shared = a.notes.create()
        a.edit(shared, "from a")
        a.pump(a.idle)
        b.pump(lambda: b.rows() == a.rows())

        b.disconnect()
        assert b.sync.status()["state"] == "offline" and b.decision == "retry"
        b.edit(shared, "b offline")
        made_on_b = [b.notes.create() for _ in range(5)]
        assert b.sync.status()["outbox"] == len(outgoing_changes(b.store, b.sync.client.acked))
        made_on_a = [a.notes.create() for _ in range(5)]
        a.pump(a.idle)

        b.sync.close()  # a restarted worker resumes from the cursor the store keeps
        b.sync = BrowserRelaySync(b.store, "team", "secret", b.out.append)
        assert b.sync.client.last_seq > 0 and b.sync.status()["outbox"] > 0
        b.connect()
        b.pump(b.idle)
        a.pump(lambda: len(a.rows()) == 11)
        b.pump(lambda: len(b.rows()) == 11)
        assert a.rows() == b.rows()
        assert {r["id"] for r in a.rows()} == {shared, *made_on_a, *made_on_b}
        for nid in (shared, *made_on_b):
            assert a.store.get_state("notes", nid) == b.store.get_state("notes", nid)
        # What came from the relay is not sent back: nothing waits to go out on either side.
        for dev in (a, b):
            assert outgoing_changes(dev.store, dev.sync.client.queued) == []
    finally:
        a.close()
        b.close()


def test_replica_tab_edits_reach_other_devices(relay: str, tmp_path: Path) -> None:
    """The writer tab stores a replica tab's edit with origin "tab:…": it must go out."""
    a, b = Device(tmp_path / "a.db", relay), Device(tmp_path / "b.db", relay)
    scratch = Store(":memory:")
    try:
        a.connect()
        b.connect()
        a.pump(a.idle)
        b.pump(b.idle)
        nid = scratch.collection("notes", FIELDS).create()
        with scratch.collection("notes").edit(nid) as doc:
            doc.get("m", type=Map)["title"] = "typed in another tab"
        a.store.apply_update("notes", nid, scratch.get_update("notes", nid), origin="tab:t2")
        a.pump(a.idle)
        b.pump(lambda: any(r["id"] == nid for r in b.rows()))
        assert b.notes.row(nid) is not None
        assert b.store.get_state("notes", nid) == a.store.get_state("notes", nid)
    finally:
        scratch.close()
        a.close()
        b.close()


def test_bad_token_is_refused_and_local_data_kept(relay: str, tmp_path: Path) -> None:
    dev = Device(tmp_path / "bad.db", relay, token="wrong")
    try:
        nid = dev.notes.create()
        dev.edit(nid, "local only")
        before = dev.store.dump()
        dev.connect()
        dev.pump(lambda: dev.ws is None)  # the relay closes the socket
        status = dev.sync.status()
        assert status["auth"] == "refused" and status["state"] == "offline"
        assert "refused space 'team'" in status["error"] and "token" in status["error"]
        assert dev.decision == "stop"  # a wrong token does not fix itself (no getToken)
        assert status["outbox"] == len(outgoing_changes(dev.store, 0)) > 0
        assert dev.store.dump() == before
    finally:
        dev.close()


def test_outgoing_changes_skip_relay_origin_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    src = Store(":memory:")
    try:
        notes = src.collection("notes", FIELDS)
        ids = [notes.create() for _ in range(3)]
        store.collection("notes", FIELDS)
        for nid, origin in zip(ids, ["relay", "tab:x", None], strict=True):
            store.apply_update("notes", nid, src.get_update("notes", nid), origin=origin)
        got = outgoing_changes(store, 0)
        assert [d for _, _, d, _ in got] == ids[1:]
        assert outgoing_changes(store, got[0][0]) == got[1:]
    finally:
        store.close()
        src.close()


def test_state_round_trip_and_fresh_device() -> None:
    store = Store(":memory:")
    try:
        sync = BrowserRelaySync(store, "team", "t", lambda f: None)
        sync.client.last_seq = 7  # as if a catch-up moved it
        sync.session.save_cursor()
        again = parse_state(store.feed.cursor("relay:team") or "")
        assert again == sync.client.state() and again.last_seq == 7
        assert parse_state("").client_id != parse_state("").client_id
        sync.close()
    finally:
        store.close()


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=80))
def test_bad_saved_cursor_is_a_clear_error(text: str) -> None:
    try:
        state = parse_state(text)
    except YloftError as exc:
        assert "delete it" in str(exc)
    else:
        assert text == "" or state.client_id


def test_a_refused_update_in_a_batch_is_skipped_and_the_rest_applies(tmp_path: Path) -> None:
    """Frames fed by hand (no relay): a catch-up whose middle update is not Yjs."""
    from yloft.crdt import Doc
    from yloft.sync.protocol import Catchup, Entry, Welcome, encode

    store = Store(tmp_path / "d.db")
    store.collection("notes", FIELDS)
    sent: list[bytes] = []
    sync = BrowserRelaySync(store, "team", "secret", sent.append)
    sync.opened()
    peers = []
    for title in ("one", "two"):
        peer = Doc()
        peer.get("m", type=Map)["title"] = title
        peers.append(peer.get_update())
    sync.receive(encode(Welcome(relay_id="r1", head_seq=3)))
    entries = (
        Entry(1, "notes", "a" * 32, peers[0]),
        Entry(2, "notes", "b" * 32, b"\x01\x02 not yjs"),
        Entry(3, "notes", "c" * 32, peers[1]),
    )
    sync.receive(encode(Catchup(entries=entries, through_seq=3, done=True)))
    assert sync.refused_updates == 1
    rows = store.query("SELECT id, title FROM notes ORDER BY id")
    assert rows == [{"id": "a" * 32, "title": "one"}, {"id": "c" * 32, "title": "two"}]
    assert store.feed.changes(local_only=True) == []  # relay updates are not sent back
    sync.close()
    store.close()
