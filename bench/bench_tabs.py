"""Tab-to-tab latency and throughput of yloft's tab sync, beside y-indexeddb + BroadcastChannel.

    .venv/bin/python bench/bench_tabs.py [--edits 1000] [--throughput 200] [--takeovers 6]

Headless Chromium (Debian's, build.CHROMIUM_FLAGS), one on-disk profile per subject
(not an incognito context: OPFS and IndexedDB behave differently in memory), several tabs.

- latency: one tab sets a note's title (awaited, one edit after another), another tab's
  live query callback sees it. Measured from just before the call in the editing page to
  the callback in the other page, on the pages' shared clock (performance.timeOrigin +
  now()), so it includes page → worker → Python commit → BroadcastChannel → the other
  engine's worker → apply → live query → page. Directions: writer → follower,
  follower → writer, follower → follower. Each direction (and the baseline) first makes
  --warmup edits that are not counted, as the other benches run a warm-up round: the
  first edits after the tabs open pay one-off costs (the engine's first use of each code
  path, a document's first vetting copy in each tab), which showed as runs of 40-80 ms
  at the start of the first direction only and set its p99.
- page documents (``db.doc``), the path typing takes: one tab's provider changes its
  Y.Doc (awaited until "saved": durable in the engine), the same document's provider in
  the other tab sees it (page to page, before the engine has stored it).
- the same path with plain Yjs in the same run: y-indexeddb persists the update, a
  BroadcastChannel carries it, the other tab applies it and its observer fires
  (bench/tabs/yidb-tab.js, bundled with esbuild).
- every edit sent counts: the receiving tab is waited for until it saw the last one
  (for the baseline too), and an edit it never saw (a live query that shows only the
  latest title can skip one) is counted as lost: tabs.json gives ``lost`` per
  direction, the comparisons' notes and the report name it, and a direction that
  loses more than --max-lost of its edits fails the bench.
- throughput: three tabs edit at once, each awaiting every edit (saved = durable);
  edits/s over the wall time of all three; beside it the writer alone and one follower
  alone (what one engine does, and what the tab round trip costs). --throughput-rounds
  rounds of each, one after the other.
- take-over: the writer tab is closed or crashed; time until another tab reports itself
  the writer (its status event), on the same clock.

Prints medians/p99 and ratios; writes bench/results/tabs.json (with every latency
sample: the report's verdicts take the p50's and p99's spread from them).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import BrowserContext, Error, Page, sync_playwright  # noqa: E402

import build  # noqa: E402

RESULTS = ROOT / "bench" / "results"

YLOFT_LATENCY = """async ([id, n, prefix]) => {
  const at = () => performance.timeOrigin + performance.now();
  const sent = [];
  for (let i = 0; i < n; i++) {
    sent.push(at());
    await window.db.call("update_note", id, `${prefix}${i}`);
  }
  return sent;
}"""

YLOFT_WATCH = """([id]) => {
  const at = () => performance.timeOrigin + performance.now();
  window.seen = {};
  window.db.subscribe("SELECT title FROM notes WHERE id = ?", [id], (rows) => {
    const t = at();
    for (const r of rows) if (!(r.title in window.seen)) window.seen[r.title] = t;
  });
}"""

# The same path for page documents (db.doc): an edit of the provider's Y.Doc in one tab
# (awaited until "saved", i.e. durable in the engine) to the same document's provider
# in the other tab, which gets it page to page (as the baseline's BroadcastChannel does).
YLOFT_DOC_LATENCY = """async ([id, n, prefix]) => {
  const at = () => performance.timeOrigin + performance.now();
  const p = window.benchDoc ??= window.db.doc("notes", id);
  await p.whenSynced;
  const m = p.doc.getMap("bench");
  const sent = [];
  for (let i = 0; i < n; i++) {
    const saved = new Promise((resolve) => p.once("saved", resolve));
    sent.push(at());
    m.set("v", `${prefix}${i}`);
    await saved;
  }
  return sent;
}"""

YLOFT_DOC_WATCH = """async ([id]) => {
  const at = () => performance.timeOrigin + performance.now();
  const p = window.benchDoc ??= window.db.doc("notes", id);
  await p.whenSynced;
  window.seen = {};
  const m = p.doc.getMap("bench");
  p.doc.on("update", () => {
    const v = m.get("v");
    if (v !== undefined && !(v in window.seen)) window.seen[v] = at();
  });
}"""

YIDB_LATENCY = """async ([id, n, prefix]) => {
  const sent = [];
  for (let i = 0; i < n; i++) sent.push(await window.bench.edit(id, `${prefix}${i}`));
  return sent;
}"""

YLOFT_BURST = """([id, n]) => {
  window.burst = (async () => {
    const t0 = performance.timeOrigin + performance.now();
    for (let i = 0; i < n; i++) await window.db.call("update_note", id, `burst ${i}`);
    return [t0, performance.timeOrigin + performance.now()];
  })();
}"""

YIDB_BURST = """([id, n]) => {
  window.burst = (async () => {
    const t0 = window.bench.at();
    for (let i = 0; i < n; i++) await window.bench.edit(id, `burst ${id} ${i}`);
    return [t0, window.bench.at()];
  })();
}"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float], lost: int = 0) -> dict[str, Any]:
    return {
        "n": len(values),
        "lost": lost,
        "p50_ms": round(statistics.median(values), 3),
        "p99_ms": round(pct(values, 0.99), 3),
        "max_ms": round(max(values), 3),
        "samples_ms": [round(v, 3) for v in values],
    }


