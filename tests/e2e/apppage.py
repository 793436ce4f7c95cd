"""Opening the notes app in a browser context and calling its Python, for e2e tests."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

READY = "html[data-yloft=ready], html[data-yloft=error]"


def open_app(context: BrowserContext, url: str, name: str) -> Page:
    """A new tab of ``context`` at ``url``, once the app is ready (fails if it is not)."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("console", lambda m: print(f"[{name} {m.type}] {m.text}"))
    page.on("pageerror", lambda e: print(f"[{name} pageerror] {e}"))
    page.goto(url)
    page.wait_for_selector(READY, state="attached")
    if page.get_attribute("html", "data-yloft") != "ready":
        pytest.fail(page.text_content("#error") or "the app did not start")
    return page


def call(page: Page, fn: str, *args: Any) -> Any:
    """``db.call(fn, ...args)`` in the page: a public function of the app's Python."""
    return page.evaluate("([fn, args]) => window.db.call(fn, ...args)", [fn, list(args)])
