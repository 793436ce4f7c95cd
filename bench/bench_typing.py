"""Typing into a collaborative editor: yloft's db.doc() beside the plain Yjs stack.

    .venv/bin/python bench/bench_typing.py [--keys 200] [--sustain 60] [--cycles 200]

Headless Chromium (Debian's, build.CHROMIUM_FLAGS), on-disk profiles. yloft is the
notes app (CodeMirror 6 + y-codemirror.next on ``db.doc()``); the baseline is the same
editor and binding on a plain Y.Doc (bench/typing/baseline.js, bundled with esbuild).

- tabs: a keystroke in one tab (a CodeMirror transaction, as typing makes, 20 a second)
  until the other tab's document holds it; yloft's path is page → engine → commit →
  BroadcastChannel → the other tab's engine → its page. Baseline: y-indexeddb persists
  the update and a BroadcastChannel carries it. Same clock (performance.timeOrigin).
- devices: the same, between two profiles: yloft through its relay (fsync before it
  forwards), the baseline through @y/websocket-server 0.1.5 (in memory) with y-websocket.
- sustained: real keystrokes (Playwright's keyboard) at 20 characters/s for --sustain
  seconds into a note with a second tab open; main-thread long tasks (PerformanceObserver
  "longtask"), the worst gap between the ticks of a 10 ms timer (every stall of the main
  thread shows there), and the memory of both tabs before and after: the renderer
  processes that run them (page, dedicated workers, their JS heaps and WebAssembly
  memories: for yloft the writer tab's worker with Pyodide, SQLite and the replica) after
  a full GC in every page and worker; PSS, RSS and private memory from /proc
  (_browser.pages_memory, the same for every subject). Baseline: the plain stack in two
  tabs.
- destroy: --cycles times db.doc() → whenSynced → destroy(); the memory of the tab's
  renderer process (as above, with its worker) before and after, and the engine's open
  links (must return to where they were).

Prints medians/p99 and ratios; writes bench/results/typing.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _browser import GC_FLAGS, MEMORY_KEYS, pages_memory  # noqa: E402  (one way, every bench)
from bench_tabs import open_yidb, pct, serve  # noqa: E402  (shared with the tab bench)
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright  # noqa: E402

import build  # noqa: E402

RESULTS = ROOT / "bench" / "results"

# In the receiving page: when does each new character arrive (by the text's length).
WATCH = """() => {
  const t = window.typing;
  const at = () => performance.timeOrigin + performance.now();
  const base = t.ytext.length;
  window.arrivals = [];
  t.ytext.observe(() => {
    const now = at();
    while (window.arrivals.length < t.ytext.length - base) window.arrivals.push(now);
  });
}"""

# In the typing page: n keystrokes at the end of the text, one every `gap` ms.
TYPE = """async ([n, gap]) => {
  const v = window.typing.view;
  const at = () => performance.timeOrigin + performance.now();
  const sent = [];
  for (let i = 0; i < n; i++) {
    sent.push(at());
    v.dispatch({ changes: { from: v.state.doc.length, insert: "x" }, userEvent: "input.type" });
    await new Promise((r) => setTimeout(r, gap));
  }
  return sent;
}"""

# Long tasks (over 50 ms) as Chromium reports them, and a 10 ms timer whose late ticks
# show every stall of the main thread, however short (the gaps are never below 10 ms).
LONGTASKS = """() => {
  window.longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.longTasks.push(e.duration);
  }).observe({ type: "longtask", buffered: false });
  window.gaps = [];
  let last = performance.now();
  window.ticker = setInterval(() => {
    const now = performance.now();
    window.gaps.push(now - last);
    last = now;
  }, 10);
}"""

# yloft's notes app exposes the open note; give it the same shape as the baseline's.
YLOFT_TYPING = """() => {
  const note = window.openNote;
  window.typing = { view: note.body, ytext: note.provider.doc.getText("body") };
}"""


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 2),
        "p99_ms": round(pct(values, 0.99), 2),
        "samples_ms": [round(v, 2) for v in values],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def process(cmd: list[str], ready: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run a server; yield the first output line that contains ``ready``."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if ready in line:
                threading.Thread(target=proc.stdout.read, daemon=True).start()
                yield line
                break
            if not line and proc.poll() is not None:
                raise SystemExit(f"{cmd[1]} exited before it was ready")
        else:
            raise SystemExit(f"{cmd[1]} did not start")
    finally:
        proc.terminate()
        proc.wait(20)


class Lab:
    def __init__(self, pw: Playwright, tmp: Path) -> None:
        self.pw = pw
        self.tmp = tmp
        self.contexts: list[BrowserContext] = []

    def profile(self) -> BrowserContext:
        ctx = self.pw.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="profile-", dir=self.tmp),
            executable_path=shutil.which("chromium"),
            args=[*build.CHROMIUM_FLAGS, *GC_FLAGS],
            service_workers="block",
        )
        self.contexts.append(ctx)
        return ctx

    def close(self) -> None:
        for ctx in self.contexts:
            with contextlib.suppress(Exception):
                ctx.close()


def bundle_baseline(folder: Path, page: str = "index.html") -> Path:
    """The baseline editor page in ``folder`` (as ``page``, beside its esbuild bundle)."""
    shutil.copy(ROOT / "bench" / "typing" / "baseline.html", folder / page)
    subprocess.run(
        [ROOT / "node_modules" / ".bin" / "esbuild", "--bundle", "--format=esm", "--minify",
         "--log-level=warning", f"--outfile={folder / 'baseline.bundle.js'}",
         str(ROOT / "bench" / "typing" / "baseline.js")],
        check=True, cwd=ROOT,
    )  # fmt: skip
    return folder / page


def open_note(ctx: BrowserContext, url: str, nid: str | None) -> tuple[Page, str]:
    """A notes app tab with note ``nid`` open in the editor (created when None)."""
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_selector("html[data-yloft=ready]", state="attached")
    if nid is None:
        nid = str(page.evaluate("() => window.db.call('create_note', 'typing', 'start ')"))
    page.wait_for_selector(f"#notes li[data-id='{nid}']")
    page.click(f"#notes li[data-id='{nid}']")
    page.wait_for_function("(id) => window.openNote?.id === id", arg=nid)
    page.evaluate(YLOFT_TYPING)
    return page, nid


def open_baseline(ctx: BrowserContext, url: str) -> Page:
    return open_yidb(ctx, url, ready="window.typing.ready")


def keystroke_latency(src: Page, dst: Page, n: int) -> list[float]:
    dst.evaluate(WATCH)
    sent = src.evaluate(TYPE, [n, 50])
    dst.wait_for_function("([n]) => window.arrivals.length >= n", arg=[n], polling=50)
    arrivals = dst.evaluate("() => window.arrivals")
    return [a - s for s, a in zip(sent, arrivals, strict=False)]


def memory(pages: list[Page]) -> dict[str, Any]:
    """The memory of ``pages``' renderer processes (pages, workers, wasm), after GC."""
    got = pages_memory(pages)
    return {**{f"{k}_mib": round(got[k] / 2**20, 2) for k in MEMORY_KEYS},
            "bytes": {k: got[k] for k in MEMORY_KEYS}, "processes": len(got["pids"])}  # fmt: skip


