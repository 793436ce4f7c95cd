"""Tab sync on CPython: real stores (a SQLite file for the writer), a simulated channel."""

from __future__ import annotations

import json
import random
import types
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yloft import Field, Store
from yloft.browser import Engine
from yloft.crdt import Map, Text
from yloft.errors import ProtocolError
from yloft.sync.protocol import Ack, Push, Welcome, decode, encode
from yloft.sync.tabs import TabSync

FIELDS = {"title": Field("m.title", str, fts=True), "body": Field("body", str, fts=True)}


class Bus:
    """BroadcastChannel semantics: per-sender FIFO queues, delivered in an order we pick."""

    def __init__(self) -> None:
        self.tabs: dict[str, TabSync] = {}
        self.queues: dict[str, deque[tuple[str | None, bytes]]] = {}

    def sender(self, tab_id: str):  # type: ignore[no-untyped-def]
        self.queues[tab_id] = deque()
        return lambda to, frame: self.queues[tab_id].append((to, frame))

    def step(self, sender: str) -> None:
        to, frame = self.queues[sender].popleft()
        for tab_id, tab in list(self.tabs.items()):
            if tab_id != sender and (to is None or to == tab_id):
                tab.receive(sender, frame, direct=to is not None)

    def run(self, rnd: random.Random | None = None) -> None:
        while any(self.queues.values()):
            busy = [t for t, q in self.queues.items() if q]
            self.step(rnd.choice(busy) if rnd else busy[0])

    def drop(self, tab_id: str) -> None:
        """The tab died: it and whatever it had not sent yet vanish."""
        self.tabs.pop(tab_id)
        self.queues.pop(tab_id)


def open_store(path: str | Path = ":memory:") -> Store:
    store = Store(path, pragmas={"synchronous": "normal"})
    store.collection("notes", FIELDS)
    return store


def edit(store: Store, nid: str, title: str | None = None, text: str | None = None) -> None:
    notes = store.collection("notes")
    with notes.edit(nid) as doc:
        if title is not None:
            doc.get("m", type=Map)["title"] = title
        if text is not None:
            body = doc.get("body", type=Text)
            body.insert(len(str(body).encode()), text)


def follower(bus: Bus, tab_id: str) -> TabSync:
    tab = TabSync(open_store(), tab_id, bus.sender(tab_id))
    bus.tabs[tab_id] = tab
    tab.hello()
    return tab


def leader(bus: Bus, tab_id: str, path: Path) -> TabSync:
    tab = TabSync(open_store(path), tab_id, bus.sender(tab_id))
    bus.tabs[tab_id] = tab
    tab.lead()
    return tab


def bodies(store: Store) -> dict[str, tuple[str, str]]:
    rows = store.query("SELECT id, title, body FROM notes ORDER BY id")
    return {r["id"]: (r["title"], r["body"]) for r in rows}


def test_follower_catches_up_and_edits_round_trip(tmp_path: Path) -> None:
    bus = Bus()
    a = leader(bus, "a", tmp_path / "db.sqlite")
    nid = a.store.collection("notes").create()
    edit(a.store, nid, "from a", "hello")
    b = follower(bus, "b")
    bus.run()
    assert b.synced and b.leader_id == "a"
    assert bodies(b.store) == bodies(a.store)
    edit(b.store, nid, text=" world")
    assert b.unsaved == 1  # shown in b at once, not durable yet
    assert bodies(b.store)[nid] == ("from a", "hello world")
    bus.run()
    assert b.unsaved == 0
    assert bodies(a.store)[nid] == ("from a", "hello world")
    # Origins: the leader stored b's edit as b's; nothing came back to b as local.
    assert [c for c in a.store.changes(local_only=True)][-1][0] < a.head
    assert b.last_seq == a.head


