"""Host side of the browser benchmarks: serve the bench page, drive headless Chromium.

    with BenchBrowser() as lab:
        lab.call("loadPython")
        lab.call("py", "notes_json", [10])

The served folder holds web/dist/ (Pyodide runtime, yloft wheel, storage modules; run
``python3 build.py build`` first) plus bench/web/ with the worker bundled by the repo's
esbuild together with npm yjs and y-indexeddb. Chromium runs with a fresh on-disk
profile, so IndexedDB and OPFS really reach the disk, and the profile's folders can be
measured (``profile_bytes``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import build  # noqa: E402


def serve_root() -> Path:
    """A private folder: a copy of web/dist/, the bench page, lab and bundled worker."""
    if not (build.DIST / "manifest.json").exists():
        raise SystemExit("web/dist/ is not built: run python3 build.py build (or build.py bench)")
    # A copy, not links: a rebuild of web/dist/ during a long run must not change (or
    # break) what later page loads of this run get.
    root = Path(tempfile.mkdtemp(prefix="yloft-bench-web-"))
    shutil.copytree(build.DIST, root, dirs_exist_ok=True)
    for name in ("bench.html", "bench_lab.py"):
        shutil.copy2(HERE / "web" / name, root / name)
    subprocess.run(
        [str(build.NODE_MODULES / ".bin" / "esbuild"), "--log-level=warning", "--bundle",
         "--format=esm", f"--outfile={root / 'bench-worker.js'}",
         str(HERE / "web" / "bench-worker.js")],
        cwd=ROOT, check=True,
    )  # fmt: skip
    return root


def dir_bytes(path: Path) -> int:
    """Sum of file sizes under ``path`` (what the browser left on disk)."""
    total = 0
    for base, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += (Path(base) / f).stat().st_size
    return total


class BenchBrowser:
    """One headless Chromium with a persistent profile and the bench page open."""

    def __init__(self) -> None:
        self.root = serve_root()
        self.server = build.make_server(0, self.root)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/bench.html"
        self.profile = Path(tempfile.mkdtemp(prefix="yloft-bench-profile-"))
        self._pw: Any = None
        self.ctx: Any = None
        self.page: Any = None
        self.launch()

    def launch(self) -> None:
        from playwright.sync_api import sync_playwright

        chromium = shutil.which("chromium")
        if not chromium:
            raise SystemExit("chromium is not installed (python3 build.py test installs it)")
        if self._pw is None:
            self._pw = sync_playwright().start()
        self.ctx = self._pw.chromium.launch_persistent_context(
            str(self.profile), executable_path=chromium, args=build.CHROMIUM_FLAGS
        )
        self.ctx.set_default_timeout(1_800_000)
        self.page = self.ctx.new_page()
        self.open()

    def open(self, query: str = "") -> None:
        """(Re)load the bench page: a new worker, nothing loaded yet."""
        self.page.goto(self.base + query)
        self.page.wait_for_selector("html[data-lab=ready]")

    def relaunch(self) -> None:
        """Close the browser (everything reaches the disk) and start it again."""
        self.ctx.close()
        self.launch()

    def call(self, method: str, *args: Any) -> Any:
        return self.page.evaluate("([m, a]) => lab.call(m, ...a)", [method, list(args)])

    def cold(self, query: str) -> dict[str, Any]:
        """Navigate to a cold-start page and return what it measured."""
        self.page.goto(self.base + query)
        self.page.wait_for_function(
            "document.documentElement.dataset.result || document.documentElement.dataset.error"
        )
        err = self.page.evaluate("document.documentElement.dataset.error")
        if err:
            raise RuntimeError(f"cold start {query} failed: {err}")
        result: dict[str, Any] = json.loads(
            self.page.evaluate("document.documentElement.dataset.result")
        )
        return result

    def profile_bytes(self, what: str) -> int:
        """Bytes on disk of the profile's ``IndexedDB`` or ``File System`` (OPFS) folder."""
        return dir_bytes(self.profile / "Default" / what)

    def close(self) -> None:
        try:
            if self.ctx is not None:
                self.ctx.close()
            if self._pw is not None:
                self._pw.stop()
        finally:
            self.server.shutdown()
            shutil.rmtree(self.root, ignore_errors=True)
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> BenchBrowser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
