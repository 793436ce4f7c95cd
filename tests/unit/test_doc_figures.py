"""Docs quote the committed benchmark run, and name only test files that exist (issue 27).

Every figure a benchmark produces is written into docs/*.md by bench/docfigs.py from
bench/results/summary.json; these tests fail when a document's figure differs from that
run, when a measured figure sits in prose without saying where it came from, or when a
document names a test file that does not exist.
"""

# ruff: noqa: RUF001  (the documents use the multiplication sign and en dash)

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import docfigs  # noqa: E402
import report  # noqa: E402

SUMMARY = json.loads((ROOT / "bench" / "results" / "summary.json").read_text())
DOCS = docfigs.doc_paths()


def run_with(**medians: float) -> dict[str, Any]:
    """A made-up run with one comparison, "w.edit", of subjects a (baseline) and b."""
    subjects = [
        {"name": n, "min": v * 0.9, "median": v, "max": v * 1.2, "n": 5, "ratio": v / medians["a"]}
        for n, v in medians.items()
    ]
    comp = {"id": "w.edit", "title": "edit", "unit": "ms", "better": "lower",
            "baseline": "a", "subjects": subjects}  # fmt: skip
    bench = {"comparisons": [comp], "git_commit": "abc1234", "when": "2026-12-07T00:00:00Z",
             "raw": {"deep": {"bytes": 1234567}}}  # fmt: skip
    return {"when": "2026-12-07T00:00:00Z", "versions": {"git_commit": "abc1234"},
            "benches": {"w": bench}}  # fmt: skip


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_generated_figure_is_the_committed_runs(doc: Path) -> None:
    problems = docfigs.stale(doc.read_text(), SUMMARY)
    assert not problems, (
        f"{doc.name} quotes figures the committed run does not have "
        "(run `.venv/bin/python bench/docfigs.py` after a bench run):\n" + "\n".join(problems)
    )


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_measured_figure_without_its_source(doc: Path) -> None:
    found = [f"line {n}: {x}" for n, x in docfigs.unlabelled(doc.read_text())]
    assert not found, (
        f"{doc.name} has measured figures outside generated markers: generate them "
        "(<!-- fig: … -->) or say where they came from (<!-- measured: … -->):\n" + "\n".join(found)
    )


def test_benchmarks_page_is_the_committed_run_rendered(tmp_path: Path) -> None:
    want = report.render(SUMMARY, tmp_path, "benchmarks/")
    assert (ROOT / "docs" / "benchmarks.md").read_text() == want, (
        "docs/benchmarks.md differs from bench/results/summary.json rendered: "
        "run `.venv/bin/python bench/report.py`"
    )


def test_a_planted_stale_figure_is_found() -> None:
    run = run_with(a=2.0, b=3.0)
    doc = (
        "b takes <!-- fig: w.edit|b -->3 ms<!-- /fig -->, "
        "<!-- fig: w.edit|b/a -->1.5×<!-- /fig --> a's time.\n"
    )
    assert docfigs.stale(doc, run) == []
    assert docfigs.render(doc, run) == doc
    later = run_with(a=2.0, b=2.5)  # the next run: b got faster, the doc was not regenerated
    problems = docfigs.stale(doc, later)
    assert len(problems) == 2
    assert "'3 ms'" in problems[0] and "'2.5 ms'" in problems[0]
    assert "'1.25×'" in problems[1]
    assert docfigs.stale(docfigs.render(doc, later), later) == []


def test_a_planted_stale_table_and_a_wrong_name_are_found() -> None:
    run = run_with(a=2.0, b=3.0)
    doc = docfigs.render("<!-- figs: table w.edit -->\n<!-- /figs -->\n", run)
    assert "| b | 2.7 ms | 3 ms | 3.6 ms | 5 | 1.5 |" in doc
    assert docfigs.stale(doc, run) == []
    planted = doc.replace("| 3 ms |", "| 2.9 ms |")
    assert docfigs.stale(planted, run) == ["line 1: block table w.edit differs from the run"]
    for wrong in (
        "w.edit|c",
        "nope|b",
        "w.edit|b|mean",
        "raw:w|deep.nope|{}",
        "run",
        "raw:w|deep.bytes",
        "raw:w|deep.bytes|{:.2f}|x",
        "w.edit|b/a|verdict x",
    ):
        doc = f"<!-- fig: {wrong} -->1<!-- /fig -->"
        (problem,) = docfigs.stale(doc, run)
        assert problem.startswith("line 1: ")
        assert docfigs.render(doc, run) == doc  # left for the check to name, not a crash


