"""The Relay class in-process: async-with lifecycle, and idle spaces/rooms unloaded."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from relaykit import TEAM, Session, open_ws, run, text_update

from yloft_relay import ysync
from yloft_relay.config import TokenBook
from yloft_relay.server import Relay, describe

ROOT = Path(__file__).resolve().parents[2]


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


def taken_port_run(cmd: list[str], port: int) -> subprocess.CompletedProcess[str]:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.mark.parametrize("via", ["relay", "build.py serve"])
def test_a_taken_port_is_one_clear_line(via: str, tmp_path: Path) -> None:
    port = free_port()
    if via == "relay":
        cmd = [sys.executable, "-m", "yloft_relay", "--port", str(port), "--db",
               str(tmp_path / "r.db"), "--tokens", "team=x", "--static", str(tmp_path)]  # fmt: skip
    else:
        cmd = [sys.executable, str(ROOT / "build.py"), "serve", "--port", str(port),
               "--relay-db", str(tmp_path / "r.db")]  # fmt: skip
    done = taken_port_run(cmd, port)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "Traceback" not in out and "serving" not in out and "listening" not in out, out
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"port {port}" in lines[0] and "--port N" in lines[0], out


def test_a_first_start_on_a_taken_port_moves_to_another(relay_factory: type[Any]) -> None:
    """free_port() can hand out a port another process takes before the relay binds it:
    the test relay then starts on another one (a restart keeps its port)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        relay = relay_factory()
        relay.port = taken.getsockname()[1]
        relay.start()
        assert relay.alive() and relay.port != taken.getsockname()[1]
        assert "already in use" in relay.log_text()
        port = relay.port
        relay.stop()
        relay.start()
        assert relay.alive() and relay.port == port
