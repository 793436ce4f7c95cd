"""Issue 24: the real notes app at 10,000 notes in several tabs of one browser profile.

    .venv/bin/python bench/bench_app_tabs.py [--quick] [--notes 10000] [--rounds 3]

The notes example's built bundle (build.DIST, copied, served by build.make_server with
its COOP/COEP headers), headless Chromium (Debian's, build.CHROMIUM_FLAGS), one on-disk
profile per subject (launch_persistent_context, service workers blocked), all open for
the whole run. The notes are made on CPython with notes_app and yloft.store.archive and
imported once in the first tab (``db.importFile``), so they sit on OPFS as a person's do.
A tab is *usable* when ``<html data-yloft="ready">`` and ``#notes`` lists notes; a
MutationObserver installed before the page's scripts takes the time, from the page's
navigation start (performance.timeOrigin). Each round, with only the writer tab open:

- writer reload: the only tab reloads, to usable;
- second and third tab: opened one after the other while the writer is open (each
  tab's worker is a client of the writer's engine: no Pyodide), to usable;
- memory per extra tab: the summed VmRSS of this profile's browser processes (the
  browser and every descendant, found by its --user-data-dir: other Chromiums on the
  machine do not count; the tabs' renderers hold their pages, dedicated workers, JS
  heaps and WebAssembly memories) just before a tab opens and 3 s after it is usable,
  for tabs 2..5; the same for PSS and for private memory (Private_Clean +
  Private_Dirty); also, absolute, the whole browser's after each tab and the new tab's
  own renderer process (_browser.profile_memory, page_pids: one way for every bench);
- memory of the first tab: its renderer process (page, workers, wasm: yloft's writer
  holds Pyodide, SQLite and the store), absolute, once per round before tab 2 opens;
- idle CPU: user + system CPU time of every thread of the same processes (schedstat,
  in ns) over --idle seconds with 3 tabs open, starting 3 s after the third tab is
  usable (nothing happens meanwhile);
- a call from each tab: ``db.call('create_note', ...)`` awaited --calls times from each
  of tabs 1 (the writer), 2 and 3, the tabs taking turns, timed in the page (each
  tab's list re-renders as the notes arrive, as in the app); per round, each tab's
  median;
- baseline of the reload, same profile, same origin, same pyodide/ files: the tab goes
  to bench/app_tabs/bare.html, a worker loads Pyodide and answers a first sqlite3
  query (in memory), timed from that page's navigation start; then back to the app
  (that load, and the writer's start-up marks of both loads, are recorded too).

Baselines of memory, idle CPU (and, for reference, of a tab's opening), same steps in
their own profiles: the CodeMirror + y-codemirror.next + y-indexeddb page of
bench_typing.py (bundled by its own code; usable once its document is synced), and a
blank page of the same origin (usable once loaded). The first round is a warm-up, not
counted (not with --quick: 1,000 notes, 1 round, 3 tabs, 5 calls, 5 s idle). Writes
bench/results/app_tabs.json (turned into comparisons by figures.app_tabs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import figures  # noqa: E402
from _browser import (  # noqa: E402  (memory: one way, every bench)
    MEMORY_KEYS,
    browser_pids,
    page_pids,
    process_memory,
    profile_memory,
)
from bench_typing import bundle_baseline  # noqa: E402  (the baseline page, built one way)
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright  # noqa: E402

import build  # noqa: E402

RESULTS = HERE / "results"
MEMORY_WAIT_S = 3.0
TICK = os.sysconf("SC_CLK_TCK")

# Installed before the app's own scripts: when the page first becomes usable, in ms
# from its navigation start. Only on the app's page (not on the bare baseline page).
USABLE_PROBE = """(() => {
  if (location.pathname !== "/" && location.pathname !== "/index.html") return;
  const root = () => document.documentElement;
  const seen = new MutationObserver(() => {
    if (window.__readyAt === undefined && root()?.dataset.yloft === "ready") {
      window.__readyAt = performance.now();
    }
    if (root()?.dataset.yloft === "ready" && document.querySelectorAll("#notes li").length > 0) {
      window.__usableAt = performance.now();
      seen.disconnect();
    }
  });
  seen.observe(document, { subtree: true, childList: true, attributes: true,
                           attributeFilter: ["data-yloft"] });
})()"""

CALL = """async (title) => {
  const t0 = performance.now();
  await window.db.call("create_note", title, "a note made by bench_app_tabs", ["bench"]);
  return performance.now() - t0;
}"""

# Where a tab's time went: the page's DOMContentLoaded, and (the app) data-yloft=ready.
PARTS = """() => ({
  dom_content_loaded: performance.getEntriesByType("navigation")[0]?.domContentLoadedEventEnd,
  ready: window.__readyAt,
})"""

IMPORT = """async (url) => {
  const report = await window.db.importFile(await (await fetch(url)).blob());
  return report.documents;
}"""

# The writer's start-up marks (web/worker/engine-worker.js, boot.js, engine-host.js), moved
# from the worker's clock to the page's: ms from the page's navigation start.
WRITER_MARKS = """(pageOrigin) => {
  if (!self.yloftTabs) return null;
  const shift = performance.timeOrigin - pageOrigin;
  const marks = Object.entries(self.yloftTabs().marks);
  return Object.fromEntries(marks.map(([k, v]) => [k, Math.round(v + shift)]));
}"""

WORDS = ["milk", "bread", "call", "plan", "garden", "letter", "meeting", "idea", "river",
         "window", "paper", "light", "market", "music", "travel", "budget", "ticket",
         "doctor", "kitchen", "review"]  # fmt: skip


def make_notes(n: int) -> bytes:
    """An export file of ``n`` notes (title, forty words, a tag), made on CPython."""
    sys.path.insert(0, str(build.EXAMPLES / "notes"))
    import notes_app

    from yloft.store import Store, archive

    store = Store(":memory:")
    notes_app.setup(store)
    with store.atomic():
        for i in range(n):
            body = " ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(40))
            notes_app.create_note(f"Note {i} {WORDS[i % len(WORDS)]}", body, [WORDS[i % 5]])
    data = archive.encode_store(store)
    store.close()
    return data


def serve_root(notes: bytes) -> Path:
    """A private copy of the bundle (a rebuild meanwhile changes nothing) and the pages."""
    if not (build.DIST / "manifest.json").exists():
        raise SystemExit("the notes bundle is not built: run python3 build.py build")
    root = Path(tempfile.mkdtemp(prefix="yloft-bench-app-tabs-"))
    shutil.copytree(build.DIST, root, dirs_exist_ok=True)
    for name in ("bare.html", "bare.js", "bare-worker.js", "blank.html"):
        shutil.copy2(HERE / "app_tabs" / name, root / name)
    bundle_baseline(root, "typing-baseline.html")
    (root / "bench-notes.yloft").write_bytes(notes)
    return root


# ------------------------------------------------------------- the browser's processes


def cpu_ns(profile: Path) -> dict[str, int]:
    """CPU time (user + system) of every thread of the profile's processes, in ns.

    /proc/<pid>/task/<tid>/schedstat's run time, not /proc/<pid>/stat's clock ticks: an
    idle blank tab uses a tick or two in 5 s, and a 10 ms resolution rounds that to 0.
    """
    out = {}
    for pid in browser_pids(profile):
        with contextlib.suppress(OSError):
            for task in os.scandir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError, IndexError, ValueError):
                    out[f"{pid}/{task.name}"] = int(
                        Path(task.path, "schedstat").read_text().split()[0]
                    )
    return out


def cpu_ticks(profile: Path) -> int:
    """The same from /proc/<pid>/stat (utime + stime, clock ticks): a cross-check."""
    total = 0
    for pid in browser_pids(profile):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total


def idle_cpu(profile: Path, seconds: float) -> dict[str, float]:
    """CPU-seconds the profile's processes used over ``seconds`` of doing nothing."""
    before, ticks = cpu_ns(profile), cpu_ticks(profile)
    time.sleep(seconds)
    after, ticks = cpu_ns(profile), cpu_ticks(profile) - ticks
    ns = sum(t - before.get(task, 0) for task, t in after.items())
    return {"idle_cpu_s": round(ns / 1e9, 4), "idle_cpu_ticks_s": ticks / TICK}


