"""Sync between yloft stores: the sans-I/O protocol core and its transports.

``protocol`` holds the binary messages shared by every transport; ``client`` is
the sans-I/O state machine of a device syncing a store with a relay; ``websocket``
runs that machine over a real websocket on CPython.
"""

from __future__ import annotations
