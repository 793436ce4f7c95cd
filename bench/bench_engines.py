"""Start-up, durable edit and tab latency on each browser engine, beside y-indexeddb there.

    .venv/bin/python bench/bench_engines.py [--engines chromium,firefox,webkit] [--quick]

Sizes (defaults): --notes 1000 of the start-up, --docs 100 of the durable edit, --rounds 3
start-up and --edit-rounds 5 edit rounds, --edits 200 tab edits per direction after
--warmup 20; --quick: 100 notes, 10 documents, 1 start-up round, 2 edit rounds, 20 edits.

Each engine yloft's own tests drive (yloft.testing.browsers.Drivers: Chromium through
Playwright, Firefox ESR through puppeteer-core over WebDriver BiDi, WebKitGTK's MiniBrowser
through Selenium), each on a fresh on-disk profile, runs the bench page of the Chromium
benches (bench/web: the same lab calls, the same bundled Yjs 13 + y-indexeddb 9.0.12) and
the notes app. yloft's storage is the one it chooses there, as an app's engine does (OPFS,
else the IndexedDB fallback); which one, and why not OPFS, is read from the worker's mount
(``kind``, ``fallbackReason``) and the app's ``db.status`` and written into the result.
An engine that is not installed is left out, saying what is missing.

- start-up: set-up stores the same --notes notes in a yloft Store and in y-indexeddb (one
  database per note). Each round, a fresh navigation of the bench page measures from the
  page's navigation start (performance.timeOrigin) to: yloft: Pyodide + the yloft wheel
  loaded, storage mounted, Store opened, ``done = 0 AND title > 'm' ORDER BY title LIMIT
  50`` answered; y-indexeddb: every note loaded and the same query answered in JS (the
  answers are checked to be equal). The two alternate which goes first; a warm-up round
  runs first (not with --quick).
- durable edit: --docs notes in a Store and in y-indexeddb; per round each gets one small
  edit (a number set in a map), durable before the next starts: yloft: the edit's own
  transaction (the commit hook flushes) and then the mount settled (at once on OPFS; the
  IndexedDB transaction complete on the fallback), timed in the worker; y-indexeddb:
  ``map.set`` then a readonly transaction queued behind its write. ms per edit, one value
  per round (its mean); a warm-up round first; the two alternate which goes first.
- tab latency: two pages of one browser. yloft: the notes app, tab A sets a note's title
  (``db.call("update_note")``, awaited, one after another), tab B's live query sees it,
  both directions (writer tab to follower and back); y-indexeddb: each edit stored by
  y-indexeddb and carried by a BroadcastChannel, the other page's observer fires
  (bench/tabs/yidb-tab.js, as bench_tabs.py). Measured on the pages' shared clock
  (performance.timeOrigin + now(); the pages' offsets from Date.now() are recorded, as are
  each page's visibility and the engine's timer step); --warmup edits per direction first,
  not counted; an edit the other page never saw counts as lost. p50 with its bootstrap
  spread, and p99 when a direction has at least 100 samples.

Figures: one comparison per engine and measure (``engines.ENGINE.startup``, ``.edit``,
``.tab_p50``, ``.tab_p99``), the baseline y-indexeddb on that engine. A subject that could
not run is named with the reason in the comparison's note and in the result's
``not_run``; a measure that could not run at all is named in the engine's other notes.
Writes bench/results/engines.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import statistics
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _browser import ROOT, BenchBrowser, serve_root
from bench_tabs import YIDB_LATENCY, YLOFT_LATENCY, YLOFT_WATCH, bundle_yidb_page, pct
from figures import bootstrap_spread, comp

RESULTS = Path(__file__).resolve().parent / "results"
LABEL = {"chromium": "Chromium", "firefox": "Firefox", "webkit": "WebKit"}
YIDB_TABS = "yidb-tabs/index.html"
APP_STATE = "() => document.documentElement.dataset.yloft"
# The page's clock against Date.now(), several reads: the smallest gap is the offset.
CLOCK = """() => { let best = null; for (let i = 0; i < 50; i++) {
  const d = Date.now(); const t = performance.timeOrigin + performance.now();
  if (best === null || Math.abs(t - d) < Math.abs(best)) best = t - d; } return best; }"""
P99_MIN = 100  # samples a direction needs for its p99 to be reported


def subjects(engine: str) -> dict[str, str]:
    e = LABEL[engine]
    return {
        "yloft": f"yloft ({e})",
        "yidb": f"y-indexeddb ({e})",
        "w2f": f"yloft writer->follower ({e})",
        "f2w": f"yloft follower->writer ({e})",
        "bc": f"y-indexeddb + BroadcastChannel ({e})",
    }


def reason(exc: BaseException) -> str:
    """One line saying why a subject could not run."""
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


class Engine:
    """What one engine measured: samples per subject, and why a subject did not run."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.names = subjects(name)
        self.samples: dict[str, list[float]] = {k: [] for k in self.names}
        self.not_run: dict[str, str] = {}  # subject key -> reason
        self.info: dict[str, Any] = {"engine": name, "phase_s": {}}
        self._mark = time.monotonic()

    def mark(self, phase: str) -> None:
        """Wall seconds since the last mark, as ``phase`` (where a run's time goes)."""
        now = time.monotonic()
        self.info["phase_s"][phase] = round(now - self._mark, 1)
        self._mark = now

    def attempt(self, key: str, fn: Callable[[], Any]) -> Any:
        """``fn()``, or None with the reason kept when it fails (later rounds skip it)."""
        if key in self.not_run:
            return None
        try:
            return fn()
        except Exception as exc:  # any failure: a subject that did not run, and why
            self.not_run[key] = reason(exc)
            print(f"[{self.name}] {self.names[key]} could not run: {reason(exc)}", flush=True)
            traceback.print_exc()
            return None


