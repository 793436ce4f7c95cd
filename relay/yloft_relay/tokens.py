"""Issue signed tokens: ``python -m yloft_relay token`` and :func:`issue` for app backends.

``python -m yloft_relay token --key KID=PATH --space S --user U [--read-only]
[--collection C] [--doc ID] [--expires 1h] [--audience yloft]`` prints one token on
stdout. PATH holds an HS256 secret (≥ 32 bytes) or a PEM *private* key (Ed25519 for
EdDSA, P-256 for ES256); the relay verifies with the same secret or the public key
under the same KID. ``--doc`` takes ``collection/id``, or ``id`` with one
``--collection`` (the scope is then those documents only).

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp(), "k1.secret")
    >>> _ = path.write_text("x" * 40)
    >>> from yloft_relay.auth import KeyRing, load_key
    >>> token = issue(load_key(f"k1={path}", private=True), "alice", {"team": space_claim()})
    >>> KeyRing([load_key(f"k1={path}")]).verify(token)["sub"]
    'alice'
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Any

import jwt

from .auth import DEFAULT_AUDIENCE, Key, load_key
from .config import ConfigError

__all__ = ["issue", "main", "parse_duration", "space_claim"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``45s``, ``30m``, ``1h`` or ``7d``.

    Raises:
        ConfigError: not a positive duration.
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if m is None or float(m.group(1)) <= 0:
        raise ConfigError(f"duration {text!r}: write a positive number with s, m, h or d")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def space_claim(
    *, write: bool = True, collections: list[str] | None = None, docs: list[str] | None = None
) -> dict[str, Any]:
    """One entry of the ``spaces`` claim (``docs`` as ``collection/doc_id``)."""
    claim: dict[str, Any] = {"rights": ["read", "write"] if write else ["read"]}
    if collections is not None:
        claim["collections"] = collections
    if docs is not None:
        claim["docs"] = docs
    return claim


def issue(
    key: Key,
    user: str,
    spaces: dict[str, dict[str, Any]],
    *,
    expires_in: float = 3600,
    audience: str = DEFAULT_AUDIENCE,
    now: float | None = None,
) -> str:
    """A signed token for ``user`` with ``spaces`` (see :func:`space_claim`).

    ``key`` is a signing key (:func:`~yloft_relay.auth.load_key` with ``private=True``).
    """
    issued = int(time.time() if now is None else now)
    claims = {"sub": user, "aud": audience, "iat": issued,
              "exp": issued + max(1, round(expires_in)), "spaces": spaces}  # fmt: skip
    return jwt.encode(claims, key.key, algorithm=key.alg, headers={"kid": key.kid})


def _parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m yloft_relay token", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--key", required=True, help="KID=PATH: HS256 secret or PEM private key")
    ap.add_argument("--space", required=True, action="append", help="repeatable")
    ap.add_argument("--user", required=True, help="the principal (the token's sub)")
    ap.add_argument("--read-only", action="store_true")
    ap.add_argument("--collection", action="append", default=None, help="repeatable")
    ap.add_argument("--doc", action="append", default=None,
                    help="collection/id, or id with one --collection; repeatable")  # fmt: skip
    ap.add_argument("--expires", default="1h", help="90, 45s, 30m, 1h, 7d (default 1h)")
    ap.add_argument("--audience", default=DEFAULT_AUDIENCE)
    return ap.parse_args(argv)


def _docs(args: argparse.Namespace) -> list[str]:
    out = []
    for doc in args.doc:
        if "/" in doc:
            out.append(doc)
        elif args.collection and len(args.collection) == 1:
            out.append(f"{args.collection[0]}/{doc}")
        else:
            raise ConfigError(f"--doc {doc!r}: write collection/id, or give one --collection")
    return out


def main(argv: list[str]) -> None:
    """The ``token`` command: print a signed token on stdout."""
    args = _parse(argv)
    try:
        key = load_key(args.key, private=True)
        if args.doc:
            claim = space_claim(write=not args.read_only, docs=_docs(args))
        else:
            claim = space_claim(write=not args.read_only, collections=args.collection)
        token = issue(key, args.user, {s: claim for s in args.space},
                      expires_in=parse_duration(args.expires), audience=args.audience)  # fmt: skip
    except ConfigError as exc:
        print(f"yloft_relay token: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(token)
