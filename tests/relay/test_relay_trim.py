"""Bounded storage: a device trims what the relay acknowledged, and loses nothing by it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import RelayProcess
from relaykit import FIELDS, TEAM, edit, rows, run, until

from yloft import Store
from yloft.sync.websocket import RelaySync

FAST = ("--rate", "100000", "--burst", "100000")


def open_store(path: Path) -> Store:
    store = Store(path, pragmas={"synchronous": "normal"})  # durability is not the point here
    store.collection("notes", FIELDS)
    return store


def file_bytes(store: Store, path: Path) -> int:
    """The database file's size once its WAL is checkpointed into it."""
    store.query("PRAGMA integrity_check", ())
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return path.stat().st_size


def compacted_size(source: Store, tmp_path: Path) -> int:
    """A store holding just each document's compacted state, its columns and FTS."""
    ref_path = tmp_path / "reference.db"
    ref = open_store(ref_path)
    with ref.atomic():
        for _, coll, doc_id in source.feed.document_seqs():
            ref.apply_update(coll, doc_id, source.get_update(coll, doc_id), origin="relay")
    ref.feed.trim(ref.feed.head(), compact=True)
    ref.close()
    con = sqlite3.connect(ref_path)
    con.execute("VACUUM")
    con.close()
    return ref_path.stat().st_size


def test_ten_thousand_acknowledged_edits_leave_a_database_near_its_compacted_size(
    relay_factory: type[RelayProcess], tmp_path: Path
) -> None:
    relay = relay_factory(*FAST)
    relay.start()
    path = tmp_path / "device.db"
    a = open_store(path)
    notes = a.collection("notes")
    ids = [notes.create() for _ in range(100)]

    async def main() -> None:
        async with RelaySync(a, relay.url, *TEAM, trim_every=256) as sa:
            for i in range(100):
                with a.atomic():  # 100 edits to 100 notes per transaction
                    for n, nid in enumerate(ids):
                        edit(a, nid, title=f"note {n} v{i}", append=f" w{i}")
            await sa.wait_idle(timeout=120)
            await until(lambda: sa.client.acked >= a.feed.head() - 100, timeout=60)
            sa.session.trim()  # what the last acknowledgements left
        assert a.feed.floor() >= a.feed.head() - 100
        left = a.query("SELECT count(*) AS n FROM notes", ())[0]["n"]
        assert left == 100

    run(main(), timeout=300)
    assert a.feed.changes() == [] or a.feed.changes()[0][0] > a.feed.floor()
    used, reference = file_bytes(a, path), compacted_size(a, tmp_path)
    assert used <= 1.5 * reference, (used, reference)
    # Nothing was lost: a new device gets every note's last title and whole body.
    b = open_store(tmp_path / "b.db")

    async def fetch() -> None:
        async with RelaySync(b, relay.url, *TEAM):
            await until(lambda: rows(b) == rows(a), timeout=120)

    run(fetch(), timeout=200)
    assert rows(b)[0]["body"].count(" w") == 100
    a.close()
    b.close()


def test_a_trimmed_device_gives_a_restored_relay_whole_documents(
    relay_factory: type[RelayProcess], tmp_path: Path
) -> None:
    relay = relay_factory(*FAST)
    relay.start()
    db, copy = Path(relay.db), tmp_path / "backup.db"
    a = open_store(tmp_path / "a.db")

    async def main() -> None:
        sa = RelaySync(a, relay.url, *TEAM, trim_every=1, min_backoff=0.05, max_backoff=0.5)
        async with sa:
            first = a.collection("notes").create()
            edit(a, first, "first", "x")
            await sa.wait_idle()
            done = subprocess.run(
                [sys.executable, "-m", "yloft_relay", "backup", "--db", str(db), str(copy)],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            for i in range(30):  # acknowledged, then trimmed away from this device's feed
                edit(a, first, append=f" more{i}")
                edit(a, a.collection("notes").create(), f"later {i}", "y")
            await sa.wait_idle()
            await until(lambda: sa.client.outbox_size == 0)
            sa.session.trim()
            assert a.feed.floor() > 2 and a.feed.to_send(0) == []
            relay.stop()
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
            copy.replace(db)
            relay.start()
            await until(lambda: sa.status["state"] == "online" and sa.connects >= 2)
            await sa.wait_idle()
        b = open_store(tmp_path / "b.db")
        async with RelaySync(b, relay.url, *TEAM):
            await until(lambda: rows(b) == rows(a) and len(rows(b)) == 31)
        assert "more29" in next(r["body"] for r in rows(b) if r["title"] == "first")
        b.close()

    run(main(), timeout=200)
    a.close()
