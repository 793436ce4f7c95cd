"""RelaySession: the relay cursor lives in the store, committed with the updates it covers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from yloft import Field, Store, TransactionAbortedError
from yloft.browser.relay import BrowserRelaySync, JsRelaySync
from yloft.crdt import Map
from yloft.errors import AuthError, TokenExpiredError
from yloft.sync import protocol as p
from yloft.sync.closecodes import CloseCode
from yloft.sync.policy import LinkPolicy
from yloft.sync.session import RelaySession, SyncStatus
from yloft.sync.websocket import RelaySync

FIELDS = {"title": Field("meta.title", str)}


def remote_update(title: str) -> tuple[str, bytes]:
    """A document made on another device: (id, its whole update)."""
    with Store(":memory:") as other:
        notes = other.collection("notes", FIELDS)
        nid = notes.create()
        with notes.edit(nid) as doc:
            doc.get("meta", type=Map)["title"] = title
        return nid, notes.get_update(nid)


def test_the_cursor_commits_with_the_updates_it_covers(tmp_path: Path) -> None:
    commits = []
    store = Store(tmp_path / "a.db", on_commit=lambda: commits.append(1))
    store.collection("notes", FIELDS)
    session = RelaySession(store, "team", "secret")
    session.connect()
    session.receive(p.encode(p.Welcome("relay-a", 2)))
    entries = tuple(p.Entry(i + 1, "notes", *remote_update(f"n{i}")) for i in range(2))
    before = len(commits)
    session.receive(p.encode(p.Catchup(entries, 2, True)))
    assert len(commits) - before == 1  # the updates and the cursor: one transaction
    saved = json.loads(store.feed.cursor("relay:team") or "{}")
    assert (saved["relay_id"], saved["last_seq"]) == ("relay-a", 2)
    assert sorted(r["title"] for r in store.query("SELECT title FROM notes")) == ["n0", "n1"]
    store.close()


def test_a_failed_apply_moves_no_cursor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "a.db")
    store.collection("notes", FIELDS)
    session = RelaySession(store, "team", "secret")
    session.connect()
    session.receive(p.encode(p.Welcome("relay-a", 0)))
    session.receive(p.encode(p.Catchup((), 0, True)))
    stored = store.feed.cursor("relay:team")

    def broken(*args: object, **kwargs: object) -> None:
        raise TransactionAbortedError("disk full")

    monkeypatch.setattr(store, "apply_update", broken)
    nid, update = remote_update("lost?")
    with pytest.raises(TransactionAbortedError):
        session.receive(p.encode(p.Update(p.Entry(1, "notes", nid, update))))
    assert session.client.last_seq == 0  # asks for seq 1 again after reconnecting
    assert store.feed.cursor("relay:team") == stored
    store.close()


def test_a_new_session_resumes_from_the_stores_cursor(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    store.collection("notes", FIELDS)
    first = RelaySession(store, "team", "secret")
    first.connect()
    first.receive(p.encode(p.Welcome("relay-a", 1)))
    first.receive(p.encode(p.Catchup((p.Entry(1, "notes", *remote_update("x")),), 1, True)))
    first.disconnect()
    store.close()
    with Store(tmp_path / "a.db") as again:
        resumed = RelaySession(again, "team", "secret")
        hello = p.decode(resumed.connect())
        assert isinstance(hello, p.Hello)
        assert (hello.client_id, hello.relay_id, hello.last_seq) == (
            first.client.client_id,
            "relay-a",
            1,
        )
        # Another space of the same store has its own cursor.
        assert RelaySession(again, "other", "t").client.last_seq == 0


def test_changes_to_send_leave_out_the_relays_own_updates() -> None:
    with Store(":memory:") as store:
        notes = store.collection("notes", FIELDS)
        mine = notes.create()
        nid, update = remote_update("from the relay")
        notes.apply_update(nid, update, origin="relay")
        tab_id, tab_update = remote_update("from a replica tab")
        notes.apply_update(tab_id, tab_update, origin="tab:b")
        sent = {doc_id for _, _, doc_id, _ in store.feed.to_send()}
        assert sent == {mine, tab_id}
        assert RelaySession.sends(None) and RelaySession.sends("tab:b")
        assert not RelaySession.sends("relay")


# ------------------------------------------------------------------ the link policy


def welcomed(session: RelaySession, access: p.Access | None = None) -> None:
    """Connect and get welcomed and caught up (frames fed by hand)."""
    session.connect()
    if access is not None:
        session.receive(p.encode(access))
    session.receive(p.encode(p.Welcome("relay-a", 0)))
    session.receive(p.encode(p.Catchup((), 0, True)))


def test_a_refusal_before_welcome_stops_a_session_that_cannot_renew() -> None:
    with Store(":memory:") as store:
        session = RelaySession(store, "team", "wrong")
        session.connect()
        decision = session.closed(CloseCode.POLICY_VIOLATION, "wrong or missing token")
        assert decision.action == "stop" and isinstance(decision.error, AuthError)
        status = session.status()
        assert (status["state"], status["auth"]) == ("offline", "refused")
        assert "refused space 'team' (wrong or missing token)" in status["error"]


def test_an_expiry_asks_for_a_token_and_welcome_clears_the_error() -> None:
    with Store(":memory:") as store:
        session = RelaySession(store, "team", "t1", policy=LinkPolicy(renews=True))
        welcomed(session)
        decision = session.closed(CloseCode.TOKEN_EXPIRED, "the token expired")
        assert decision.action == "renew" and isinstance(decision.error, TokenExpiredError)
        assert session.needs_token and session.status()["auth"] == "expired"
        assert session.set_token("t2") is False  # no link open: nothing to reopen
        assert not session.needs_token
        hello = p.decode(session.connect())
        assert isinstance(hello, p.Hello) and hello.token == "t2"
        session.receive(p.encode(p.Welcome("relay-a", 0)))
        assert (session.status()["auth"], session.status()["error"]) == ("ok", "")


def test_a_token_renewed_while_linked_reopens_the_link_at_once() -> None:
    with Store(":memory:") as store:
        session = RelaySession(store, "team", "t1", policy=LinkPolicy(renews=True))
        welcomed(session, p.Access(True, int(time.time()) + 600))
        assert session.status()["expires_at"] > 0
        delay = session.renew_in(time.time())
        assert delay is not None and 530 < delay <= 540
        assert session.set_token("t2") is True  # the adapter closes the link with 1000
        decision = session.closed(CloseCode.NORMAL_CLOSURE, "renewing the token")
        assert (decision.action, decision.delay, decision.error) == ("retry", 0.0, None)
        assert session.status()["error"] == ""
        with pytest.raises(TypeError, match="non-empty str"):
            session.set_token("")


def test_an_error_close_shows_until_the_next_welcome_a_quiet_one_does_not() -> None:
    with Store(":memory:") as store:
        session = RelaySession(store, "team", "t", policy=LinkPolicy(rng=lambda: 0.5))
        welcomed(session)
        decision = session.closed(CloseCode.INTERNAL_ERROR, "the relay's log is unavailable")
        assert (decision.action, decision.delay) == ("retry", 0.25)
        assert "1011 the relay's log is unavailable" in session.status()["error"]
        assert session.closed(CloseCode.ABNORMAL_CLOSURE).delay == 0.5  # backing off
        welcomed(session)  # caught up: the backoff starts again
        assert session.status()["error"] == "" and session.policy.attempt == 0
        assert session.closed(CloseCode.ABNORMAL_CLOSURE).delay == 0.25
        assert session.status()["error"] == ""  # a dropped link is not an error
        assert session.token_failed().action == "renew" and session.needs_token


def test_every_adapter_reports_the_one_status_shape() -> None:
    with Store(":memory:") as store:
        keys = set(SyncStatus.__annotations__)
        assert keys == {"state", "outbox", "last_seq", "access", "auth", "error", "expires_at"}
        assert set(RelaySession(store, "team", "t").status()) == keys
        browser = BrowserRelaySync(store, "team", "t", lambda frame: None)
        assert set(browser.status()) == keys
        assert set(json.loads(JsRelaySync(browser, []).status_json())) == keys
        cpython = RelaySync(store, "ws://127.0.0.1:9/relay", "team", "t")
        assert set(cpython.status) == keys
        browser.close()


# ------------------------------------------------------------------------ the codec


class Reversed:
    """A codec that is not the identity (bytes reversed), refusing payloads marked bad."""

    def encode(self, collection: str, doc_id: str, update: bytes) -> bytes:
        return update[::-1]

    def decode(self, collection: str, doc_id: str, payload: bytes) -> bytes:
        if payload.startswith(b"bad"):
            raise ValueError("not one of ours")
        return payload[::-1]


def test_the_codec_encodes_pushes_and_decodes_what_arrives() -> None:
    with Store(":memory:") as store:
        notes = store.collection("notes", FIELDS)
        mine = notes.create()
        session = RelaySession(store, "team", "t", codec=Reversed())
        session.connect()
        frames = session.receive(p.encode(p.Welcome("relay-a", 0)))
        pushes = [p.decode(f) for f in frames]
        assert [(m.doc_id, m.update) for m in pushes if isinstance(m, p.Push)] == [
            (mine, notes.get_update(mine)[::-1])
        ]
        nid, update = remote_update("encoded on the wire")
        bad_id, _ = remote_update("unreadable")
        entries = (p.Entry(1, "notes", nid, update[::-1]), p.Entry(2, "notes", bad_id, b"bad!"))
        session.receive(p.encode(p.Catchup(entries, 2, True)))
        assert notes.get_update(nid) and notes.row(nid) is not None
        assert notes.row(bad_id) is None and session.refused_updates == 1
        assert session.client.last_seq == 2  # a refused update is skipped, as a malformed one


def test_a_broken_codec_applies_nothing_and_moves_no_cursor() -> None:
    class Broken(Reversed):
        def decode(self, collection: str, doc_id: str, payload: bytes) -> bytes:
            raise RuntimeError("the key store is gone")

    with Store(":memory:") as store:
        store.collection("notes", FIELDS)
        session = RelaySession(store, "team", "t", codec=Broken())
        welcomed(session)
        nid, update = remote_update("x")
        with pytest.raises(RuntimeError, match="key store"):
            session.receive(p.encode(p.Update(p.Entry(1, "notes", nid, update))))
        assert session.client.last_seq == 0 and store.query("SELECT id FROM notes") == []
