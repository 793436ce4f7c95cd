"""Turn a benchmark run's JSON into docs/benchmarks.md with one SVG chart per comparison.

    .venv/bin/python bench/report.py [bench/results/summary.json]

It also rewrites every figure of docs/*.md that sits between bench/docfigs.py's markers
(docs/crdt.md's table, for one), so no document quotes a figure the run does not have.

The charts are hand-written SVG (no plotting dependency): one bar per subject at its
median, a whisker from min to max, and the ratio to the baseline printed beside it.
"""

from __future__ import annotations

import html
import json
import math
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import figures  # noqa: E402  (bench/figures.py: the comparisons and their verdicts)

DOC = ROOT / "docs" / "benchmarks.md"
CHARTS = ROOT / "docs" / "benchmarks"
CRDT_OPS = {
    "map_sets": "10,000 single-key `Map` sets in one transaction",
    "text_inserts": "10,000 one-character `Text` inserts, each its own transaction "
    '(`text.insert(i, "x")`)',
    "get_update_100k": "`get_update()` of a {big:,}-byte document (per call; each side "
    "encodes a copy loaded from the same update)",
    "apply_update_100k": "`Doc().apply_update()` of that update (per call)",
    "apply_small_updates": "one-character remote edit applied to a replica of that document "
    "(per update, 200 updates)",
    "apply_small_updates_warm": "the same after the first update, when the replica's "
    "vetting copy exists (per update, 199 updates)",
    "text_iadd_txn": '10,000 times `with doc.transaction(): text += "x"`',
}

BAR_H, GAP, LABEL_W, PLOT_W, RIGHT_W = 18, 8, 270, 380, 130
CAVEATS = [
    "- Every subject runs on the same machine in the same run with the same data; ratios "
    "are medians over rounds (min and max are in each table). A quick run (`--quick`) uses "
    "far less data and is a smoke test, not a measurement.",
    "- *Durable* means what each system does by default. yloft flushes its OPFS files "
    "(`FileSystemSyncAccessHandle.flush()`) after every commit; y-indexeddb counts as "
    "durable once its IndexedDB transaction completed, and since Chrome 121 IndexedDB "
    "transactions default to relaxed durability (complete fires once the OS has the data, "
    "no flush to the disk; developer.chrome.com/blog/indexeddb-durability-mode-now-"
    "defaults-to-relaxed), so the y-indexeddb figures do not include that flush.",
    "- y-indexeddb keeps one IndexedDB database per document (its design); to load many "
    "documents the benchmarks open 50 at a time, which is faster than one by one.",
    "- *Met*, *missed*, *within noise*: a figure's spread is the interquartile range of "
    "its samples (rounds, or single events where a bench keeps every event), a "
    "percentile's the interquartile range of 1,000 bootstrap resamples of its events. "
    "A ratio's range pits the two spreads against each other: from the best quartile of "
    "yloft over the worst of the other to the worst over the best. An aim is met when "
    "even the range's worst end meets it, missed when even its best end does not, and "
    "*within noise* otherwise; with one figure per subject (one run, no spread measured) "
    "the row says so and judges the figure alone.",
    "- A bench that measures fewer samples than it attempted (an edit the other tab "
    "never saw, an update a relay never delivered) says how many in the comparison's "
    "note, and the report lists them under *Samples lost*.",
    "- The UDF baseline (Yjs blobs decoded inside SQL) caches the last decoded blob, so the "
    "several field lookups of one row decode it once.",
    "- Store, CRDT and relay figures come from the earlier per-issue scripts (bench/); "
    "their own docs (docs/store.md, docs/crdt.md, docs/protocol.md, docs/storage.md) "
    "discuss them.",
]


def fmt(v: float, unit: str) -> str:
    if unit == "bytes":
        for div, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if abs(v) >= div:
                return f"{v / div:.3g} {suffix}"
        return f"{v:.0f} B"
    if unit == "share":
        return f"{100 * v:.1f} %"
    if abs(v) >= 1000:  # 3,490 ms, not 3.49e+03 ms
        return f"{v:,.0f} {unit}"
    return f"{v:.3g} {unit}"


def esc(text: str) -> str:
    """Text for SVG: XML-escaped, without the control characters XML forbids."""
    return html.escape("".join(ch for ch in text if ch >= " " or ch in "\t\n"))


