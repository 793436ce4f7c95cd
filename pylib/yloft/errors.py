"""The exception tree of yloft.

Everything yloft raises on purpose derives from :class:`YloftError`, so an app can
catch one type. Each message says what went wrong *and what to do about it*.

::

    YloftError
     ├── ProtocolError        a sync message is malformed or breaks the protocol
     ├── SyncError(OSError)   the relay is unreachable, refused us, or closed the link
     │    └── AuthError        the relay refused the space/token
     │         └── TokenExpiredError   the token expired: get a new one
     ├── StoreClosedError                 the Store was closed; open a new one
     ├── SchemaError(ValueError)          a collection declaration is not valid
     │    ├── FieldPathError               a Field path is not a valid path
     │    └── FieldTypeError(TypeError)    a Field type is not one yloft can extract
     ├── UnknownCollectionError(LookupError)   no collection of that name is declared
     ├── InvalidIdError(TypeError)        a document id is not a non-empty str
     ├── DocumentNotFoundError(LookupError)    no document with that id in the collection
     ├── DocumentDeletedError             the document was deleted; it cannot be edited
     ├── DocumentBusyError                the document is already open in an edit block
     ├── MalformedUpdateError(ValueError) update bytes that are not a Yjs v1 update
     ├── QueryError(ValueError)           SQL given to query/subscribe/search is not valid
     │    └── ReadOnlyQueryError           SQL given to query/subscribe would write
     ├── TransactionAbortedError          an earlier write of this atomic() block failed
     ├── DurabilityError(OSError)         the on_commit hook failed after COMMIT
     ├── CallbackError                    a subscriber or on_update callback raised
     └── AppError                         an app folder cannot be scaffolded or built
          ├── AppNotFoundError(FileNotFoundError)  the folder holds no yloft app
          └── DependencyError              a dependency has no wheel Pyodide can load
"""

from __future__ import annotations


class YloftError(Exception):
    """Root of every error yloft raises on purpose."""


class ProtocolError(YloftError):
    """A sync message is malformed, truncated, too large or out of order.

    Raised by :mod:`yloft.sync.protocol` decoders; the peer that sent it is buggy or
    hostile, so drop that connection (the relay closes it with code 1002).
    """


class SyncError(YloftError, OSError):
    """The relay could not be reached or closed the connection; retried with backoff."""


class AuthError(SyncError):
    """The relay refused the space or token: check the space name and token you configured."""


class TokenExpiredError(AuthError):
    """The relay closed the link because its token expired (close code 4401).

    ``RelaySync(get_token=...)`` asks for a new token and reconnects by itself.
    """


class StoreClosedError(YloftError):
    """The Store was closed; open a new ``Store`` to keep working."""


class SchemaError(YloftError, ValueError):
    """A collection declaration (name or fields) is not valid."""


class FieldPathError(SchemaError):
    """A ``Field`` path is not a valid path (``root`` or ``root.key.key``)."""


class FieldTypeError(SchemaError, TypeError):
    """A ``Field`` type is not one of ``str, int, float, bool, list, dict``."""


class UnknownCollectionError(YloftError, LookupError):
    """No collection of that name was declared in this store."""


class InvalidIdError(YloftError, TypeError):
    """A document id is not a non-empty ``str``."""


class DocumentNotFoundError(YloftError, LookupError):
    """The collection holds no document with that id."""


class DocumentDeletedError(YloftError):
    """The document carries a deletion tombstone and cannot be edited."""


class DocumentBusyError(YloftError):
    """The document is already open in an ``edit`` block."""


class MalformedUpdateError(YloftError, ValueError):
    """Bytes given as an update are not a valid Yjs v1 update."""


class QueryError(YloftError, ValueError):
    """SQL given to ``query``, ``subscribe`` or ``search`` is not valid."""


class ReadOnlyQueryError(QueryError):
    """SQL given to ``query`` or ``subscribe`` would write to the database."""


class TransactionAbortedError(YloftError):
    """Writing an earlier change of this ``atomic()`` block to SQLite failed.

    Edits inside ``atomic()`` reach SQLite in batches (before reads, and at the end),
    so such a failure can surface after the edit returned. The whole transaction is
    then rolled back when the block ends; leave the block and retry it.
    """


class ArchiveError(YloftError, ValueError):
    """A file given to ``import_from`` is not an intact yloft export; nothing was imported."""


class DurabilityError(YloftError, OSError):
    """The ``on_commit`` hook failed: the transaction committed but may not be durable."""


class CallbackError(YloftError):
    """One or more callbacks raised after a commit; ``errors`` holds them all.

    The write itself was committed before the callbacks ran.
    """

    def __init__(self, message: str, errors: list[BaseException]) -> None:
        super().__init__(message)
        self.errors = errors


class AppError(YloftError):
    """An app folder cannot be scaffolded, built or served (``yloft new/build/serve``)."""


class AppNotFoundError(AppError, FileNotFoundError):
    """The folder holds no yloft app: the message names the missing file or setting."""


class DependencyError(AppError):
    """A dependency of the app cannot run in the browser's Pyodide.

    Attributes:
        package: the requirement that was refused (e.g. ``"numpy"``).
    """

    def __init__(self, package: str, message: str) -> None:
        super().__init__(message)
        self.package = package
