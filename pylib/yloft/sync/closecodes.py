"""Every websocket close code yloft sends or reads: the relay, both clients and the JS.

The relay closes a connection with one of these codes and a reason; a client's session
(:meth:`yloft.sync.session.RelaySession.closed`) reads them to decide what to do next.
The browser's adapter takes the same values from ``web/worker/close-codes.js``, which is
generated from this enum (``python -m yloft.sync.closecodes > web/worker/close-codes.js``)
and compared with it by ``tests/unit/test_closecodes.py``.

Example:
    >>> CloseCode(4401).name, CloseCode.POLICY_VIOLATION == 1008
    ('TOKEN_EXPIRED', True)
    >>> CloseCode.ABNORMAL_CLOSURE in QUIET
    True
"""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    """Websocket close codes (RFC 6455 names, as in ``websockets.frames.CloseCode``)."""

    NORMAL_CLOSURE = 1000
    """A normal stop: a client leaving, or reopening its link with a renewed token."""
    GOING_AWAY = 1001
    """The peer is going away (a relay shutting down, a page closing)."""
    PROTOCOL_ERROR = 1002
    """A malformed frame or a message out of order."""
    UNSUPPORTED_DATA = 1003
    """A text frame, or an update that is not a Yjs v1 update."""
    NO_STATUS_RCVD = 1005
    """Never sent: the close frame carried no code."""
    ABNORMAL_CLOSURE = 1006
    """Never sent: the connection dropped (or could not be opened) without a close frame."""
    POLICY_VIOLATION = 1008
    """Refused: a token that does not open the space (before WELCOME), a write without
    the right to, no HELLO in time, a slow reader."""
    MESSAGE_TOO_BIG = 1009
    """A frame over the relay's ``--max-frame``."""
    INTERNAL_ERROR = 1011
    """The relay could not store a push, its log is unreachable, or it failed: retry later."""
    CLIENT_DROPPED = 4000
    """The browser client dropped the link itself (a bad frame, the browser went offline):
    a page may only send 1000 or 3000-4999, so its own reason goes with this code."""
    TOKEN_EXPIRED = 4401
    """The token expired (at HELLO, or while connected): get a new one and reconnect."""


QUIET = frozenset(
    {
        CloseCode.NORMAL_CLOSURE,
        CloseCode.GOING_AWAY,
        CloseCode.NO_STATUS_RCVD,
        CloseCode.ABNORMAL_CLOSURE,
    }
)
"""Closes that say nothing went wrong on the other side: not logged by the relay, not an
error in a client's status (an unreachable relay is retried, not reported)."""


def js_module() -> str:
    """The ES module ``web/worker/close-codes.js``: the same names and values."""
    lines = [
        "// Generated from yloft.sync.closecodes by `python -m yloft.sync.closecodes`: do not",
        "// edit; tests/unit/test_closecodes.py fails when this file and the enum differ.",
        "",
        "/** Websocket close codes of the relay and its clients (yloft.sync.closecodes). */",
        "export const CloseCode = Object.freeze({",
        *(f"  {code.name}: {code.value}," for code in CloseCode),
        "});",
    ]
    return "\n".join(lines) + "\n"


__all__ = ["QUIET", "CloseCode", "js_module"]

if __name__ == "__main__":
    print(js_module(), end="")
