"""Playwright fixtures: the built app served on 127.0.0.1 and Debian's Chromium.

The suite never downloads a browser: it drives the `chromium` on PATH
(``python3 build.py test`` installs it with apt-get when missing).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apppage import serve_relay
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

import build

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """The app built into web/dist/, served on a free port for this test session."""
    build.build()
    server = build.make_server(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run `python3 build.py test`, which installs it")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=build.CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile (own storage, own OPFS) per test, without the service worker.

    Playwright instruments service workers; after a renderer crash (chrome://crash) the
    restarted worker stays paused for its debugger and every later navigation of the
    context hangs (seen here, 1 in 2 crash rounds). Tests that are not about offline use
    therefore run without it; ``sw_context`` has it.
    """
    ctx = browser.new_context(service_workers="block")
    yield ctx
    ctx.close()


@pytest.fixture
def sw_context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile whose pages register the app's service worker (offline tests)."""
    ctx = browser.new_context(service_workers="allow")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


@pytest.fixture(scope="module")
def relay_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A relay subprocess serving web/dist/ and /relay; yields the app's base URL."""
    db = tmp_path_factory.mktemp("relay") / "relay.db"
    with serve_relay(db, "--tokens", "demo=demo") as url:
        yield url


@pytest.fixture
def device(browser: Browser) -> Iterator[Any]:
    """Makes fresh browser contexts (devices) without service workers; closes them after."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        ctx = browser.new_context(service_workers="block")
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()
