"""The browser runtime that ships inside the ``yloft`` package (``yloft/runtime/``).

``python3 build.py build`` fills that folder in a checkout (Node and npm are needed
there, and only there, to bundle Yjs and the editor); the wheel carries it as package
data, so an app developer needs Python and pip only. It holds:

- the runtime's ES modules, copied from ``web/`` with its folders: ``yloft.js`` (the
  page API), ``sw.js``, ``text-input.js`` and ``names.js`` at the top, ``page/`` (what
  runs in the page: ``doc-provider.js``, ``clear.js``), ``worker/`` (the engine worker,
  ``worker/engine-worker.js``, and its modules) and ``worker/storage/`` (the storage
  adapters);
- ``bindings/``, the UI hooks (``hooks.js``; ``preact.js``, bound to the vendored Preact);
- ``vendor/yjs.mjs``, ``vendor/editor.mjs`` and ``vendor/preact.mjs``, the prebuilt Yjs,
  CodeMirror and Preact (+ htm) bundles, with Preact's and htm's licence texts;
- ``pyodide/``, the pinned Pyodide runtime files;
- ``wheels/``, the wheels Pyodide needs before anything else (micropip, packaging);
- ``templates/notes/`` and ``templates/tasks/``, the examples for ``yloft new --template
  notes`` (or ``tasks``), not part of a bundle.

The yloft wheel the browser installs is made here from the installed package itself
(:func:`write_browser_wheel`), without the build tooling and this folder.

How a bundle must be served is written here once, for every server that serves one
(``build.py``'s and the pytest plugin's :func:`static_server`, the relay's ``--static``):
:data:`CONTENT_TYPES` (:func:`content_type`) and :data:`HEADERS`. So is the list of
Pyodide's files (:data:`PYODIDE_FILES`) and the flags headless Chromium runs with in
tests and benchmarks (:data:`CHROMIUM_FLAGS`).

Example:
    >>> content_type("pyodide/pyodide.asm.wasm"), content_type("README")
    ('application/wasm', 'application/octet-stream')
    >>> HEADERS["Cross-Origin-Embedder-Policy"]
    'require-corp'
"""

from __future__ import annotations

import functools
import http.server
import mimetypes
import os
from pathlib import Path, PurePosixPath

from .._version import __version__
from ..errors import AppError
from .wheel import package_files, write_wheel

PACKAGE = Path(__file__).resolve().parent.parent
RUNTIME = PACKAGE / "runtime"
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
# Fetched with fetch() while Pyodide starts: what the loading bar counts.
RUNTIME_FETCHED = ("pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".json": "application/json",
    ".zip": "application/zip",
}
"""Content-Type by suffix of a bundle's files (any other file: :mod:`mimetypes`' guess)."""
HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cache-Control": "no-cache",
}
"""Sent with every file: cross-origin isolation (SharedArrayBuffer, precise timers), and
revalidation on each load (the service worker, not the HTTP cache, keeps files offline)."""
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Debian's ``chromium`` as the tests and the benchmarks drive it (Playwright)."""
# Parts of the yloft package that only CPython tooling uses: left out of the browser wheel.
NOT_IN_BROWSER = frozenset({"runtime", "app", "cli.py", "__main__.py", "testing"})


def runtime_dir() -> Path:
    """The runtime folder; raises :class:`AppError` when this yloft has none."""
    missing = [f"pyodide/{n}" for n in PYODIDE_FILES if not (RUNTIME / "pyodide" / n).is_file()]
    missing += [n for n in ("worker/engine-worker.js", "yloft.js", "sw.js", "vendor/yjs.mjs")
                if not (RUNTIME / n).is_file()]  # fmt: skip
    if missing:
        raise AppError(
            f"this yloft installation has no browser runtime ({RUNTIME} lacks "
            f"{', '.join(missing[:3])}): install yloft from its wheel, or in a checkout of "
            "the yloft repository run `python3 build.py build` first"
        )
    return RUNTIME


def runtime_files() -> dict[str, Path]:
    """Every runtime file by its path in a bundle (``"pyodide/pyodide.mjs"``: source)."""
    root = runtime_dir()
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not p.name.startswith(".")
        and p.relative_to(root).parts[0] != "templates"
    }


def write_browser_wheel(dest: Path) -> Path:
    """Write the yloft wheel for the browser's Pyodide into ``dest`` and return its path."""
    files = package_files(PACKAGE, "yloft", NOT_IN_BROWSER)
    return write_wheel(dest, "yloft", __version__, files, "yloft for the browser's Pyodide")


def content_type(name: str) -> str:
    """The Content-Type a file named ``name`` is served with."""
    suffix = PurePosixPath(name).suffix
    found = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0]
    return found or "application/octet-stream"


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder by :data:`CONTENT_TYPES` and :data:`HEADERS`; logs each request
    only when the environment variable ``YLOFT_HTTP_LOG`` is set."""

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return content_type(os.fspath(path))

    def end_headers(self) -> None:
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        if os.environ.get("YLOFT_HTTP_LOG"):
            super().log_message(format, *args)


def static_server(root: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """An HTTP server for the folder ``root`` on 127.0.0.1 (port 0: a free one), not yet
    serving: run its ``serve_forever()`` in a thread, end with ``shutdown()``."""
    handler = functools.partial(StaticHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server
