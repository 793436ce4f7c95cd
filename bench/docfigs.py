"""Figures in docs/*.md and README.md generated from the committed benchmark run, checked.

    .venv/bin/python bench/docfigs.py            rewrite every doc's generated figures
    .venv/bin/python bench/docfigs.py --check    list stale and unlabelled figures (exit 1)

A figure that a benchmark produces is never typed by hand. A document names it between
markers, and this module writes the value from ``bench/results/summary.json``:

- inline: ``<!-- fig: writes.edit|yloft (OPFS) -->1.23 ms<!-- /fig -->``. The expression
  is ``COMPARISON|SUBJECT[|FIELD]`` (FIELD: ``median`` (default), ``min``, ``max``,
  ``range``, ``n``, ``ratio`` to the comparison's baseline), ``COMPARISON|A/B`` (A's
  median over B's, ``×``) or ``COMPARISON|A/B|worse`` (the same turned into "times worse"
  when higher is better), ``COMPARISON|A/B|verdict N`` against an aim of at most N
  times worse (met, missed or "within noise": figures.judge), ``COMPARISON|A|verdict N``
  against an absolute aim,
  ``run|commit``, ``run|when``, ``bench:NAME|commit``/``|when``, and
  ``raw:NAME|dotted.path|FORMAT[|SCALE]`` for a value of a benchmark's own JSON (a
  number in the path indexes a list)
  (FORMAT like ``{:.2f} MB``, SCALE a factor like ``1e-6``).
- blocks: ``<!-- figs: table COMPARISON -->`` … ``<!-- /figs -->`` (the comparison's
  table), ``<!-- figs: crdt -->`` (bench_crdt.py's table), ``<!-- figs: aims -->``.

A figure measured once, outside the committed run (a design experiment, an earlier run
quoted as history), stays hand-written inside ``<!-- measured: WHEN, HOW -->`` …
``<!-- /measured -->``, which says where it came from. :func:`unlabelled` finds measured
figures (a decimal number with a unit, or any number with ``×``) that sit outside all of
these, so a stale figure cannot hide in prose; tests/unit/test_doc_figures.py runs it.
"""

# ruff: noqa: RUF001, RUF002, RUF003  (the documents use the multiplication sign and en dash)

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOCS = ROOT / "docs"
SUMMARY = HERE / "results" / "summary.json"
# Rendered whole by report.py (checked against it separately), not by markers.
WHOLE = {"benchmarks.md"}

INLINE = re.compile(r"<!-- fig: (?P<expr>[^\n]+?) -->(?P<val>.*?)<!-- /fig -->")
BLOCK = re.compile(r"<!-- figs: (?P<expr>[^\n]+?) -->\n(?P<body>.*?)<!-- /figs -->", re.S)
MEASURED = re.compile(r"<!-- measured: [^>]+? -->.*?<!-- /measured -->", re.S)
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")
COMMENT = re.compile(r"<!--.*?-->", re.S)
# A measured-looking figure: 1.23 ms, 0.5 s, 31.7 MB, 12 %, 3×, 2.5x.
FIGURE = re.compile(
    r"(?<![\w.,/])(?P<num>\d[\d,]*\.\d+|\d[\d,]*)\s?"
    r"(?P<unit>×|x(?![\w-])|ms\b|µs\b|ns\b|s\b|MB\b|MiB\b|KB\b|KiB\b|kB\b|GB\b|GiB\b|%)"
    r"|(?P<unit2>×)\s?(?P<num2>\d+\.\d+)"
)
# An aim or a limit, not a measurement: "≤ 1.5×", "aim 3×", "under 300 ms".
AIM = re.compile(r"(≤|≥|<|>|~|aim:?|target|under|over|at most|at least|within|up to)\s*$")


class FigureError(ValueError):
    """A marker whose expression does not name a figure of the run."""


def comparisons(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for e in run["benches"].values() for c in e.get("comparisons", [])}


def _subject(c: dict[str, Any], name: str) -> dict[str, Any]:
    for s in c["subjects"]:
        if s["name"] == name:
            return dict(s)
    names = ", ".join(repr(s["name"]) for s in c["subjects"])
    raise FigureError(f"{c['id']}: no subject {name!r} (subjects: {names})")


def _bench(run: dict[str, Any], name: str) -> dict[str, Any]:
    entry = run["benches"].get(name)
    if entry is None:
        raise FigureError(f"no benchmark {name!r} in the run")
    return dict(entry)


