"""The Relay class in-process: async-with lifecycle, and idle spaces/rooms unloaded."""

from __future__ import annotations

import asyncio
from pathlib import Path

from relaykit import TEAM, Session, open_ws, run, text_update

from yloft.sync import ysync
from yloft_relay.config import TokenBook
from yloft_relay.server import Relay, describe


def test_idle_spaces_and_rooms_are_unloaded(tmp_path: Path) -> None:
    async def main() -> None:
        async with Relay(tmp_path / "r.db", TokenBook.parse("team=secret-team")) as relay:
            assert relay.started.is_set()
            url = f"ws://127.0.0.1:{relay.port}/relay"
            rooms = [
                await open_ws(
                    f"ws://127.0.0.1:{relay.port}/relay/yws/team/notes/d{i}?token={TEAM[1]}"
                )
                for i in range(30)
            ]
            s = await Session.open(url, TEAM, "c")
            await s.push(1, "notes", "d1", text_update("x"))
            await s.recv()
            for ws in rooms:
                assert ysync.parse(await ws.recv()).step == ysync.STEP1
            assert describe(relay)["rooms"] == 30 and describe(relay)["peers"] == 1
            for ws in rooms:
                await ws.close()
            await s.close()
            for _ in range(200):
                if not relay.spaces:
                    break
                await asyncio.sleep(0.01)
            assert relay.spaces == {}  # nothing kept for a space nobody is connected to
            assert describe(relay)["batches"] >= 1
        assert not relay.started.is_set()

    run(main())