def growth(before: dict[str, Any], after: dict[str, Any], per: float = 1.0,
           unit: float = 2**20) -> dict[str, float]:  # fmt: skip
    """after - before for each of MEMORY_KEYS, in MiB (``unit`` 1024: KiB), over ``per``."""
    return {k: round((after["bytes"][k] - before["bytes"][k]) / unit / per, 2)
            for k in MEMORY_KEYS}  # fmt: skip


def sustained(page: Page, other: Page, seconds: int) -> dict[str, Any]:
    """Real keystrokes at 20/s into the page's editor (``other``: the second tab open
    meanwhile); long tasks, and the memory of both tabs before and after."""
    page.get_by_label("Body").click()
    page.keyboard.press("Control+End")
    before = memory([page, other])
    page.evaluate(LONGTASKS)
    text = ("typing along at twenty characters a second " * 100)[: seconds * 20]
    t0 = time.monotonic()
    page.keyboard.type(text, delay=50)
    wall = time.monotonic() - t0
    page.wait_for_timeout(1000)
    tasks = page.evaluate("() => window.longTasks")
    gaps = sorted(page.evaluate("() => { clearInterval(window.ticker); return window.gaps; }"))
    after = memory([page, other])
    return {
        "max_gap_ms": round(gaps[-1], 1),
        "p99_gap_ms": round(pct(gaps, 0.99), 1),
        "chars": len(text),
        "wall_s": round(wall, 1),
        "long_tasks": len(tasks),
        "long_task_ms_total": round(sum(tasks), 1),
        "long_task_ms_max": round(max(tasks), 1) if tasks else 0.0,
        "memory_before": before,
        "memory_after": after,
        "memory_growth_mib": growth(before, after),
    }


