"""Browser-side entry points: what the engine worker drives (see ``engine.py``)."""

from __future__ import annotations

from .engine import AppFunctionError, Engine

__all__ = ["AppFunctionError", "Engine"]
