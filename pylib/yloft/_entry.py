"""In-memory bookkeeping of the store: cached documents and the write-frame stack."""

from __future__ import annotations

import os
from contextlib import suppress
from typing import Any

from .crdt import Doc, merge_updates
from .crdt._fast import write_map
from .errors import InvalidIdError
from .extract import Roots
from .schema import RESERVED_ROOT


class Entry:
    """A document held in memory, with the updates it emitted since last persisted."""

    __slots__ = (
        "born",
        "deleted",
        "doc",
        "epoch",
        "key",
        "live",
        "log_bytes",
        "log_count",
        "minted",
        "pending",
        "roots",
        "row",
        "sub",
        "unsaved",
        "updates",
        "whole",
    )

    def __init__(
        self,
        key: int | None,
        doc: Doc[Any],
        pending: bool = False,
        epoch: int = 0,
        *,
        observe: bool = True,
    ) -> None:
        self.key = key
        self.doc = doc
        #: The store's epoch when loaded; the epoch moves when another connection writes.
        self.epoch = epoch
        #: Updates (and their bytes) stored since the snapshot: the compaction trigger.
        self.log_count = 0
        self.log_bytes = 0
        #: ``_yloft_docs.deleted`` as stored (a new document starts undeleted).
        self.deleted = False
        #: The collection row as last written (None: unknown, (): no row).
        self.row: tuple[Any, ...] | None = None if key is not None else ()
        #: True when the Doc holds structs waiting for missing dependencies. Such a
        #: Doc is rebuilt from all stored updates plus the next incoming one instead
        #: of applying to it directly: pycrdt 0.14.13 (yrs 0.28) loses map entries
        #: when a pending update's delete set is resolved later (see docs/store.md).
        self.pending = pending
        self.updates: list[bytes] = []
        #: Updates recorded inside a write transaction and not yet in SQLite, with
        #: their origins (``Store._flush`` writes them, the row and the FTS entry).
        self.unsaved: list[tuple[bytes, str | None]] = []
        #: The creation time of a document created by ``create()`` whose first
        #: transaction (created_at/updated_at) has not run yet: the next ``edit()``
        #: writes it along with the edit, or :meth:`be_born` runs it on its own.
        self.born: float | None = None
        #: True for a document created by ``create()`` (a fresh random id) that has
        #: no ``_yloft_docs`` row yet: the flush inserts such rows in one batch.
        self.minted = False
        #: Root shared types already fetched from the Doc (see ``extract.root``).
        self.roots: Roots = {}
        #: True when the Doc is known to carry no tombstone: set by ``create()``,
        #: cleared by :meth:`take` whenever the Doc changed.
        self.live = False
        #: The observer collecting each transaction's update into ``updates``. A
        #: document created in the open write transaction goes without (about a
        #: quarter of the cost of creating one): until it is first flushed its update
        #: is its whole state, ``doc.get_update()``.
        self.sub: Any = None
        #: True when the unobserved Doc changed since ``unsaved`` was written down:
        #: its whole state, ``doc.get_update()``, is then the update to store (taken
        #: when flushed, so a change made after an edit block is kept, not lost).
        self.whole = False
        if observe:
            self.observe()

    def settle(self) -> None:
        """Write a pending whole-state update down in ``unsaved``."""
        if self.whole:
            self.unsaved[:] = [(self.doc.get_update(), None)]
            self.whole = False

    def observe(self) -> None:
        """Start collecting each transaction's update into ``updates``."""
        self.settle()
        if self.sub is None:
            # The observer must not refer to this Entry: pycrdt's Doc keeps its
            # observers alive from Rust, where Python's garbage collector cannot see
            # them, so a Doc with an observer is never freed. __del__ removes the
            # observer once the Entry is dropped, which frees the Doc.
            self.sub = self.doc.observe(_Collect(self.updates))

    def __del__(self) -> None:
        if getattr(self, "sub", None) is not None:
            with suppress(AttributeError, ValueError):  # already removed
                self.doc.unobserve(self.sub)

    def be_born(self) -> bytes:
        """Run the deferred creation transaction of a ``create()``d document."""
        born = self.born
        assert born is not None
        write_map(self.doc, RESERVED_ROOT, {"created_at": born, "updated_at": born})
        self.born = None
        if self.sub is None:
            return self.doc.get_update()
        update = self.take()
        assert update is not None
        return update

    def take(self) -> bytes | None:
        """The update(s) emitted since the last call, merged; None when none."""
        updates = self.updates
        if not updates:
            return None
        self.live = False
        update = updates[0] if len(updates) == 1 else merge_updates(*updates)
        updates.clear()
        return update


class _Collect:
    """An observer that appends each transaction's update to a list."""

    __slots__ = ("updates",)

    def __init__(self, updates: list[bytes]) -> None:
        self.updates = updates

    def __call__(self, event: Any) -> None:
        self.updates.append(event.update)


class Frame:
    """One level of the write stack: what it touched and what to announce."""

    __slots__ = ("events", "touched", "written")

    def __init__(self) -> None:
        self.touched: set[tuple[str, str]] = set()
        self.events: list[tuple[str, str, bytes, str | None]] = []
        self.written: set[str] = set()

    def merge(self, child: Frame) -> None:
        self.touched |= child.touched
        self.events += child.events
        self.written |= child.written


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
