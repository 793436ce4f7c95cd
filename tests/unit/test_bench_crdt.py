"""bench_crdt.py's result: each side's spread and the paired ratios' spread reach the
comparisons (figures.crdt) and docs/crdt.md's table (report.crdt_table)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import bench_crdt  # noqa: E402
import figures  # noqa: E402
import report  # noqa: E402


def result() -> dict[str, Any]:
    times = {
        "map_sets": {"js": [4.0, 5.0, 6.0], "py": [20.0, 30.0, 24.0]},
        "text_iadd_txn": {"py": [90.0, 100.0, 95.0]},
    }
    memory = {side: [{"js_heap_used": 10e6 + i * 1e6, "wasm_memory": 0} for i in range(11)]
              for side in ("js", "py")}  # fmt: skip
    about = {"rounds": 3, "warmup": 1, "quick": False, "method": "a process per side",
             "gc": "minor", "big_bytes": 102939}  # fmt: skip
    return bench_crdt.summarize(times, memory, **about)


def test_summary_keeps_each_sides_spread_and_the_paired_ratios() -> None:
    raw = result()
    row = raw["ops"]["map_sets"]
    assert (row["js_min_ms"], row["js_median_ms"], row["js_max_ms"]) == (4.0, 5.0, 6.0)
    assert (row["py_min_ms"], row["py_median_ms"], row["py_max_ms"]) == (20.0, 24.0, 30.0)
    assert row["ratio"] == pytest.approx(24 / 5)
    assert row["paired_ratios"] == pytest.approx([5.0, 6.0, 4.0])
    assert (row["paired_min"], row["paired_ratio"], row["paired_max"]) == pytest.approx(
        (4.0, 5.0, 6.0)
    )
    assert "js_ms" not in raw["ops"]["text_iadd_txn"]
    assert raw["warmup_rounds"] == 1 and raw["rounds"] == 3
    assert raw["heap_growth_py_chunks_2_to_10_bytes"] == pytest.approx(9e6)


def test_comparisons_carry_samples_and_the_paired_spread() -> None:
    (c,) = figures.crdt(result())  # text_iadd_txn has no JS side: no comparison
    subjects = {s["name"]: s for s in c["subjects"]}
    assert subjects["JS Yjs"]["samples"] == [4.0, 5.0, 6.0]
    assert subjects["yloft.crdt in Pyodide"]["ratio"] == pytest.approx(24 / 5)
    assert c["paired_ratio"]["min"] == pytest.approx(4.0)
    assert c["paired_ratio"]["max"] == pytest.approx(6.0)
    assert "median 5, min 4, max 6 over 3 rounds" in c["note"]
    assert "a process per side, after 1 warm-up round" in c["note"]


def test_comparisons_from_a_result_before_the_spread_was_kept() -> None:
    raw = {"rounds": 2, "ops": {"map_sets": {"py_ms": [20.0, 30.0], "js_ms": [5.0, 5.0]}}}
    (c,) = figures.crdt(raw)
    assert c["paired_ratio"]["median"] == pytest.approx(5.0)


def test_table_has_the_spread_columns() -> None:
    text = report.crdt_table(result(), "2026-12-07T22:00:00Z", "abc1234")
    assert "3 rounds after 1 warm-up round not counted, a process per side" in text
    assert "| paired ratio | paired min\N{EN DASH}max |" in text
    assert (
        "| 10,000 single-key `Map` sets in one transaction | 5.00 (4.00\N{EN DASH}6.00) "
        "| 24.00 (20.00\N{EN DASH}30.00) | 4.80 | 5.00 | 4.00\N{EN DASH}6.00 |"
    ) in text
    assert '| 10,000 times `with doc.transaction(): text += "x"` | — |' in text
    assert "over the last 90,000 of 100,000 edits" in text
    small = {**result(), "ops": {"apply_small_updates": {
        "js_median_ms": 0.00448, "js_min_ms": 0.0039, "js_max_ms": 0.0081,
        "py_median_ms": 0.0739, "py_min_ms": 0.0513, "py_max_ms": 0.14,
        "ratio": 16.5, "paired_ratio": 13.7, "paired_min": 8.44, "paired_max": 35.6}}}  # fmt: skip
    assert "| 0.00448 (0.0039\N{EN DASH}0.0081) | 0.0739 (0.0513\N{EN DASH}0.14) |" in (
        report.crdt_table(small, "2026-12-07T22:00:00Z", "abc1234")
    )
