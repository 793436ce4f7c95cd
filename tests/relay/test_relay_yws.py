"""A stock y-websocket client (Node) and a yloft store edit one document via the relay."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from conftest import RelayProcess
from relaykit import TEAM, Session, edit, open_store, run, until

from yloft.sync import protocol as p
from yloft.sync.websocket import RelaySync
from yloft_relay import ysync

ROOT = Path(__file__).resolve().parents[2]
PEER = Path(__file__).with_name("yws_peer.mjs")


def test_y_websocket_provider_and_yloft_store_share_a_document(
    relay: RelayProcess, tmp_path: Path
) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "y-websocket").is_dir():
        pytest.fail("node and npm's y-websocket are needed: run `python3 build.py build`")
    store = open_store(tmp_path / "a.db")

    async def main() -> None:
        async with RelaySync(store, relay.url, *TEAM) as sync:
            await sync.wait_online()
            nid = store.collection("notes").create()
            edit(store, nid, "shared", "from-yloft")
            await sync.wait_idle()
            watcher = await Session.open(relay.url, TEAM, "watcher")
            proc = await asyncio.create_subprocess_exec(
                node, str(PEER), f"ws://127.0.0.1:{relay.port}/relay/yws/team/notes", nid,
                TEAM[1], "from-yloft", " from-node", "from-yloft-2",
                cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert proc.stdout is not None
            synced = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
            assert synced == {"event": "synced", "body": "from-yloft", "ok": True}

            def body() -> str:
                return str(store.query("SELECT body FROM notes WHERE id = ?", (nid,))[0]["body"])

            await until(lambda: "from-node" in body())
            edit(store, nid, append=" from-yloft-2")
            final = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
            assert final["event"] == "final"
            assert await asyncio.wait_for(proc.wait(), 30) == 0
            assert final["body"] == body() == "from-yloft from-node from-yloft-2"
            # The Node peer's presence reached space clients, scoped to the document.
            names = []
            while not names:
                msg = await watcher.recv()
                if isinstance(msg, p.Awareness) and (msg.collection, msg.doc_id) == ("notes", nid):
                    names = [s for _c, _k, s in ysync.parse_awareness(msg.payload) if "node" in s]
            assert "node-peer" in names[0]

    run(main())
    store.close()


def _presence(client: int, clock: int, state: str) -> bytes:
    """A y-protocols awareness update with one client's state."""
    out = bytearray()
    for n in (1, client, clock):
        p.write_varuint(out, n)
    p.write_bytes(out, state.encode())
    return bytes(out)


def test_a_space_clients_presence_goes_when_its_socket_closes(relay: RelayProcess) -> None:
    """A device (space protocol) announces presence for a document, then drops off: the
    relay tells the other devices that those awareness clients left (state null, clock+1)."""

    async def main() -> None:
        device = await Session.open(relay.url, TEAM, "device")
        other = await Session.open(relay.url, TEAM, "other")
        await device.ws.send(p.encode(p.Awareness("notes", "n1", _presence(7, 3, '{"user":1}'))))
        await device.ws.send(p.encode(p.Awareness("notes", "n2", _presence(8, 1, '{"user":2}'))))
        seen = [await other.recv(), await other.recv()]
        assert all(isinstance(m, p.Awareness) for m in seen)
        await device.close()
        gone: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
        while len(gone) < 2:
            msg = await other.recv()
            assert isinstance(msg, p.Awareness)
            gone[(msg.collection, msg.doc_id)] = ysync.parse_awareness(msg.payload)
        assert gone == {("notes", "n1"): [(7, 4, "null")], ("notes", "n2"): [(8, 2, "null")]}
        await other.close()

    run(main())
