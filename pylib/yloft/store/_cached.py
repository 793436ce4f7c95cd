"""A document held in memory by the store (a *cached document*), and its stage.

A :class:`CachedDoc` is the store's in-memory copy of one document: its Doc, the
updates recorded in the open transaction and not in SQLite yet (``unsaved``), and
where it stands in its life, ONE value, :class:`Stage`:

=============  ===================================================================
stage          meaning
=============  ===================================================================
``DEFERRED``   ``create()``d; its creation transaction (created_at/updated_at)
               has not run (``born_at`` holds the time); no ``_yloft_docs`` row.
``WHOLE``      ``create()``d and changed by an edit in this transaction while
               unobserved: the update to store is the Doc's whole state, taken
               when written out (so a later change is kept, not lost); no row yet.
``MINTED``     ``create()``d; what to store is written down in ``unsaved``; no
               row yet (the write-out inserts such rows in one batch: a fresh random
               id cannot exist elsewhere).
``UNKNOWN``    an id this store did not know, first seen in ``apply_update``; no
               row yet (the write-out inserts it, and merges with a row another
               connection inserted meanwhile).
``STORED``     the document has its ``_yloft_docs`` row (``key``).
=============  ===================================================================

Transitions (every other move is a bug). Each is a method of :class:`CachedDoc`, the
only code that assigns ``stage``; only the write path (``_writer``, ``_writeout``) calls
them (docs/store.md has the same table):

======================  ==============================================  ============
from                    event (method)                                  to
======================  ==============================================  ============
(none)                  ``create()`` (:meth:`~CachedDoc.created`)       ``DEFERRED``
(none)                  ``apply_update`` of a new id                    ``UNKNOWN``
(none)                  loaded from SQLite                              ``STORED``
``DEFERRED/MINTED``     an unobserved ``edit()`` (``changed_whole``)    ``WHOLE``
``DEFERRED``            an observed ``edit()`` carried the creation     ``MINTED``
                        (:meth:`~CachedDoc.carried_birth`)
``DEFERRED``            :meth:`~CachedDoc.be_born`                      ``MINTED``
``WHOLE``               :meth:`~CachedDoc.settle`                       ``MINTED``
any, without a row      rebuilt: the new object keeps it (``inherit``)  the same
``DEFERRED/WHOLE/``     the write-out wrote its row                     ``STORED``
``MINTED/UNKNOWN``      (:meth:`~CachedDoc.stored`)
======================  ==============================================  ============

Besides its stage, a cached document knows two facts about its *content* (not
stages: any stage can have them): ``incomplete`` — the Doc holds structs waiting
for missing dependencies — and ``undeleted`` — the Doc is known to carry no
tombstone (a cache of :func:`yloft.extract.is_deleted`, cleared when it changes).
Whether updates are being collected is ``observer`` (a handle, None when not).
"""

from __future__ import annotations

import enum
from contextlib import suppress
from typing import Any

from ..crdt import Doc, merge_updates
from ..crdt._fast import write_map
from ..extract import Roots
from ..schema import RESERVED_ROOT
from ._updates import covers


class Stage(enum.IntEnum):
    """Where a cached document stands (see the module docstring's table).

    An ``IntEnum`` and module-level aliases: the write path tests stages per document,
    and an ``int`` hashes and compares in C.
    """

    DEFERRED = 1
    WHOLE = 2
    MINTED = 3
    UNKNOWN = 4
    STORED = 5


DEFERRED, WHOLE, MINTED, UNKNOWN, STORED = Stage

#: The stages of a document created by ``create()`` whose row is not written yet.
CREATED = frozenset({DEFERRED, WHOLE, MINTED})


