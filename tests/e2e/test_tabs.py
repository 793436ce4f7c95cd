"""Several tabs of the notes app in one browser context: one writer, live replicas."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Error, Page

READY = "html[data-yloft=ready], html[data-yloft=error]"
ROWS = "SELECT id, title, body, done FROM notes ORDER BY id"


def open_tab(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("console", lambda m: print(f"[{m.type}] {m.text}") if m.type != "log" else None)
    page.goto(url)
    page.wait_for_selector(READY, state="attached")
    if page.get_attribute("html", "data-yloft") != "ready":
        pytest.fail(page.text_content("#error") or "the app did not start")
    return page


def rows(page: Page) -> Any:
    return page.evaluate("([sql]) => window.db.query(sql, [])", [ROWS])


def status(page: Page) -> Any:
    return page.evaluate("() => window.db.status")


def call(page: Page, name: str, *args: Any) -> Any:
    return page.evaluate("([n, a]) => window.db.call(n, ...a)", [name, list(args)])


def wait_rows(page: Page, expected: Any, timeout: float = 20_000) -> None:
    """Wait until the tab's rows equal ``expected`` (via its own query)."""
    page.wait_for_function(
        """([sql, want]) => window.db.query(sql, []).then(
               (r) => JSON.stringify(r) === JSON.stringify(want))""",
        arg=[ROWS, expected],
        timeout=timeout,
        polling=100,
    )


def crash(page: Page) -> None:
    with contextlib.suppress(Error):
        page.goto("chrome://crash", timeout=5_000)


def test_two_tabs_one_writer_edits_flow_both_ways(context: BrowserContext, base_url: str) -> None:
    a = open_tab(context, base_url)
    b = open_tab(context, base_url)
    assert status(a)["writer"] is True and status(b)["writer"] is False
    assert status(b)["storage"] == "opfs"
    nid = call(b, "create_note", "from b", "hello")
    assert status(b)["unsaved"] == 0
    wait_rows(a, rows(b))
    call(a, "update_note", nid, None, "hello world")
    wait_rows(b, rows(a))
    assert rows(b)[0]["body"] == "hello world"
