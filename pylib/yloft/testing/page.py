"""One small page interface, the same on every browser engine (docs/testing.md).

A :class:`Browser` is one browser process on one on-disk profile; its pages are
:class:`BrowserPage` objects with the same few methods on Chromium, Firefox and WebKit::

    page.goto(url)
    page.evaluate("(x) => x + 1", 1)                 # a JS function's source (may be async)
    page.click("#new-note"); page.type("a title")    # real pointer and key events
    page.press("Control+End")
    page.wait_for("#saved", text="Saved")            # polls; a hang guard, not a timing
    page.texts("#notes li .title")                   # ["a title"]

:mod:`yloft.testing.browsers` launches them; the engines' own drivers are in
:mod:`~yloft.testing.chromium`, :mod:`~yloft.testing.firefox` and :mod:`~yloft.testing.webkit`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ..errors import YloftError

TEXTS = "(sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent.trim())"
FOUND = """([sel, text]) => [...document.querySelectorAll(sel)].some(
  (e) => text === null || e.textContent.trim() === text)"""


class BrowserMissingError(YloftError):
    """A browser engine, or what drives it, is not installed here; the message says how."""


class BrowserPage:
    """One tab. ``evaluate`` takes a JS function's source and one JSON argument."""

    def __init__(self, browser: Browser, name: str) -> None:
        self.browser = browser
        self.name = name

    def goto(self, url: str) -> None:
        raise NotImplementedError

    def reload(self) -> None:
        """Reload the page (and wait for its load event)."""
        raise NotImplementedError

    def evaluate(self, fn: str, arg: Any = None) -> Any:
        """Call the JS function ``fn`` (its source) with ``arg``; its awaited JSON value."""
        raise NotImplementedError

    def click(self, selector: str) -> None:
        """A real mouse click on the element's centre (scrolled into view)."""
        raise NotImplementedError

    def type(self, text: str) -> None:
        """Key events for each character, into whatever has the focus."""
        raise NotImplementedError

    def press(self, key: str) -> None:
        """One key, with modifiers held: ``"End"``, ``"Enter"``, ``"Control+Home"``."""
        raise NotImplementedError

    def set_files(self, selector: str, path: Path) -> None:
        """Choose ``path`` in the file input ``selector``, as its file chooser would."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def type_into(self, selector: str, text: str) -> None:
        self.click(selector)
        self.type(text)

    def wait_until(self, predicate: str, arg: Any = None, timeout: float = 60) -> Any:
        """Evaluate ``predicate`` (may be async) until it is truthy; return its value.

        A hang guard for what must happen, never a timing assertion.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(predicate, arg)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: timed out after {timeout:.0f} s: {predicate}")
            time.sleep(0.1)

    def wait_for(self, selector: str, text: str | None = None, timeout: float = 60) -> None:
        """Wait until an element matches ``selector`` (whose trimmed text is ``text``)."""
        try:
            self.wait_until(FOUND, [selector, text], timeout)
        except AssertionError:
            seen = self.texts(selector)
            want = f" with the text {text!r}" if text is not None else ""
            raise AssertionError(
                f"{self.browser.name}: no {selector!r}{want} after {timeout:.0f} s (seen: {seen})"
            ) from None

    def texts(self, selector: str) -> list[str]:
        """The trimmed text of every element matching ``selector``, in document order."""
        return list(self.evaluate(TEXTS, selector))


class Browser:
    """One browser process on one on-disk profile; ``relaunch`` reopens that profile."""

    name: ClassVar[str]
    # capability -> why this engine cannot do it here (checked, not assumed)
    cannot: ClassVar[dict[str, str]] = {}

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.version = ""
        self.pages: list[BrowserPage] = []

    def require(self, *what: str) -> None:
        """Skip the test if this engine cannot do ``what`` here, with the reason."""
        for w in what:
            if w in self.cannot:
                pytest.skip(f"{self.name}: {self.cannot[w]}")

    def new_page(self, name: str) -> BrowserPage:
        raise NotImplementedError

    def kill(self) -> None:
        """SIGKILL the browser's main process, as a crash or power cut would end it."""
        raise NotImplementedError

    def relaunch(self) -> None:
        """A new browser process on the same profile (after ``kill`` or ``close``)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def logs(self) -> list[str]:
        """Console lines and page errors of every page since the last call."""
        return []
