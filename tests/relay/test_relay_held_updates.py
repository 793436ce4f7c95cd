"""Updates for a collection a device has not declared yet wait for its declaration.

Two versions of one app on one device: version 1 declares only ``notes``; version 2
(on another device first, then on this one after an upgrade) also declares ``tasks``.
The tasks version 1 received from the relay must all be there once version 2 declares
the collection, although the device's cursor moved past them long before.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RelayProcess
from relaykit import TEAM, open_store, run, until

from yloft import Field, Store
from yloft.crdt import Map
from yloft.errors import MalformedUpdateError
from yloft.sync.websocket import RelaySync

TASKS = {"title": Field("meta.title", str), "done": Field("meta.done", bool)}


def add_task(store: Store, title: str, done: bool = False) -> str:
    tasks = store.collection("tasks", TASKS)
    tid = tasks.create()
    with tasks.edit(tid) as doc:
        meta = doc.get("meta", type=Map)
        meta["title"] = title
        meta["done"] = done
    return tid


def task_rows(store: Store) -> list[tuple[str, bool]]:
    return sorted((r["title"], bool(r["done"])) for r in store.query("SELECT * FROM tasks"))


def test_a_later_declaration_gets_the_whole_collection(relay: RelayProcess, tmp_path: Path) -> None:
    newer = open_store(tmp_path / "newer.db")  # another device, already on version 2
    newer.collection("tasks", TASKS)
    device = open_store(tmp_path / "device.db")  # this device, still on version 1

    async def main() -> None:
        async with (
            RelaySync(newer, relay.url, *TEAM) as s2,
            RelaySync(device, relay.url, *TEAM) as s1,
        ):
            await s2.wait_online()
            await s1.wait_online()
            first = add_task(newer, "buy milk")
            add_task(newer, "call mum", done=True)
            with newer.collection("tasks").edit(first) as doc:
                doc.get("meta", type=Map)["done"] = True
            nid = newer.collection("notes").create()
            await s2.wait_idle()
            await until(lambda: device.collection("notes").ids() == [nid])
            await until(lambda: s1.client.last_seq >= s2.client.last_seq)
        assert device.collections() == ["notes"]  # version 1 never declared tasks

    run(main())
    device.close()
    # The upgrade: version 2 starts on the same database and declares tasks.
    upgraded = Store(tmp_path / "device.db")
    upgraded.collection("tasks", TASKS)
    assert task_rows(upgraded) == [("buy milk", True), ("call mum", True)]
    assert task_rows(upgraded) == task_rows(newer)
    for tid in newer.collection("tasks").ids():
        assert upgraded.get_state("tasks", tid) == newer.get_state("tasks", tid)
    # Held updates came from the relay: they are not sent back to it.
    assert [c for c in upgraded.feed.to_send() if c[1] == "tasks"] == []
    upgraded.close()
    newer.close()


def test_held_updates_are_kept_across_restarts_and_bad_ones_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "peer.db") as peer:
        tid = add_task(peer, "from version 2")
        update = peer.get_update("tasks", tid)
    with Store(tmp_path / "a.db") as store:
        store.collection("notes", {})
        store.hold_update("tasks", tid, update, origin="relay")
        with pytest.raises(MalformedUpdateError, match="not a valid Yjs"):
            store.hold_update("tasks", tid, b"\xff\xff not yjs")
    with Store(tmp_path / "a.db") as store:
        store.collection("tasks", TASKS)
        assert task_rows(store) == [("from version 2", False)]
        assert store.query("SELECT count(*) AS n FROM _yloft_held") == [{"n": 0}]
