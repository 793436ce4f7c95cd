"""Calls from tabs run once, however often they are sent.

A tab's request reaches the one engine of the browser (the writer tab's) over a channel.
When that engine's tab crashes after it committed a call but before the reply left, the
calling tab sends the call again to the next writer. The call must not run twice
(``create_note`` would create two notes), so a write call runs inside one transaction
that also records, in the same database, that it ran and what it answered.

Each calling tab numbers its writes ``1, 2, 3…`` (``seq``) and sends them in that order;
the engine runs them in the order it receives them. What is recorded per tab is the
highest seq that ran (``hi``) and the replies of the calls the tab has not confirmed
yet (``ack``: every write up to it was answered). A call with ``seq <= hi`` is answered
from the record, never run again; one whose reply was already dropped (``seq <= ack``)
is answered with ``answered`` (its tab has its reply already).

Only calls that changed a document leave a record: a call that wrote nothing (a search)
may run again harmlessly, and recording it would turn every read into a durable commit.

Sans-I/O: a :class:`~yloft.Store` in, JSON strings out. The record lives in the store's
sync cursors (``_yloft_meta``), one row for every tab.

Example:
    >>> from yloft import Store
    >>> store = Store(":memory:")
    >>> notes = store.collection("notes", {})
    >>> once = Once(store)
    >>> once.run("tab-a", 1, 0, lambda: notes.create() and '"made"')
    '"made"'
    >>> once.run("tab-a", 1, 0, lambda: notes.create() and '"again"')   # a resend
    '"made"'
    >>> store.query("SELECT count(*) AS n FROM notes", ())
    [{'n': 1}]
    >>> store.close()
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..store import Store

CURSOR = "tab-calls"
"""The sync cursor holding every tab's record: ``{tab: {"hi": seq, "r": {seq: reply}}}``."""


class Once:
    """Runs each tab's numbered write calls at most once (see the module docstring).

    Args:
        store: the durable store the calls write to.
        answered: the reply to a call that ran and whose reply its tab confirmed.
    """

    def __init__(self, store: Store, answered: str = "null") -> None:
        self.store = store
        self.answered = answered

    def _records(self) -> dict[str, Any]:
        raw = self.store.feed.cursor(CURSOR)
        try:
            records = json.loads(raw) if raw else {}
        except ValueError:  # never written by yloft; start afresh rather than fail every call
            records = {}
        return records if isinstance(records, dict) else {}

    def run(self, tab: str, seq: int, ack: int, fn: Callable[[], str]) -> str:
        """Answer call ``seq`` of ``tab``: from the record, or by running ``fn`` once.

        ``fn`` returns the JSON reply; it runs inside one transaction with the record, so
        either both are stored or neither (an exception rolls both back and propagates).
        """
        record = self._records().get(tab) or {}
        replies = record.get("r") or {}
        if seq <= int(record.get("hi", 0)):
            return str(replies.get(str(seq), self.answered))
        with self.store.atomic():
            head = self.store.feed.head()
            reply = fn()
            if self.store.feed.head() != head:
                records = self._records()
                mine = records.get(tab) or {}
                kept = {k: v for k, v in (mine.get("r") or {}).items() if int(k) > ack}
                kept[str(seq)] = reply
                records[tab] = {"hi": seq, "r": kept}
                self.store.feed.save_cursor(CURSOR, json.dumps(records))
        return reply

    def forget(self, tabs: set[str]) -> int:
        """Drop the records of ``tabs`` (closed for good); returns how many there were."""
        records = self._records()
        gone = [t for t in tabs if t in records]
        if gone:
            for t in gone:
                del records[t]
            self.store.feed.save_cursor(CURSOR, json.dumps(records))
        return len(gone)

    def tabs(self) -> set[str]:
        """The tabs that have a record."""
        return set(self._records())


__all__ = ["CURSOR", "Once"]