# ------------------------------------------------------------------------- the tabs


class Profile:
    """One persistent Chromium profile, its first tab at ``url``."""

    def __init__(self, pw: Playwright, tmp: Path, url: str, kind: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"profile-{kind}-", dir=tmp))
        self.url, self.kind = url, kind
        self.ctx: BrowserContext = pw.chromium.launch_persistent_context(
            str(self.dir), executable_path=shutil.which("chromium"),
            args=build.CHROMIUM_FLAGS, service_workers="block",
        )  # fmt: skip
        self.ctx.set_default_timeout(300_000)
        if kind == "notes":
            self.ctx.add_init_script(USABLE_PROBE)
        self.tab1 = self.ctx.pages[0] if self.ctx.pages else self.ctx.new_page()

    def usable(self, page: Page) -> float:
        """Wait until ``page`` is usable; ms from its navigation start."""
        if self.kind == "notes":
            page.wait_for_function("() => window.__usableAt !== undefined", polling=25)
            return float(page.evaluate("() => window.__usableAt"))
        if self.kind == "baseline":  # CodeMirror bound, y-indexeddb synced
            page.wait_for_selector("html[data-ready]", state="attached")
            return float(page.evaluate("() => window.typing.ready.then(() => performance.now())"))
        return float(page.evaluate("() => performance.now()"))  # blank: loaded

    def open(self) -> tuple[Page, float]:
        page = self.ctx.new_page()
        page.goto(self.url)
        return page, self.usable(page)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ctx.close()