def _pair(text: str, names: set[str]) -> tuple[str, str]:
    """ "A/B" split where both halves are subjects ("x/@y/websocket-server" has two slashes)."""
    for i, ch in enumerate(text):
        if ch == "/" and text[:i].strip() in names and text[i + 1 :].strip() in names:
            return text[:i], text[i + 1 :]
    return text.split("/", 1)[0], text.split("/", 1)[1]


def _times(v: float) -> str:
    return f"{v:.3g}×"


def value(expr: str, run: dict[str, Any]) -> str:
    """The text of one inline figure (FigureError for a malformed or unknown one)."""
    try:
        return _value(expr, run)
    except FigureError:
        raise
    except (IndexError, KeyError, ValueError, TypeError) as exc:
        raise FigureError(f"{expr}: cannot be read ({type(exc).__name__}: {exc})") from exc


def _value(expr: str, run: dict[str, Any]) -> str:
    import figures  # bench/figures.py: the verdict against an aim, within the run's spread
    import report  # bench/report.py: the one number format of the published figures

    parts = [p.strip() for p in expr.split("|")]
    head = parts[0]
    if head == "run":
        return str(run["versions"]["git_commit"] if parts[1] == "commit" else run["when"])
    if head.startswith("bench:"):
        entry = _bench(run, head[6:])
        return str(entry["git_commit"] if parts[1] == "commit" else entry["when"])
    if head.startswith("raw:"):
        raw: Any = _bench(run, head[4:]).get("raw")
        for key in parts[1].split("."):
            if (
                isinstance(raw, list)
                and key.lstrip("-").isdigit()
                and -len(raw) <= int(key) < len(raw)
            ):
                raw = raw[int(key)]  # a list's item by index: "rounds.0", "marks.-1"
            elif isinstance(raw, dict) and key in raw:
                raw = raw[key]
            else:
                raise FigureError(f"{expr}: {key!r} is not in {head[4:]}'s result")
        scale = float(parts[3]) if len(parts) > 3 else 1.0
        return parts[2].format(raw * scale if isinstance(raw, (int, float)) else raw)
    c = comparisons(run).get(head)
    if c is None:
        raise FigureError(f"{expr}: no comparison {head!r} in the run")
    if len(parts) < 2:
        raise FigureError(f"{expr}: name a subject (COMPARISON|SUBJECT)")
    field = parts[2] if len(parts) > 2 else "median"
    names = {x["name"] for x in c["subjects"]}
    if parts[1] not in names and "/" in parts[1]:
        a, b = (_subject(c, n.strip())["median"] for n in _pair(parts[1], names))
        ratio = a / b if b else float("inf")
        if field == "median":
            return _times(ratio)
        worse = 1 / ratio if c["better"] == "higher" and ratio else ratio
        if field == "worse":
            return _times(worse)
        if field.startswith("verdict "):
            a, b = (n.strip() for n in _pair(parts[1], names))
            return str(figures.judge(c, a, b, float(field.split()[1]))["verdict"])
        raise FigureError(f"{expr}: a ratio's field is worse or verdict N, not {field!r}")
    s = _subject(c, parts[1])
    unit = c["unit"]
    if field in ("median", "min", "max"):
        return report.fmt(s[field], unit)
    if field == "range":
        lo, hi = report.fmt(s["min"], unit), report.fmt(s["max"], unit)
        lo_num, _, lo_unit = lo.partition(" ")
        hi_unit = hi.partition(" ")[2]
        return f"{lo_num}–{hi}" if lo_unit == hi_unit else f"{lo}–{hi}"
    if field == "n":
        return str(s["n"])
    if field == "ratio":
        return _times(s["ratio"])
    if field.startswith("verdict "):  # an absolute aim: the most the median may be
        return str(figures.judge(c, parts[1], None, float(field.split()[1]))["verdict"])
    raise FigureError(f"{expr}: unknown field {field!r}")


