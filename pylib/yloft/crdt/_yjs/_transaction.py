"""Transactions: pycrdt's nestable ``with doc.transaction():`` over one Yjs transaction."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _js

if TYPE_CHECKING:
    from ._doc import Doc


class Transaction:
    """A read-write transaction; use it as a context manager (``with doc.transaction():``).

    Nested ``with`` blocks share the outermost one, which commits when it exits:
    observers run then, and an ``ExceptionGroup`` carries any exception they raised.

    Example:
        >>> with doc.transaction(origin="me") as txn:
        ...     doc.get("m", type=Map)["k"] = "v"
    """

    _read_only = False

    def __init__(self, doc: Doc[Any], *, origin: Any = None, _js_txn: Any = None) -> None:
        self._doc = doc
        self._leases = 0
        self._origin = origin
        self._origin_token: int | None = None
        self._js_txn = _js_txn
        self._applied_update = False

    def __enter__(self) -> Transaction:
        self._leases += 1
        if self._leases == 1:
            doc = self._doc
            if self._origin is not None:
                self._origin_token = doc._register_origin(self._origin)
            _js.begin(doc._ydoc, self._origin_token)
            doc._txn = self
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._leases -= 1
        if self._leases:
            return
        doc = self._doc
        try:
            doc._flush()
        finally:
            self._end(doc)
        doc._raise_observer_errors()

    def _end(self, doc: Doc[Any]) -> None:
        try:
            _js.end(doc._ydoc)
        finally:
            doc._txn = None
            if self._applied_update:
                doc._keep_client_id()
            if self._origin_token is not None:
                doc._origins.pop(self._origin_token, None)
        doc._raise_observer_errors()

    @property
    def origin(self) -> Any:
        """The origin of the transaction.

        Raises:
            RuntimeError: No current transaction.
        """
        if self._leases == 0 and self._js_txn is None:
            raise RuntimeError("No current transaction")
        return self._origin


class ReadTransaction(Transaction):
    """A read-only transaction, current while an observer callback runs."""

    _read_only = True

    def __enter__(self) -> ReadTransaction:
        self._leases += 1
        if self._leases == 1:
            self._previous = self._doc._txn
            self._doc._txn = self
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._leases -= 1
        if self._leases == 0:
            self._doc._txn = self._previous


def forbid_read_transaction(txn: Transaction | None) -> None:
    """Raise pycrdt's error when a write happens inside an observer callback."""
    if txn is not None and txn._read_only:
        raise RuntimeError("Read-only transaction cannot be used to modify document structure")
