"""Live queries: re-run after a commit that wrote a table they read.

The store tells :class:`LiveQueries` which tables a commit wrote; each subscription
whose tables intersect is re-run and its callback is called only when the rows
changed. Callback exceptions are collected and raised by the store as
:class:`~yloft.errors.CallbackError` once every callback has run.

Example:
    >>> from yloft import Store
    >>> store = Store(":memory:")
    >>> seen = []
    >>> sub = store.subscribe("SELECT 1 AS one", (), seen.append)
    >>> sub.result
    [{'one': 1}]
    >>> sub.close()
    >>> store.close()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

Rows = list[dict[str, Any]]
Runner = Callable[[str, Sequence[Any]], tuple[Rows, frozenset[str]]]


class Subscription:
    """A live query; :attr:`result` holds the latest rows. Close it with :meth:`close`."""

    def __init__(
        self,
        owner: LiveQueries,
        sql: str,
        params: Sequence[Any],
        callback: Callable[[Rows], object],
        result: Rows,
        tables: frozenset[str],
    ) -> None:
        self._owner = owner
        self.sql = sql
        self.params = tuple(params)
        self.callback = callback
        self.result = result
        self.tables = tables
        self.closed = False

    def close(self) -> None:
        """Stop receiving callbacks (idempotent)."""
        if not self.closed:
            self.closed = True
            self._owner.remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LiveQueries:
    """The set of open subscriptions of one store."""

    def __init__(self, run: Runner) -> None:
        self._run = run
        self._subs: list[Subscription] = []

    def add(
        self, sql: str, params: Sequence[Any], callback: Callable[[Rows], object]
    ) -> Subscription:
        """Run the query once and register it."""
        if not callable(callback):
            raise TypeError("subscribe needs a callable callback(rows)")
        rows, tables = self._run(sql, params)
        sub = Subscription(self, sql, params, callback, rows, tables)
        self._subs.append(sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        """Forget a subscription."""
        if sub in self._subs:
            self._subs.remove(sub)

    def __len__(self) -> int:
        return len(self._subs)

    def notify(self, written: Iterable[str]) -> list[BaseException]:
        """Re-run subscriptions that read any of ``written``; return callback errors.

        Subscriptions with the same SQL and parameters (the same list open in several
        tabs) share one run of the query per commit.
        """
        written = frozenset(written)
        errors: list[BaseException] = []
        ran: dict[tuple[str, str], tuple[Rows, frozenset[str]]] = {}
        for sub in list(self._subs):
            if sub.closed or not (sub.tables & written):
                continue
            key = (sub.sql, repr(sub.params))
            try:
                if key in ran:  # each subscriber gets rows of its own to keep
                    rows, tables = [dict(r) for r in ran[key][0]], ran[key][1]
                else:
                    rows, tables = ran[key] = self._run(sub.sql, sub.params)
            except Exception as exc:  # the query itself broke (e.g. a dropped column)
                errors.append(exc)
                continue
            sub.tables = tables or sub.tables
            if rows == sub.result:
                continue
            sub.result = rows
            try:
                sub.callback(rows)
            except Exception as exc:
                errors.append(exc)
        return errors
