"""The benchmark figures and report: ratios, missing-figure detection, Markdown and SVG."""

from __future__ import annotations

import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import figures  # noqa: E402
import report  # noqa: E402

positive = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
names = st.text(min_size=1, max_size=30).filter(lambda s: s.strip() != "")


def test_comp_stats_and_ratios() -> None:
    c = figures.comp("x.y", "T", "ms", "base", {"yloft a": [3, 1, 2], "base": [4.0, 4.0]})
    ours, base = c["subjects"]
    assert (ours["min"], ours["median"], ours["max"], ours["n"]) == (1, 2, 3, 3)
    assert ours["ratio"] == 0.5
    assert base["ratio"] == 1.0


def test_comp_needs_its_baseline() -> None:
    with pytest.raises(ValueError, match="baseline"):
        figures.comp("x", "T", "ms", "missing", {"a": [1.0], "b": [2.0]})


def test_missing_names_every_gap() -> None:
    good = figures.comp("g", "T", "ms", "b", {"yloft": [1.0], "b": [2.0]})
    assert figures.missing([good]) == []
    assert figures.missing([]) == ["no comparisons"]
    lone = figures.comp("l", "T", "ms", "b", {"b": [2.0]})
    assert any("fewer than two" in p for p in figures.missing([lone]))
    broken = figures.comp("n", "T", "ms", "b", {"yloft": [1.0], "b": [2.0]})
    broken["subjects"][0]["median"] = math.nan
    assert any("median" in p for p in figures.missing([broken]))


@given(
    st.dictionaries(names, st.lists(positive, min_size=1, max_size=6), min_size=2, max_size=6),
    st.sampled_from(["lower", "higher"]),
)
def test_any_comparison_charts_as_valid_svg(subjects: dict[str, list[float]], better: str) -> None:
    baseline = next(iter(subjects))
    c = figures.comp("p.q", "<title & co>", "ms", baseline, subjects, better=better)
    for s in c["subjects"]:
        assert s["min"] <= s["median"] <= s["max"]
    assert c["subjects"][0]["ratio"] == 1.0
    root = ET.fromstring(report.chart(c))
    bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect")]
    assert len(bars) == 1 + len(subjects)  # background + one bar each
    texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "<title & co>" in texts


def run_with(benches: dict[str, Any]) -> dict[str, Any]:
    return {
        "when": "2026-01-01T00:00:00Z",
        "quick": True,
        "wall_s": 1.0,
        "machine": {"cpu": "cpu", "cpus": 2, "memory_gib": 1.0, "platform": "linux",
                    "load_avg_at_start": [1.0, 1.0, 1.0]},
        "versions": {"git_commit": "abc", "python": "3", "node": "v20", "chromium": "c",
                     "npm": {"yjs": "13"}, "pypi": {"pycrdt": "0.14"}},
        "benches": benches,
    }  # fmt: skip


def test_report_names_largest_gap_and_failures(tmp_path: Path) -> None:
    slow = figures.comp(
        "a.slow",
        "Slow thing",
        "ms",
        "alt",
        {"yloft": [30.0], "alt": [10.0], "raw": [1.0]},
        floors=["raw"],
    )
    fast = figures.comp("a.fast", "Fast thing", "edits/s", "alt2",
                        {"yloft": [200.0], "alt2": [100.0]}, better="higher")  # fmt: skip
    run = run_with({
        "one": {"title": "One", "command": "python bench/one.py", "comparisons": [slow, fast],
                "method": "How one is measured."},
        "two": {"title": "Two", "error": "exit status 1 (log two.log):\nboom"},
    })  # fmt: skip
    md = report.render(run, tmp_path / "charts", "charts/")
    assert "**Largest gap to an alternative**: Slow thing: yloft vs alt: 3 times worse." in md
    assert "**Largest gap to a floor**: Slow thing: yloft vs raw: 30 times." in md
    assert "**Largest lead**: Fast thing: yloft vs alt2: 2 times better." in md
    assert "- **two**: exit status 1 (log two.log):" in md
    assert "How one is measured." in md
    assert "| Slow thing | yloft | raw (floor) | 30 | 30 |" in md
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["a-fast.svg", "a-slow.svg"]
    assert "![Slow thing](charts/a-slow.svg)" in md