def test_late_follower_gets_everything_then_live_updates(tmp_path: Path) -> None:
    bus = Bus()
    a = leader(bus, "a", tmp_path / "db.sqlite")
    b = follower(bus, "b")
    bus.run()
    ids = [b.store.collection("notes").create() for _ in range(5)]
    for i, nid in enumerate(ids):
        edit(b.store, nid, f"t{i}", "x" * i)
    bus.run()
    c = follower(bus, "c")
    bus.run()
    assert bodies(c.store) == bodies(a.store) == bodies(b.store)
    edit(a.store, ids[0], "live")
    bus.run()
    assert bodies(c.store)[ids[0]][0] == "live"


def test_take_over_keeps_unacked_edits_of_every_follower(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    bus = Bus()
    a = leader(bus, "a", path)
    b, c = follower(bus, "b"), follower(bus, "c")
    bus.run()
    nid = b.store.collection("notes").create()
    bus.run()
    assert nid in bodies(c.store)
    edit(b.store, nid, text="b1 ")
    edit(c.store, nid, text="c1 ")
    # The leader dies before it hears any of it, and the pushes are lost with it.
    a.store.close()
    bus.drop("a")
    bus.queues["b"].clear()
    bus.queues["c"].clear()
    assert b.unsaved == 1 and c.unsaved == 1
    b.take_over(open_store(path))
    bus.run()
    assert b.is_leader and c.leader_id == "b" and c.unsaved == 0 and c.synced
    assert bodies(b.store) == bodies(c.store)
    assert "b1" in bodies(b.store)[nid][1] and "c1" in bodies(b.store)[nid][1]
    reopened = open_store(path)
    assert bodies(reopened) == bodies(b.store)


def test_duplicate_push_is_acked_once_and_stored_once(tmp_path: Path) -> None:
    out: list[tuple[str | None, bytes]] = []
    a = TabSync(open_store(tmp_path / "db.sqlite"), "a", lambda to, f: out.append((to, f)))
    a.lead()
    src = open_store()
    nid = src.collection("notes").create()
    (seq, coll, doc_id, update) = src.changes()[-1]
    frame = encode(Push(seq, coll, doc_id, update))
    a.receive("b", frame)
    a.receive("b", frame)
    acks = [decode(f) for to, f in out if to == "b"]
    assert acks[0] == Ack(seq, a.head) and acks[1] == Ack(seq, 0)
    assert len(a.store.changes()) == 1 and nid in bodies(a.store)


def test_malformed_frame_raises_and_changes_nothing(tmp_path: Path) -> None:
    a = TabSync(open_store(tmp_path / "db.sqlite"), "a", lambda to, f: None)
    a.lead()
    before = a.store.dump()
    with pytest.raises(ProtocolError):
        a.receive("b", b"\x04\x01")
    assert a.store.dump() == before
    assert isinstance(decode(encode(Welcome("a", 0))), Welcome)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32), st.lists(st.sampled_from("ABCDKN"), min_size=5, max_size=40))
def test_random_schedules_converge_and_keep_every_acked_edit(
    tmp_path_factory: pytest.TempPathFactory, seed: int, script: list[str]
) -> None:
    """Edits from every tab, leader deaths (K), new tabs (N), random delivery order.

    Every edit a tab saw acknowledged (or made as leader) is in the durable database at
    the end, and every tab converges to the same rows.
    """
    rnd = random.Random(seed)
    path = tmp_path_factory.mktemp("tabs") / "db.sqlite"
    bus = Bus()
    leader(bus, "t0", path)
    follower(bus, "t1")
    follower(bus, "t2")
    bus.run()
    nid = bus.tabs["t0"].store.collection("notes").create()
    bus.run()
    saved: set[str] = set()
    pending: dict[str, list[tuple[int, str]]] = {}
    next_tab = 3
    for n, op in enumerate(script):
        tabs = list(bus.tabs.values())
        if op == "K":
            lead = next((t for t in tabs if t.is_leader), None)
            if lead is not None and len(tabs) > 1:
                lead.store.close()
                bus.drop(lead.tab_id)
                heir = rnd.choice(list(bus.tabs.values()))
                heir.take_over(open_store(path))
                # Its own outbox is durable now.
                saved.update(w for _, w in pending.pop(heir.tab_id, []))
        elif op == "N":
            follower(bus, f"t{next_tab}")
            next_tab += 1
        else:
            tab = rnd.choice(tabs)
            if nid not in bodies(tab.store):
                continue
            word = f"w{n} "
            edit(tab.store, nid, title=word if op == "D" else None, text=word)
            if tab.is_leader:
                saved.add(word)
            else:
                pending.setdefault(tab.tab_id, []).append((tab.pushed, word))
                assert tab.unsaved >= 1
        for _ in range(rnd.randint(0, 6)):
            busy = [t for t, q in bus.queues.items() if q]
            if busy:
                bus.step(rnd.choice(busy))
        for tab in bus.tabs.values():
            for msg_id, word in list(pending.get(tab.tab_id, [])):
                if msg_id <= tab.acked:
                    saved.add(word)
                    pending[tab.tab_id].remove((msg_id, word))
    bus.run(rnd)
    for tab in bus.tabs.values():
        for msg_id, word in pending.get(tab.tab_id, []):
            if msg_id <= tab.acked:
                saved.add(word)
    durable = open_store(path)
    final = bodies(durable)
    text = final[nid][1]
    assert all(w in text for w in saved)
    for tab in bus.tabs.values():
        assert bodies(tab.store) == final, tab.tab_id
        assert tab.unsaved == 0
    assert durable.query("PRAGMA integrity_check") == [{"integrity_check": "ok"}]


