"""The codec seam: where encryption or compression of relay update payloads goes.

A :class:`~yloft.sync.session.RelaySession` passes every update it pushes through
``codec.encode`` and every update the relay sends through ``codec.decode``; the store
keeps plain Yjs updates, and only the relay (and the wire) see the encoded bytes. The
default is :data:`IDENTITY`. A relay that must store payloads it cannot read runs with
``--opaque-updates`` (docs/protocol.md says what then still works). Presence
(awareness) does not go through the codec.

A codec gets the document's collection and id with each payload, so it can bind them
to it (associated data of an AEAD cipher, a per-document key). ``decode`` raises
``ValueError`` for a payload it cannot read: that update is refused (logged and
skipped, as a malformed update is) and the others still apply. Any other exception is
a broken codec: the batch is not applied and the cursor does not move.

Example:
    >>> IDENTITY.decode("notes", "n1", IDENTITY.encode("notes", "n1", b"\\x00\\x00"))
    b'\\x00\\x00'
"""

from __future__ import annotations

from typing import Protocol


class Codec(Protocol):
    """Turns a document's Yjs update into the payload the relay stores, and back."""

    def encode(self, collection: str, doc_id: str, update: bytes) -> bytes:
        """The payload to push for ``update`` (a Yjs v1 update of that document)."""
        ...

    def decode(self, collection: str, doc_id: str, payload: bytes) -> bytes:
        """The Yjs update a payload from the relay carries.

        Raises:
            ValueError: the payload cannot be read (wrong key, corrupt, not ours).
        """
        ...


class Identity:
    """The default codec: payloads are the Yjs updates themselves."""

    def encode(self, collection: str, doc_id: str, update: bytes) -> bytes:
        return update

    def decode(self, collection: str, doc_id: str, payload: bytes) -> bytes:
        return payload


IDENTITY = Identity()

__all__ = ["IDENTITY", "Codec", "Identity"]
