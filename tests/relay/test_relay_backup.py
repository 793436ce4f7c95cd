"""``python -m yloft_relay backup``: an online copy of a running relay, restored under clients."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RelayProcess
from relaykit import TEAM, edit, open_store, rows, run, until

from yloft.sync.websocket import RelaySync


def backup(db: Path | str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yloft_relay", "backup", "--db", str(db), str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def relay_id(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return str(con.execute("SELECT value FROM meta WHERE key='relay_id'").fetchone()[0])
    finally:
        con.close()


def test_restore_under_a_running_client_loses_nothing_acked(
    relay_factory: type[RelayProcess], tmp_path: Path
) -> None:
    relay = relay_factory()
    relay.start()
    db = Path(relay.db)
    copy = tmp_path / "backup.db"
    a = open_store(tmp_path / "a.db")

    async def main() -> None:
        sa = RelaySync(a, relay.url, *TEAM, min_backoff=0.05, max_backoff=0.5)
        async with sa:
            await sa.wait_online()
            for i in range(5):
                edit(a, a.collection("notes").create(), f"before {i}", "x")
            await sa.wait_idle()
            done = await asyncio.to_thread(backup, db, copy)  # while the relay runs
            assert done.returncode == 0, done.stderr
            assert "backed up" in done.stdout
            for i in range(5):  # acknowledged after the copy was taken
                edit(a, a.collection("notes").create(), f"after {i}", "y")
            await sa.wait_idle()
            assert sa.status["outbox"] == 0
            relay.stop()
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
            copy.replace(db)
            relay.start()  # the same port: the client reconnects by itself
            await until(lambda: sa.client.relay_id == relay_id(db))
            await sa.wait_idle()
            # A device that never synced gets everything, the later five included.
            b = open_store(tmp_path / "b.db")
            sb = RelaySync(b, relay.url, *TEAM)
            async with sb:
                await until(lambda: len(rows(b)) == 10)
            assert rows(b) == rows(a)
            b.close()

    run(main())
    a.close()


def test_the_copy_is_consistent_and_gets_a_new_relay_id(
    relay_factory: type[RelayProcess], tmp_path: Path
) -> None:
    relay = relay_factory()
    relay.start()
    a = open_store(tmp_path / "a.db")

    async def main() -> None:
        async with RelaySync(a, relay.url, *TEAM) as sa:
            edit(a, a.collection("notes").create(), "one", "x")
            await sa.wait_idle()

    run(main())
    a.close()
    out = tmp_path / "copy.db"
    assert backup(relay.db, out).returncode == 0
    assert relay_id(out) != relay_id(Path(relay.db))
    con = sqlite3.connect(out)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM log").fetchone()[0] >= 1
        assert con.execute("SELECT count(*) FROM clients").fetchone()[0] == 0
    finally:
        con.close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("exists", "exists already"),
        ("missing", "no relay log"),
        ("foreign", "not a yloft relay log"),
        ("garbage", "cannot be backed up"),
        ("postgres", "pg_dump"),
    ],
)
def test_refusals_say_what_to_do_and_write_nothing(tmp_path: Path, make: str, message: str) -> None:
    db: Path | str = tmp_path / "relay.db"
    out = tmp_path / "out.db"
    if make == "exists":
        sqlite3.connect(db).executescript("CREATE TABLE meta(key TEXT, value TEXT);").close()
        out.write_bytes(b"keep me")
    elif make == "foreign":
        sqlite3.connect(db).executescript("CREATE TABLE notes(x);").close()
    elif make == "garbage":
        Path(db).write_bytes(b"not a database at all" * 100)
    elif make == "postgres":
        db = "postgresql://postgres@127.0.0.1:1/relay"
    done = backup(db, out)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert out.read_bytes() == b"keep me" if make == "exists" else not out.exists()
    assert not (tmp_path / "out.db.partial").exists()