def _app_module() -> Any:
    app = types.ModuleType("tabs_test_app")

    def setup(store: Store) -> None:
        store.collection("notes", FIELDS)

    def create(title: str) -> str:
        notes = app.store.collection("notes")  # type: ignore[attr-defined]
        nid = notes.create()
        edit(app.store, nid, title)  # type: ignore[attr-defined]
        return str(nid)

    app.setup = setup  # type: ignore[attr-defined]
    app.create = create  # type: ignore[attr-defined]
    app.__all__ = ["create"]  # type: ignore[attr-defined]
    return app


def test_engine_follower_writes_wait_for_the_ack_reads_never_and_take_over_moves_queries(
    tmp_path: Path,
) -> None:
    bus = Bus()
    a = leader(bus, "a", tmp_path / "db.sqlite")
    app = _app_module()
    notified: list[tuple[int, Any]] = []
    engine = Engine(open_store(), app, lambda sub, rows: notified.append((sub, rows)))
    app.store = engine.store
    engine.start_tabs("b", bus.sender("b"), leader=False)
    assert engine.tabs is not None
    bus.tabs["b"] = engine.tabs
    bus.run()
    sub = json.loads(engine.handle(json.dumps({"method": "subscribe", "args": [ROWS_SQL]})))
    write = json.loads(engine.handle(json.dumps({"method": "call", "args": ["create", "x"]})))
    assert write["ok"] and write["await_ack"] == engine.tabs.pushed > 0
    read = json.loads(engine.handle(json.dumps({"method": "query", "args": [ROWS_SQL]})))
    assert read["ok"] and "await_ack" not in read
    assert json.loads(engine.tab_status())["unsaved"] == 2  # create + edit, not acked
    # The writer dies before it hears anything; this tab takes over on the same file.
    a.store.close()
    bus.drop("a")
    bus.queues["b"].clear()
    app.store = None
    assert engine.take_over(str(tmp_path / "db.sqlite"), "db") == 2
    app.store = engine.store
    assert json.loads(engine.tab_status())["writer"] is True
    assert [r["title"] for r in open_store(tmp_path / "db.sqlite").query(ROWS_SQL)] == ["x"]
    # The live query moved to the durable store and still fires.
    before = len(notified)
    json.loads(engine.handle(json.dumps({"method": "call", "args": ["create", "y"]})))
    assert notified[before:] and notified[-1][0] == sub["value"]["id"]
    assert [r["title"] for r in notified[-1][1]] == ["x", "y"]


ROWS_SQL = "SELECT title FROM notes ORDER BY title"


def test_docstring_examples_of_the_tabs_module() -> None:
    import doctest

    import yloft.sync.tabs

    result = doctest.testmod(yloft.sync.tabs)
    assert result.attempted > 0 and result.failed == 0
