"""``yloft new --template preact`` and ``--template tasks`` make apps whose generated
tests pass with ``yloft test``, as an app developer runs them (issue 30).

The preact template's tests drive its page on yloft's Preact bindings in Chromium (an
item added, ticked, renamed in its document, reloaded; a refused title's message; the app
reloaded offline from its service worker's cache) and in Firefox (``--browser``). The tasks
template is the tasks example (a dependency from PyPI, humanize, locked on first build).
tests/unit/test_app_build.py checks the files each template writes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

YLOFT = [sys.executable, "-m", "yloft"]


def new_and_test(folder: Path, template: str, *browsers: str) -> str:
    subprocess.run([*YLOFT, "new", "app", "--template", template], cwd=folder, check=True,
                   capture_output=True)  # fmt: skip
    done = subprocess.run(
        [*YLOFT, "test", str(folder / "app"), *browsers, "--", "-v", "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.timeout(1200)
def test_the_preact_templates_tests_pass_in_chromium_offline_and_in_firefox(
    tmp_path: Path,
) -> None:
    out = new_and_test(tmp_path, "preact", "--browser", "chromium,firefox")
    assert "test_the_app_opens_offline_with_its_data PASSED" in out
    assert "test_an_item_typed_in_any_browser_survives_a_reload[firefox] PASSED" in out
    assert re.search(r"\b7 passed\b", out), out


@pytest.mark.timeout(1200)
def test_the_tasks_templates_tests_pass(tmp_path: Path) -> None:
    out = new_and_test(tmp_path, "tasks")
    assert "test_a_card_added_and_moved_in_the_page_stays_after_a_reload PASSED" in out
    assert re.search(r"\b6 passed\b", out), out
