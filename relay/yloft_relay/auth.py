"""Who may read and write what: shared secrets, signed tokens (JWT) and a decision hook.

A connection's token is turned into a :class:`Grant` — a principal, the space, whether
it may write, and which documents it may see — by a :class:`Gate`, once, before the
relay sends anything. Three sources, in this order:

1. **Signed tokens** (``--jwt-key KID=PATH``, repeatable): a token that looks like a
   JWT is verified with PyJWT against the key its ``kid`` header names, with that
   key's one algorithm (HS256 for a secret, EdDSA or ES256 for a PEM public key), so
   ``alg=none`` and algorithm swaps fail like a bad signature. ``aud`` must be the
   relay's audience (``--jwt-audience``, default ``yloft``); ``exp`` and ``sub`` are
   required. The ``spaces`` claim says what the principal gets per space::

       {"sub": "alice", "aud": "yloft", "exp": 1767225600,
        "spaces": {"team": {"rights": ["read", "write"],
                            "collections": ["notes"], "docs": ["tasks/t1"]}}}

   ``collections``/``docs`` (``collection/doc_id``) are optional allow-lists: with
   neither, the whole space; with either, only what they name.
2. **Shared secrets** (``--tokens space=secret``): read and write, whole space, no expiry.
3. **A decision hook** (``--auth module:function``): called with an
   :class:`AuthRequest` (the space, the raw token, the verified claims or None, the
   built-in decision or None, and for y-websocket rooms the document) and returns a
   :class:`Grant` (for example ``request.grant`` narrowed) or None to refuse. It may be
   a coroutine function. Its word is final, except that a forged or expired signed
   token never reaches it.

Refusals raise :class:`Refused` with the websocket close code (:class:`CloseCode`):
``POLICY_VIOLATION`` (1008) for a token that does not open the space (bad signature,
unknown ``kid``, ``alg=none``, wrong audience, no right to the space),
``TOKEN_EXPIRED`` (4401) for an expired token. See docs/auth.md.

Example:
    >>> import asyncio
    >>> from yloft_relay.config import TokenBook
    >>> gate = Gate(tokens=TokenBook.parse("team=s3cret"))
    >>> grant = asyncio.run(gate.admit("team", "s3cret"))
    >>> grant.write, grant.sees("notes", "n1")
    (True, True)
"""

from __future__ import annotations

import importlib
import inspect
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from yloft.sync.closecodes import CloseCode

from .config import ConfigError, TokenBook

DEFAULT_AUDIENCE = "yloft"
MIN_SECRET_BYTES = 32

__all__ = [
    "AuthRequest", "Gate", "Grant", "Key", "KeyRing", "Refused", "load_hook", "load_key",
]  # fmt: skip


