"""Launching the browser engines a test runs on: Chromium, Firefox and WebKitGTK.

    drivers = Drivers(chromium=playwright.chromium)   # a Playwright BrowserType
    browser = drivers.launch("firefox", tmp_path / "profile")
    page = browser.new_page("a")                      # a yloft.testing.page.BrowserPage
    ...
    drivers.close()

- ``chromium``: Playwright, Debian's ``chromium`` on a persistent on-disk profile;
- ``firefox``: npm's puppeteer-core over WebDriver BiDi in one long-lived Node process,
  Debian's ``firefox-esr`` (:mod:`yloft.testing.firefox`);
- ``webkit``: Selenium's WebKitGTK driver, Debian's ``WebKitWebDriver`` and ``MiniBrowser``
  on an Xvfb display (:mod:`yloft.testing.webkit`).

:func:`check` says what is missing for an engine and how to install it;
:func:`parse` reads the names a person gives (``--browser firefox,webkit``, ``all``).
What an engine cannot do here is in ``Browser.cannot``; ``Browser.require`` skips with it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import chromium, firefox, webkit
from .page import Browser, BrowserMissingError

if TYPE_CHECKING:
    from playwright.sync_api import BrowserType

ENGINES = ("chromium", "firefox", "webkit")
ALL = "all"


def parse(values: Iterable[str]) -> list[str]:
    """The engines named in ``values`` (each may be a comma list), in order, once each;
    ``all`` stands for every engine. Raises ``ValueError`` naming a name that is none."""
    names: list[str] = []
    for value in values:
        for name in (n.strip() for n in value.split(",")):
            if name == ALL:
                names += ENGINES
            elif name in ENGINES:
                names.append(name)
            else:
                raise ValueError(
                    f"unknown browser {name!r}: use {', '.join(ENGINES)} or {ALL} "
                    "(repeat the option or give a comma list)"
                )
    return list(dict.fromkeys(names))


def check(name: str, search: Sequence[Path] = ()) -> None:
    """Raise :class:`BrowserMissingError` (saying how to install it) unless engine ``name``
    can be driven here; ``search``: folders where Node may find puppeteer-core (Firefox)."""
    if name == "chromium":
        chromium.executable()
        if importlib.util.find_spec("playwright") is None:
            raise BrowserMissingError(
                "chromium is driven with Playwright, which is not installed: "
                "pip install 'yloft[test]'"
            )
    elif name == "firefox":
        firefox.check(list(search))
    elif name == "webkit":
        webkit.minibrowser()
    else:
        raise ValueError(f"unknown engine {name!r}: one of {ENGINES}")


class Drivers:
    """What launching an engine needs, started on first use and shared by its browsers:
    Playwright's chromium, one Node process for Firefox, one Xvfb display for WebKit."""

    def __init__(
        self,
        chromium: BrowserType | Callable[[], BrowserType] | None = None,
        search: Sequence[Path] = (),
    ) -> None:
        """``chromium``: a Playwright BrowserType, or a function giving one when first needed;
        ``search``: folders where Node looks for puppeteer-core first (an app's folder)."""
        self.chromium = chromium
        self.search = list(search)
        self._firefox: firefox.FirefoxDriver | None = None
        self._xvfb: webkit.Xvfb | None = None
        self.launched: list[Browser] = []

    def launch(self, name: str, profile: Path, private: bool = False) -> Browser:
        """``name`` on the on-disk ``profile``; ``private``: in private windows (Firefox)."""
        browser: Browser
        if private and name != "firefox":
            raise ValueError("private windows are driven in Firefox only")
        if name == "chromium":
            browser_type = self.chromium() if callable(self.chromium) else self.chromium
            if browser_type is None:
                raise ValueError("Drivers(chromium=...) was not given a Playwright BrowserType")
            browser = chromium.ChromiumBrowser(browser_type, profile)
        elif name == "firefox":
            if self._firefox is None:
                self._firefox = firefox.FirefoxDriver(self.search)
            browser = firefox.FirefoxBrowser(self._firefox, profile, private)
        elif name == "webkit":
            if self._xvfb is None:
                webkit.minibrowser()  # what is missing, before starting Xvfb
                self._xvfb = webkit.Xvfb()
            browser = webkit.WebKitBrowser(self._xvfb.display, profile)
        else:
            raise ValueError(f"unknown engine {name!r}: one of {ENGINES}")
        self.launched.append(browser)
        return browser

    def close_browsers(self) -> None:
        """Close every browser launched so far, printing their pages' console lines."""
        for browser in self.launched:
            for line in browser.logs():
                print(f"[{browser.name}] {line}")
            browser.close()
        self.launched.clear()

    def close(self) -> None:
        self.close_browsers()
        if self._firefox is not None:
            self._firefox.close()
            self._firefox = None
        if self._xvfb is not None:
            self._xvfb.close()
            self._xvfb = None
