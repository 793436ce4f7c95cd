"""The engine a browser worker drives: one Store, one app module, JSON in and out.

The engine worker (``web/worker/engine-worker.js``) creates one :class:`Engine` and passes
every request from the page to :meth:`Engine.handle` as a JSON string; the reply is a
JSON string too. Keeping the boundary to strings means no JS proxy is created per call,
and this module needs no ``js`` import, so it is tested on CPython and in Pyodide alike.

Example::

    engine = Engine.open(":memory:", app="notes_app")
    engine.handle('{"method": "call", "args": ["create_note", "Milk", "2 l"]}')
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json
import logging
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ..errors import ArchiveError, CallbackError, YloftError
from ..store import Store, archive
from .devtools import Devtools, DevtoolsDisabledError
from .documents import PageDocs, Push
from .once import Once

Notify = Callable[[int, list[dict[str, Any]]], None]
_log = logging.getLogger(__name__)

WRITES = frozenset({"call", "import"})
"""Methods whose numbered requests run once (:mod:`.once`); the others only read, or
(subscriptions, document links) are bound to the engine they were made on."""


class AppFunctionError(YloftError):
    """The page called a function the app module does not expose; check its ``__all__``."""


class Engine:
    """Dispatches the page's requests to the store and to the app module.

    Args:
        store: the open store.
        app: the app's module; ``setup(store)`` is called once if it defines it.
        notify: called with ``(subscription_id, rows)`` whenever a live query's result
            changes (the worker posts it to the page).
        push_doc: called with ``(link, update)`` when a document the page holds
            (``db.doc()``) changed from another source (see :mod:`.documents`).
        devtools: answer the devtools panel's requests (:mod:`.devtools`); without it
            they raise :class:`~.devtools.DevtoolsDisabledError`.
    """

    def __init__(
        self,
        store: Store,
        app: ModuleType | None,
        notify: Notify | None = None,
        push_doc: Push | None = None,
        devtools: bool = False,
    ) -> None:
        self.store = store

        self.app = app
        self.notify = notify
        self._subscriptions: dict[int, Any] = {}
        self._next_sub = 1
        self.docs = PageDocs(store, push_doc or _drop)
        self.devtools = Devtools(store, self.docs) if devtools else None
        self.once = Once(store, '{"ok": true, "value": null}')
        self._setup_app()

    def _setup_app(self) -> None:
        if self.app is not None and callable(getattr(self.app, "setup", None)):
            self.app.setup(self.store)

    @classmethod
    def open(
        cls,
        path: str,
        *,
        app: str | None = None,
        notify: Notify | None = None,
        push_doc: Push | None = None,
        devtools: bool = False,
        **store_options: Any,
    ) -> Engine:
        """Open the store at ``path`` and import the app module named ``app``."""
        store = Store(path, **store_options)
        try:
            module = importlib.import_module(app) if app else None
            return cls(store, module, notify, push_doc, devtools)
        except BaseException:
            store.close()
            raise

    # ------------------------------------------------------------------ requests

    def handle(self, request: str, tab: str = "", seq: int = 0, ack: int = 0) -> str:
        """Run one JSON request ``{"method", "args"}``; reply ``{"ok", "value"|"error"}``.

        A write (``call``, ``import``) numbered ``seq > 0`` by tab ``tab`` runs at most
        once, in one transaction, however often it is sent (:mod:`.once`): a tab resends
        what a crashed writer tab never answered. ``ack``: the tab has the replies of all
        its writes up to that number.
        """
        try:
            msg = json.loads(request)
            method = getattr(self, "rpc_" + str(msg["method"]), None)
            if method is None:
                raise AppFunctionError(f"unknown engine method {msg['method']!r}")
            args = msg.get("args", [])
        except Exception as exc:
            return _error_reply(exc)
        if seq > 0 and msg["method"] in WRITES:
            try:
                return self.once.run(tab, int(seq), int(ack), lambda: _ok_reply(method(*args)))
            except Exception as exc:
                return _error_reply(exc)
        return self._run(method, *args)

    def handle_writes(self, batch: str) -> str:
        """Run several tabs' numbered writes in one transaction: one commit, one flush.

        ``batch`` is a JSON list of ``{"request", "tab", "seq", "ack"}`` (each as for
        :meth:`handle`, every one a numbered ``call`` or ``import``); the reply is the
        JSON list of their replies, in order. Each write still runs once and all or
        nothing (its own savepoint, :mod:`.once`); a failing one changes nothing of the
        others. Group commit: the writes that queued up while the engine was busy (the
        tabs' awaited edits) share the durable commit instead of paying one each.
        """
        items = json.loads(batch)
        replies: list[str] = []
        try:
            with self.store.atomic():
                for item in items:
                    replies.append(
                        self.handle(item["request"], item["tab"], item["seq"], item["ack"])
                    )
        except CallbackError as exc:  # after the COMMIT: the writes are saved
            _log.error("a live query or update hook raised after a batch of writes: %r", exc)
        except Exception as exc:  # the COMMIT itself failed: nothing of the batch is saved
            replies = [_error_reply(exc)] * len(items)
        return "[" + ",".join(replies) + "]"

    def doc_update(self, link: int, update: bytes) -> str:
        """Commit an update the page made to a linked document (see :mod:`.documents`).

        Bytes in, so a keystroke costs no JSON or base64; the reply is as :meth:`handle`'s.
        """
        return self._run(self.docs.apply, link, update)

    def doc_apply(self, collection: str, doc_id: str, update: bytes, link: int = 0) -> str:
        """Commit a page document's update named by document, not link (a tab's kept
        update, sent again to a new writer); ``link``, if still open, is not echoed."""
        return self._run(self.docs.apply_to, collection, doc_id, update, link)

    def forget_tabs(self, tabs: list[str]) -> int:
        """Drop the once-records of tabs that are closed for good (:meth:`Once.forget`)."""
        return self.once.forget(set(tabs))

    def forget_tabs_except(self, live: str) -> int:
        """Drop the once-records of every tab not in ``live`` (a JSON list of tab ids)."""
        return self.once.forget(self.once.tabs() - set(json.loads(live)))

    def _run(self, method: Callable[..., Any], *args: Any) -> str:
        try:
            return _ok_reply(method(*args))
        except Exception as exc:
            return _error_reply(exc)

    def rpc_query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return self.store.query(sql, tuple(params or ()))

    def rpc_subscribe(self, sql: str, params: list[Any] | None = None) -> dict[str, Any]:
        """Start a live query; returns its id and current rows (later rows via notify)."""
        sub_id = self._next_sub
        self._next_sub += 1
        sub = self._subscribe(sub_id, sql, tuple(params or ()))
        return {"id": sub_id, "rows": rows_to_json(sub.result)}

    def _subscribe(self, sub_id: int, sql: str, params: tuple[Any, ...]) -> Any:
        def changed(new_rows: list[dict[str, Any]]) -> None:
            if self.notify is not None and sub_id in self._subscriptions:
                self.notify(sub_id, rows_to_json(new_rows))

        sub = self.store.subscribe(sql, params, changed)
        self._subscriptions[sub_id] = sub
        return sub

    def rpc_unsubscribe(self, sub_id: int) -> bool:
        sub = self._subscriptions.pop(sub_id, None)
        if sub is not None:
            sub.close()
        return sub is not None

    def rpc_integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``"ok"`` or the problems it found."""
        rows = self.store.query("PRAGMA integrity_check")
        return "\n".join(str(r["integrity_check"]) for r in rows)

    def rpc_document(self, collection: str, doc_id: str) -> bytes:
        """A document's whole state as one Yjs v1 update (for tools and tests)."""
        return self.store.get_update(collection, doc_id)

    def rpc_document_count(self) -> int:
        """How many documents this database holds (deleted ones too)."""
        return len(self.store.feed.document_seqs())

    def rpc_export(self) -> bytes:
        """The whole store as an export file (:mod:`yloft.store.archive`): ``db.exportFile()``."""
        return archive.encode_store(self.store)

    def rpc_import(self, data: str) -> dict[str, Any]:
        """Merge an export file (base64), all or nothing: ``db.importFile(file)``."""
        try:
            raw = base64.b64decode(data, validate=True)
        except (ValueError, TypeError) as exc:
            raise ArchiveError("the file given to importFile() is not base64 bytes") from exc
        return dataclasses.asdict(archive.import_bytes(self.store, raw))

    def rpc_export_rows(self, collection: str, fmt: str = "csv") -> str:
        """A collection's columns as CSV or JSON text: ``db.exportRows(name, fmt)``."""
        if fmt not in ("csv", "json"):
            raise ArchiveError(f"export format {fmt!r} is not known: use 'csv' or 'json'")
        return (archive.rows_csv if fmt == "csv" else archive.rows_json)(self.store, collection)

    def rpc_doc_open(self, collection: str, doc_id: str) -> dict[str, Any]:
        """Link a page-side ``Y.Doc`` to a stored document: ``{link, state}``."""
        link, state = self.docs.open(collection, doc_id)
        return {"link": link, "state": state}

    def rpc_doc_close(self, link: int) -> bool:
        """Unlink a page-side document (its provider was destroyed)."""
        return self.docs.close(link)

    def rpc_doc_links(self) -> int:
        """How many page-side documents are linked (diagnostics: leaks show here)."""
        return len(self.docs)

    def rpc_devtools(self, action: str, *args: Any) -> Any:
        """A request of the devtools panel (:class:`~.devtools.Devtools`), refused unless
        the app enabled devtools."""
        if self.devtools is None:
            raise DevtoolsDisabledError(
                "devtools are not enabled for this app: pass connect({devtools: true}) in "
                "the app's page, or run it with `yloft serve`"
            )
        return self.devtools.run(str(action), list(args))

    def rpc_call(self, name: str, *args: Any) -> Any:
        """Call a public function of the app module (named in its ``__all__`` if it has one)."""
        if self.app is None:
            raise AppFunctionError("no app module was loaded: pass app= to connect()")
        exported = getattr(self.app, "__all__", None)
        allowed = name in exported if exported is not None else not name.startswith("_")
        fn = getattr(self.app, name, None) if allowed else None
        if not callable(fn) or name == "setup":
            raise AppFunctionError(
                f"{self.app.__name__} has no public function {name!r}; "
                "define it at module level (and list it in __all__ if the module has one)"
            )
        return fn(*args)

    def close(self) -> None:
        self.docs.detach()
        for sub in self._subscriptions.values():
            sub.close()
        self._subscriptions.clear()
        self.store.close()


def _drop(link: int, update: bytes) -> None:
    """The default ``push_doc``: no page is listening."""


def _ok_reply(value: Any) -> str:
    # The C encoder walks the value; only what it does not know (bytes) comes back here.
    return json.dumps({"ok": True, "value": value}, default=_tag_bytes)


def _tag_bytes(value: Any) -> Any:
    if isinstance(value, _BYTES):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"a {type(value).__name__} cannot be sent to the page: return JSON values")


def _error_reply(exc: Exception) -> str:
    error = {"name": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}
    return json.dumps({"ok": False, "error": error})


_BYTES = (bytes, bytearray, memoryview)
_BYTE_TYPES = frozenset(_BYTES)  # SQLite gives exactly these types, never subclasses


def rows_to_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`to_json` for query rows (flat dicts of SQLite values), without walking them:
    a row is copied only when it holds bytes. Live queries re-send their rows at every
    change they see, to every tab: the general walk was most of an edit's cost."""
    return [
        row if _BYTE_TYPES.isdisjoint(map(type, row.values())) else to_json(row) for row in rows
    ]


def to_json(value: Any) -> Any:
    """JSON-safe copy of a result: bytes become ``{"$bytes": base64}``."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value