class CachedDoc:
    """A document held in memory, with the updates it emitted since last persisted."""

    __slots__ = (
        "born_at",
        "deleted",
        "doc",
        "epoch",
        "incomplete",
        "key",
        "log_bytes",
        "log_count",
        "observer",
        "roots",
        "row",
        "stage",
        "undeleted",
        "unsaved",
        "updates",
    )

    def __init__(
        self,
        key: int | None,
        doc: Doc[Any],
        incomplete: bool = False,
        epoch: int = 0,
        *,
        observe: bool = True,
    ) -> None:
        self.key = key
        self.doc = doc
        self.stage = UNKNOWN if key is None else STORED
        #: The store's epoch when loaded; the epoch moves when another connection writes.
        self.epoch = epoch
        #: Log rows (and their bytes) stored since the snapshot: the compaction trigger.
        self.log_count = 0
        self.log_bytes = 0
        #: ``_yloft_docs.deleted`` as stored (a new document starts undeleted).
        self.deleted = False
        #: The collection row as last written (None: unknown, (): no row).
        self.row: tuple[Any, ...] | None = None if key is not None else ()
        #: The Doc holds structs waiting for missing dependencies. Such a Doc is
        #: rebuilt from all stored updates plus the next incoming one instead of
        #: applying to it directly: pycrdt 0.14.13 (yrs 0.28) loses map entries when
        #: a pending update's delete set is resolved later (see docs/store.md).
        self.incomplete = incomplete
        #: Updates emitted by the Doc since last taken (filled by the observer).
        self.updates: list[bytes] = []
        #: Updates recorded inside a write transaction and not yet in SQLite, with
        #: their origins (the writer's write-out writes them, the row and the FTS entry).
        self.unsaved: list[tuple[bytes, str | None]] = []
        #: The creation time while ``stage`` is DEFERRED.
        self.born_at = 0.0
        #: Root shared types already fetched from the Doc (see ``extract.root``).
        self.roots: Roots = {}
        #: True when the Doc is known to carry no tombstone (see the module docstring).
        self.undeleted = False
        #: The observer collecting each transaction's update into ``updates``. A
        #: document created in the open write transaction goes without (about a
        #: quarter of the cost of creating one): until it is first written out its update
        #: is its whole state, ``doc.get_update()``.
        self.observer: Any = None
        if observe:
            self.observe()

    @classmethod
    def created(cls, doc: Doc[Any], born_at: float) -> CachedDoc:
        """A ``create()``d document: DEFERRED, unobserved, surely without tombstone."""
        cached = cls(None, doc, observe=False)
        cached.stage = DEFERRED
        cached.born_at = born_at
        cached.undeleted = True  # so an edit() right after skips the tombstone check
        return cached

    def settle(self) -> None:
        """WHOLE → MINTED: write the whole-state update down in ``unsaved``."""
        if self.stage is WHOLE:
            self.unsaved[:] = [(self.doc.get_update(), None)]
            self.stage = MINTED

    def changed_whole(self) -> None:
        """DEFERRED/MINTED → WHOLE: an unobserved edit; its whole state is the update."""
        self.undeleted = False  # the Doc changed: look for a tombstone next time
        self.unsaved.clear()
        self.stage = WHOLE

    def carried_birth(self) -> None:
        """DEFERRED → MINTED: an edit's update carried the deferred creation (:meth:`stamp`)."""
        if self.stage is DEFERRED:
            self.stage = MINTED

    def stamp(self, now: float) -> None:
        """Inside an edit's CRDT transaction: ``updated_at``, and a deferred ``created_at``."""
        times = {"updated_at": now}
        if self.stage is DEFERRED:  # create() deferred its transaction to this edit
            times["created_at"] = self.born_at
        write_map(self.doc, RESERVED_ROOT, times)

    def stored(self, deleted: bool, epoch: int) -> None:
        """→ STORED: the write-out wrote the document's rows, read from the whole Doc.

        So the next ``edit()`` need not look for a tombstone unless the Doc changes
        first (:meth:`take` clears ``undeleted``), and the Doc is in step with the
        database as of this write (``epoch``).
        """
        self.stage = STORED
        self.deleted = deleted
        self.undeleted = not deleted
        self.epoch = epoch

    def inherit(self, old: CachedDoc) -> None:
        """This object replaces ``old`` (rebuilt from SQLite): take over what it recorded.

        Its unsaved updates and creation time; without a row, its stage too.
        """
        self.unsaved = old.unsaved
        self.born_at = old.born_at
        if self.key is None:
            self.stage = old.stage
        self.undeleted = old.stage is DEFERRED  # still empty: no tombstone

    def observe(self) -> None:
        """Start collecting each transaction's update into ``updates``."""
        self.settle()
        if self.observer is None:
            # The observer must not refer to this object: pycrdt's Doc keeps its
            # observers alive from Rust, where Python's garbage collector cannot see
            # them, so a Doc with an observer is never freed. __del__ removes the
            # observer once this object is dropped, which frees the Doc.
            self.observer = self.doc.observe(_Collect(self.updates))

    def __del__(self) -> None:
        if getattr(self, "observer", None) is not None:
            with suppress(AttributeError, ValueError):  # already removed
                self.doc.unobserve(self.observer)

    def be_born(self) -> bytes:
        """DEFERRED → MINTED: run the deferred creation transaction; its update."""
        assert self.stage is DEFERRED
        born = self.born_at
        write_map(self.doc, RESERVED_ROOT, {"created_at": born, "updated_at": born})
        self.stage = MINTED
        if self.observer is None:
            return self.doc.get_update()
        update = self.take()
        assert update is not None
        return update

    def applied(self, data: bytes) -> bytes | None:
        """After a peer's update ``data`` was applied to the Doc: the update to record.

        None when it changed nothing (a re-delivery to a stored document). An update
        whose structs wait for dependencies leaves the Doc ``incomplete``.
        """
        observed = self.take()
        self.incomplete = not covers(self.doc.get_state(), data)
        if observed is None and not self.incomplete and self.key is not None:
            return None
        return data if self.incomplete else observed or data

    def take(self) -> bytes | None:
        """The update(s) emitted since the last call, merged; None when none."""
        updates = self.updates
        if not updates:
            return None
        self.undeleted = False
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
