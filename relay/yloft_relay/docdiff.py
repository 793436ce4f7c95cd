"""Checking and diffing stored Yjs updates without keeping a document in memory.

Example:
    >>> valid_update(b"\\x00\\x00"), valid_update(b"junk")
    (True, False)
    >>> diff_for([], None)
    b'\\x00'
"""

from __future__ import annotations

import logging
from typing import Any

import pycrdt

log = logging.getLogger("yloft_relay")
EMPTY_UPDATE = b"\x00\x00"

__all__ = ["EMPTY_UPDATE", "diff_for", "valid_update"]


def valid_update(update: bytes) -> bool:
    """True when ``update`` decodes as a Yjs v1 update (decoding only, no document)."""
    try:
        pycrdt.get_state(update)
    except Exception:
        return False
    return True


def diff_for(updates: list[bytes], state_vector: bytes | None) -> bytes:
    """State vector (``state_vector is None``) or diff of a document stored as ``updates``.

    Fast path: merge the updates without a document. Updates that each decode can
    still merge into bytes that do not (hostile or buggy peers); then the updates
    are applied to a document one by one, skipping any that fails, so one bad
    update cannot make the whole document unservable.
    """
    try:
        merged = pycrdt.merge_updates(*updates) if updates else EMPTY_UPDATE
        if state_vector is None:
            return pycrdt.get_state(merged)
        return pycrdt.get_update(merged, state_vector)
    except ValueError:
        doc: pycrdt.Doc[Any] = pycrdt.Doc()
        for i, update in enumerate(updates):
            try:
                doc.apply_update(update)
            except Exception as exc:
                log.warning("skipping stored update %d of a document: %s", i, exc)
        return doc.get_state() if state_vector is None else doc.get_update(state_vector)
