"""yloft_relay: the websocket relay that syncs yloft spaces between devices."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
