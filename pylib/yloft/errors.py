"""The exception tree of yloft.

Everything yloft raises on purpose derives from :class:`YloftError`, so an app can
catch one type. Each message says what went wrong *and what to do about it*.

::

    YloftError
     ├── ProtocolError        a sync message is malformed or breaks the protocol
     └── SyncError(OSError)   the relay is unreachable, refused us, or closed the link
          └── AuthError        the relay refused the space/token
"""

from __future__ import annotations


class YloftError(Exception):
    """Root of every error yloft raises on purpose."""


class ProtocolError(YloftError):
    """A sync message is malformed, truncated, too large or out of order.

    Raised by :mod:`yloft.sync.protocol` decoders; the peer that sent it is buggy or
    hostile, so drop that connection (the relay closes it with code 1002).
    """


class SyncError(YloftError, OSError):
    """The relay could not be reached or closed the connection; retried with backoff."""


class AuthError(SyncError):
    """The relay refused the space or token: check the space name and token you configured."""