def block(expr: str, run: dict[str, Any]) -> str:
    """The text of one generated block (without its markers)."""
    import report

    kind, _, arg = expr.partition(" ")
    if kind == "table":
        c = comparisons(run).get(arg)
        if c is None:
            raise FigureError(f"table {arg}: no such comparison in the run")
        return "\n".join([
            f"| subject | min | median | max | rounds | ratio to {c['baseline']} |",
            "|---|---|---|---|---|---|",
            *report.table_rows(c),
        ])  # fmt: skip
    if kind == "crdt":
        entry = _bench(run, "crdt")
        if "raw" not in entry:
            raise FigureError("crdt: the run has no bench_crdt.py result")
        commit = entry.get("git_commit", run["versions"]["git_commit"])
        return str(report.crdt_table(entry["raw"], entry.get("when", run["when"]), commit))
    if kind == "aims":
        return "\n".join([
            "| comparison | subjects | times worse (or median) | aim | |",
            "|---|---|---|---|---|",
            *report.aims_rows(run),
        ])  # fmt: skip
    raise FigureError(f"unknown block {expr!r} (table ID, crdt, aims)")


def render(text: str, run: dict[str, Any]) -> str:
    """``text`` with every marker's figure written from ``run``; a marker the run has no
    figure for is left as it was (a partial run must not fail after its results are
    saved; :func:`stale` and the test name it)."""

    def one_block(m: re.Match[str]) -> str:
        try:
            return f"<!-- figs: {m['expr']} -->\n{block(m['expr'], run)}\n<!-- /figs -->"
        except FigureError:
            return m.group(0)  # left as it was: stale() names it

    def one(m: re.Match[str]) -> str:
        try:
            return f"<!-- fig: {m['expr']} -->{value(m['expr'], run)}<!-- /fig -->"
        except FigureError:
            return m.group(0)

    return INLINE.sub(one, BLOCK.sub(one_block, text))


def stale(text: str, run: dict[str, Any]) -> list[str]:
    """Each generated figure of ``text`` that differs from ``run``: "line N: have → want"."""
    out = []
    for pattern, make in ((INLINE, value), (BLOCK, block)):
        for m in pattern.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            try:
                want = make(m["expr"], run)
            except FigureError as exc:
                out.append(f"line {line}: {exc}")
                continue
            have = m["val"] if pattern is INLINE else m["body"].rstrip("\n")
            if have != want:
                short = (have if len(have) < 60 else have[:57] + "...").replace("\n", " ")
                out.append(f"line {line}: {m['expr']}: the doc has {short!r}, the run {want!r}"
                           if pattern is INLINE else
                           f"line {line}: block {m['expr']} differs from the run")  # fmt: skip
    return out


def _blank(m: re.Match[str]) -> str:
    """The match replaced by spaces, newlines kept (so line numbers stay)."""
    return re.sub(r"[^\n]", " ", m.group(0))


def unlabelled(text: str) -> Iterator[tuple[int, str]]:
    """(line, excerpt) of each measured-looking figure outside markers, code and aims."""
    for pattern in (BLOCK, INLINE, MEASURED, FENCE, COMMENT, CODE):
        text = pattern.sub(_blank, text)
    for m in FIGURE.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()]
        if AIM.search(before):
            continue
        if m["unit2"]:
            pass  # "×1.14": a ratio written the other way round
        elif "." not in m["num"] and m["unit"] not in ("×", "x"):
            continue  # a whole number of ms or MB is a limit or a setting, not a median
        line = text.count("\n", 0, m.start()) + 1
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        excerpt = text[start : end if end >= 0 else len(text)].strip()
        yield line, excerpt[:120]


def doc_paths() -> list[Path]:
    """docs/*.md (but the report itself) and README.md."""
    return [*sorted(p for p in DOCS.glob("*.md") if p.name not in WHOLE), ROOT / "README.md"]


def write_all(run: dict[str, Any]) -> list[Path]:
    """Rewrite every doc's generated figures from ``run``; the docs that changed."""
    changed = []
    for path in doc_paths():
        text = path.read_text()
        new = render(text, run)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def main(argv: list[str]) -> int:
    import json

    sys.path.insert(0, str(HERE))
    run = json.loads(SUMMARY.read_text())
    if "--check" not in argv:
        for path in write_all(run):
            print(path.relative_to(ROOT))
        return 0
    bad = 0
    for path in doc_paths():
        text = path.read_text()
        rel = path.relative_to(ROOT)
        for problem in stale(text, run):
            print(f"{rel}: stale: {problem}")
            bad += 1
        for line, excerpt in unlabelled(text):
            print(f"{rel}:{line}: unlabelled figure: {excerpt}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
