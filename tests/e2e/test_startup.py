"""A start-up that stalls says what it waits for; one that fails shows the error panel.

connect() follows the engine worker's start-up stages; a stage with no progress for
``stallMs`` is reported every second ("Still waiting for: opening the database (45 s)").
The notes app passes ``?stallMs=`` on to connect(), so these tests lower the threshold
instead of waiting on a clock: each one holds what a stage needs (the writer lock, the
database file's OPFS handle, a runtime file) from another page of the same profile or
from the network, waits until the message names that stage, then lets go and waits for
the app to start. Nothing here asserts on time.
"""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, Route, expect

STALL = "?stallMs=300"
WAITING = re.compile(r"Still waiting for: .+ \(\d+ s\)")

# Hold the writer lock of the notes database, as a tab running its engine does.
HOLD_WRITER = """() => new Promise((held) => {
  navigator.locks.request("yloft-writer:notes", () => {
    held();
    return new Promise((release) => { window.release = release; });
  });
})"""

# Hold the database file's OPFS sync access handle from a dedicated worker (one handle
# per file: the app's worker cannot open the database until it is let go).
HOLD_FILE = """() => new Promise((held) => {
  const source = `onmessage = async () => {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle("yloft", { create: true });
    const file = await dir.getFileHandle("notes.db", { create: true });
    self.handle = await file.createSyncAccessHandle();
    postMessage("held");
  };`;
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
  window.holder = worker;
  worker.onmessage = held;
  worker.postMessage("go");
})"""


def holder(context: BrowserContext, base_url: str, script: str) -> Page:
    """A page of the app's origin (not the app) that holds something the app needs."""
    page = context.new_page()
    page.goto(base_url + "manifest.json")
    page.evaluate(script)
    return page


def loading(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.on("console", lambda m: print(f"[app {m.type}] {m.text}"))
    page.goto(url)
    return page


def test_a_tab_waiting_for_the_engine_tab_says_so(context: BrowserContext, base_url: str) -> None:
    other = holder(context, base_url, HOLD_WRITER)
    page = loading(context, base_url + STALL)
    stall = page.locator("#stall")
    expect(stall).to_contain_text(
        "Still waiting for: the tab of this app that runs the engine", timeout=60_000
    )
    expect(stall).to_have_text(WAITING)
    expect(stall).to_be_visible()
    assert page.get_attribute("html", "data-yloft") == "loading"

    # The other tab lets go: this one runs the engine, and the message goes.
    other.evaluate("() => window.release()")
    page.wait_for_selector("html[data-yloft=ready]", timeout=120_000)
    expect(stall).to_be_hidden()
    assert page.evaluate("() => window.db.status.writer") is True


def test_a_locked_database_file_says_it_waits_to_open_the_database(
    context: BrowserContext, base_url: str
) -> None:
    other = holder(context, base_url, HOLD_FILE)
    page = loading(context, base_url + STALL)
    stall = page.locator("#stall")
    expect(stall).to_contain_text("Still waiting for: opening the database", timeout=120_000)
    expect(stall).to_have_text(WAITING)
    assert page.get_attribute("html", "data-yloft") == "loading"

    other.evaluate("() => window.holder.terminate()")  # the handle goes with its worker
    page.wait_for_selector("html[data-yloft=ready]", timeout=120_000)
    expect(stall).to_be_hidden()
    assert page.evaluate("() => window.db.status.storage") == "opfs"


def test_a_download_that_hangs_says_it_waits_for_the_python_runtime(
    context: BrowserContext, base_url: str
) -> None:
    hung: list[Route] = []
    context.route("**/pyodide/pyodide.asm.wasm", lambda route: hung.append(route))  # never answered
    page = loading(context, base_url + STALL)
    stall = page.locator("#stall")
    expect(stall).to_contain_text("Still waiting for: loading the Python runtime", timeout=60_000)
    expect(stall).to_have_text(WAITING)
    assert hung, "the runtime request did not reach the route"
    assert page.get_attribute("html", "data-yloft") == "loading"


def test_an_app_without_its_own_loading_screen_gets_yloft_s_notice(
    context: BrowserContext, base_url: str
) -> None:
    """connect() without onStartup: yloft shows the stalled stage in the page itself."""
    other = holder(context, base_url, HOLD_WRITER)
    page = context.new_page()
    page.goto(base_url + "manifest.json")
    page.evaluate(
        """async () => {
          const { connect } = await import("/yloft.js");
          window.connecting = connect({ name: "notes", app: "notes_app", stallMs: 300 })
            .then((db) => { window.db = db; });
        }"""
    )
    notice = page.locator("#yloft-startup")
    expect(notice).to_contain_text("Still waiting for: the tab of this app that runs the engine")
    expect(notice).to_have_text(WAITING)
    expect(notice).to_have_attribute("role", "status")

    other.evaluate("() => window.release()")
    page.evaluate("() => window.connecting")
    expect(notice).to_have_count(0)
    assert page.evaluate("() => window.db.status.writer") is True


def test_an_engine_worker_that_cannot_load_shows_the_error_panel(
    context: BrowserContext, base_url: str
) -> None:
    context.route("**/worker/engine-worker.js", lambda route: route.fulfill(status=404, body=""))
    page = loading(context, base_url)
    page.wait_for_selector("html[data-yloft=error]")
    panel = page.locator("#yloft-error")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("This app could not start")
    expect(panel).to_contain_text("EngineWorkerError")
    expect(panel).to_contain_text("/worker/engine-worker.js could not be loaded")
    expect(page.locator("#stall")).to_be_hidden()
