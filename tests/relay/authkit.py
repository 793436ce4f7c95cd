"""Keys, tokens and log dumps for the access-control tests (issue 18)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pycrdt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from relaykit import open_ws
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from yloft.sync import protocol as p

if TYPE_CHECKING:
    from conftest import RelayProcess
from yloft_relay.auth import load_key
from yloft_relay.tokens import issue, space_claim


@dataclass(frozen=True)
class Keys:
    """Key files of the three kinds a relay accepts (private halves sign, public verify)."""

    folder: Path

    @classmethod
    def make(cls, folder: Path) -> Keys:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hs.secret").write_text("hs-secret-" + "s" * 40 + "\n")
        (folder / "other.secret").write_text("another-secret-" + "o" * 40 + "\n")
        pairs: dict[str, Any] = {
            "ed": ed25519.Ed25519PrivateKey.generate(),
            "es": ec.generate_private_key(ec.SECP256R1()),
        }
        for name, priv in pairs.items():
            (folder / f"{name}.pem").write_bytes(
                priv.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            (folder / f"{name}.pub").write_bytes(
                priv.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
        return cls(folder)

    def relay_args(self) -> list[str]:
        """--jwt-key flags: HS256 secret, EdDSA and ES256 public keys."""
        f = self.folder
        return ["--jwt-key", f"hs={f / 'hs.secret'}", "--jwt-key", f"ed={f / 'ed.pub'}",
                "--jwt-key", f"es={f / 'es.pub'}"]  # fmt: skip

    def signing(self, kid: str) -> str:
        """``KID=PATH`` of the signing half of ``kid``."""
        name = {"hs": "hs.secret", "ed": "ed.pem", "es": "es.pem"}[kid]
        return f"{kid}={self.folder / name}"

    def token(
        self,
        kid: str = "hs",
        user: str = "alice",
        spaces: dict[str, dict[str, Any]] | None = None,
        *,
        write: bool = True,
        expires_in: float = 3600,
        **claim: Any,
    ) -> str:
        spaces = spaces or {"team": space_claim(write=write, **claim)}
        return issue(load_key(self.signing(kid), private=True), user, spaces,
                     expires_in=expires_in)  # fmt: skip


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    """A token made by hand, as an attacker would: unsigned or HMAC'd with ``secret``."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if secret is None:
        return signing_input + "."
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def claims_for(space: str = "team", *, write: bool = True, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "mallory", "aud": "yloft", "iat": now, "exp": now + 3600,
            "spaces": {space: space_claim(write=write)}, **extra}  # fmt: skip


def dump_log(relay: RelayProcess) -> list[tuple[object, ...]]:
    """Every row of the relay's log, client table and heads, byte for byte, sorted."""
    db = str(relay.db)
    if db.startswith("postgresql://"):
        with psycopg.connect(db, autocommit=True) as conn:
            out = [("log", *r) for r in conn.execute("SELECT * FROM yloft_log")]
            out += [("clients", *r) for r in conn.execute("SELECT * FROM yloft_clients")]
            out += [("spaces", *r) for r in conn.execute("SELECT * FROM yloft_spaces")]
    else:
        import sqlite3

        conn2 = sqlite3.connect(db)
        try:
            out = [("log", *r) for r in conn2.execute("SELECT * FROM log")]
            out += [("clients", *r) for r in conn2.execute("SELECT * FROM clients")]
        finally:
            conn2.close()
    return sorted(out, key=repr)


def log_state(relay: RelayProcess) -> tuple[list[tuple[object, ...]], dict[str, bytes]]:
    """What the relay holds, unchanged by compaction: each document's merged Yjs state
    (its log rows applied in seq order) and every other row byte for byte.

    For "nothing was stored" checks on a relay that compacts: compaction may merge a
    document's rows at any moment, which changes ``dump_log`` but not this.
    """
    rows = dump_log(relay)
    docs: dict[str, pycrdt.Doc[Any]] = {}
    for row in sorted((r for r in rows if r[0] == "log"), key=lambda r: int(str(r[2]))):
        _, space, _seq, collection, doc_id, data = row
        doc = docs.setdefault(f"{space}/{collection}/{doc_id}", pycrdt.Doc())
        doc.apply_update(bytes(data))  # type: ignore[call-overload]
    return [r for r in rows if r[0] != "log"], {k: d.get_update() for k, d in docs.items()}


async def hello_and_collect(
    url: str, space: str, token: str, client_id: str = "probe", timeout: float = 20
) -> tuple[int | None, list[bytes]]:
    """HELLO, then every frame until the relay closes (code) or goes quiet (None)."""
    ws = await open_ws(url, max_size=None)
    await ws.send(p.encode(p.Hello(space, token, client_id, 0)))
    return await collect(ws, timeout)


async def collect(ws: ClientConnection, timeout: float) -> tuple[int | None, list[bytes]]:
    got: list[bytes] = []
    try:
        while True:
            frame = await asyncio.wait_for(ws.recv(), timeout)
            assert isinstance(frame, bytes)
            got.append(frame)
    except TimeoutError:
        return None, got
    except ConnectionClosed as exc:
        return (exc.rcvd.code if exc.rcvd else None), got
