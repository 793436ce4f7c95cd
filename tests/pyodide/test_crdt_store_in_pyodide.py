"""The store's own unit tests, run inside Pyodide where yloft.crdt is the Yjs engine.

Tests that need to start processes (crash tests) are reported as skipped there.

pytest (and its pure-Python dependencies) are copied from the project's .venv into a
folder that Pyodide imports from. Test files that use Hypothesis are left out: the
pinned Hypothesis (6.170.15) ships a compiled extension that has no Pyodide build.
(An older, pure-Python Hypothesis ran them all too; see docs/crdt.md.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("pytest_in_pyodide.mjs")
# A pytest plugin for the run inside Pyodide: a test that starts a process (Pyodide has
# none) is reported as skipped with that reason instead of failed.
NO_PROCESSES_PLUGIN = """
import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    exc = call.excinfo
    if exc is not None and exc.errisinstance(OSError) and "does not support processes" in str(
        exc.value
    ):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, "Skipped: needs processes")
    return report
"""
PURE_PACKAGES = ["_pytest", "pytest", "pluggy", "iniconfig", "packaging", "pygments", "py.py",
                 "pytest_timeout.py"]  # fmt: skip


def store_test_files() -> list[Path]:
    """The store's unit tests (store, schema, extraction) that need no Hypothesis."""
    unit = ROOT / "tests" / "unit"
    candidates = [*unit.glob("test_store*.py"), unit / "test_schema.py", unit / "test_extract.py"]
    return sorted(
        f for f in candidates if f.exists() and "hypothesis" not in f.read_text(encoding="utf-8")
    )


def site_packages() -> Path:
    import _pytest

    return Path(_pytest.__file__).resolve().parents[1]


def test_store_tests_pass_inside_pyodide(tmp_path: Path) -> None:
    files = store_test_files()
    if not files:
        pytest.skip("no store tests without Hypothesis exist yet")
    src = site_packages()
    site = tmp_path / "site"
    site.mkdir()
    for name in PURE_PACKAGES:
        path = src / name
        if path.is_dir():
            shutil.copytree(path, site / name)
        else:
            shutil.copy2(path, site / name)
        stem = name.removesuffix(".py")
        for info in src.glob(f"{stem}-*.dist-info"):  # entry points (pytest-timeout)
            shutil.copytree(info, site / info.name)
    (site / "yloft_no_processes.py").write_text(NO_PROCESSES_PLUGIN)
    args = ["-q", "-rs", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
            "-p", "yloft_no_processes", "-o", "timeout=0", *(str(f) for f in files)]  # fmt: skip
    proc = subprocess.run(
        ["node", str(RUNNER), str(ROOT), str(site), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    print(out[-3000:], file=sys.stderr)
    assert "yloft.crdt engine: yjs" in out
    assert proc.returncode == 0, out[-6000:]
    assert " passed" in out and "failed" not in out