def yloft_subject(c: dict[str, Any]) -> dict[str, Any] | None:
    return next((s for s in c["subjects"] if s["name"].lower().startswith("yloft")), None)


def chart(c: dict[str, Any]) -> str:
    """One horizontal bar chart as an SVG document."""
    subjects = c["subjects"]
    hi = max(s["max"] for s in subjects) or 1.0
    lo = (
        min(s["min"] for s in subjects if s["min"] > 0)
        if any(s["min"] > 0 for s in subjects)
        else hi
    )
    log = hi / lo > 50
    if log:
        lo_edge = 10 ** math.floor(math.log10(lo))
        span = math.log10(hi) - math.log10(lo_edge) or 1.0

        def x(v: float) -> float:
            return LABEL_W + PLOT_W * max(
                0.0, (math.log10(max(v, lo_edge)) - math.log10(lo_edge)) / span
            )
    else:

        def x(v: float) -> float:
            return LABEL_W + PLOT_W * v / hi

    top = 34
    height = top + len(subjects) * (BAR_H + GAP) + 26
    width = LABEL_W + PLOT_W + RIGHT_W
    scale = "log scale" if log else "linear scale"
    better = "lower is better" if c["better"] == "lower" else "higher is better"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="8" y="16" font-weight="bold">{esc(c["title"])}</text>',
        f'<text x="8" y="29" fill="#555">{esc(c["unit"])}, median with min-max, '
        f"{better}, {scale}; ratio to {esc(c['baseline'])}; blue yloft, light floors"
        "</text>",
    ]
    for i, s in enumerate(subjects):
        y = top + i * (BAR_H + GAP)
        is_base = s["name"] == c["baseline"]
        is_ours = s["name"].lower().startswith("yloft")
        is_floor = s["name"] in c.get("floors", [])
        color = (
            "#999" if is_base else "#2b6cb0" if is_ours else "#e8c07d" if is_floor else "#dd8452"
        )
        x0 = LABEL_W
        out.append(f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end">'
                   f'{esc(s["name"][:44])}</text>')  # fmt: skip
        out.append(f'<rect x="{x0}" y="{y}" width="{max(1.0, x(s["median"]) - x0):.1f}" '
                   f'height="{BAR_H}" fill="{color}"/>')  # fmt: skip
        if s["n"] > 1 and s["max"] > s["min"]:
            cy = y + BAR_H / 2
            out.append(f'<line x1="{x(s["min"]):.1f}" x2="{x(s["max"]):.1f}" y1="{cy}" '
                       f'y2="{cy}" stroke="black"/>')  # fmt: skip
            for v in (s["min"], s["max"]):
                out.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{y + 4}" '
                           f'y2="{y + BAR_H - 4}" stroke="black"/>')  # fmt: skip
        label = f"{fmt(s['median'], c['unit'])}  x{s['ratio']:.3g}"
        out.append(f'<text x="{LABEL_W + PLOT_W + 6}" y="{y + 13}">{esc(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def table_rows(c: dict[str, Any]) -> list[str]:
    rows = []
    for s in c["subjects"]:
        base = " (baseline)" if s["name"] == c["baseline"] else ""
        rows.append(
            f"| {s['name']}{base} | {fmt(s['min'], c['unit'])} | {fmt(s['median'], c['unit'])}"
            f" | {fmt(s['max'], c['unit'])} | {s['n']} | {s['ratio']:.3g} |"
        )
    return rows


# Issue 17's, 24's and 28's rows: (comparison id, yloft subject, compared with, aim). With a
# subject to compare with, the aim is in "times worse"; with None, it is an absolute aim:
# the most the subject's median may be, in the comparison's unit (issue 24).
AIMS: list[tuple[str, str, str | None, float]] = [
    ("crdt.apply_small_updates", "yloft.crdt in Pyodide", "JS Yjs", 3.0),
    ("crdt.map_sets", "yloft.crdt in Pyodide", "JS Yjs", 3.0),
    ("writes.edit", "yloft (OPFS)", "JS Yjs + y-indexeddb", 1.0),
    ("tabs.throughput", "yloft 3 tabs (1 writer)", "y-indexeddb 3 tabs", 1.0),
    ("tabs.latency_p99", "yloft writer->follower", "y-indexeddb+BroadcastChannel", 3.0),
    ("relay.p99_ms", "yloft relay", "@y/websocket-server", 1.5),
    ("relay.p50_ms", "yloft relay", "@y/websocket-server", 1.5),
    ("relay.cpu_s_per_1000", "yloft relay", "@y/websocket-server", 1.5),
    ("relay.capacity", "yloft relay", "@y/websocket-server", 1.0),
    ("relay.slow_reader_p99_ms", "yloft relay, one more client that stops reading",
     "yloft relay", 2.0),
    ("relay_cluster.p99_ms", "pg-1", "sqlite-1", 2.0),
    ("relay_cluster.cpu", "pg-3", "pg-1", 1.6),
    ("size.notes", "yloft OPFS files", "y-indexeddb stored updates", 1.5),
    ("app_tabs.second_tab", "yloft 2nd tab (client)", None, 300.0),
    ("app_tabs.second_tab", "yloft 3rd tab (client)", None, 300.0),
    ("app_tabs.writer_reload", "yloft writer reload (only tab)",
     "bare Pyodide load + first query", 1.3),
    ("app_tabs.memory_per_tab", "yloft notes app tab (client)", "CodeMirror + y-indexeddb tab",
     1.5),
    ("app_tabs.idle_cpu", "yloft notes app, 3 tabs", None, 0.25),
]  # fmt: skip


def _range(lo: str, hi: str) -> str:
    """A range with its shared unit written once: "0.82x" and "1.14x" give 0.82, an en
    dash, 1.14x."""
    unit = hi[hi.rfind(" ") :] if " " in hi else hi[-1:]
    return f"{lo.removesuffix(unit)}\N{EN DASH}{hi}"


def aims_rows(run: dict[str, Any]) -> list[str]:
    """One line per AIMS row: the figure of this run, its range within the run's
    spread (figures.judge), beside its aim: met, missed or within noise."""
    found = {c["id"]: c for e in run["benches"].values() for c in e.get("comparisons", [])}
    rows = []
    for cid, mine, other, aim in AIMS:
        c = found.get(cid)
        subjects = {s["name"]: s["median"] for s in c["subjects"]} if c else {}
        if other is None:  # an absolute aim, in the comparison's unit
            if c is None or subjects.get(mine) is None:
                rows.append(f"| {cid} | {mine} | not measured | ≤ {aim:g} | — |")
                continue
            j = figures.judge(c, mine, None, aim)
            got, lo, hi = (fmt(j[k], c["unit"]) for k in ("value", "lo", "hi"))
            label, aim_text = mine, f"≤ {fmt(aim, c['unit'])}"
        else:
            if c is None or not subjects.get(mine) or not subjects.get(other):
                rows.append(f"| {cid} | {mine} vs {other} | not measured | ≤ {aim:g}x | — |")
                continue
            j = figures.judge(c, mine, other, aim)
            got, lo, hi = (f"{j[k]:.3g}x" for k in ("value", "lo", "hi"))
            label, aim_text = f"{mine} vs {other}", f"≤ {aim:g}x"
        if j["spread"]:
            got += f" ({_range(lo, hi)})"
        said = j["verdict"] if j["spread"] else f"{j['verdict']} (no spread: one figure)"
        rows.append(f"| {c['title']} | {label} | {got} | {aim_text} | {said} |")
    return rows


def render(run: dict[str, Any], chart_dir: Path, link_prefix: str) -> str:
    """The Markdown report; writes the charts into ``chart_dir``."""
    chart_dir.mkdir(parents=True, exist_ok=True)
    m, v = run["machine"], run["versions"]
    lines = [
        "# Benchmarks: yloft beside the alternatives",
        "",
        "Generated by `python3 build.py bench` (bench/run.py, bench/report.py) from "
        f"`{run.get('source', 'bench/results/summary.json')}`; do not edit by hand.",
        "Absolute times on this shared machine are noisy; read the **ratios** (each "
        "subject's median divided by the baseline's median, measured in the same run on "
        "the same data).",
        "",
        f"- run: {run['when']}{' (quick)' if run.get('quick') else ''}, "
        f"{run.get('wall_s', '?')} s; commit {v.get('git_commit', '?')}",
        f"- machine: {m['cpu'] or '?'}, {m['cpus']} CPUs, {m['memory_gib']} GiB, "
        f"{m['platform']}, load at start {', '.join(f'{x:.2f}' for x in m['load_avg_at_start'])}",
        f"- Python {v['python']}, Node {v['node']}, {v['chromium']}",
        "- npm: " + ", ".join(f"{k} {x}" for k, x in v["npm"].items() if x),
        "- PyPI: " + ", ".join(f"{k} {x}" for k, x in v["pypi"].items() if x),
    ]
    if run.get("partial_runs"):
        lines.append(f"- benchmarks re-run alone (--only) at: {', '.join(run['partial_runs'])}")
    lines += ["", "## At a glance", "",
              "yloft's median divided by each other subject's median, same run, same data. "
              "*Times worse* turns that into one direction: above 1 means yloft is slower, "
              "bigger or delivers less; below 1 means it does better. *Floors* are raw "
              "storage with no document model, the least any such system must pay.", "",
              "| comparison | yloft subject | compared with | ratio | times worse |",
              "|---|---|---|---|---|"]  # fmt: skip
    worst: list[tuple[float, str]] = []
    worst_floor: list[tuple[float, str]] = []
    for entry in run["benches"].values():
        for c in entry.get("comparisons", []):
            s = yloft_subject(c)
            if s is None:
                continue
            floors = set(c.get("floors", []))
            aside = set(figures.no_headline(c))
            for other in c["subjects"]:
                if other["name"].lower().startswith("yloft") or not other["median"]:
                    continue
                ratio = s["median"] / other["median"]
                g = 1 / ratio if c["better"] == "higher" and ratio else ratio
                is_floor = other["name"] in floors
                what = f"{c['title']}: {s['name']} vs {other['name']}"
                if other["name"] not in aside:
                    (worst_floor if is_floor else worst).append((g, what))
                kind = " (floor)" if is_floor and "floor" not in other["name"] else ""
                kind += " (not in the headline)" if other["name"] in aside else ""
                lines.append(f"| {c['title']} | {s['name']} | {other['name']}{kind} "
                             f"| {ratio:.3g} | {g:.3g} |")  # fmt: skip
    if worst:
        g, what = max(worst)
        lines += ["", f"**Largest gap to an alternative**: {what}: {g:.3g} times worse."]
        g, what = min(worst)
        lines += [f"**Largest lead**: {what}: {1 / g:.3g} times better."]
    if worst_floor:
        g, what = max(worst_floor)
        lines += [f"**Largest gap to a floor**: {what}: {g:.3g} times."]
    if worst or worst_floor:
        lines += ["", "The largest lead and gaps leave out the subjects marked *not in the "
                  "headline*: cold paths (every y-indexeddb database reopened for one query) "
                  "that an app querying often would not take."]  # fmt: skip
    lost = [f"{c['title']}: {figures.lost_text(c)}"
            for e in run["benches"].values() for c in e.get("comparisons", [])
            if figures.lost_text(c)]  # fmt: skip
    if lost:
        lines += ["", "**Samples lost** (measured, never seen; left out of the figures):", "",
                  *[f"- {x}" for x in lost]]  # fmt: skip
    lines += ["", "## Where yloft trailed, beside its aims (issues 17, 24 and 28)", "",
              "*Times worse* as above; the aim is the most it may be. An aim without a "
              "subject to compare with (issue 24's) is the most the median itself may be. "
              "In brackets, the range the figure takes within this run's spread; an aim is "
              "met or missed only when the whole range is on one side of it, else *within "
              "noise* (see Reading these numbers). "
              "The causes of a missed aim are measured in docs/performance.md.", "",
              "| comparison | subjects | times worse (or median) | aim | |",
              "|---|---|---|---|---|", *aims_rows(run)]  # fmt: skip
    lines += ["", "## Reading these numbers", "", *CAVEATS]
    failed = {n: e["error"] for n, e in run["benches"].items() if "error" in e}
    if failed:
        lines += ["", "## Not measured in this run", ""]
        for name, err in failed.items():
            parts = [x.strip() for x in err.splitlines() if x.strip()]
            last = f" … {parts[-1][:200]}" if len(parts) > 1 else ""
            lines.append(f"- **{name}**: {parts[0] if parts else '?'}{last}")
    for entry in run["benches"].values():
        if not entry.get("comparisons"):
            continue
        lines += ["", f"## {entry['title']}", "", f"`{entry.get('command', '')}` "
                  f"({entry.get('wall_s', '?')} s)", ""]  # fmt: skip
        if entry.get("method"):
            summary = "<details><summary>How it is measured (the script's docstring)</summary>"
            lines += [summary, "", "```text", entry["method"].strip(), "```", "", "</details>", ""]
        for c in entry["comparisons"]:
            svg = f"{c['id'].replace('.', '-')}.svg"
            (chart_dir / svg).write_text(chart(c))
            lines += [f"### {c['title']}", "", f"![{c['title']}]({link_prefix}{svg})", ""]
            if c.get("note"):
                lines += [c["note"], ""]
            lines += [f"| subject | min | median | max | rounds | ratio to {c['baseline']} |",
                      "|---|---|---|---|---|---|", *table_rows(c), ""]  # fmt: skip
    return "\n".join(lines).rstrip() + "\n"


def crdt_table(raw: dict[str, Any], when: str, commit: str) -> str:
    """The Markdown table of bench_crdt.py's result (``raw``), with its run's date: each
    side's median with its min-max over the rounds, and the per-round ratios' spread."""

    def ms(v: float) -> str:
        return f"{v:.3g}" if v < 1 else f"{v:.2f}"

    def cell(row: dict[str, Any], side: str) -> str:
        if f"{side}_min_ms" not in row:  # results before issue 27 kept no spread
            return ms(row[f"{side}_median_ms"])
        return (f"{ms(row[f'{side}_median_ms'])} ({ms(row[f'{side}_min_ms'])}"
                f"\N{EN DASH}{ms(row[f'{side}_max_ms'])})")  # fmt: skip

    rounds = raw["rounds"]
    how = f"{rounds} rounds"
    if raw.get("warmup_rounds"):
        w = raw["warmup_rounds"]
        how += f" after {w} warm-up round{'s' if w > 1 else ''} not counted"
    if raw.get("method"):
        how += f", {raw['method']}"
    lines = [
        f"Run {when}, commit {commit}, {how} "
        f"(`.venv/bin/python bench/bench_crdt.py --rounds {rounds}`; generated by "
        "bench/report.py from its result, do not edit by hand). Times are medians with "
        'min\N{EN DASH}max over the rounds in brackets; "paired" is the median of per-round '
        "Python/JS ratios, with their min\N{EN DASH}max.",
        "",
        "| operation | plain Yjs (ms) | yloft.crdt (ms) | ratio of medians | paired ratio "
        "| paired min\N{EN DASH}max |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for op, row in raw["ops"].items():
        label = CRDT_OPS.get(op, op).format(big=raw.get("big_update_bytes", 0))
        if "js_median_ms" in row:
            spread = (f"{row['paired_min']:.2f}\N{EN DASH}{row['paired_max']:.2f}"
                      if "paired_min" in row else "—")  # fmt: skip
            lines.append(f"| {label} | {cell(row, 'js')} | {cell(row, 'py')} | {row['ratio']:.2f}"
                         f" | {row['paired_ratio']:.2f} | {spread} |")  # fmt: skip
        else:
            lines.append(f"| {label} | — | {cell(row, 'py')} | — | — | — |")
    heap = [raw.get(f"heap_growth_{side}_chunks_2_to_10_bytes") for side in ("js", "py")]
    if heap[0] is not None and heap[1] is not None:
        js, py = heap[0] / 1e6, heap[1] / 1e6
        series = raw.get("memory", {}).get("py", [])  # heap before and after each chunk
        chunks = len(series) - 1 if len(series) > 2 else 10  # chunks of 10,000 edits
        lines += ["", f"Heap growth over the last {(chunks - 1) * 10_000:,} of "
                  f"{chunks * 10_000:,} edits, after `global.gc()`: "
                  f"plain Yjs {js:+.2f} MB, yloft.crdt {py:+.2f} MB."]  # fmt: skip
    return "\n".join(lines)


def write_docs(run: dict[str, Any]) -> Path:
    """docs/benchmarks.md and docs/benchmarks/*.svg from ``run``, and every doc's figures."""
    if CHARTS.exists():
        for old in CHARTS.glob("*.svg"):
            old.unlink()
    DOC.write_text(render(run, CHARTS, "benchmarks/"))
    if not run.get("quick"):
        import docfigs

        docfigs.write_all(run)
    return DOC


def main() -> None:
    args = sys.argv[1:]
    src = Path(args[0]) if args else HERE / "results" / "summary.json"
    print(write_docs(json.loads(src.read_text())))


if __name__ == "__main__":
    main()
