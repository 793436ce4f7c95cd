"""Host side of the browser benchmarks: serve the bench page, drive headless Chromium
(or any engine yloft.testing drives).

    with BenchBrowser() as lab:
        lab.call("loadPython")
        lab.call("py", "notes_json", [10])

    with BenchBrowser("firefox", drivers) as lab:     # chromium, firefox or webkit
        lab.call("loadPython")                        # the same bench page and lab calls
        tab = lab.new_page("b", "index.html")         # another page of the same browser

``BenchBrowser()`` is Chromium through Playwright (every Chromium-only bench: CDP
sessions, memory, the profile's folders). ``BenchBrowser(engine, drivers)`` launches that
engine through the drivers yloft's own tests use (``yloft.testing.browsers.Drivers``:
Playwright for Chromium, puppeteer-core over WebDriver BiDi for Firefox, Selenium's
WebKitGTK driver for WebKit), on a fresh on-disk profile, and drives its pages through
their one interface (``yloft.testing.page.BrowserPage``: goto, evaluate, wait_until).

The served folder holds web/dist/ (Pyodide runtime, yloft wheel, storage modules; run
``python3 build.py build`` first) plus bench/web/ with the worker bundled by the repo's
esbuild together with npm yjs and y-indexeddb. Chromium runs with a fresh on-disk
profile, so IndexedDB and OPFS really reach the disk, and the profile's folders can be
measured (``profile_bytes``).

Memory, the same way in every bench (issue 27): what a set of pages holds is the memory
of the renderer processes that run them (``pages_memory``); a page's dedicated workers,
their JavaScript heaps and their WebAssembly memories (Pyodide, SQLite, the replica) live
in its renderer process, so they count, for yloft and for every baseline alike. The
renderer of a page is the one Chromium names for the page's frames (``page_pids``); the
spare renderer Chromium keeps ready and its own UI renderer are not a page's and do not
count. What a whole browser holds (the browser, GPU, network and storage processes too)
is ``profile_memory``. Each gives VmRSS, PSS (pages shared between processes split
between them, so sums over processes add up) and private memory (Private_Clean +
Private_Dirty: what goes when the process does), from /proc. Chromium's
``performance.measureUserAgentSpecificMemory()`` is not used: in Chromium 156 it counts
a worker's ArrayBuffers but not its ``WebAssembly.Memory`` (checked: a worker holding a
100 MiB wasm memory and a 50 MiB ArrayBuffer measures 52 MB), so it misses Pyodide.
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
import time
from collections.abc import Iterable
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


# ------------------------------------------------------------------------------ memory

MEMORY_KEYS = ("rss", "pss", "private")
TRACING_SERVICE = b"--utility-sub-type=tracing.mojom.TracingService"


def browser_pids(profile: Path) -> list[int]:
    """The browser process started with this profile (``--user-data-dir``) and all its
    descendants (zygotes, renderers, GPU, utility processes); other Chromiums running on
    the machine do not count, nor does the tracing service (the bench's instrument: the
    first ``page_pids`` starts it, ~14 MiB, and it stays)."""
    flag = f"--user-data-dir={profile}".encode()
    parent: dict[int, int] = {}
    roots, tracing = [], set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent[pid] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
            args = raw.split(b"\0")
            if flag in args and not any(a.startswith(b"--type=") for a in args):
                roots.append(pid)
            if TRACING_SERVICE in raw:  # a child's title: its arguments joined by spaces
                tracing.add(pid)
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return sorted(found - tracing)


def process_memory(pids: Iterable[int]) -> dict[str, int]:
    """Bytes summed over ``pids``: VmRSS (a page shared by several processes counts once
    in each), PSS (shared pages split between the processes that map them, so the sum
    counts each once) and private (Private_Clean + Private_Dirty, gone with the process).
    A process that is gone counts 0."""
    out = dict.fromkeys(MEMORY_KEYS, 0)
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out["rss"] += int(line.split()[1]) * 1024
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key == "Pss":
                    out["pss"] += int(rest.split()[0]) * 1024
                elif key in ("Private_Clean", "Private_Dirty"):
                    out["private"] += int(rest.split()[0]) * 1024
    return out


def profile_memory(profile: Path) -> dict[str, int]:
    """``process_memory`` of every process of the browser running ``profile``."""
    return process_memory(browser_pids(profile))


def page_pids(page: Any) -> list[int]:
    """The renderer processes of a Playwright ``page``'s frames (its dedicated workers
    run in the same process). Chromium's DevTools protocol has no call for it; its trace
    does: a trace started from the page's session opens with a TracingStartedInBrowser
    event that lists the page's frames and the process id of each (what DevTools'
    performance panel reads). The trace records nothing else (one category, ended at
    once) and takes ~0.1 s."""
    cdp = page.context.new_cdp_session(page)
    events: list[dict[str, Any]] = []
    done = threading.Event()
    cdp.on("Tracing.dataCollected", lambda e: events.extend(e["value"]))
    cdp.on("Tracing.tracingComplete", lambda _e: done.set())
    try:
        cdp.send("Tracing.start", {
            "traceConfig": {"includedCategories": ["disabled-by-default-devtools.timeline"],
                            "traceBufferSizeInKb": 1024},
            "transferMode": "ReportEvents",
        })  # fmt: skip
        cdp.send("Tracing.end")
        deadline = time.monotonic() + 30
        while not done.is_set() and time.monotonic() < deadline:
            page.wait_for_timeout(20)  # lets Playwright deliver the session's events
    finally:
        cdp.detach()
    pids = {
        int(f["processId"])
        for e in events
        if e.get("name") == "TracingStartedInBrowser"
        for f in e.get("args", {}).get("data", {}).get("frames", [])
        if f.get("processId")
    }
    if not pids:
        raise RuntimeError(f"no renderer process found for {page.url}")
    return sorted(pids)


GC = """() => { if (typeof gc === "function") gc(); }"""

GC_FLAGS = ["--js-flags=--expose-gc"]
"""Chromium flags for the benches that measure memory: ``gc()`` in pages and workers."""


def collect_garbage(page: Any) -> None:
    """A full GC in the page and in each of its dedicated workers (``gc()``, exposed by
    GC_FLAGS; without them only the page's heap, through the DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("HeapProfiler.collectGarbage")
    finally:
        cdp.detach()
    for worker in page.workers:
        with contextlib.suppress(Exception):  # a worker that just ended
            worker.evaluate(GC)


def pages_memory(pages: Iterable[Any], gc: bool = True) -> dict[str, Any]:
    """What ``pages`` hold: ``process_memory`` of their renderer processes (each once,
    when pages share one), after a full GC in each page and its workers (``gc``), with
    the process ids measured."""
    pages = list(pages)
    if gc:
        for page in pages:
            collect_garbage(page)
    pids = sorted({pid for page in pages for pid in page_pids(page)})
    return {**process_memory(pids), "pids": pids}


LAB_READY = "() => document.documentElement.dataset.lab === 'ready'"
COLD_DONE = (
    "() => document.documentElement.dataset.result || document.documentElement.dataset.error"
)
CALL = "([m, a]) => lab.call(m, ...a)"


class BenchBrowser:
    """One headless browser with a persistent profile and the bench page open.

    ``engine`` None: Chromium through Playwright (``self.page`` a Playwright page); else
    ``"chromium"``, ``"firefox"`` or ``"webkit"`` launched by ``drivers``
    (``yloft.testing.browsers.Drivers``; one is made, and closed with this, when not
    given), ``self.page`` a ``yloft.testing.page.BrowserPage``. ``root``: serve this
    folder (another BenchBrowser's ``root``, kept) instead of a new copy.
    """

    def __init__(
        self, engine: str | None = None, drivers: Any = None, root: Path | None = None
    ) -> None:
        self.engine = engine
        self.drivers = drivers
        self._own_drivers = engine is not None and drivers is None
        self._own_root = root is None
        self.root = serve_root() if root is None else root
        self.server = build.make_server(0, self.root)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.base = self.origin + "bench.html"
        self.profile = Path(tempfile.mkdtemp(prefix="yloft-bench-profile-"))
        self._pw: Any = None
        self.ctx: Any = None
        self.page: Any = None
        self.browser: Any = None  # a yloft.testing.page.Browser (engine given)
        self.launch()

    def _playwright_chromium(self) -> Any:
        from playwright.sync_api import sync_playwright

        if self._pw is None:
            self._pw = sync_playwright().start()
        return self._pw.chromium

    def launch(self) -> None:
        if self.engine is not None:
            if self.drivers is None:
                from yloft.testing.browsers import Drivers

                self.drivers = Drivers(chromium=self._playwright_chromium)
            self.browser = self.drivers.launch(self.engine, self.profile)
            self.page = self.browser.new_page("lab")
            self.open()
            return
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
        if self.engine is not None:
            self.page.wait_until(LAB_READY, None, 120)
            return
        self.page.wait_for_selector("html[data-lab=ready]")

    def relaunch(self) -> None:
        """Close the browser (everything reaches the disk) and start it again."""
        if self.engine is not None:
            self.browser.close()
            self.browser.relaunch()
            self.page = self.browser.new_page("lab")
            self.open()
            return
        self.ctx.close()
        self.launch()

    def call(self, method: str, *args: Any) -> Any:
        return self.page.evaluate(CALL, [method, list(args)])

    def cold(self, query: str, timeout: float = 600) -> dict[str, Any]:
        """Navigate to a cold-start page and return what it measured."""
        self.page.goto(self.base + query)
        if self.engine is not None:
            self.page.wait_until(COLD_DONE, None, timeout)
        else:
            self.page.wait_for_function(COLD_DONE)
        err = self.page.evaluate("() => document.documentElement.dataset.error")
        if err:
            raise RuntimeError(f"cold start {query} failed: {err}")
        result: dict[str, Any] = json.loads(
            self.page.evaluate("() => document.documentElement.dataset.result")
        )
        return result

    def new_page(self, name: str, path: str = "") -> Any:
        """Another page of this browser (engine given), at ``path`` of the served folder
        (a ``yloft.testing.page.BrowserPage``; not waited for beyond its load event)."""
        if self.engine is None:
            raise ValueError("new_page needs an engine: BenchBrowser(engine, drivers)")
        page = self.browser.new_page(name)
        page.goto(self.origin + path)
        return page

    def profile_bytes(self, what: str) -> int:
        """Bytes on disk of the profile's ``IndexedDB`` or ``File System`` (OPFS) folder."""
        return dir_bytes(self.profile / "Default" / what)

    def close(self) -> None:
        try:
            if self.browser is not None:
                self.browser.close()
                if self.drivers is not None and self.browser in self.drivers.launched:
                    self.drivers.launched.remove(self.browser)
            if self._own_drivers and self.drivers is not None:
                self.drivers.close()
            if self.ctx is not None:
                self.ctx.close()
            if self._pw is not None:
                self._pw.stop()
        finally:
            self.server.shutdown()
            self.server.server_close()
            if self._own_root:
                shutil.rmtree(self.root, ignore_errors=True)
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> BenchBrowser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
