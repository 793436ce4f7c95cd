"""RelaySession: the relay cursor lives in the store, committed with the updates it covers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from yloft import Field, Store, TransactionAbortedError
from yloft.crdt import Map
from yloft.sync import protocol as p
from yloft.sync.session import RelaySession

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