# ------------------------------------------------------------------ start-up and edit


def lab_part(e: Engine, lab: BenchBrowser, args: argparse.Namespace) -> None:
    """Start-up and durable edits on the bench page (one browser, one profile)."""
    n, docs = args.notes, args.docs
    e.info["timer_step_ms"] = lab.call("timerStep")

    def setup() -> None:
        lab.call("loadPython")
        m = lab.call("mount", {"name": "notes", "path": "/yloft", "force": "auto"})
        e.info["storage"] = m["kind"]
        e.info["storage_fallback"] = m["fallbackReason"]
        lab.call("py", "open_store", ["/yloft/notes.db"], "/yloft")
        lab.call("py", "fill", [n])
        lab.call("py", "close_store", [])
        lab.call("unmount", "/yloft")
        lab.call("mount", {"name": "edits", "path": "/edits", "force": "auto"})
        lab.call("py", "open_store", ["/edits/edits.db"], "/edits")
        lab.call("py", "fill", [docs])

    e.attempt("yloft", setup)
    if "yloft" in e.not_run:
        e.not_run["yloft"] = "set-up: " + e.not_run["yloft"]
    e.mark("yloft set-up")
    e.attempt("yidb", lambda: lab.call("yidbCreate", {"prefix": "c", "n": n}))
    e.attempt("yidb", lambda: lab.call("yidbCreate", {"prefix": "w", "n": docs}))
    e.mark("y-indexeddb set-up")

    # Durable edits (in the page that set up: its Store on /edits is open).
    def one_round(key: str, r: int) -> float:
        if key == "yloft":
            out = lab.call("durableEdits", {"path": "/edits", "value0": float(r * docs)})
            return float(out["per_edit_ms"])
        out = lab.call("yidbEdits", {"prefix": "w", "n": docs, "rounds": 1, "start": r * docs})
        return float(out["per_edit_ms"][0])

    edit: dict[str, list[float]] = {"yloft": [], "yidb": []}
    edit_fail: dict[str, str] = {}
    first = ["yloft", "yidb"]
    for r in range(args.edit_rounds + 1):  # round 0 is the warm-up
        got: dict[str, float] = {}
        for key in first:
            if key not in e.not_run and key not in edit_fail:
                v = _try(edit_fail, key, functools.partial(one_round, key, r))
                if v is not None:
                    got[key] = v
        first.reverse()
        if r == 0:
            continue
        for key, v in got.items():
            edit[key].append(v)
        line = ", ".join(f"{k} {v:.3f} ms" for k, v in got.items())
        print(f"[{e.name}] edit round {r}/{args.edit_rounds}: {line}", flush=True)
    e.info["edit"] = {"samples_ms": edit, "not_run": edit_fail}
    e.mark("durable edit")

    # Start-up: fresh navigations of the bench page (the set-up's Store is closed first).
    if "yloft" not in e.not_run:
        _try(edit_fail, "yloft", lambda: (lab.call("py", "close_store", []),
                                          lab.call("unmount", "/edits")))  # fmt: skip
    start: dict[str, list[float]] = {"yloft": [], "yidb": []}
    start_fail: dict[str, str] = {}
    parts: list[dict[str, Any]] = []
    order = ["yloft", "yidb"]
    warm = 0 if args.quick else 1
    for r in range(1 - warm, args.rounds + 1):  # round 0 is the warm-up
        res: dict[str, dict[str, Any]] = {}
        for mode in order:
            if mode in e.not_run or mode in start_fail:
                continue
            query = f"?cold={mode}&prefix=c&n={n}&arg=m&storage=auto"
            got = _try(start_fail, mode, functools.partial(lab.cold, query))
            if got:
                res[mode] = got
        order.reverse()
        if len(res) == 2 and res["yloft"]["titles"] != res["yidb"]["titles"]:
            start_fail["yloft"] = "yloft and y-indexeddb answered the query differently"
            continue
        if "yloft" in res:
            e.info["storage"] = res["yloft"]["storage"]
            e.info["storage_fallback"] = res["yloft"]["fallback_reason"]
        if r == 0:
            continue
        for mode, got in res.items():
            start[mode].append(got["navigation_to_result_ms"])
        if "yloft" in res:
            parts.append({k: res["yloft"][k] for k in ("pyodide_ms", "total_ms")})
        line = ", ".join(f"{k} {v[-1]:.0f} ms" for k, v in start.items() if v)
        print(f"[{e.name}] start-up round {r}/{args.rounds}: {line}", flush=True)
    e.info["startup"] = {"samples_ms": start, "not_run": start_fail, "yloft_parts": parts}
    e.mark("start-up")