def destroy_cycles(page: Page, nid: str, cycles: int) -> dict[str, Any]:
    links = page.evaluate("() => window.db.request('doc_links', [])")
    before = memory([page])
    page.evaluate(
        """async ([id, n]) => {
          for (let i = 0; i < n; i++) {
            const p = window.db.doc("notes", id);
            await p.whenSynced;
            p.destroy();
          }
          await window.db.query("SELECT 1", []);
        }""",
        [nid, cycles],
    )
    after = memory([page])
    return {
        "cycles": cycles,
        "engine_links_before": links,
        "engine_links_after": page.evaluate("() => window.db.request('doc_links', [])"),
        "page_providers_after": page.evaluate("() => window.db.providers.size"),
        "memory_before": before,
        "memory_after": after,
        "memory_growth_kib_per_cycle": growth(before, after, cycles, 1024),
    }


def report(label: str, got: dict[str, Any]) -> None:
    print(f"{label:44} p50 {got['p50_ms']:8.2f} ms  p99 {got['p99_ms']:8.2f} ms  (n={got['n']})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=200, help="keystrokes per latency run")
    ap.add_argument("--sustain", type=int, default=60, help="seconds of sustained typing")
    ap.add_argument("--cycles", type=int, default=200, help="provider open/destroy cycles")
    args = ap.parse_args()

    dist = build.build()
    tmp = Path(tempfile.mkdtemp(prefix="bench-typing-"))
    bundle_baseline(tmp)
    base_server, base_url = serve(tmp)
    relay_port, node_port = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "relay"), str(ROOT / "pylib")]))
    relay_cmd = [sys.executable, "-m", "yloft_relay", "--host", "127.0.0.1", "--port",
                 str(relay_port), "--db", str(tmp / "relay.db"), "--tokens", "bench=bench",
                 "--static", str(dist), "--log-level", "WARNING"]  # fmt: skip
    node_cmd = [
        "node",
        str(ROOT / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"),
    ]
    node_env = dict(os.environ, HOST="127.0.0.1", PORT=str(node_port))
    results: dict[str, Any] = {"keys": args.keys, "sustain_s": args.sustain}
    with (
        process(relay_cmd, "listening on", env),
        process(node_cmd, "running", node_env),
        sync_playwright() as pw,
    ):
        lab = Lab(pw, tmp)
        try:
            app = f"http://127.0.0.1:{relay_port}/"
            synced = app + "?space=bench&token=bench"
            lat: dict[str, dict[str, Any]] = {}

            # Tabs: two tabs of one profile (no relay).
            ctx = lab.profile()
            t1, nid = open_note(ctx, app, None)
            t2, _ = open_note(ctx, app, nid)
            lat["yloft tab -> tab"] = summary(keystroke_latency(t1, t2, args.keys))
            bctx = lab.profile()
            b1, b2 = open_baseline(bctx, base_url), open_baseline(bctx, base_url)
            lat["y-indexeddb+BroadcastChannel"] = summary(keystroke_latency(b1, b2, args.keys))

            # Sustained typing with the second tab open.
            results["sustained"] = {
                "yloft notes app (2 tabs)": sustained(t1, t2, args.sustain),
                "CodeMirror + y-indexeddb (2 tabs)": sustained(b1, b2, args.sustain),
            }
            results["destroy"] = destroy_cycles(t1, nid, args.cycles)
            for p in (t1, t2, b1, b2):
                p.close()

            # Devices: two profiles through a server.
            d1, dnid = open_note(lab.profile(), synced, None)
            d1.wait_for_function(
                "() => document.querySelector('#status').dataset.sync === 'online'"
            )
            d2, _ = open_note(lab.profile(), synced, dnid)
            lat["yloft device -> device (relay)"] = summary(keystroke_latency(d1, d2, args.keys))
            ws = f"{base_url}?mode=ws&url=ws://127.0.0.1:{node_port}&room=typing"
            w1, w2 = open_baseline(lab.profile(), ws), open_baseline(lab.profile(), ws)
            lat["y-websocket (@y/websocket-server)"] = summary(keystroke_latency(w1, w2, args.keys))
        finally:
            lab.close()
    for label, got in lat.items():
        report(label, got)
    results["latency"] = lat
    for label, got in results["sustained"].items():
        print(f"sustained {label:36} {got}")
    print(f"destroy cycles: {results['destroy']}")
    base_server.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "typing.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS / 'typing.json'}")


if __name__ == "__main__":
    main()