def open_yloft(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_selector("html[data-yloft=ready]", state="attached")
    return page


def open_yidb(context: BrowserContext, url: str, ready: str = "window.bench.ready") -> Page:
    """A baseline page, once it set data-ready and the promise ``ready`` resolved."""
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_selector("html[data-ready]", state="attached")
    page.evaluate(f"() => {ready}")
    return page


def latency(
    src: Page, dst: Page, n: int, prefix: str, *, yidb: bool, doc: bool = False
) -> tuple[list[float], int]:
    """Each edit's latency, and how many edits the other tab never saw (lost).

    The other tab is waited for until it saw the last edit (the edits before it were
    sent before it); an earlier one it did not see then, it never shows.
    """
    last = f"{prefix}{n - 1}"
    if yidb:
        sent = src.evaluate(YIDB_LATENCY, ["n1", n, prefix])
        dst.wait_for_function("([t]) => window.bench.seen.has(t)", arg=[last], polling=50)
        seen = dst.evaluate("() => Object.fromEntries(window.bench.seen)")
    else:
        nid = src.evaluate("() => window.bench_note")
        dst.evaluate(YLOFT_DOC_WATCH if doc else YLOFT_WATCH, [nid])
        sent = src.evaluate(YLOFT_DOC_LATENCY if doc else YLOFT_LATENCY, [nid, n, prefix])
        dst.wait_for_function("([t]) => t in window.seen", arg=[last], polling=50)
        seen = dst.evaluate("() => window.seen")
    out = [seen[f"{prefix}{i}"] - t for i, t in enumerate(sent) if f"{prefix}{i}" in seen]
    return out, len(sent) - len(out)


def throughput(pages: list[Page], n: int, *, yidb: bool) -> float:
    for i, p in enumerate(pages):
        nid = f"t{i}" if yidb else p.evaluate("() => window.db.call('create_note', 'burst', '')")
        p.evaluate(YIDB_BURST if yidb else YLOFT_BURST, [nid, n])
    spans = [p.evaluate("() => window.burst") for p in pages]
    wall = max(e for _, e in spans) - min(s for s, _ in spans)
    return float(len(pages) * n / (wall / 1000))


def takeover(context: BrowserContext, url: str, rounds: int) -> list[dict[str, Any]]:
    out = []
    tabs = [open_yloft(context, url) for _ in range(2)]
    for r in range(rounds):
        writer = next(p for p in tabs if p.evaluate("() => window.db.status.writer"))
        others = [p for p in tabs if p is not writer]
        for p in others:
            p.evaluate(
                """() => { window.became = null; window.db.addEventListener('status', () => {
                     if (window.db.status.writer && window.became === null)
                       window.became = performance.timeOrigin + performance.now(); }); }"""
            )
        t0 = writer.evaluate("() => performance.timeOrigin + performance.now()")
        how = "crash" if r % 2 else "close"
        if how == "crash":
            with contextlib.suppress(Error):
                writer.goto("chrome://crash", timeout=5_000)
        else:
            writer.close()
        tabs.remove(writer)
        for p in tabs:
            with contextlib.suppress(Error):
                p.wait_for_function("() => window.became !== null", polling=20, timeout=30_000)
        became = [p.evaluate("() => window.became") for p in tabs]
        if all(b is None for b in became):
            raise RuntimeError(f"take-over after {how}: no tab became the writer in 30 s")
        ms = min(b for b in became if b is not None) - t0
        out.append({"how": how, "ms": round(ms, 1)})
        print(f"  take-over after {how}: {ms:.0f} ms")
        if not writer.is_closed():
            writer.close()
        tabs.append(open_yloft(context, url))
    for p in tabs:
        p.close()
    return out


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def bundle_yidb_page(folder: Path) -> None:
    """The y-indexeddb + BroadcastChannel baseline page (bench/tabs/) into ``folder``:
    its index.html and the bundle of yidb-tab.js with npm yjs and y-indexeddb."""
    shutil.copy(ROOT / "bench" / "tabs" / "yidb.html", folder / "index.html")
    subprocess.run(
        [ROOT / "node_modules" / ".bin" / "esbuild", "--bundle", "--format=esm",
         "--log-level=warning", f"--outfile={folder / 'yidb-tab.bundle.js'}",
         str(ROOT / "bench" / "tabs" / "yidb-tab.js")],
        check=True, cwd=ROOT,
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edits", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=100, help="edits per direction, not counted")
    ap.add_argument("--throughput", type=int, default=200, help="edits per tab")
    ap.add_argument("--throughput-rounds", type=int, default=3)
    ap.add_argument(
        "--max-lost",
        type=float,
        default=0.02,
        help="share of a direction's edits that may go unseen before it fails",
    )
    ap.add_argument("--takeovers", type=int, default=6)
    args = ap.parse_args()

    build.build()
    app_server = build.make_server(0)
    threading.Thread(target=app_server.serve_forever, daemon=True).start()
    app_url = f"http://127.0.0.1:{app_server.server_address[1]}/"
    tmp = Path(tempfile.mkdtemp(prefix="bench-tabs-"))
    bundle_yidb_page(tmp)
    yidb_server, yidb_url = serve(tmp)
    results: dict[str, Any] = {"edits": args.edits, "warmup": args.warmup}
    too_many: list[str] = []
    with sync_playwright() as pw:
        # Profiles on disk, as a person's browser has them: in an incognito context
        # (Playwright's new_context) OPFS lives in memory, where every write costs
        # ~0.35 ms and a flush nothing (the other way round on disk), and IndexedDB is
        # in memory too, so the comparison would measure neither as used.
        def profile() -> BrowserContext:
            return pw.chromium.launch_persistent_context(
                tempfile.mkdtemp(prefix="bench-tabs-profile-", dir=tmp),
                executable_path=shutil.which("chromium"),
                args=build.CHROMIUM_FLAGS,
                service_workers="block",
            )

        ctx = profile()
        w, f1, f2 = (open_yloft(ctx, app_url) for _ in range(3))
        assert w.evaluate("() => window.db.status.writer")
        nid = w.evaluate("() => window.db.call('create_note', 'bench', 'body')")
        for p in (w, f1, f2):
            # Polled from here: wait_for_function takes an async predicate's promise as true.
            deadline = time.monotonic() + 60
            while not p.evaluate(
                "([id]) => window.db.query('SELECT 1 FROM notes WHERE id = ?', [id])"
                ".then((r) => r.length === 1)", [nid],
            ):  # fmt: skip
                if time.monotonic() > deadline:
                    raise RuntimeError("the bench note did not reach every tab in 60 s")
                p.wait_for_timeout(50)
            p.evaluate("([id]) => { window.bench_note = id; }", [nid])
        ctx2 = profile()
        y1, y2 = open_yidb(ctx2, yidb_url), open_yidb(ctx2, yidb_url)
        runs: dict[str, Callable[[str, int], tuple[list[float], int]]] = {
            "yloft writer->follower": lambda p, n: latency(w, f1, n, p, yidb=False),
            "yloft follower->writer": lambda p, n: latency(f1, w, n, p, yidb=False),
            "yloft follower->follower": lambda p, n: latency(f1, f2, n, p, yidb=False),
            "yloft doc writer->follower": lambda p, n: latency(w, f1, n, p, yidb=False, doc=True),
            "yloft doc follower->writer": lambda p, n: latency(f1, w, n, p, yidb=False, doc=True),
            "yloft doc follower->follower": lambda p, n: latency(
                f1, f2, n, p, yidb=False, doc=True
            ),
            "y-indexeddb+BroadcastChannel": lambda p, n: latency(y1, y2, n, p, yidb=True),
        }
        lat: dict[str, dict[str, Any]] = {}
        for i, (label, run) in enumerate(runs.items()):
            if args.warmup:
                run(f"W{i}-", args.warmup)  # not counted (see the docstring)
            values, lost = run(f"L{i}-", args.edits)
            if not values:
                raise RuntimeError(f"{label}: the other tab saw none of {args.edits} edits")
            lat[label] = summary(values, lost)
            got = lat[label]
            p50, p99 = got["p50_ms"], got["p99_ms"]
            print(f"{label:32} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  (n={len(values)}, "
                  f"lost {lost})")  # fmt: skip
            if lost > args.max_lost * args.edits:
                too_many.append(f"{label}: {lost} of {args.edits} edits never seen")
        base = lat["y-indexeddb+BroadcastChannel"]
        for v in lat.values():
            v["p50_vs_yidb"] = round(v["p50_ms"] / base["p50_ms"], 2)
            v["p99_vs_yidb"] = round(v["p99_ms"] / base["p99_ms"], 2)
        results["latency"] = lat
        y3 = open_yidb(ctx2, yidb_url)
        groups = {
            "yloft 1 tab (the writer alone)": ([w], False),
            "yloft 1 follower (writer idle)": ([f1], False),
            "yloft 3 tabs (1 writer)": ([w, f1, f2], False),
            "y-indexeddb 3 tabs": ([y1, y2, y3], True),
        }
        tp: dict[str, list[float]] = {k: [] for k in groups}
        for r in range(args.throughput_rounds):
            for label, (tabs, yidb) in groups.items():
                tp[label].append(throughput(tabs, args.throughput, yidb=yidb))
                print(f"throughput {label:32} {tp[label][-1]:8.1f} durable edits/s "
                      f"(round {r + 1})")  # fmt: skip
        results["throughput_edits_per_s"] = {
            k: round(statistics.median(v), 1) for k, v in tp.items()
        }
        results["throughput_samples_edits_per_s"] = {
            k: [round(x, 1) for x in v] for k, v in tp.items()
        }
        results["throughput_edits_per_tab"] = args.throughput
        for p in (w, f1, f2):
            p.close()
        ctx2.close()
        results["takeover"] = takeover(ctx, app_url, args.takeovers)
        ms = [t["ms"] for t in results["takeover"]]
        if ms:
            print(f"take-over: median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms")
        ctx.close()
    shutil.rmtree(tmp, ignore_errors=True)
    app_server.shutdown()
    yidb_server.shutdown()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tabs.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {RESULTS / 'tabs.json'}")
    if too_many:
        raise SystemExit("edits lost (more than --max-lost): " + "; ".join(too_many))


if __name__ == "__main__":
    main()
