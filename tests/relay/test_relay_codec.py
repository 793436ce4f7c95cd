"""A non-identity codec (zlib) through a real relay run with ``--opaque-updates``."""

from __future__ import annotations

import zlib
from pathlib import Path

import pycrdt
import pytest
from authkit import dump_log
from conftest import RelayProcess
from relaykit import TEAM, Session, edit, open_store, open_ws, rows, run, until
from websockets.exceptions import ConnectionClosed

from yloft.sync.websocket import RelaySync


class Zlib:
    """Compresses update payloads; what the relay stores is not Yjs."""

    def encode(self, collection: str, doc_id: str, update: bytes) -> bytes:
        return zlib.compress(update)

    def decode(self, collection: str, doc_id: str, payload: bytes) -> bytes:
        try:
            return zlib.decompress(payload)
        except zlib.error as exc:
            raise ValueError(f"not a zlib payload: {exc}") from exc


@pytest.fixture(params=["sqlite", "postgres"])
def opaque_relay(relay_factory: type[RelayProcess], request: pytest.FixtureRequest) -> RelayProcess:
    """A relay that stores updates without reading them; compacts after 4 rows (it must not)."""
    db = request.getfixturevalue("pg").new_db() if request.param == "postgres" else None
    r = relay_factory("--opaque-updates", "--compact-after", "4", db=db)
    r.start()
    return r


def is_yjs(update: bytes) -> bool:
    try:
        pycrdt.get_state(update)
    except Exception:
        return False
    return True


def test_zlib_payloads_round_trip_through_the_relay(
    opaque_relay: RelayProcess, tmp_path: Path
) -> None:
    a, b, c = (open_store(tmp_path / f"{n}.db") for n in "abc")
    nid = a.collection("notes").create()

    async def main() -> None:
        sa = RelaySync(a, opaque_relay.url, *TEAM, codec=Zlib())
        sb = RelaySync(b, opaque_relay.url, *TEAM, codec=Zlib())
        async with sa, sb:
            await sa.wait_online()
            await sb.wait_online()
            for i in range(8):  # several rows of one document: none merged or compacted
                edit(a, nid, f"title {i}", f" word{i}")
            edit(b, b.collection("notes").create(), "from b", "hello")
            await sa.wait_idle()
            await sb.wait_idle()
            await until(lambda: rows(a) == rows(b) and len(rows(a)) == 2)
            assert sa.session.refused_updates == sb.session.refused_updates == 0
        # A device that catches up later gets every row as it was pushed.
        async with RelaySync(c, opaque_relay.url, *TEAM, codec=Zlib()) as sc:
            await sc.wait_online()
            await until(lambda: rows(c) == rows(a))
        note = next(r for r in rows(c) if r["id"] == nid)
        assert note["title"] == "title 7" and "word0" in note["body"] and "word7" in note["body"]
        for store in (b, c):
            assert store.get_state("notes", nid) == a.get_state("notes", nid)

    run(main())
    logged = [r for r in dump_log(opaque_relay) if r[0] == "log"]
    payloads = [bytes(next(v for v in r if isinstance(v, bytes | memoryview))) for r in logged]
    assert sum(1 for r in logged if nid in r) >= 9  # created, edited 8 times: not compacted
    assert not any(is_yjs(u) for u in payloads)  # the relay holds zlib only
    assert all(is_yjs(zlib.decompress(u)) for u in payloads)
    for store in (a, b, c):
        store.close()


def test_a_relay_that_reads_updates_refuses_encoded_ones(
    relay: RelayProcess, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "a.db")
    edit(store, store.collection("notes").create(), "compressed")

    async def main() -> None:
        async with RelaySync(store, relay.url, *TEAM, codec=Zlib()) as sync:
            await until(lambda: "1003" in str(sync.last_error))
            assert "invalid Yjs update" in str(sync.last_error) and sync.status["outbox"] > 0

    run(main())
    relay.wait_log("PUSH carries an invalid Yjs update")
    assert not [r for r in dump_log(relay) if r[0] == "log"]
    store.close()


def test_an_opaque_relay_has_no_y_websocket_rooms(opaque_relay: RelayProcess) -> None:
    async def main() -> None:
        session = await Session.open(opaque_relay.url)  # the space protocol still works
        assert session.entries == []
        ws = await open_ws(opaque_relay.room_url("team", "notes", "n1", TEAM[1]))
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1003

    run(main())
    opaque_relay.wait_log("this relay stores opaque updates: no rooms")
