"""The engines of tests/e2e/test_engines.py: yloft.testing's drivers, under this suite's names.

    drivers = Drivers(browser.browser_type)          # the session's Playwright chromium
    engine = drivers.launch("firefox", tmp_path / "profile")
    page = engine.new_page("a")
    page.goto(url)
    page.evaluate("(x) => x + 1", 1)                 # a JS function's source (may be async)
    page.click("#new-note"); page.type("a title")    # real pointer and key events
    engine.kill(); engine.relaunch()                 # SIGKILL, then the same on-disk profile

The drivers are the installed package's (pylib/yloft/testing/: page.py, chromium.py,
firefox.py with firefox_driver.mjs, webkit.py, browsers.py), the ones an app's tests get
with ``yloft test --browser``; this module only names them as the suite does. What an
engine cannot do here is in ``Engine.cannot`` with the reason that was checked;
``Engine.require(what)`` skips the test with it. docs/browsers.md has the table.
"""

from __future__ import annotations

from playwright.sync_api import BrowserType

from yloft.testing import browsers
from yloft.testing.browsers import ENGINES as ENGINES
from yloft.testing.page import Browser as Engine
from yloft.testing.page import BrowserPage as EnginePage

__all__ = ["ENGINES", "Drivers", "Engine", "EnginePage"]


class Drivers(browsers.Drivers):
    """Launching as the app plugin does, from the suite's one Playwright chromium."""

    def __init__(self, chromium: BrowserType) -> None:
        super().__init__(chromium)

    def close_engines(self) -> None:
        """Close every engine launched so far, printing their pages' console lines."""
        self.close_browsers()
