"""An app's page test in Firefox through ``yloft test --browser firefox`` (issue 26).

A new app (``yloft new``) gets a test on ``yloft_browser_page`` that types an item with
key events, presses Enter and reloads; ``yloft test`` runs it as an app developer does,
in a subprocess, with Debian's firefox-esr driven by the installed package's
``firefox_driver.mjs``. tests/unit/test_browser_option.py covers the option's names and
messages without starting a browser.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PAGE_TEST = """
from yloft.testing import BrowserPage, reload_app


def test_an_item_typed_in_any_engine_survives_a_reload(yloft_browser_page: BrowserPage) -> None:
    page = yloft_browser_page
    page.click("#new-title")
    page.type("Water the plants")
    page.press("Enter")
    page.wait_for("#items li span", text="Water the plants")
    reload_app(page)
    page.wait_for("#items li span", text="Water the plants")
    assert page.texts("#items li span") == ["Water the plants"]
    assert page.evaluate("() => window.db.status.storage") == "opfs"
"""


def test_an_apps_page_test_passes_in_firefox_through_yloft_test(tmp_path: Path) -> None:
    yloft = [sys.executable, "-m", "yloft"]
    subprocess.run([*yloft, "new", "todo"], cwd=tmp_path, check=True, capture_output=True)
    app = tmp_path / "todo"
    (app / "tests" / "test_app.py").unlink()  # the template's own tests: Chromium's
    (app / "tests" / "test_page.py").write_text(PAGE_TEST)
    done = subprocess.run(
        [*yloft, "test", str(app), "--browser", "firefox", "--", "-v", "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "yloft browsers: firefox" in done.stdout
    assert (
        "tests/test_page.py::test_an_item_typed_in_any_engine_survives_a_reload[firefox] PASSED"
    ) in done.stdout
    assert "1 passed" in done.stdout