def extra_tabs(p: Profile, last: int, idle_s: float,
               with_three: Callable[[list[Page]], dict[str, Any]] | None = None
               ) -> dict[str, Any]:  # fmt: skip
    """Open tabs 2..last one by one (memory before and after each); idle CPU at 3 tabs."""
    out: dict[str, Any] = {"usable_ms": [], "parts_ms": [], "rss": [], "pss": [], "private": [],
                           "total": [], "tab": []}  # fmt: skip
    pages = [p.tab1]
    out["tab1"] = process_memory(page_pids(p.tab1))
    for _ in range(2, last + 1):
        before = profile_memory(p.dir)
        page, ms = p.open()
        pages.append(page)
        out["usable_ms"].append(round(ms, 1))
        out["parts_ms"].append(page.evaluate(PARTS))
        time.sleep(MEMORY_WAIT_S)
        after = profile_memory(p.dir)
        for key in MEMORY_KEYS:
            out[key].append(after[key] - before[key])
        out["total"].append(after)  # the whole browser with this many tabs
        out["tab"].append(process_memory(page_pids(page)))  # after `after`: not in it
        if len(pages) == 3:
            out.update(idle_cpu(p.dir, idle_s))
            if with_three:
                out.update(with_three(pages))
    for page in pages[1:]:
        page.close()
    return out


def calls(pages: list[Page], n: int, r: int) -> dict[str, Any]:
    """``n`` awaited calls from each tab, the tabs taking turns (no tab always first)."""
    took: list[list[float]] = [[] for _ in pages]
    for i in range(n):
        for t, page in enumerate(pages):
            took[t].append(round(page.evaluate(CALL, f"call r{r} t{t + 1} {i}"), 2))
    return {"calls_ms": took}


def bare(p: Profile) -> dict[str, Any]:
    """The bare Pyodide page in the notes profile's only tab (the app is left)."""
    p.tab1.goto(p.url + "bare.html")
    p.tab1.wait_for_function(
        "() => document.documentElement.dataset.result || document.documentElement.dataset.error"
    )
    err = p.tab1.evaluate("() => document.documentElement.dataset.error")
    if err:
        raise SystemExit(f"the bare Pyodide page failed: {err}")
    res: dict[str, Any] = json.loads(p.tab1.evaluate("document.documentElement.dataset.result"))
    if res.get("answer") != 2:
        raise SystemExit(f"the bare Pyodide page answered {res.get('answer')!r}")
    return res


def notes_round(p: Profile, args: argparse.Namespace, r: int) -> dict[str, Any]:
    """One round in the notes profile; it starts and ends with the writer tab alone."""
    time.sleep(2)  # the writer settles after its last load
    p.tab1.reload()
    out: dict[str, Any] = {"writer_reload_ms": round(p.usable(p.tab1), 1)}
    out["writer_ready_ms"] = p.tab1.evaluate("() => window.__readyAt")
    out["writer_marks_ms"] = writer_marks(p.tab1)
    out.update(extra_tabs(p, args.tabs, args.idle, lambda pages: calls(pages, args.calls, r)))
    got = bare(p)
    out["bare_ms"] = round(got["navigation_to_result_ms"], 1)
    out["bare_pyodide_ms"] = round(got["pyodide_ms"], 1)
    if r < args.rounds:  # back to the app: the next round starts with its writer open
        p.tab1.goto(p.url)
        out["writer_after_bare_ms"] = round(p.usable(p.tab1), 1)
        out["writer_after_bare_marks_ms"] = writer_marks(p.tab1)
    return out


