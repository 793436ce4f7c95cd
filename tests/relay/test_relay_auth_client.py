"""``RelaySync(get_token=...)`` (issue 18): tokens renewed before and after expiry,
refusals and read-only links shown in ``status``, local data and outbox kept; and the
example app backend of docs/auth.md issuing those tokens."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from authkit import Keys, dump_log
from conftest import RelayProcess
from relaykit import TEAM, edit, open_store, rows, run, until

from yloft.sync.websocket import RelaySync

ROOT = Path(__file__).resolve().parents[2]


def test_an_expired_token_is_renewed_through_get_token_and_nothing_is_lost(
    auth_relay: RelayProcess, keys: Keys, tmp_path: Path
) -> None:
    issued: list[float] = []

    def get_token() -> str:
        issued.append(time.time())
        return keys.token("ed", expires_in=2)

    a, b = open_store(tmp_path / "a.db"), open_store(tmp_path / "b.db")

    async def main() -> None:
        # renew_before=None: the relay closes each link at expiry (4401) and the client
        # fetches the next token then.
        async with RelaySync(a, auth_relay.url, "team", get_token=get_token,
                             renew_before=None, min_backoff=0.05) as sa, \
                RelaySync(b, auth_relay.url, *TEAM) as sb:  # fmt: skip
            await sa.wait_online()
            assert sa.status["auth"] == "ok" and sa.status["access"] == "read-write"
            ids = []
            for i in range(12):  # edits on both sides across three token lifetimes
                ids.append(a.collection("notes").create())
                edit(a, ids[-1], f"a{i}", "from a")
                edit(b, b.collection("notes").create(), f"b{i}", "from b")
                await asyncio.sleep(0.5)
            await until(lambda: len(issued) >= 3)
            await sa.wait_idle(60)
            await sb.wait_idle(60)
            await until(lambda: rows(a) == rows(b) and len(rows(a)) == 24, 60)
            assert sa.renewals == len(issued) >= 3

    run(main())
    a.close()
    b.close()
    auth_relay.wait_log("with 4401", count=2)


def test_tokens_are_renewed_before_they_expire(
    relay_factory: type[RelayProcess], keys: Keys, tmp_path: Path
) -> None:
    relay = relay_factory(*keys.relay_args())
    relay.start()
    calls: list[tuple[float, int]] = []  # (when asked, exp of the token given)

    def get_token() -> str:
        # 6 s: renewed 1.2 s before expiry, room for a slow event loop on a busy machine.
        token = keys.token("hs", expires_in=6)
        calls.append((time.time(), int(time.time()) + 6))
        return token

    store = open_store(tmp_path / "a.db")

    async def main() -> None:
        async with RelaySync(store, relay.url, "team", get_token=get_token) as sync:
            await sync.wait_online()
            await until(lambda: len(calls) >= 3, 30)
            edit(store, store.collection("notes").create(), "after renewals")
            await sync.wait_idle()

    run(main())
    store.close()
    # Each new token was asked for while the previous one was still valid.
    assert all(
        asked < prev_exp for (asked, _), (_, prev_exp) in zip(calls[1:], calls, strict=False)
    )


def test_a_refusal_shows_in_status_keeps_local_data_and_a_new_token_resumes(
    auth_relay: RelayProcess, keys: Keys, tmp_path: Path
) -> None:
    tokens = [keys.token("ed", spaces={"other": {"rights": ["read", "write"]}})]  # refused
    store = open_store(tmp_path / "a.db")

    def get_token() -> str:
        return tokens[-1]

    async def main() -> None:
        async with RelaySync(store, auth_relay.url, "team", get_token=get_token,
                             min_backoff=0.05, max_backoff=0.5) as sync:  # fmt: skip
            await until(lambda: sync.status["auth"] == "refused")
            assert "refused space 'team'" in sync.status["error"]
            nid = store.collection("notes").create()
            edit(store, nid, "written while refused", "kept")
            await until(lambda: sync.status["outbox"] == len(store.feed.to_send(0)) > 0)
            assert [r["title"] for r in rows(store)] == ["written while refused"]
            tokens.append(keys.token("es"))  # the backend grants access again
            await sync.wait_idle(30)
            assert sync.status["auth"] == "ok" and sync.status["error"] == ""

    run(main())
    changes = len(store.feed.to_send(0))
    store.close()
    assert sum(1 for r in dump_log(auth_relay) if r[0] == "log") == changes  # all of them


def test_a_read_only_link_sends_nothing_and_keeps_the_outbox(
    auth_relay: RelayProcess, keys: Keys, tmp_path: Path
) -> None:
    owner = open_store(tmp_path / "owner.db")
    viewer = open_store(tmp_path / "viewer.db")

    async def main() -> None:
        async with RelaySync(owner, auth_relay.url, *TEAM) as so:
            nid = owner.collection("notes").create()
            edit(owner, nid, "shared", "by the owner")
            await so.wait_idle()
            before = dump_log(auth_relay)
            viewer_token = keys.token("hs", write=False)
            async with RelaySync(viewer, auth_relay.url, "team", viewer_token) as sv:
                await sv.wait_online()
                await until(lambda: rows(viewer) == rows(owner))
                assert sv.status["access"] == "read-only"
                edit(viewer, nid, append=" and the viewer")
                await until(lambda: sv.status["outbox"] == 1)
                edit(owner, nid, append=" again")  # live updates still arrive
                await until(lambda: "again" in str(rows(viewer)[0]["body"]))
                await asyncio.sleep(0.5)
                assert sv.status["outbox"] == 1 and sv.connects == 1  # never closed
                assert "and the viewer" in str(rows(viewer)[0]["body"])
            await so.wait_idle()
            after = dump_log(auth_relay)
            assert len(after) == len(before) + 1  # only the owner's "again"

    run(main())
    owner.close()
    viewer.close()


def test_the_example_backend_issues_tokens_for_a_password(
    relay_factory: type[RelayProcess], keys: Keys, tmp_path: Path
) -> None:
    def hashed(password: str) -> str:
        out = subprocess.run([sys.executable, str(ROOT / "examples" / "auth_backend.py"),
                              "hash-password"], input=password + "\n", capture_output=True,
                             text=True, check=True, timeout=60)  # fmt: skip
        return out.stdout.strip()

    users = {
        "alice": {
            "password": hashed("alice-pw"),
            "spaces": {"team": {"rights": ["read", "write"]}},
        },
        "bob": {"password": hashed("bob-pw"), "spaces": {"team": {"rights": ["read"]}}},
    }
    (tmp_path / "users.json").write_text(json.dumps(users))
    backend = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "auth_backend.py"), "--port", "0",
         "--users", str(tmp_path / "users.json"), "--key", keys.signing("ed")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert backend.stdout is not None
        port = int(backend.stdout.readline().rsplit(":", 1)[1])
        relay = relay_factory(*keys.relay_args())
        relay.start()

        def login(user: str, password: str) -> tuple[int, dict[str, object]]:
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/token", method="POST",
                data=json.dumps({"user": user, "password": password}).encode(),
            )  # fmt: skip
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        assert login("alice", "wrong")[0] == 401
        assert login("nobody", "alice-pw")[0] == 401
        status, body = login("bob", "bob-pw")
        assert status == 200 and float(str(body["expires_at"])) > time.time()

        async def fetch(user: str, password: str) -> str:
            status, body = await asyncio.to_thread(login, user, password)
            assert status == 200
            return str(body["token"])

        stores = {u: open_store(tmp_path / f"{u}.db") for u in ("alice", "bob")}

        async def main() -> None:
            async with RelaySync(stores["alice"], relay.url, "team",
                                 get_token=lambda: fetch("alice", "alice-pw")) as sa, \
                    RelaySync(stores["bob"], relay.url, "team",
                              get_token=lambda: fetch("bob", "bob-pw")) as sb:  # fmt: skip
                await sa.wait_online()
                await sb.wait_online()
                assert (sa.status["access"], sb.status["access"]) == ("read-write", "read-only")
                edit(stores["alice"], stores["alice"].collection("notes").create(), "hi bob")
                await until(lambda: [r["title"] for r in rows(stores["bob"])] == ["hi bob"])

        run(main())
        for s in stores.values():
            s.close()
    finally:
        backend.terminate()
        backend.wait(30)
        if backend.stdout is not None:
            backend.stdout.close()