def test_other_fields_render() -> None:
    run = run_with(a=2.0, b=3.0)
    assert docfigs.value("w.edit|b|range", run) == "2.7–3.6 ms"
    assert docfigs.value("w.edit|b|ratio", run) == "1.5×"
    # b/a = 1.5, its range within the quartiles of the samples (one sample each: none)
    assert docfigs.value("w.edit|b/a|verdict 1.4", run) == "missed"
    assert docfigs.value("w.edit|b/a|verdict 1.6", run) == "met"
    noisy = run_with(a=2.0, b=3.0)
    for s in noisy["benches"]["w"]["comparisons"][0]["subjects"]:
        s["samples"] = [s["median"] * f for f in (0.8, 0.9, 1.0, 1.1, 1.2)]
    assert docfigs.value("w.edit|b/a|verdict 1.6", noisy) == "within noise"
    assert docfigs.value("w.edit|b/a|verdict 2", noisy) == "met"
    assert docfigs.value("w.edit|b|verdict 3.5", noisy) == "met"
    assert docfigs.value("raw:w|deep.bytes|{:.2f} MB|1e-6", run) == "1.23 MB"
    assert docfigs.value("bench:w|commit", run) == "abc1234"


def test_unlabelled_figures_are_found_and_sourced_ones_are_not() -> None:
    text = "\n".join([
        "An edit took 3.2 ms, 1.4× the baseline (×1.14 of the other).",  # 3 figures
        "The aim is ≤ 1.5× and the limit under 300 ms; 10,000 notes, 2 tabs.",
        "<!-- measured: 2026-12-01, bench/bench_store.py at c6b250e -->",
        "Then it took 4.1 ms.",
        "<!-- /measured -->",
        "Generated: <!-- fig: w.edit|b -->3 ms<!-- /fig -->; in code `0.5 s`.",
        "```text",
        "1.7 ms",
        "```",
    ])  # fmt: skip
    found = list(docfigs.unlabelled(text))
    assert [n for n, _ in found] == [1, 1, 1]


TEST_NAME = re.compile(r"(?<![\w/])((?:tests/[\w/]+/)?test_\w+\.py)")
BENCH_NAME = re.compile(r"(?<![\w/])(bench/(?!results/)[\w/.-]+\.(?:py|mjs|js|html))(?!\w)")


def named_files(text: str) -> set[str]:
    return set(TEST_NAME.findall(text)) | set(BENCH_NAME.findall(text))


def missing_files(text: str) -> list[str]:
    tests = {p.name for p in (ROOT / "tests").rglob("test_*.py")}
    out = []
    for name in sorted(named_files(text)):
        if "/" in name:
            if not (ROOT / name).exists():
                out.append(name)
        elif name not in tests:
            out.append(name)
    return out


@pytest.mark.parametrize("doc", [*DOCS, ROOT / "docs" / "benchmarks.md"], ids=lambda p: p.name)
def test_docs_name_only_test_and_bench_files_that_exist(doc: Path) -> None:
    missing = missing_files(doc.read_text())
    assert not missing, f"{doc.name} names files that do not exist: {', '.join(missing)}"


def test_a_planted_missing_test_file_is_found() -> None:
    text = "Covered by `tests/unit/test_doc_figures.py`, tests/unit/test_tabs.py and test_nope.py."
    assert missing_files(text) == ["test_nope.py", "tests/unit/test_tabs.py"]


def test_the_checker_sees_the_committed_docs_figures() -> None:
    """The markers are really used: at least the CRDT table is generated."""
    marked = sum(len(docfigs.BLOCK.findall(p.read_text())) for p in DOCS)
    assert marked >= 1
    run = copy.deepcopy(SUMMARY)
    crdt = run["benches"]["crdt"]["raw"]["ops"]
    first = next(iter(crdt.values()))
    first["py_median_ms"] = first["py_median_ms"] * 2 + 1  # a run that differs
    assert docfigs.stale((ROOT / "docs" / "crdt.md").read_text(), run)