def writer_marks(page: Page) -> dict[str, int] | None:
    """Where the writer's load went (None when the build sets no marks)."""
    origin = page.evaluate("() => performance.timeOrigin")
    for worker in page.workers:
        with contextlib.suppress(Exception):
            marks = worker.evaluate(WRITER_MARKS, origin)
            if marks:
                return dict(marks)
    return None


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="1,000 notes, 1 round, no warm-up, 3 tabs, 5 calls, 5 s idle")  # fmt: skip
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tabs", type=int, default=5, help="tabs opened in all (at least 3)")
    ap.add_argument("--calls", type=int, default=20, help="db.call round trips per tab")
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of idle CPU measured")
    args = ap.parse_args()
    if args.quick:
        args.notes, args.rounds, args.tabs, args.calls, args.idle = 1_000, 1, 3, 5, 5.0
    args.tabs = max(3, args.tabs)
    warmup = 0 if args.quick else 1
    t0 = time.monotonic()
    load_start = os.getloadavg()
    data = make_notes(args.notes)
    print(f"{args.notes:,} notes: export file of {len(data):,} bytes "
          f"({time.monotonic() - t0:.1f} s)", flush=True)  # fmt: skip
    root = serve_root(data)
    server = build.make_server(0, root)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    tmp = Path(tempfile.mkdtemp(prefix="bench-app-tabs-"))
    rounds: dict[str, list[dict[str, Any]]] = {"notes": [], "baseline": [], "blank": []}
    profiles: list[Profile] = []
    try:
        with sync_playwright() as pw:
            notes = Profile(pw, tmp, url, "notes")
            profiles.append(notes)
            notes.tab1.goto(url)
            notes.tab1.wait_for_selector("html[data-yloft=ready]", state="attached")
            t = time.monotonic()
            imported = notes.tab1.evaluate(IMPORT, url + "bench-notes.yloft")
            notes.usable(notes.tab1)
            import_s = time.monotonic() - t
            print(f"imported {imported:,} notes in the first tab ({import_s:.1f} s)", flush=True)
            others = [Profile(pw, tmp, url + "typing-baseline.html", "baseline"),
                      Profile(pw, tmp, url + "blank.html", "blank")]  # fmt: skip
            profiles += others
            for p in others:
                p.tab1.goto(p.url)
                p.usable(p.tab1)
            for r in range(1 - warmup, args.rounds + 1):  # round 0 is the warm-up
                got = {"notes": notes_round(notes, args, r)}
                for p in others:
                    got[p.kind] = extra_tabs(p, args.tabs, args.idle)
                n = got["notes"]
                print(f"round {r}/{args.rounds}{' (warm-up)' if r == 0 else ''}: "
                      f"reload {n['writer_reload_ms']:.0f} ms, bare {n['bare_ms']:.0f} ms, "
                      f"tabs {n['usable_ms']} ms, calls "
                      f"{[median(c) for c in n['calls_ms']]} ms, MiB per tab "
                      + ", ".join(f"{k} {median(v['rss']) / 2**20:.0f}" for k, v in got.items())
                      + ", first tab's renderer PSS MiB "
                      + ", ".join(f"{k} {v['tab1']['pss'] / 2**20:.0f}" for k, v in got.items())
                      + ", idle CPU-s "
                      + ", ".join(f"{k} {v['idle_cpu_s']:.2f}" for k, v in got.items()),
                      flush=True)  # fmt: skip
                if r > 0:
                    for k, v in got.items():
                        rounds[k].append(v)
    finally:
        for p in profiles:
            p.close()
        server.shutdown()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "notes": args.notes, "rounds": args.rounds, "warmup_rounds": warmup,
        "tabs": args.tabs, "calls": args.calls, "idle_s": args.idle,
        "memory_wait_s": MEMORY_WAIT_S, "export_bytes": len(data),
        "import_s": round(import_s, 1), "load_avg_start": load_start,
        "load_avg_end": os.getloadavg(), "wall_s": round(time.monotonic() - t0, 1),
        "per_round": rounds,
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "app_tabs.json").write_text(json.dumps(result, indent=1) + "\n")
    for c in figures.app_tabs(result):
        print(figures.one_line(c))
    print(f"wrote {RESULTS / 'app_tabs.json'} ({result['wall_s']} s, load average "
          f"{load_start[0]:.2f} at start, {result['load_avg_end'][0]:.2f} at the end)")  # fmt: skip


if __name__ == "__main__":
    main()
