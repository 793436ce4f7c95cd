"""Transactions: pycrdt's nestable ``with doc.transaction():`` over one Yjs transaction."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _js
from ._core import DocCore, core_of

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
        self._core = core_of(doc)
        self._leases = 0
        self._origin = origin
        self._origin_token: int | None = None
        self._js_txn = _js_txn
        self._applied_update = False

    def __enter__(self) -> Transaction:
        self._leases += 1
        if self._leases == 1:
            core = self._core
            if self._origin is not None:
                self._origin_token = core.register_origin(self._origin)
            _js.begin(core.ydoc, self._origin_token)
            core.txn = self
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
        core = self._core
        try:
            core.send_batched_sets()
        finally:
            self._end(core)
        core.raise_observer_errors()

    def _end(self, core: DocCore) -> None:
        try:
            _js.end(core.ydoc)
        finally:
            core.txn = None
            if self._applied_update:
                core.keep_client_id()
            if self._origin_token is not None:
                core.origins.pop(self._origin_token, None)
        core.raise_observer_errors()

    def applied_update(self) -> None:
        """An update was applied inside: restore the client id at commit."""
        self._applied_update = True

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
            self._previous = self._core.txn
            self._core.txn = self
        return self

    def __exit__(self, *exc: object) -> None:
        self._leases -= 1
        if self._leases == 0:
            self._core.txn = self._previous


def forbid_read_transaction(txn: Transaction | None) -> None:
    """Raise pycrdt's error when a write happens inside an observer callback."""
    if txn is not None and txn._read_only:
        raise RuntimeError("Read-only transaction cannot be used to modify document structure")
