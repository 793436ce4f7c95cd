"""The relay runs on uvloop when it is installed and on asyncio's loop when asked."""

from __future__ import annotations

import sys

import pytest
from conftest import RelayProcess
from relaykit import TEAM, Session, run, text_update

from yloft.sync import protocol as p
from yloft_relay.__main__ import loop_factory
from yloft_relay.config import ConfigError


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_the_relay_serves_on_either_event_loop(
    relay_factory: type[RelayProcess], loop: str
) -> None:
    relay = relay_factory("--loop", loop)
    relay.start()

    async def main() -> None:
        a = await Session.open(relay.url, TEAM, "a")
        b = await Session.open(relay.url, TEAM, "b")
        await a.push(1, "notes", "n1", text_update("hello"))
        assert await a.recv() == p.Ack(1, 1)
        got = await b.recv()
        assert isinstance(got, p.Update) and got.entry.seq == 1
        await a.close()
        await b.close()

    run(main())
    assert f"event loop: {loop}" in relay.wait_log("event loop")


def test_auto_falls_back_to_asyncio_and_uvloop_alone_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvloop

    assert loop_factory("auto") is uvloop.new_event_loop
    assert loop_factory("asyncio") is None
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if it were not installed
    assert loop_factory("auto") is None
    with pytest.raises(ConfigError, match=r'pip install "yloft\[relay\]"'):
        loop_factory("uvloop")
