"""Sync between yloft stores: the sans-I/O protocol core and its transports.

``protocol`` holds the binary messages shared by every transport; ``client`` is
the sans-I/O state machine of a device syncing a store with a relay; ``session``
joins it to the store and is what every adapter runs, with ``policy`` (what a close
means, token renewal, backoff), ``closecodes`` (every websocket close code) and
``codec`` (where encryption or compression of update payloads goes). ``websocket``
runs the session over a real websocket on CPython; the engine worker's adapter is
``yloft.browser.relay``.
"""

from __future__ import annotations