class Refused(Exception):
    """The gate refuses a connection; ``code`` is the websocket close code to use."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Grant:
    """What one connection may do in one space.

    Attributes:
        principal: who (a JWT's ``sub``; ``token:<space>`` for a shared secret).
        space: the space it was admitted to.
        write: may push updates (else read-only: catch-up, updates, awareness).
        collections: collections it may see in full; None with ``docs`` None: all.
        docs: single documents ``(collection, doc_id)`` it may see besides.
        hidden: documents it may never see, whatever the rest says (for hooks).
        expires_at: unix time when the connection is closed with 4401; None: never.
    """

    principal: str
    space: str
    write: bool = True
    collections: frozenset[str] | None = None
    docs: frozenset[tuple[str, str]] | None = None
    hidden: frozenset[tuple[str, str]] = frozenset()
    expires_at: float | None = None

    @property
    def whole_space(self) -> bool:
        """True when every document of the space is visible (the fast path)."""
        return self.collections is None and self.docs is None and not self.hidden

    def sees(self, collection: str, doc_id: str) -> bool:
        """True when the document may appear in anything this connection receives."""
        if (collection, doc_id) in self.hidden:
            return False
        if self.collections is None and self.docs is None:
            return True
        if self.collections is not None and collection in self.collections:
            return True
        return self.docs is not None and (collection, doc_id) in self.docs

    def narrowed(self, **changes: Any) -> Grant:
        """A copy with some fields changed (``dataclasses.replace``), for hooks."""
        return replace(self, **changes)


@dataclass(frozen=True)
class AuthRequest:
    """What a decision hook is asked about one connection."""

    space: str
    token: str
    claims: Mapping[str, Any] | None
    """The verified claims of a signed token; None for any other token."""
    grant: Grant | None
    """What the built-in checks decided (None: they refuse)."""
    collection: str | None = None
    doc_id: str | None = None
    """The document of a y-websocket room; None on the space protocol."""


Hook = Callable[[AuthRequest], "Grant | Awaitable[Grant | None] | None"]


# ---------------------------------------------------------------- keys


@dataclass(frozen=True)
class Key:
    """One key: its id, its single algorithm, and the key object PyJWT takes."""

    kid: str
    alg: str
    key: Any


def _alg_of(key: Any) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "EdDSA"
    ecdsa = isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey)
    if ecdsa and key.curve.name == "secp256r1":
        return "ES256"
    raise ConfigError(
        f"a {type(key).__name__} is not supported: use an Ed25519 (EdDSA) or P-256 (ES256) key"
    )


def load_key(spec: str, *, private: bool = False) -> Key:
    """Read ``KID=PATH``: an HS256 secret (≥ 32 bytes) or a PEM key (EdDSA or ES256).

    With ``private`` (signing) a PEM file must hold the private key; otherwise the
    public key (a private key file is accepted too: its public half is used).

    Raises:
        ConfigError: the spec, the file or the key is not usable; the message says why.
    """
    kid, sep, path_text = spec.partition("=")
    if not sep or not kid.strip() or not path_text.strip():
        raise ConfigError(f"key {spec!r}: write KID=PATH (for example k1=keys/k1.pem)")
    kid, path = kid.strip(), Path(path_text.strip())
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read key {kid!r} from {path}: {exc}") from exc
    if raw.lstrip().startswith(b"-----BEGIN"):
        loaded: Any
        try:
            if b"PRIVATE KEY" in raw:
                loaded = serialization.load_pem_private_key(raw, password=None)
                if not private:
                    loaded = loaded.public_key()
            elif private:
                raise ConfigError(f"key {kid!r} in {path} is public: signing needs the private key")
            else:
                loaded = serialization.load_pem_public_key(raw)
        except ValueError as exc:
            raise ConfigError(f"key {kid!r} in {path} is not a PEM key: {exc}") from exc
        return Key(kid, _alg_of(loaded), loaded)
    secret = raw.strip()
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"HS256 secret {kid!r} in {path} has {len(secret)} bytes; use at least "
            f"{MIN_SECRET_BYTES} (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return Key(kid, "HS256", secret)


class KeyRing:
    """The keys a relay accepts, by ``kid``; verifies tokens with PyJWT."""

    def __init__(self, keys: list[Key], audience: str = DEFAULT_AUDIENCE) -> None:
        self.keys: dict[str, Key] = {}
        for key in keys:
            if key.kid in self.keys:
                raise ConfigError(f"key id {key.kid!r} is given twice: give each key its own id")
            self.keys[key.kid] = key
        self.audience = audience

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token.

        Raises:
            Refused: 4401 when it expired, 1008 for anything else wrong with it.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Refused(CloseCode.POLICY_VIOLATION, f"not a valid signed token: {exc}") from None
        kid = header.get("kid")
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Refused(
                CloseCode.POLICY_VIOLATION, f"the token's key id {kid!r} is not one this relay has"
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.alg],
                audience=self.audience,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Refused(CloseCode.TOKEN_EXPIRED, "the token expired: get a new one") from None
        except jwt.InvalidTokenError as exc:
            raise Refused(CloseCode.POLICY_VIOLATION, f"token refused: {exc}") from None
        if not isinstance(claims.get("sub"), str) or not isinstance(claims["exp"], int | float):
            raise Refused(CloseCode.POLICY_VIOLATION, "token refused: 'sub' must be a string")
        return claims


def looks_like_jwt(token: str) -> bool:
    """A compact JWS (``header.payload.signature``, header starting ``{"``)."""
    return token.count(".") == 2 and token.startswith("eyJ")


def _names(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise Refused(CloseCode.POLICY_VIOLATION, f"token refused: {what} must be a list of names")
    return value


def grant_from_claims(claims: Mapping[str, Any], space: str) -> Grant | None:
    """The grant a verified token gives in ``space`` (None: none).

    Raises:
        Refused: the ``spaces`` claim is malformed (1008).
    """
    spaces = claims.get("spaces")
    if not isinstance(spaces, dict):
        raise Refused(
            CloseCode.POLICY_VIOLATION, "token refused: it has no 'spaces' claim (an object)"
        )
    entry = spaces.get(space)
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise Refused(
            CloseCode.POLICY_VIOLATION, f"token refused: spaces[{space!r}] must be an object"
        )
    rights = set(_names(entry.get("rights"), "rights"))
    if not rights <= {"read", "write"}:
        raise Refused(CloseCode.POLICY_VIOLATION, "token refused: rights are 'read' and 'write'")
    if "read" not in rights:
        return None
    collections = docs = None
    if "collections" in entry:
        collections = frozenset(_names(entry["collections"], "collections"))
    if "docs" in entry:
        pairs = [d.partition("/") for d in _names(entry["docs"], "docs")]
        if not all(sep and c and d for c, sep, d in pairs):
            raise Refused(CloseCode.POLICY_VIOLATION, "token refused: docs are 'collection/doc_id'")
        docs = frozenset((c, d) for c, _sep, d in pairs)
    exp = float(claims["exp"])
    return Grant(str(claims["sub"]), space, "write" in rights, collections, docs,
                 expires_at=exp if math.isfinite(exp) else None)  # fmt: skip


# ---------------------------------------------------------------- the gate


def load_hook(spec: str) -> Hook:
    """Import ``module:function`` (the module must be importable, e.g. on PYTHONPATH).

    Raises:
        ConfigError: the spec is malformed, or the module or function is missing.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"--auth {spec!r}: write module:function (for example myapp.auth:decide)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"--auth {spec!r}: cannot import {module_name}: {exc}") from exc
    hook = getattr(module, attr, None)
    if not callable(hook):
        raise ConfigError(f"--auth {spec!r}: {module_name} has no function {attr!r}")
    return hook  # type: ignore[no-any-return]


class Gate:
    """Turns (space, token) into a :class:`Grant`, or raises :class:`Refused`."""

    def __init__(
        self,
        tokens: TokenBook | None = None,
        keys: KeyRing | None = None,
        hook: Hook | None = None,
    ) -> None:
        if tokens is None and keys is None and hook is None:
            raise ConfigError("no way to admit anyone: pass --tokens, --jwt-key or --auth")
        self.tokens = tokens
        self.keys = keys
        self.hook = hook

    async def admit(
        self, space: str, token: str, collection: str | None = None, doc_id: str | None = None
    ) -> Grant:
        """The grant of this token in ``space`` (for a room: that document must be visible).

        Raises:
            Refused: with the close code (1008 refused, 4401 expired).
            Exception: whatever the hook raised (the relay closes with 1011).
        """
        if not space:
            raise Refused(CloseCode.POLICY_VIOLATION, "wrong or missing token: no space given")
        claims: dict[str, Any] | None = None
        grant: Grant | None = None
        if self.keys is not None and looks_like_jwt(token):
            claims = self.keys.verify(token)
            grant = grant_from_claims(claims, space)
        elif self.tokens is not None and self.tokens.check(space, token):
            grant = Grant(f"token:{space}", space)
        if self.hook is not None:
            answer = self.hook(AuthRequest(space, token, claims, grant, collection, doc_id))
            if inspect.isawaitable(answer):
                answer = await answer
            if answer is not None and not isinstance(answer, Grant):
                raise TypeError(f"the --auth hook returned {answer!r}: return a Grant or None")
            grant = answer
        if grant is None or grant.space != space:
            raise Refused(CloseCode.POLICY_VIOLATION, "wrong or missing token for this space")
        if grant.expires_at is not None and grant.expires_at <= time.time():
            raise Refused(CloseCode.TOKEN_EXPIRED, "the token expired: get a new one")
        if collection is not None and doc_id is not None and not grant.sees(collection, doc_id):
            raise Refused(CloseCode.POLICY_VIOLATION, "this token does not open that document")
        return grant
