"""The notes app in Firefox (Debian's firefox-esr), driven by puppeteer-core over WebDriver
BiDi: tests/e2e/firefox_open.mjs opens it in a fresh profile and reports in one JSON line.

Issue 26: the app awaited ``navigator.storage.persist()``, which Firefox keeps pending behind
a permission prompt, so it never rendered. Playwright's Firefox channel cannot open a
context there (DESIGN.md §6), hence Node and puppeteer-core. ``python3 build.py test``
installs firefox-esr; a missing browser fails the test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "e2e" / "firefox_open.mjs"
TIMEOUT_S = 120


def open_in_firefox(url: str, *extra: str) -> dict[str, Any]:
    """Run firefox_open.mjs on ``url``; its JSON report (fails if the script gave none)."""
    firefox = shutil.which("firefox-esr")
    if firefox is None:
        pytest.fail("firefox-esr is not installed: run `python3 build.py test`, which installs it")
    node = shutil.which("node")
    assert node is not None, "node is missing (build.py needs Node.js 20+)"
    cmd = [node, str(SCRIPT), url, "--firefox", firefox, "--timeout-s", str(TIMEOUT_S), *extra]
    proc = subprocess.run(  # the script's own deadline comes first; this one is a backstop
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S + 90, check=False
    )
    lines = proc.stdout.strip().splitlines()
    if not lines:
        pytest.fail(f"firefox_open.mjs exited {proc.returncode} with no report:\n{proc.stderr}")
    report: dict[str, Any] = json.loads(lines[-1])
    print(json.dumps(report, indent=1))  # shown by pytest when the test fails
    report["exit"] = proc.returncode
    return report


def test_notes_app_starts_on_opfs_and_takes_a_typed_note(base_url: str) -> None:
    report = open_in_firefox(base_url, "--new-note", "Written in Firefox")
    # "loading" here is issue 26's hang: nothing shown, no error.
    assert report["state"] == "ready", report.get("shown_error") or report
    assert report["storage"] == "opfs", report["status"]
    assert report["status"].startswith("Saved in this browser (OPFS)"), report["status"]
    assert report["error"] is None, report["error"]
    assert report["exit"] == 0
    assert "Written in Firefox" in report["notes"]
