"""The ``--auth module:function`` decision hook, on one SQLite relay and on every
process of a two-process PostgreSQL cluster (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest
from authkit import Keys, hello_and_collect, log_state
from conftest import RelayProcess
from relaykit import TEAM, Session, run, text_update
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from yloft.sync import protocol as p

HOOK = """
import asyncio

from yloft_relay.auth import Grant


def decide(req):
    if req.token == "boom":
        raise RuntimeError("the membership database is down")
    if req.claims is None:  # not a signed token: our own opaque viewer tokens
        if req.token.startswith("viewer:"):
            return Grant(req.token.removeprefix("viewer:"), req.space, write=False)
        return req.grant  # shared secrets as the relay decided
    if req.claims["sub"] == "mallory":  # a valid signature, but no longer a member
        return None
    if req.grant is not None:
        return req.grant.narrowed(hidden=frozenset({("notes", "hidden")}))
    return None


async def decide_async(req):
    await asyncio.sleep(0)
    return decide(req)
"""


@pytest.fixture(params=["sqlite", "postgres-cluster"])
def hooked(
    relay_factory: type[RelayProcess], keys: Keys, tmp_path: Path, request: pytest.FixtureRequest
) -> list[RelayProcess]:
    """One relay with the sync hook (SQLite), or two processes with the async one (PG)."""
    (tmp_path / "hookmod.py").write_text(HOOK)
    env = {"PYTHONPATH": str(tmp_path)}
    if request.param == "sqlite":
        relays = [relay_factory(*keys.relay_args(), "--auth", "hookmod:decide", env=env)]
    else:
        db = request.getfixturevalue("pg").new_db()
        relays = [
            relay_factory(*keys.relay_args(), "--auth", "hookmod:decide_async", db=db, env=env)
            for _ in range(2)
        ]
    for r in relays:
        r.start()
    return relays


def test_the_hook_decides_on_every_process(hooked: list[RelayProcess], keys: Keys) -> None:
    async def main() -> None:
        owner = await Session.open(hooked[0].url, TEAM, "owner")
        await owner.push(1, "notes", "hidden", text_update("members only"))
        await owner.push(2, "notes", "n1", text_update("for everyone"))
        assert [await owner.recv(), await owner.recv()] == [p.Ack(1, 1), p.Ack(2, 2)]
        for i, relay in enumerate(hooked):
            before = log_state(relay)
            # An opaque token the hook understands: read-only.
            vic = await Session.open(relay.url, ("team", "viewer:vic"), f"vic{i}")
            assert vic.access == p.Access(False, 0)
            assert {e.doc_id for e in vic.entries} == {"hidden", "n1"}
            await vic.push(1, "notes", "n1", text_update("no"))
            assert (await hello_and_collect(relay.url, "team", "nope"))[0] == 1008
            # A valid signed token the hook narrows: the hidden document never shows.
            alice = await Session.open(relay.url, ("team", keys.token("ed")), f"alice{i}")
            assert [e.doc_id for e in alice.entries] == ["n1"]
            with pytest.raises(InvalidStatus) as info:
                await connect(relay.room_url("team", "notes", "hidden", keys.token("ed")))
            assert info.value.response.status_code == 403
            # A valid signed token the hook refuses, and a hook that fails.
            mallory = keys.token("es", user="mallory")
            assert await hello_and_collect(relay.url, "team", mallory) == (1008, [])
            assert await hello_and_collect(relay.url, "team", "boom") == (1011, [])
            with pytest.raises(InvalidStatus) as info:
                await connect(relay.room_url("team", "notes", "n1", "boom"))
            assert info.value.response.status_code == 500
            code = None
            while code is None:  # vic's push was refused meanwhile
                try:
                    await vic.recv()
                except Exception as exc:
                    code = getattr(getattr(exc, "rcvd", None), "code", -1)
            assert code == 1008
            assert log_state(relay) == before
            await alice.close()

    run(main())
    for relay in hooked:
        relay.wait_log("the membership database is down")  # with its traceback
        relay.wait_log("may not write there (read-only)")


def test_the_hook_example_in_docs_auth_md_runs() -> None:
    """docs/auth.md's hook example: members of the space pass, everyone else is refused."""
    import re

    from yloft_relay.auth import AuthRequest, Grant

    text = (Path(__file__).resolve().parents[2] / "docs" / "auth.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def decide" in b)
    scope: dict[str, object] = {}
    exec(compile(block, "docs/auth.md", "exec"), scope)
    decide = scope["decide"]
    alice = Grant("alice", "team", write=False)
    assert decide(AuthRequest("team", "t", None, alice)) == alice  # type: ignore[operator]
    bob = Grant("bob", "team")
    assert decide(AuthRequest("team", "t", None, bob)) is None  # type: ignore[operator]
    assert decide(AuthRequest("team", "t", None, None)) is None  # type: ignore[operator]
