"""What a relay link does after it closes, when it renews its token, and its backoff.

Sans-I/O: no socket, no timer, no clock. Both relay adapters — CPython's
:class:`~yloft.sync.websocket.RelaySync` and the engine worker's ``relay-sync.js``
(through :mod:`yloft.browser.relay`) — ask this one policy, by way of
:meth:`yloft.sync.session.RelaySession.closed`, and only run the timers it names:

* **retry** after ``delay`` seconds: the relay went away, failed (1011), closed the link
  for something this device did (1002, 1003, 1009, a 1008 after WELCOME), or could
  not be reached.
* **renew** the token (ask ``get_token`` / ``getToken``), then connect after ``delay``:
  the token expired (4401; the backoff starts again from its shortest delay) or the
  relay refused it (1008 before WELCOME; the backoff keeps growing). Only when the
  adapter can get tokens.
* **stop**: a refused or expired token that nothing can renew does not fix itself, so
  the adapter stops reconnecting (local edits keep going into the outbox).

The backoff is y-websocket's one expression: ``min_backoff`` doubling up to
``max_backoff``, times a random factor in [0.5, 1.5) so that devices cut off together
do not come back together. It starts again from the shortest delay once a link caught
up (:meth:`LinkPolicy.reset`). A token is renewed ahead of its expiry
(:meth:`LinkPolicy.renew_in`): ``renew_before`` seconds before it, at most a fifth of
the time it has left.

Example:
    >>> from yloft.sync.closecodes import CloseCode
    >>> policy = LinkPolicy(renews=True, rng=lambda: 0.5)  # no jitter, for the example
    >>> [policy.after_close(CloseCode.INTERNAL_ERROR, welcomed=True).delay for _ in range(3)]
    [0.25, 0.5, 1.0]
    >>> policy.after_close(CloseCode.TOKEN_EXPIRED, welcomed=True)
    Decision(action='renew', delay=0.25)
    >>> LinkPolicy(renews=False).after_close(CloseCode.POLICY_VIOLATION, welcomed=False).action
    'stop'
    >>> policy.renew_in(expires_at=1_000_600, now=1_000_000)  # 60 s before a 10-minute token
    540.0
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..errors import SyncError
from .closecodes import CloseCode

Action = Literal["retry", "renew", "stop"]
MAX_DOUBLINGS = 32
"""The attempt counter stops growing here (the delay is long capped by then)."""


@dataclass(frozen=True)
class Decision:
    """What an adapter does after its link closed (or a token could not be fetched).

    Attributes:
        action: ``"retry"`` connect again after ``delay``; ``"renew"`` get a new token,
            then connect after ``delay``; ``"stop"`` do not reconnect.
        delay: seconds to wait first (0 for ``"stop"``).
        error: what went wrong, for the CPython adapter's ``last_error`` (None for a
            close the adapter asked for); not part of :meth:`to_dict`.
    """

    action: Action
    delay: float = 0.0
    error: SyncError | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, str | float]:
        """``{"action": ..., "delay": seconds}`` for the JS adapter."""
        return {"action": self.action, "delay": self.delay}


class LinkPolicy:
    """Reconnect, renewal and backoff decisions for one relay link.

    Args:
        renews: the adapter can fetch new tokens (``get_token`` / ``getToken``).
        min_backoff, max_backoff: the reconnect delays, in seconds, before jitter.
        renew_before: renew a token this many seconds before it expires (at most a
            fifth of its remaining lifetime); None: only after the relay closed the
            link for it (4401).
        rng: a function returning floats in [0, 1) (the jitter; tests pin it).

    Raises:
        ValueError: a delay that is not positive, or ``max_backoff < min_backoff``.
    """

    def __init__(
        self,
        *,
        renews: bool = False,
        min_backoff: float = 0.25,
        max_backoff: float = 10.0,
        renew_before: float | None = 60.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not 0 < min_backoff <= max_backoff:
            raise ValueError(
                f"backoff {min_backoff}..{max_backoff} s: pass 0 < min_backoff <= max_backoff"
            )
        if renew_before is not None and renew_before < 0:
            raise ValueError(f"renew_before={renew_before}: pass seconds >= 0, or None")
        self.renews = renews
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.renew_before = renew_before
        self.rng = rng
        self.attempt = 0
        """Attempts since the last link that caught up (each doubles the delay)."""

    def backoff(self) -> float:
        """The delay before the next attempt, jittered; counts the attempt."""
        delay = min(self.max_backoff, self.min_backoff * 2.0 ** min(self.attempt, MAX_DOUBLINGS))
        self.attempt = min(self.attempt + 1, MAX_DOUBLINGS)
        return delay * (0.5 + self.rng())

    def reset(self) -> None:
        """A link caught up (or the network is back): the next delay is the shortest."""
        self.attempt = 0

    def after_close(self, code: int, *, welcomed: bool, reopen: bool = False) -> Decision:
        """The decision for a link closed with ``code``.

        Args:
            code: the close code received (the one sent, when this side closed it).
            welcomed: the relay had accepted the link's HELLO.
            reopen: the adapter closed the link itself to reopen it with a renewed
                token: connect again at once.
        """
        if reopen:
            self.reset()
            return Decision("retry")
        if code == CloseCode.TOKEN_EXPIRED:
            if not self.renews:
                return Decision("stop")
            self.reset()  # a fresh token should work at once
            return Decision("renew", self.backoff())
        if code == CloseCode.POLICY_VIOLATION and not welcomed:
            return Decision("renew", self.backoff()) if self.renews else Decision("stop")
        return Decision("retry", self.backoff())

    def after_token_failure(self) -> Decision:
        """``get_token`` failed or gave no token: ask again after a backoff."""
        return Decision("renew", self.backoff())

    def renew_in(self, expires_at: float, now: float) -> float | None:
        """Seconds from ``now`` until a token expiring at ``expires_at`` (unix seconds,
        0 = never) should be renewed, or None when it will not be renewed ahead."""
        if not self.renews or self.renew_before is None or not expires_at:
            return None
        left = expires_at - now
        return max(0.0, left - min(self.renew_before, left / 5))


__all__ = ["Action", "Decision", "LinkPolicy"]
