"""The one shape every benchmark figure takes, and readers for the older scripts' JSON.

A *comparison* is one measured quantity with several subjects measured on the same data
in the same run; one of them is the baseline every ratio is taken against::

    comp("writes.edit", "Durable edit, 100 documents", "ms", "y-indexeddb",
         {"yloft (OPFS)": [1.2, 1.3, 1.1], "y-indexeddb": [2.0, 2.2, 1.9]})
    -> {"id": ..., "unit": "ms", "better": "lower", "baseline": "y-indexeddb",
        "subjects": [{"name": "yloft (OPFS)", "min": 1.1, "median": 1.2, "max": 1.3,
                      "n": 3, "ratio": 0.6}, ...]}

``ratio`` is the subject's median over the baseline's median (so for "lower is better"
quantities a ratio above 1 means slower or bigger than the baseline).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def stats(samples: Iterable[float]) -> dict[str, Any]:
    values = [float(v) for v in samples]
    if not values:
        raise ValueError("no samples")
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
        "n": len(values),
        "samples": values,
    }


def comp(
    cid: str,
    title: str,
    unit: str,
    baseline: str,
    subjects: Mapping[str, Sequence[float] | float],
    *,
    better: str = "lower",
    note: str = "",
    floors: Sequence[str] = (),
    no_headline: Sequence[str] = (),
    lost: Mapping[str, tuple[int, int]] | None = None,
    spreads: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """A comparison from raw samples per subject (a lone number counts as one sample).

    ``no_headline``: subjects listed in the tables but never quoted as the report's
    largest lead or gap (a cold path no app that queries often would take).
    ``lost``: per subject, (samples lost, samples attempted) when a bench could not
    measure every sample; the note and the report say so.
    ``spreads``: per subject, the (low, high) range the bench measured for its figure
    when the samples do not show it (a percentile's bootstrap interquartile range).
    """
    rows = []
    for name, samples in subjects.items():
        values = [samples] if isinstance(samples, (int, float)) else list(samples)
        rows.append({"name": name, **stats(values)})
        if spreads and name in spreads:
            rows[-1]["spread"] = [float(x) for x in spreads[name]]
    base = next((r for r in rows if r["name"] == baseline), None)
    if base is None:
        raise ValueError(f"{cid}: baseline {baseline!r} is not among the subjects")
    for r in rows:
        r["ratio"] = r["median"] / base["median"] if base["median"] else math.inf
    out: dict[str, Any] = {"id": cid, "title": title, "unit": unit, "better": better,
                           "baseline": baseline, "subjects": rows}  # fmt: skip
    if note:
        out["note"] = note
    if floors:  # reference points (raw storage), not alternatives a developer would pick
        out["floors"] = list(floors)
    if no_headline:
        out["no_headline"] = list(no_headline)
    if lost:
        out["lost"] = {k: {"lost": int(n), "of": int(of)} for k, (n, of) in lost.items()}
        said = lost_text(out)
        if said:
            out["note"] = f"{out['note']}; {said}" if note else said
    return out


def lost_text(c: Mapping[str, Any]) -> str:
    """The subjects that lost samples, as "lost samples …: NAME 3 of 1,000" ("" if none)."""
    parts = [f"{k} {v['lost']:,} of {v['of']:,}" for k, v in c.get("lost", {}).items()
             if v["lost"]]  # fmt: skip
    return "lost samples (not in the figures): " + ", ".join(parts) if parts else ""


# ------------------------------------------------------------- aims and the run's noise


def spread(s: Mapping[str, Any]) -> tuple[float, float]:
    """The range a subject's figure moved within the run: the interquartile range of
    its samples (``statistics.quantiles``, inclusive method), or the range the bench gave
    (``spread``); a lone sample has none (low = high = the figure)."""
    med = float(s["median"])
    if s.get("spread"):
        lo, hi = s["spread"]
        return min(float(lo), med), max(float(hi), med)
    values = s.get("samples") or []
    if len(values) < 2:
        return med, med
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return min(q1, med), max(q3, med)


def has_spread(s: Mapping[str, Any]) -> bool:
    return bool(s.get("spread")) or len(s.get("samples") or []) > 1


def _div(a: float, b: float) -> float:
    return a / b if b else math.inf


def worse_range(
    c: Mapping[str, Any], mine: str, other: str | None
) -> tuple[float, float, float, bool]:
    """(times worse, its low and high end within the run's spread, whether any spread
    was measured) of ``mine`` against ``other``; with ``other`` None, ``mine``'s median
    and its spread in the comparison's unit.

    Times worse is mine/other (other/mine when higher is better); its range pits one
    subject's spread against the other's: low = best of mine over worst of other,
    high = worst of mine over best of other.
    """
    subjects = {s["name"]: s for s in c["subjects"]}
    m = subjects[mine]
    m_lo, m_hi = spread(m)
    if other is None:
        return float(m["median"]), m_lo, m_hi, has_spread(m)
    o = subjects[other]
    o_lo, o_hi = spread(o)
    known = has_spread(m) or has_spread(o)
    if c.get("better") == "higher":
        return _div(o["median"], m["median"]), _div(o_lo, m_hi), _div(o_hi, m_lo), known
    return _div(m["median"], o["median"]), _div(m_lo, o_hi), _div(m_hi, o_lo), known


def verdict(lo: float, hi: float, aim: float) -> str:
    """An at-most aim against a figure's range: met when even its high end is within
    the aim, missed when even its low end is beyond it, else within noise."""
    if hi <= aim:
        return "met"
    if lo > aim:
        return "missed"
    return "within noise"


def judge(c: Mapping[str, Any], mine: str, other: str | None, aim: float) -> dict[str, Any]:
    """One aim of a comparison: the figure, its range, the verdict (see verdict())."""
    value, lo, hi, known = worse_range(c, mine, other)
    return {"value": value, "lo": lo, "hi": hi, "spread": known,
            "verdict": verdict(lo, hi, aim)}  # fmt: skip


def missing(comparisons: list[dict[str, Any]]) -> list[str]:
    """What a benchmark failed to produce: empty list when every figure is there."""
    if not comparisons:
        return ["no comparisons"]
    problems = []
    for c in comparisons:
        if len(c["subjects"]) < 2:
            problems.append(f"{c['id']}: fewer than two subjects")
        for s in c["subjects"]:
            for key in ("min", "median", "max", "ratio"):
                v = s.get(key)
                if not isinstance(v, (int, float)) or not math.isfinite(v):
                    problems.append(f"{c['id']} / {s['name']}: {key} = {v!r}")
            if s["median"] == 0 and c["better"] == "lower" and c["unit"] not in {"bytes"}:
                problems.append(f"{c['id']} / {s['name']}: a time of 0")
    return problems


def one_line(c: dict[str, Any]) -> str:
    parts = [f"{s['name']} {s['median']:.4g} (x{s['ratio']:.2f})" for s in c["subjects"]]
    return f"{c['title']} [{c['unit']}, baseline {c['baseline']}]: " + ", ".join(parts)


# ------------------------------------------------ new benches already write comparisons


def passthrough(raw: dict[str, Any]) -> list[dict[str, Any]]:
    return list(raw["comparisons"])


writes = coldstart = size = app = passthrough


def queries(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_queries.py's comparisons, each with its ``no_headline`` subjects."""
    return [{**c, "no_headline": no_headline(c)} for c in passthrough(raw)]


def no_headline(c: Mapping[str, Any]) -> list[str]:
    """The subjects the report's largest lead and gaps leave out: the comparison's own
    list, or for queries from before it had one, the cold y-indexeddb subject (every
    database reopened for one query)."""
    if "no_headline" in c:
        return list(c["no_headline"])
    if str(c.get("id", "")).startswith("queries."):
        return [s["name"] for s in c["subjects"] if "cold (reopen" in s["name"]]
    return []


def tabs(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_tabs.py: tab-to-tab latency percentiles and 3-tab durable throughput."""
    if "comparisons" in raw:
        return passthrough(raw)
    base = "y-indexeddb+BroadcastChannel"
    lat = raw["latency"]
    out = []
    # Older results have no "lost" (they dropped unseen edits without counting them).
    lost = {k: (v["lost"], v["n"] + v["lost"]) for k, v in lat.items() if "lost" in v}
    for key, label, q in (("p50_ms", "p50", 0.5), ("p99_ms", "p99", 0.99)):
        note = f"percentiles over {raw['edits']:,} awaited edits per direction"
        if raw.get("warmup"):
            note += f", after {raw['warmup']:,} warm-up edits not counted"
        spreads = {k: bootstrap_spread(v["samples_ms"], q) for k, v in lat.items()
                   if v.get("samples_ms")}  # fmt: skip
        if spreads:
            note += "; the spread of each percentile: its quartiles over 1,000 bootstrap resamples"
        out.append(comp(f"tabs.latency_{label}", f"Tab-to-tab latency {label} (Chromium)", "ms",
                        base, {k: v[key] for k, v in lat.items()}, note=note, lost=lost,
                        spreads=spreads))  # fmt: skip
    tp: dict[str, Any] = raw.get("throughput_samples_edits_per_s") or raw["throughput_edits_per_s"]
    tp_base = next(k for k in tp if k.startswith("y-indexeddb"))
    # The three-tab yloft figure first: it is the one set beside y-indexeddb's three tabs.
    tp = dict(sorted(tp.items(), key=lambda kv: "3 tabs" not in kv[0]))
    rounds = len(next(iter(tp.values()))) if isinstance(next(iter(tp.values())), list) else 1
    out.append(comp("tabs.throughput", "Durable edits/s from tabs editing at once (Chromium)",
                    "edits/s", tp_base, tp, better="higher",
                    note=f"{raw.get('throughput_edits_per_tab', '?')} awaited edits per tab, "
                         f"{rounds} round(s)"))  # fmt: skip
    return out


def bootstrap_spread(
    values: Sequence[float], q: float, resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """The quartiles of the ``q`` percentile (bench_tabs.pct's definition) over
    ``resamples`` bootstrap resamples of ``values``: how far that percentile moves."""
    rng = random.Random(seed)
    n = len(values)
    got = sorted(sorted(rng.choices(values, k=n))[min(n - 1, int(q * n))]
                 for _ in range(resamples))  # fmt: skip
    q1, _, q3 = statistics.quantiles(got, n=4, method="inclusive")
    return q1, q3


def typing(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_typing.py: keystroke latency between tabs and devices, sustained typing."""
    lat = raw["latency"]
    out = []
    for cid, title, base, names in (
        ("tabs", "Keystroke to the other tab (Chromium)", "y-indexeddb+BroadcastChannel",
         ["yloft tab -> tab"]),
        ("devices", "Keystroke to the other device (Chromium, loopback)",
         "y-websocket (@y/websocket-server)", ["yloft device -> device (relay)"]),
    ):  # fmt: skip
        note = f"{raw['keys']} keystrokes at 20/s into CodeMirror + y-codemirror.next"
        subjects = {n: lat[n]["samples_ms"] for n in [*names, base]}
        out.append(comp(f"typing.{cid}_p50", f"{title}, p50", "ms", base, subjects, note=note))
        p99 = {n: lat[n]["p99_ms"] for n in [*names, base]}
        out.append(comp(f"typing.{cid}_p99", f"{title}, p99", "ms", base, p99, note=note))
    sus = raw["sustained"]
    base = next(k for k in sus if "y-indexeddb" in k)
    note = f"real keystrokes at 20 characters/s for {raw['sustain_s']} s, a second tab open"
    out.append(comp("typing.stall", "Worst main-thread stall while typing (Chromium)", "ms",
                    base, {k: v["max_gap_ms"] for k, v in sus.items()},
                    note=note + "; the longest gap between ticks of a 10 ms timer"))  # fmt: skip
    if "memory_after" not in sus[base]:  # a typing.json from before issue 27
        return out
    pss = {k: v["memory_after"]["pss_mib"] for k, v in sus.items()}
    out.append(comp(
        "typing.memory", "Memory of both tabs after typing: their renderer processes, pages + "
        "workers + WebAssembly (PSS, Chromium)", "MiB", base, pss,
        note=note + "; the renderer processes of the two tabs (each page, its dedicated "
             "workers, their JS heaps and wasm memories: yloft's writer tab holds Pyodide, "
             "SQLite and the replica), after a full GC in every page and worker; PSS from "
             "/proc/<pid>/smaps_rollup. Before typing → after (growth), PSS / RSS / private: "
             + "; ".join(f"{k} " + " / ".join(
                 f"{v['memory_before'][f'{m}_mib']:.1f} → {v['memory_after'][f'{m}_mib']:.1f} "
                 f"MiB ({v['memory_growth_mib'][m]:+.1f})" for m in ("pss", "rss", "private"))
                 for k, v in sus.items()),
    ))  # fmt: skip
    return out


def undelivered(runs: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """Per load run (bench_relay_load.mjs's result), the updates it never delivered, of
    those expected: a latency percentile is over the delivered ones only."""
    return {n: (int(v["expected"] - v["delivered"]), int(v["expected"]))
            for n, v in runs.items() if v.get("expected", 0) > v.get("delivered", 0)}  # fmt: skip


def relay_cluster(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_relay_cluster.py: SQLite vs PostgreSQL vs three processes, first rate (each
    round a sample; older runs had one run per variant)."""
    rounds = {name: v.get("rounds") or v["runs"][:1] for name, v in raw["variants"].items()}
    base = "sqlite-1" if "sqlite-1" in rounds else next(iter(rounds))
    rate = rounds[base][0]["rate"]
    how = f"{raw['seconds']} s"
    if "rounds" in raw:
        how = (f"{raw['rounds']} rounds of {how}, order alternating, each after "
               f"{raw['warmup_s']:g} s of warm-up")  # fmt: skip
    note = f"100 y-websocket clients in 10 rooms, {rate} updates/s each, {how}"

    def samples(key: str) -> dict[str, list[float]]:
        return {k: [r[key] for r in rs] for k, rs in rounds.items()}

    lost = undelivered({k: {"expected": sum(r["expected"] for r in rs),
                            "delivered": sum(r["delivered"] for r in rs)}
                        for k, rs in rounds.items()})  # fmt: skip
    out = [
        comp("relay_cluster.throughput", "Relay cluster: delivered updates/s", "updates/s",
             base, samples("throughput_per_s"), better="higher", note=note),
        comp("relay_cluster.p99_ms", "Relay cluster: latency p99", "ms", base,
             samples("p99_ms"), note=note, lost=lost),
        comp("relay_cluster.cpu", "Relay cluster: CPU-seconds per 1,000 delivered (relays + "
             "PostgreSQL)", "s", base, samples("cpu_s_per_1000"), note=note),
    ]  # fmt: skip
    return out


def _aim(
    mine: Sequence[float], aim: float, other: Sequence[float] | None = None, unit: str = "x"
) -> str:
    """A figure (the ratio of medians to ``other``'s, or the median itself) against an
    at-most aim, judged by judge(): "1.47x (missed; quartile range 1.36x to 1.64x)"."""
    subjects = [{"name": "mine", **stats(mine)}]
    if other is not None:
        subjects.append({"name": "other", **stats(other)})
    j = judge({"better": "lower", "subjects": subjects}, "mine",
              None if other is None else "other", aim)  # fmt: skip

    def show(v: float) -> str:
        return {"x": f"{v:.2f}x", "ms": f"{v:.0f} ms", "share": f"{100 * v:.1f} %"}[unit]

    rng = f"; quartile range {show(j['lo'])} to {show(j['hi'])}" if j["spread"] else ""
    return f"{show(j['value'])} ({j['verdict']}{rng})"


def app_tabs(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_app_tabs.py: the notes app in several tabs of one profile (issue 24's aims)."""
    n = raw["notes"]
    rounds = raw["per_round"]
    notes, base, blank = rounds["notes"], rounds["baseline"], rounds["blank"]
    counted = f"{len(notes)} round(s)" + (", after a warm-up round" if raw["warmup_rounds"] else "")
    writer = "yloft writer reload (only tab)"
    reload = [r["writer_reload_ms"] for r in notes]
    second = {"yloft 2nd tab (client)": [r["usable_ms"][0] for r in notes],
              "yloft 3rd tab (client)": [r["usable_ms"][1] for r in notes]}  # fmt: skip
    refs = {"CodeMirror + y-indexeddb tab (synced)": base, "blank same-origin page (loaded)": blank}
    out = [comp(
        "app_tabs.second_tab", f"Notes app: a tab opened while the writer is open, navigation "
        f"to usable, {n:,} notes (Chromium; aim ≤ 300 ms)", "ms", writer,
        {**second, writer: reload,
         **{k: [x for r in v for x in r["usable_ms"][:2]] for k, v in refs.items()}},
        floors=["blank same-origin page (loaded)"],
        note=f"usable: data-yloft=ready and the list shows notes, from the page's "
             f"performance.timeOrigin; {counted}. Issue 24's aim is absolute, ≤ 300 ms: "
             + ", ".join(f"{k} {_aim(v, 300, unit='ms')}" for k, v in second.items())
             + ". Beside it the writer's own reload (Pyodide, wheels, the store on OPFS), "
             "and the 2nd and 3rd tabs of the two pages of the memory figures, each in its "
             "own profile.",
    )]  # fmt: skip
    bare = "bare Pyodide load + first query"
    out.append(comp(
        "app_tabs.writer_reload", f"Notes app: reload of the only tab to usable, {n:,} notes "
        "(Chromium; aim ≤ 1.3x bare Pyodide)", "ms", bare,
        {writer: reload, bare: [r["bare_ms"] for r in notes]}, floors=[bare],
        note=f"bare: the same profile's tab goes to a page whose worker loads Pyodide from the "
             f"same pyodide/ files and answers a first sqlite3 query in memory; {counted}. "
             f"Issue 24's aim: ≤ 1.3x; this run "
             f"{_aim(reload, 1.3, [r['bare_ms'] for r in notes])}.",
    ))  # fmt: skip
    mem = "CodeMirror + y-indexeddb tab"
    tabs = {"yloft notes app tab (client)": notes, mem: base, "blank same-origin page": blank}
    rss = {k: [x for r in v for x in r["rss"]] for k, v in tabs.items()}
    pss = {k: statistics.median(x for r in v for x in r["pss"]) / 2**20 for k, v in tabs.items()}
    out.append(comp(
        "app_tabs.memory_per_tab", "Memory per extra tab: RSS of the browser's processes "
        "(Chromium; aim ≤ 1.5x a CodeMirror + y-indexeddb tab)", "bytes", mem, rss,
        floors=["blank same-origin page"],
        note=f"tabs 2 to {raw['tabs']} of each page, opened one after the other in its own "
             f"profile (a first tab open; yloft's is the writer, {n:,} notes); VmRSS summed "
             f"over that browser's processes just before the tab opens and "
             f"{raw['memory_wait_s']:g} s after it is usable (pages shared between processes "
             f"count once per process); every tab of {counted}. Issue 24's aim: ≤ 1.5x; this "
             f"run {_aim(rss['yloft notes app tab (client)'], 1.5, rss[mem])}. PSS medians: "
             + ", ".join(f"{k} {v:.1f} MiB" for k, v in pss.items()) + ".",
    ))  # fmt: skip
    private = {k: [x for r in v for x in r["private"]] for k, v in tabs.items()}
    out.append(comp(
        "app_tabs.memory_private", "Memory per extra tab: private memory of the browser's "
        "processes (Chromium)", "bytes", mem, private, floors=["blank same-origin page"],
        note="as above, summing Private_Clean + Private_Dirty (smaps_rollup) instead of "
             "VmRSS: the memory that goes when the tab closes, without the Chromium code "
             "every process maps",
    ))  # fmt: skip
    names = ["yloft tab 1 (writer)", "yloft tab 2 (client)", "yloft tab 3 (client)"]
    out.append(comp(
        "app_tabs.calls", f"Notes app: db.call('create_note') round trip from each tab, "
        f"{n:,} notes (Chromium)", "ms", names[0],
        {name: [statistics.median(r["calls_ms"][i]) for r in notes]
         for i, name in enumerate(names)},
        note=f"{raw['calls']} calls in a row from each tab, three tabs open (every tab's "
             f"list re-renders as notes arrive); each round's median per tab, {counted}",
    ))  # fmt: skip
    share = {"yloft notes app, 3 tabs": notes, "CodeMirror + y-indexeddb, 3 tabs": base,
             "blank same-origin page, 3 tabs": blank}  # fmt: skip
    cpu = {k: [r["idle_cpu_s"] / raw["idle_s"] for r in v] for k, v in share.items()}
    out.append(comp(
        "app_tabs.idle_cpu", "Idle CPU with 3 tabs open, share of one core (Chromium; aim "
        "< 25 %)", "share", "CodeMirror + y-indexeddb, 3 tabs", cpu,
        floors=["blank same-origin page, 3 tabs"],
        note=f"user + system CPU of the profile's browser processes over {raw['idle_s']:g} s "
             f"with nothing happening, from {raw['memory_wait_s']:g} s after the third tab "
             f"is usable; {counted}. Issue 24's bound: under a quarter of one core; this run "
             f"{_aim(cpu['yloft notes app, 3 tabs'], 0.25, unit='share')}.",
    ))  # fmt: skip
    if all("tab1" in r for v in tabs.values() for r in v):  # absolute figures (issue 27)
        first = {"yloft notes app, writer tab (Pyodide)": notes, mem: base,
                 "blank same-origin page": blank}  # fmt: skip
        own = {k: statistics.median(x["pss"] for r in v for x in r["tab"]) / 2**20
               for k, v in tabs.items()}  # fmt: skip
        profiles = {"yloft notes app (writer + clients)": notes, "CodeMirror + y-indexeddb": base,
                    "blank page": blank}  # fmt: skip
        whole = {k: statistics.median(r["total"][-1]["pss"] for r in v) / 2**20
                 for k, v in profiles.items()}  # fmt: skip
        out.append(comp(
            "app_tabs.memory_first_tab", "Memory of the first tab: its renderer process, page + "
            "workers + WebAssembly (PSS, Chromium)", "bytes", mem,
            {k: [r["tab1"]["pss"] for r in v] for k, v in first.items()},
            floors=["blank same-origin page"],
            note=f"the renderer process Chromium names for the tab's frames (its dedicated "
                 f"workers, their JS heaps and wasm memories run in it: yloft's writer holds "
                 f"Pyodide, SQLite and the store, {n:,} notes), PSS from smaps_rollup, before "
                 f"the 2nd tab opens; {counted}. The same for each extra tab's own renderer "
                 f"({raw['memory_wait_s']:g} s after it is usable; yloft's: a client, no "
                 "Pyodide), PSS medians: "
                 + ", ".join(f"{k} {v:.1f} MiB" for k, v in own.items())
                 + f"; the whole browser (every process of the profile) with {raw['tabs']} "
                 "tabs open, PSS medians: "
                 + ", ".join(f"{k} {v:.0f} MiB" for k, v in whole.items()) + ".",
        ))  # fmt: skip
    return out


# ----------------------------------------------------------- readers for older scripts


def store(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_store.py (CPython): create, indexed query, edit with history, size."""
    c, q = raw["create"], raw["query"]
    out = [
        comp("store.create", f"Create {raw['docs']:,} documents, one transaction (CPython)",
             "s", "plain sqlite3",
             {"yloft Store": c.get("yloft_samples_s", c["yloft_s"]),
              "CRDT alone (no storage)": c.get("crdt_only_samples_s", c["crdt_only_s"]),
              "plain sqlite3": c.get("floor_samples_s", c["floor_s"])},
             floors=["CRDT alone (no storage)", "plain sqlite3"]),
        comp("store.query", "Indexed filter + sort + limit 50 (CPython)", "ms", "plain sqlite3",
             {"yloft Store.query": [v * 1e3 for v in q.get("yloft_samples_s", [q["yloft_s"]])],
              "plain sqlite3": [v * 1e3 for v in q.get("plain_tuples_samples_s",
                                                         [q["plain_tuples_s"]])]},
             floors=["plain sqlite3"]),
    ]  # fmt: skip
    cold = ", cold cache (document read from SQLite at every edit)"
    for key, label in (("edit_sync_full", "synchronous=FULL"),
                       ("edit_sync_normal", "synchronous=NORMAL"),
                       ("edit_sync_full_cold", "synchronous=FULL" + cold),
                       ("edit_sync_normal_cold", "synchronous=NORMAL" + cold)):  # fmt: skip
        if key.endswith("_cold") and key not in raw:  # older results had no cold run
            continue
        e = raw[key]
        out.append(comp(
            f"store.{key}", f"Edit a document with 1,000 edits of history, {label} (CPython)",
            "ms", "plain sqlite3 append",
            {"yloft Store": [e.get("yloft_min_s", e["yloft_s"]) * 1e3, e["yloft_s"] * 1e3,
                             e.get("yloft_max_s", e["yloft_s"]) * 1e3],
             "plain sqlite3 append": [e.get("floor_min_s", e["floor_s"]) * 1e3,
                                      e["floor_s"] * 1e3,
                                      e.get("floor_max_s", e["floor_s"]) * 1e3]},
            note="min/median/max over single edits", floors=["plain sqlite3 append"]))  # fmt: skip
    s = raw["size"]
    out.append(comp(
        "store.size", f"Database size, {raw['docs']:,} documents (CPython)", "bytes",
        "Yjs state + column values",
        {"yloft database": s["yloft_db_bytes"], "plain sqlite3 database": s["floor_db_bytes"],
         "Yjs state + column values": s["yjs_state_bytes"] + s["column_bytes"]},
        floors=["plain sqlite3 database", "Yjs state + column values"]))  # fmt: skip
    return out


def crdt(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_crdt.py: each operation, Python in Pyodide vs JS Yjs in Node; each
    comparison also keeps the per-round Python/JS ratios ("paired") and their spread."""
    out = []
    where = raw.get("method", "one process")  # results before issue 27: one process
    for op, row in raw["ops"].items():
        if "js_ms" not in row:
            continue
        sides = {"yloft.crdt in Pyodide": row["py_ms"], "JS Yjs": row["js_ms"]}
        ratios = row.get("paired_ratios") or [
            p / j for p, j in zip(row["py_ms"], row["js_ms"], strict=True)
        ]
        paired = stats(ratios)
        note = (f"per-round Python/JS ratio (paired): median {paired['median']:.3g}, "
                f"min {paired['min']:.3g}, max {paired['max']:.3g} over {paired['n']} rounds "
                f"({where}")  # fmt: skip
        if raw.get("warmup_rounds"):
            w = raw["warmup_rounds"]
            note += f", after {w} warm-up round{'s' if w > 1 else ''} not counted"
        c = comp(f"crdt.{op}", f"CRDT {op.replace('_', ' ')} (Node)", "ms", "JS Yjs", sides,
                 note=note + ")")  # fmt: skip
        c["paired_ratio"] = paired
        out.append(c)
    return out


def storage(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_storage.py: durable commits/s per storage configuration vs raw OPFS."""
    subjects: dict[str, Sequence[float]] = {
        "raw OPFS append + flush": raw["raw_opfs_append_flush"]["commits_per_s_samples"]
    }
    for row in raw["configs"]:
        subjects[row["label"]] = row["commits_per_s_samples"]
    return [comp("storage.commits", "One-row SQLite commits per storage configuration "
                 "(Chromium)", "commits/s", "raw OPFS append + flush", subjects,
                 better="higher")]  # fmt: skip


CATCHUP_DIFF = "per-document Yjs diffs (pycrdt get_update(doc, device_state))"


def relay(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_relay.py: load rounds and capacity beside other servers, catch-up bytes.

    Every server measured is a row; one that delivered nothing has no latency figures,
    and the latency comparisons say so in their note instead of dropping it silently.
    Each load round is a sample (older runs had one run per server).
    """
    names = {"yloft": "yloft relay", "node": "@y/websocket-server", "pycrdt": "pycrdt-websocket"}
    load = {names[k]: v for k, v in raw.get("load", {}).items() if "error" not in v}
    failed = [names[k] for k, v in raw.get("load", {}).items() if "error" in v]
    out = []
    base = names["node"]
    clients = raw.get("clients", 100)
    rate = raw.get("rate", 5)
    setup = f"{clients} clients in {raw.get('rooms', 10)} rooms, {rate:g} updates/s each"
    if "pycrdt_rooms" in raw:
        setup += f"; pycrdt-websocket's rooms {raw['pycrdt_rooms']}"
    if "rounds" in raw:
        how = (f"{raw['rounds']} rounds of {raw['seconds']} s per server, order alternating, "
               f"each after {raw['warmup_s']:g} s of warm-up on a fresh server")  # fmt: skip
    else:
        how = f"one {raw['seconds']} s run per server"

    def samples(run: dict[str, Any], key: str) -> list[float]:
        rounds = [r for r in run.get("rounds", [run]) if "error" not in r]
        return [r[key] for r in rounds if isinstance(r.get(key), (int, float))]

    if load and base in load:
        for key, title, unit, better in (
            ("throughput_per_s", f"Relay throughput, {clients} clients in 10 rooms",
             "updates/s", "higher"),
            ("delivered_ratio", "Relay share of updates delivered", "share", "higher"),
            ("p50_ms", "Relay latency p50", "ms", "lower"),
            ("p99_ms", "Relay latency p99", "ms", "lower"),
            ("cpu_s_per_1000", "Relay server CPU-seconds per 1,000 delivered", "s", "lower"),
            ("rss_peak_mib", "Relay server memory (peak RSS)", "MiB", "lower"),
        ):  # fmt: skip
            have = {n: samples(v, key) for n, v in load.items() if samples(v, key)}
            note = f"{how}; {setup}"
            lost = sorted(set(load) - set(have))
            if lost:
                note += f"; no figure for {', '.join(lost)} (nothing delivered)"
            if failed:
                note += f"; no figure for {', '.join(failed)} (its run failed)"
            # Latencies are those of the updates delivered: the others are counted lost.
            lost_ = (
                undelivered({n: v for n, v in load.items() if n in have}) if unit == "ms" else {}
            )
            if base in have and len(have) > 1:
                out.append(comp(f"relay.{key}", title, unit, base, have, better=better,
                                note=note, lost=lost_))  # fmt: skip
    stuck = raw.get("stuck")
    mine = load.get(names["yloft"])
    if stuck and "error" not in stuck and mine and samples(stuck, "p99_ms"):
        label = "yloft relay, one more client that stops reading"
        runs = {names["yloft"]: mine, label: stuck}
        out.append(comp("relay.slow_reader_p99_ms",
                        "Relay latency p99 of everyone else, with a reader that stops reading",
                        "ms", names["yloft"], {n: samples(v, "p99_ms") for n, v in runs.items()},
                        note=f"{how}; {setup}; the stuck client is an extra one in the first "
                             "room, neither sending nor counted",
                        lost=undelivered(runs)))  # fmt: skip
    searched = raw.get("capacity", {}).get("servers", {})
    # A server that failed its first step has no capacity figure (0 is not a rate it
    # sustained), nor one that failed without running out of CPU (a stall): both are
    # named in the note, and without the baseline there is no row.
    cap = {k: v for k, v in searched.items() if v.get("sent_per_s") and v.get("saturated", True)}
    below = [names[k] for k, v in searched.items() if not v.get("sent_per_s")]
    stalled = [f"{names[k]} (failed at {100 * (v.get('fail_cpu_share') or 0):.0f} % of a core)"
               for k, v in searched.items() if v.get("sent_per_s")
               and not v.get("saturated", True) and v.get("found")]  # fmt: skip
    unfound = [names[k] for k, v in searched.items() if v.get("sent_per_s") and not v.get("found")]
    if "node" in cap and len(cap) > 1:
        limit = raw["capacity"].get("p99_limit_ms", 100)
        node = cap["node"]
        repeats = node.get("repeats", 1)
        warm = f" after {node['warmup_s']:g} s of warm-up" if node.get("warmup_s") else ""
        note = (f"updates sent per second by {clients} clients in 10 rooms (each delivered to "
                f"the 9 others in its room) at the highest step where every run synced every "
                f"client and delivered ≥ 99.9 %, with median p99 ≤ {limit:g} ms; "
                f"{repeats} run(s) of {node['step_s']:g} s per step, each on a fresh server"
                f"{warm}; doubling then bisecting")  # fmt: skip
        cpu = {names[k]: v["cpu_s_per_1000"] for k, v in cap.items() if v.get("cpu_s_per_1000")}
        if cpu:
            note += "; server CPU-seconds per 1,000 delivered there: " + ", ".join(
                f"{n} {c:.3f}" for n, c in cpu.items()
            )
        if unfound:
            note += f"; no failing step reached for {', '.join(unfound)} (a lower bound)"
        if below:
            note += f"; {', '.join(below)} failed even the first step (no figure)"
        if stalled:
            note += f"; no figure for {', '.join(stalled)}: it did not saturate"
        out.append(comp("relay.capacity", f"Relay capacity: highest rate with p99 ≤ {limit:g} ms",
                        "updates/s", names["node"],
                        {names[k]: v["sent_per_s"] for k, v in cap.items()}, better="higher",
                        note=note))  # fmt: skip
    c = raw.get("catchup")
    if c:
        out.append(comp(
            "relay.catchup_bytes",
            f"Catch-up bytes after missing {c['missed_updates']:,} updates", "bytes",
            CATCHUP_DIFF,
            {"yloft relay catch-up": c["catchup_bytes"], CATCHUP_DIFF: c["minimal_diff_bytes"]},
            note=f"the floor is the sum over the {c['documents']:,} documents of the Yjs diff "
                 "against the state the device had, what a per-document y-sync would send",
            floors=[CATCHUP_DIFF]))  # fmt: skip
        out.append(
            comp(
                "relay.fresh_bytes",
                "Fresh device download",
                "bytes",
                "full Yjs state",
                {"yloft relay": c["fresh_device_bytes"], "full Yjs state": c["full_state_bytes"]},
                floors=["full Yjs state"],
            )
        )
    return out


def relay_auth(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """bench_relay_auth.py: set-up per token kind, and load with/without the --auth hook."""
    load = raw["load"]
    note = f"100 y-websocket clients in 10 rooms, 5 updates/s each, {raw['seconds']} s per variant"
    return [
        comp("relay_auth.setup_ms", "Relay connection set-up (HELLO to caught up)", "ms",
             "shared secret", raw["setup_ms"],
             note=f"median of {raw['connects']} sequential connections per round"),
        comp("relay_auth.throughput", "Relay throughput with the --auth hook", "updates/s",
             "no hook", {k: v["throughput_per_s"] for k, v in load.items()}, better="higher",
             note=note),
        comp("relay_auth.p99_ms", "Relay latency p99 with the --auth hook", "ms", "no hook",
             {k: v["p99_ms"] for k, v in load.items()}, note=note, lost=undelivered(load)),
        comp("relay_auth.cpu", "Relay CPU-seconds with the --auth hook", "s", "no hook",
             {k: v["server_cpu_s"] for k, v in load.items()}, note=note),
    ]  # fmt: skip
