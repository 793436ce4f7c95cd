"""The engine worker's Python side (``web/worker/engine-worker.js`` imports this module).

The only module of yloft that converts JS values: JS callbacks are wrapped so Python
hands them plain values (a JSON string, a ``Uint8Array`` made with ``to_js``), and JS
``Uint8Array`` arguments become ``bytes`` here. Everything else is :class:`Engine`.
Pyodide only: importing it on CPython raises ``NotImplementedError``.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from typing import Any

try:
    from pyodide.ffi import to_js  # type: ignore[import-not-found]
except ImportError as exc:  # CPython
    raise NotImplementedError(
        "yloft.browser.worker runs inside Pyodide's engine worker; on CPython use Engine"
    ) from exc

from .._version import __version__
from .engine import Engine


def versions() -> str:
    """JSON ``{yloft, sqlite, python}`` for the page's footer and diagnostics."""
    python = sys.version.split()[0]
    return json.dumps({"yloft": __version__, "sqlite": sqlite3.sqlite_version, "python": python})


def open_engine(
    path: str, app: str, notify: Any, push_doc: Any, flush: Any, pragmas: str, devtools: bool
) -> Engine:
    """Open the store at ``path`` with the app module; JS callbacks get plain values.
    ``devtools``: answer the devtools panel (the app or its bundle enabled it)."""
    return Engine.open(
        path,
        app=app or None,
        devtools=bool(devtools),
        notify=lambda sub, rows: notify(sub, json.dumps(rows)),
        push_doc=lambda link, update: push_doc(link, to_js(update)),
        on_commit=flush,
        pragmas=json.loads(pragmas),
    )


def handle(engine: Engine, request: str, tab: str, seq: int, ack: int) -> str:
    """A request of the page of tab ``tab`` (this one or another); see ``Engine.handle``."""
    return engine.handle(request, tab, int(seq), int(ack))


def handle_writes(engine: Engine, batch: str) -> str:
    """Several tabs' numbered writes in one transaction (see ``Engine.handle_writes``)."""
    return engine.handle_writes(batch)


def doc_update(engine: Engine, link: int, data: Any) -> str:
    """A page document's update (``Uint8Array``); the reply is JSON as ``Engine.handle``'s."""
    return engine.doc_update(int(link), data.to_bytes())


def doc_apply(engine: Engine, collection: str, doc_id: str, data: Any, link: int) -> str:
    """A page document's update (``Uint8Array``) named by document (see ``Engine.doc_apply``)."""
    return engine.doc_apply(collection, doc_id, data.to_bytes(), int(link))
