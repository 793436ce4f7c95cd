"""A minimal app backend that issues relay tokens: check a password, return a signed token.

    python examples/auth_backend.py hash-password < password.txt   # prints a hash
    python examples/auth_backend.py --users users.json --key k1=keys/k1.pem --port 8080

``users.json`` maps each user to its password hash and what it may do per space (the
``spaces`` claim, docs/auth.md)::

    {"alice": {"password": "scrypt$…", "spaces": {"team": {"rights": ["read", "write"]}}},
     "bob": {"password": "scrypt$…", "spaces": {"team": {"rights": ["read"]}}}}

``POST /token`` with ``{"user": "alice", "password": "…"}`` answers 200 and
``{"token": "…", "expires_at": 1767225600}``; a wrong user or password gets 401, a
malformed request 400. The relay runs with the public half of the key
(``--jwt-key k1=keys/k1.pub``). Serve it over HTTPS in production (behind your usual
proxy); it binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from yloft_relay.auth import Key, load_key
from yloft_relay.tokens import issue, parse_duration

SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$<salt>$<hash>`` (stdlib ``hashlib.scrypt``, base64)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _kind, salt, _digest = stored.split("$")
        return hmac.compare_digest(hash_password(password, base64.b64decode(salt)), stored)
    except ValueError:
        return False


DUMMY = hash_password("an unknown user costs the same time")


def make_handler(users: dict[str, Any], key: Key, lifetime: float, audience: str) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/token":
                return self.answer(404, {"error": "POST /token"})
            try:
                size = int(self.headers.get("Content-Length", "0"))
                if not 0 < size <= 4096:
                    raise ValueError("body size")
                body = json.loads(self.rfile.read(size))
                user, password = body["user"], body["password"]
                if not isinstance(user, str) or not isinstance(password, str):
                    raise ValueError("user and password are strings")
            except (ValueError, KeyError, TypeError):
                return self.answer(400, {"error": 'send {"user": "…", "password": "…"}'})
            entry = users.get(user)
            ok = check_password(password, entry["password"] if entry else DUMMY)
            if entry is None or not ok:
                return self.answer(401, {"error": "wrong user name or password"})
            now = time.time()
            token = issue(key, user, entry["spaces"], expires_in=lifetime, audience=audience,
                          now=now)  # fmt: skip
            return self.answer(200, {"token": token, "expires_at": int(now + lifetime)})

        def answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"auth_backend: {format % args}\n")

    return Handler


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hash-password"]:
        print(hash_password(sys.stdin.readline().rstrip("\n")))
        return
    ap = argparse.ArgumentParser(prog="python examples/auth_backend.py", description=__doc__)
    ap.add_argument("--users", type=Path, required=True)
    ap.add_argument("--key", required=True, help="KID=PATH of the signing key")
    ap.add_argument("--expires", default="15m", help="token lifetime (default 15m)")
    ap.add_argument("--audience", default="yloft")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    args = ap.parse_args(argv)
    users = json.loads(args.users.read_text())
    handler = make_handler(users, load_key(args.key, private=True),
                           parse_duration(args.expires), args.audience)  # fmt: skip
    server = ThreadingHTTPServer((args.host, args.port), handler)
    print(f"auth backend listening on {args.host}:{server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
