"""The engine a browser worker drives: one Store, one app module, JSON in and out.

The engine worker (``web/engine-worker.js``) creates one :class:`Engine` and passes
every request from the page to :meth:`Engine.handle` as a JSON string; the reply is a
JSON string too. Keeping the boundary to strings means no JS proxy is created per call,
and this module needs no ``js`` import, so it is tested on CPython and in Pyodide alike.

Example::

    engine = Engine.open(":memory:", app="notes_app")
    engine.handle('{"method": "call", "args": ["create_note", "Milk", "2 l"]}')
"""

from __future__ import annotations

import base64
import importlib
import json
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ..errors import YloftError
from ..store import Store

Notify = Callable[[int, list[dict[str, Any]]], None]


class AppFunctionError(YloftError):
    """The page called a function the app module does not expose; check its ``__all__``."""


class Engine:
    """Dispatches the page's requests to the store and to the app module.

    Args:
        store: the open store.
        app: the app's module; ``setup(store)`` is called once if it defines it.
        notify: called with ``(subscription_id, rows)`` whenever a live query's result
            changes (the worker posts it to the page).
    """

    def __init__(self, store: Store, app: ModuleType | None, notify: Notify | None = None) -> None:
        self.store = store
        self.app = app
        self.notify = notify
        self._subscriptions: dict[int, Any] = {}
        self._next_sub = 1
        if app is not None and callable(getattr(app, "setup", None)):
            app.setup(store)

    @classmethod
    def open(
        cls,
        path: str,
        *,
        app: str | None = None,
        notify: Notify | None = None,
        **store_options: Any,
    ) -> Engine:
        """Open the store at ``path`` and import the app module named ``app``."""
        store = Store(path, **store_options)
        module = importlib.import_module(app) if app else None
        return cls(store, module, notify)

    # ------------------------------------------------------------------ requests

    def handle(self, request: str) -> str:
        """Run one JSON request ``{"method", "args"}``; reply ``{"ok", "value"|"error"}``."""
        try:
            msg = json.loads(request)
            method = getattr(self, "rpc_" + str(msg["method"]), None)
            if method is None:
                raise AppFunctionError(f"unknown engine method {msg['method']!r}")
            value = method(*msg.get("args", []))
            return json.dumps({"ok": True, "value": to_json(value)})
        except Exception as exc:
            error = {
                "name": type(exc).__name__,
                "message": str(exc),
                "traceback": traceback.format_exc(),
            }
            return json.dumps({"ok": False, "error": error})

    def rpc_query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return self.store.query(sql, tuple(params or ()))

    def rpc_subscribe(self, sql: str, params: list[Any] | None = None) -> dict[str, Any]:
        """Start a live query; returns its id and current rows (later rows via notify)."""
        sub_id = self._next_sub
        self._next_sub += 1
        rows = self.store.query(sql, tuple(params or ()))

        def changed(new_rows: list[dict[str, Any]]) -> None:
            if self.notify is not None and sub_id in self._subscriptions:
                self.notify(sub_id, to_json(new_rows))

        self._subscriptions[sub_id] = self.store.subscribe(sql, tuple(params or ()), changed)
        return {"id": sub_id, "rows": rows}

    def rpc_unsubscribe(self, sub_id: int) -> bool:
        sub = self._subscriptions.pop(sub_id, None)
        if sub is not None:
            sub.close()
        return sub is not None

    def rpc_integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``"ok"`` or the problems it found."""
        rows = self.store.query("PRAGMA integrity_check")
        return "\n".join(str(r["integrity_check"]) for r in rows)

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
        for sub in self._subscriptions.values():
            sub.close()
        self._subscriptions.clear()
        self.store.close()


def to_json(value: Any) -> Any:
    """JSON-safe copy of a result: bytes become ``{"$bytes": base64}``."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value
