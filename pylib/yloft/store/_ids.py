"""Document ids: validation and generation."""

from __future__ import annotations

import os

from ..errors import InvalidIdError


def check_id(doc_id: object) -> str:
    """Validate a document id (a non-empty str of at most 256 characters)."""
    if not isinstance(doc_id, str):
        raise InvalidIdError(
            f"document id must be a str, not {type(doc_id).__name__}; use the id that "
            "create() returned"
        )
    if not doc_id or len(doc_id) > 256:
        raise InvalidIdError(
            "document id must be a non-empty str of at most 256 characters; use the id "
            "that create() returned"
        )
    return doc_id


def new_id() -> str:
    """A new document id: a random (version 4) UUID as 32 hex digits.

    The same ids as ``uuid.uuid4().hex``, at a fraction of the cost.

    Example:
        >>> len(new_id()), new_id()[12]
        (32, '4')
    """
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return raw.hex()