def _try(fails: dict[str, str], key: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # kept as the subject's reason
        fails[key] = reason(exc)
        print(f"  {key} failed: {fails[key]}", flush=True)
        traceback.print_exc()
        return None


# ------------------------------------------------------------------ tab latency


def latency(src: Any, dst: Any, n: int, prefix: str, *, yidb: bool) -> tuple[list[float], int]:
    """Each edit's latency from ``src`` to ``dst`` (yloft.testing pages), and how many
    edits ``dst`` never saw (it is waited for until it saw the last one)."""
    last = f"{prefix}{n - 1}"
    if yidb:
        sent = src.evaluate(YIDB_LATENCY, ["n1", n, prefix])
        dst.wait_until("([t]) => window.bench.seen.has(t)", [last], 120)
        seen = dst.evaluate("() => Object.fromEntries(window.bench.seen)")
    else:
        nid = src.evaluate("() => window.bench_note")
        dst.evaluate(YLOFT_WATCH, [nid])
        sent = src.evaluate(YLOFT_LATENCY, [nid, n, prefix])
        dst.wait_until("([t]) => t in window.seen", [last], 120)
        seen = dst.evaluate("() => window.seen")
    out = [seen[f"{prefix}{i}"] - t for i, t in enumerate(sent) if f"{prefix}{i}" in seen]
    return out, len(sent) - len(out)


def page_state(pages: dict[str, Any]) -> dict[str, Any]:
    """Each page's visibility and clock offset (ms from Date.now())."""
    return {
        k: {
            "visibility": p.evaluate("() => document.visibilityState"),
            "clock_offset_ms": round(p.evaluate(CLOCK), 3),
        }
        for k, p in pages.items()
    }


Run = Callable[[str, int], tuple[list[float], int]]
Lost = dict[str, tuple[int, int]]


def measure(e: Engine, key: str, run: Run, args: argparse.Namespace, i: int, lost: Lost) -> None:
    """--warmup edits not counted, then --edits; samples into ``e``, unseen ones into ``lost``."""
    if args.warmup:
        run(f"W{i}-", args.warmup)  # not counted
    values, missed = run(f"L{i}-", args.edits)
    if not values:
        raise RuntimeError(f"the other page saw none of {args.edits} edits")
    e.samples[key] = values
    lost[key] = (missed, args.edits)
    p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
    print(f"[{e.name}] {e.names[key]:40} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
          f"(n={len(values)}, lost {missed})", flush=True)  # fmt: skip


def yidb_tabs(e: Engine, lab: BenchBrowser, args: argparse.Namespace, lost: Lost) -> None:
    """The baseline's two pages, in the bench page's browser."""
    pages = {k: lab.new_page(k, YIDB_TABS) for k in ("y1", "y2")}
    for p in pages.values():
        p.wait_until("() => document.documentElement.dataset.ready === '1'", None, 60)
        p.evaluate("() => window.bench.ready.then(() => true)")
    e.info.setdefault("tab_pages", {})["y-indexeddb"] = page_state(pages)
    y1, y2 = pages["y1"], pages["y2"]
    measure(e, "bc", lambda p, n: latency(y1, y2, n, p, yidb=True), args, 0, lost)


def yloft_tabs(e: Engine, app: BenchBrowser, args: argparse.Namespace, lost: Lost) -> None:
    """The notes app in two pages of one browser: writer to follower and back."""
    pages = {k: app.new_page(k, "index.html") for k in ("a", "b")}
    for k, p in pages.items():
        state = p.wait_until(
            f"() => ['ready', 'error'].includes(({APP_STATE})()) && ({APP_STATE})()", None, 300
        )
        if state != "ready":
            why = p.evaluate("() => document.querySelector('#error')?.textContent ?? ''")
            raise RuntimeError(f"the app in page {k} did not start: {why}")
    status = {k: p.evaluate("() => window.db.status") for k, p in pages.items()}
    keep = ("storage", "storageFallback", "tabMode", "writer")
    e.info["app_status"] = {k: {x: s.get(x) for x in keep} for k, s in status.items()}
    writers = [k for k, s in status.items() if s.get("writer")]
    if len(writers) != 1:
        raise RuntimeError(f"expected one writer tab, got {writers}")
    w = pages[writers[0]]
    f = next(p for k, p in pages.items() if k != writers[0])
    nid = w.evaluate("() => window.db.call('create_note', 'bench', 'body')")
    for p in pages.values():
        p.wait_until(
            "([id]) => window.db.query('SELECT 1 FROM notes WHERE id = ?', [id])"
            ".then((r) => r.length === 1)", [nid], 60,
        )  # fmt: skip
        p.evaluate("([id]) => { window.bench_note = id; }", [nid])
    e.info.setdefault("tab_pages", {})["yloft"] = page_state({"writer": w, "follower": f})
    e.attempt("w2f", lambda: measure(
        e, "w2f", lambda p, n: latency(w, f, n, p, yidb=False), args, 1, lost))  # fmt: skip
    e.attempt("f2w", lambda: measure(
        e, "f2w", lambda p, n: latency(f, w, n, p, yidb=False), args, 2, lost))  # fmt: skip


# ------------------------------------------------------------------ figures


def percentile(values: list[float], q: float) -> float:
    """The median for p50 (as bench_tabs.py reports it), else bench_tabs.pct."""
    return statistics.median(values) if q == 0.5 else pct(values, q)


def comparison(
    e: Engine, measure_id: str, title: str, unit: str, base: str, keys: list[str],
    values: dict[str, list[float]], *, note: str = "", reasons: dict[str, str] | None = None,
    spreads: dict[str, tuple[float, float]] | None = None,
    lost: Lost | None = None,
) -> dict[str, Any] | None:  # fmt: skip
    """One engine's comparison; subjects without samples named in the note with why."""
    names = e.names
    why = {**e.not_run, **(reasons or {})}
    have = {names[k]: values[k] for k in keys if values.get(k)}
    gone = [f"{names[k]}: {why.get(k, 'no samples')}" for k in keys if not values.get(k)]
    if not have:
        return None
    baseline = names[base] if names[base] in have else next(iter(have))
    parts = [note] if note else []
    if gone:
        parts.append("could not run: " + "; ".join(gone))
    if baseline != names[base]:
        parts.append(f"the baseline could not run, so the ratios are to {baseline}")
    return comp(
        f"engines.{e.name}.{measure_id}", title, unit, baseline, have, note="; ".join(parts),
        spreads={names[k]: v for k, v in (spreads or {}).items() if names[k] in have},
        lost={names[k]: v for k, v in (lost or {}).items() if names[k] in have} or None,
    )  # fmt: skip


def figures_of(e: Engine, args: argparse.Namespace, lost: Lost) -> list[dict[str, Any]]:
    label = LABEL[e.name]

    def on(kind: Any) -> str:
        where = {"opfs": "OPFS", "idb": "the IndexedDB fallback"}.get(str(kind), str(kind))
        return f"{label}, yloft on {where}" if kind else label

    store = on(e.info.get("storage"))
    app = e.info.get("app_status", {}).get("a", {}).get("storage")
    out: list[dict[str, Any]] = []
    missing: list[str] = []
    st = e.info.get("startup", {})
    c = comparison(e, "startup", f"Start-up to first query result, {args.notes:,} notes ({store})",
                   "ms", "yidb", ["yloft", "yidb"], st.get("samples_ms", {}),
                   note="navigation start to the first query's result, fresh page each round",
                   reasons=st.get("not_run"))  # fmt: skip
    out.append(c) if c else missing.append("start-up")
    ed = e.info.get("edit", {})
    c = comparison(e, "edit", f"Durable small edit, {args.docs:,} documents ({store})", "ms",
                   "yidb", ["yloft", "yidb"], ed.get("samples_ms", {}),
                   note="ms per edit, each durable before the next; one value per round",
                   reasons=ed.get("not_run"))  # fmt: skip
    out.append(c) if c else missing.append("durable edit")
    keys = ["w2f", "f2w", "bc"]
    lat = {k: e.samples[k] for k in keys}
    n_min = min((len(v) for v in lat.values() if v), default=0)
    note = (f"percentiles over {args.edits:,} awaited edits per direction, after "
            f"{args.warmup:,} warm-up edits not counted; the spread: the percentile's "
            "quartiles over 1,000 bootstrap resamples")  # fmt: skip
    if n_min < P99_MIN:
        note += f"; no p99: fewer than {P99_MIN} samples in a direction"
    for label_q, q in (("p50", 0.5), ("p99", 0.99)):
        if q > 0.5 and n_min < P99_MIN:
            e.info["tab_p99"] = f"not given: fewer than {P99_MIN} samples per direction"
            continue
        c = comparison(
            e, f"tab_{label_q}", f"Tab-to-tab latency {label_q} ({on(app)})", "ms", "bc", keys,
            {k: [percentile(v, q)] if v else [] for k, v in lat.items()}, note=note,
            spreads={k: bootstrap_spread(v, q) for k, v in lat.items() if v}, lost=lost,
        )  # fmt: skip
        if c:
            out.append(c)
        elif label_q == "p50":
            missing.append("tab latency")
    if missing:
        said = f"not measured on {label}: {', '.join(missing)} (engines.json: not_run)"
        for c in out:
            c["note"] = f"{c['note']}; {said}" if c.get("note") else said
    e.info["not_measured"] = missing
    return out


def not_run(e: Engine) -> dict[str, dict[str, str]]:
    """Per measure, each subject that did not run and why (empty measures left out)."""
    out: dict[str, dict[str, str]] = {}
    for measure, keys, part in (("startup", ["yloft", "yidb"], "startup"),
                                ("edit", ["yloft", "yidb"], "edit"),
                                ("tab latency", ["w2f", "f2w", "bc"], "")):  # fmt: skip
        why = {**e.not_run, **(e.info.get(part, {}).get("not_run", {}) if part else {})}
        got = {e.names[k]: why[k] for k in keys if k in why}
        if got:
            out[measure] = got
    return out


# ------------------------------------------------------------------ main


def run_engine(name: str, drivers: Any, root: Path, args: argparse.Namespace) -> Engine:
    e = Engine(name)
    lost: Lost = {}
    t0 = time.monotonic()
    with BenchBrowser(name, drivers, root) as lab:
        e.info["version"] = lab.browser.version
        print(f"[{name}] {lab.browser.version}", flush=True)
        e.mark("launch")
        lab_part(e, lab, args)
        e.attempt("bc", lambda: yidb_tabs(e, lab, args, lost))
        e.mark("y-indexeddb tabs")
    with BenchBrowser(name, drivers, root) as app:
        e.mark("launch 2")
        e.attempt("w2f", lambda: yloft_tabs(e, app, args, lost))
        if "w2f" in e.not_run:  # the app did not start: neither direction ran
            e.not_run.setdefault("f2w", e.not_run["w2f"])
        e.mark("yloft tabs")
    e.info["lost"] = {e.names[k]: {"lost": a, "of": b} for k, (a, b) in lost.items()}
    e.info["comparisons"] = figures_of(e, args, lost)
    e.info["not_run"] = not_run(e)
    e.info["latency_samples_ms"] = {e.names[k]: [round(x, 3) for x in e.samples[k]]
                                    for k in ("w2f", "f2w", "bc")}  # fmt: skip
    e.info["wall_s"] = round(time.monotonic() - t0, 1)
    return e


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engines", default="all", help="comma list of chromium, firefox, webkit")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 100 notes, 10 documents, 1 start-up round without "
                         "warm-up, 2 edit rounds, 20 tab edits")  # fmt: skip
    ap.add_argument("--notes", type=int, default=1000, help="notes of the start-up")
    ap.add_argument("--docs", type=int, default=100, help="documents of the durable edit")
    ap.add_argument("--rounds", type=int, default=3, help="start-up rounds (after a warm-up)")
    ap.add_argument("--edit-rounds", type=int, default=5, help="edit rounds (after a warm-up)")
    ap.add_argument("--edits", type=int, default=200, help="tab edits per direction")
    ap.add_argument("--warmup", type=int, default=20, help="tab edits per direction, not counted")
    args = ap.parse_args()
    if args.quick:
        args.notes, args.docs, args.rounds, args.edit_rounds = 100, 10, 1, 2
        args.edits, args.warmup = 20, 5

    from playwright.sync_api import sync_playwright

    from yloft.testing import browsers
    from yloft.testing.page import BrowserMissingError

    names = browsers.parse([args.engines])
    skipped: dict[str, str] = {}
    for name in list(names):
        try:
            browsers.check(name, [ROOT])
        except BrowserMissingError as exc:
            skipped[name] = str(exc)
            names.remove(name)
            print(f"[{name}] not run: {exc}", flush=True)
    t0 = time.monotonic()
    root = serve_root()
    (root / "yidb-tabs").mkdir(exist_ok=True)
    bundle_yidb_page(root / "yidb-tabs")
    engines: dict[str, Any] = {}
    pw = sync_playwright().start()
    drivers = browsers.Drivers(chromium=pw.chromium, search=[ROOT])
    try:
        for name in names:
            try:
                engines[name] = run_engine(name, drivers, root, args).info
            except Exception as exc:  # an engine that failed is named, not dropped
                traceback.print_exc()
                skipped[name] = f"failed: {reason(exc)}"
    finally:
        drivers.close()
        pw.stop()
        shutil.rmtree(root, ignore_errors=True)
    comparisons = [c for info in engines.values() for c in info.pop("comparisons")]
    result = {
        "notes": args.notes, "docs": args.docs, "rounds": args.rounds,
        "edit_rounds": args.edit_rounds, "edits": args.edits, "warmup": args.warmup,
        "quick": args.quick, "engines": engines, "skipped": skipped,
        "wall_s": round(time.monotonic() - t0, 1), "comparisons": comparisons,
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "engines.json").write_text(json.dumps(result, indent=1) + "\n")
    for name, info in engines.items():
        why = f" ({info['storage_fallback']})" if info.get("storage_fallback") else ""
        print(f"{name}: {info.get('version')}, yloft storage {info.get('storage')}{why}")
        print(f"  {info['wall_s']} s: " + ", ".join(f"{k} {v}" for k, v in info["phase_s"].items()))
        for measure, got in info["not_run"].items():
            for key, why in got.items():
                print(f"  not run: {measure}: {key}: {why}")
    for c in comparisons:
        print(f"{c['id']}:")
        for s in c["subjects"]:
            print(f"  {s['name']:44} median {s['median']:9.2f} {c['unit']} "
                  f"({s['min']:.2f}-{s['max']:.2f})  x{s['ratio']:.2f}")  # fmt: skip
    for name, why in skipped.items():
        print(f"{name}: not run: {why}")
    if not comparisons:
        raise SystemExit("no engine produced figures")


if __name__ == "__main__":
    main()
