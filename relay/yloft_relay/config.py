"""Relay settings: limits and the per-space token book.

Example:
    >>> book = TokenBook.parse("team=s3cret,alice=pa55")
    >>> book.check("team", "s3cret"), book.check("team", "nope"), book.check("bob", "x")
    (True, False, False)
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path

from yloft.errors import YloftError


class ConfigError(YloftError):
    """The relay's command line or token file is wrong; the message says which part."""


@dataclass(frozen=True)
class Limits:
    """Bounds that keep one connection from hurting the others."""

    max_frame_bytes: int = 1 << 20
    """Largest frame accepted (close code 1009 above it)."""
    max_pending_bytes: int = 8 << 20
    """Bytes written to one connection and not read by its client yet (its transport's
    buffer) before it counts as a slow reader (1008)."""
    rate_per_s: float = 500.0
    """Sustained messages per second per connection (1008 above it)."""
    rate_burst: float = 2000.0
    hello_timeout_s: float = 10.0
    catchup_frame_bytes: int = 256 * 1024
    compact_after: int = 64
    """Rows of one document's log that trigger its compaction."""
    compact_max_rows: int = 4096
    """Rows merged in one compaction step (bounds the time it holds the writer)."""
    batch_max: int = 2048
    """Pushes committed together in one transaction at most."""
    poll_s: float = 1.0
    """PostgreSQL log: how often loaded spaces' heads are read besides NOTIFY wake-ups."""
    opaque_updates: bool = False
    """Store and forward pushed updates without reading them (clients with a codec that
    encrypts or compresses): no Yjs check, no merging at catch-up, no compaction, no
    y-websocket rooms (docs/protocol.md)."""


class TokenBook:
    """Which token opens which space; compared in constant time."""

    def __init__(self, tokens: dict[str, str]) -> None:
        for space, token in tokens.items():
            if not space or not token:
                raise ConfigError(f"space {space!r} has an empty name or token: give both")
        self._tokens = {s: t.encode() for s, t in tokens.items()}

    @classmethod
    def parse(cls, spec: str) -> TokenBook:
        """Read ``space=token,space2=token2``, or ``@path`` to a file of ``space=token`` lines."""
        if spec.startswith("@"):
            path = Path(spec[1:])
            try:
                text = path.read_text()
            except OSError as exc:
                raise ConfigError(f"cannot read token file {path}: {exc}") from exc
            items = [ln.strip() for ln in text.splitlines()]
            items = [ln for ln in items if ln and not ln.startswith("#")]
        else:
            items = [part.strip() for part in spec.split(",") if part.strip()]
        tokens: dict[str, str] = {}
        for item in items:
            space, sep, token = item.partition("=")
            if not sep:
                raise ConfigError(f"token entry {item!r} has no '=': write space=token")
            tokens[space.strip()] = token.strip()
        if not tokens:
            raise ConfigError("no tokens given: pass --tokens space=token[,space2=token2]")
        return cls(tokens)

    def check(self, space: str, token: str) -> bool:
        """True when ``token`` opens ``space``; the compare takes the same time either way."""
        expected = self._tokens.get(space)
        given = token.encode()
        if expected is None:
            hmac.compare_digest(given, given)
            return False
        return hmac.compare_digest(expected, given)
