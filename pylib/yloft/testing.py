"""yloft's pytest plugin: fixtures for testing an app (loaded through the ``pytest11``
entry point, so an app's tests use them without a conftest).

- ``yloft_app``: the app folder (``--yloft-app DIR``, default pytest's rootdir) as an
  :class:`~yloft.app.App`, with its module and locked dependency wheels on ``sys.path``;
- ``yloft_engine``: the app's module on a CPython :class:`~yloft.Store` (a fresh SQLite
  file per test), ``setup(store)`` called, as the browser's engine does;
- ``yloft_store``: that engine's store, with the app's collections;
- ``yloft_call``: ``yloft_call("add_item", "Milk")`` calls a public function of the app
  through the engine's JSON boundary, as ``db.call()`` does in the page (so results are
  what the page gets, and errors raise :class:`AppCallError`);
- ``yloft_url``: the app built once per session and served on 127.0.0.1;
- ``yloft_page``: a Playwright page on a fresh on-disk Chromium profile, with the built
  app loaded and ready (``<html data-yloft="ready">``); an error panel fails the test
  with its text.

Example::

    def test_add(yloft_call):
        item = yloft_call("add_item", "Milk")
        assert yloft_call("list_items")[0]["id"] == item
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .app.bundle import build_app
from .app.deps import resolve
from .app.project import App, load_app
from .app.runtime import CHROMIUM_FLAGS, static_server
from .browser.engine import Engine
from .store import Store

Call = Callable[..., Any]
READY = "html[data-yloft=ready], html[data-yloft=error]"


class AppCallError(Exception):
    """A function of the app raised (or does not exist): ``name`` is the exception's class."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--yloft-app", default=None, help="the yloft app folder (default: rootdir)")


@pytest.fixture(scope="session")
def yloft_app(pytestconfig: pytest.Config) -> App:
    """The app folder; its module and its locked dependencies become importable.

    The dependencies are the very wheels the browser gets (pure Python, so importable
    straight from the ``.whl`` file): resolved as ``yloft build`` does, from the lock file.
    """
    app = load_app(Path(pytestconfig.getoption("--yloft-app") or pytestconfig.rootpath))
    cache = app.root / ".yloft" / "wheels"
    for path in [app.root, *(cache / w.file for w in resolve(app, cache))]:
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    return app


@pytest.fixture
def yloft_engine(yloft_app: App, tmp_path: Path) -> Iterator[Engine]:
    engine = Engine.open(str(tmp_path / "app.db"), app=yloft_app.module)
    yield engine
    engine.store.close()


@pytest.fixture
def yloft_store(yloft_engine: Engine) -> Store:
    return yloft_engine.store


def call_app(engine: Engine, name: str, *args: Any) -> Any:
    """Call the app's function ``name`` through ``Engine.handle``, as ``db.call`` does."""
    request = json.dumps({"method": "call", "args": [name, *args]})
    reply = json.loads(engine.handle(request))
    if not reply["ok"]:
        raise AppCallError(reply["error"]["name"], reply["error"]["message"])
    return reply["value"]


@pytest.fixture
def yloft_call(yloft_engine: Engine) -> Call:
    return functools.partial(call_app, yloft_engine)


@pytest.fixture(scope="session")
def yloft_url(yloft_app: App, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("yloft-build") / "dist"
    build_app(yloft_app.root, out)
    server = static_server(out)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def yloft_playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


def wait_ready(page: Any) -> None:
    """Wait until the app is ready; fail the test with the error panel's text if not."""
    page.wait_for_selector(READY, state="attached")
    if page.get_attribute("html", "data-yloft") != "ready":
        panel = page.locator("#yloft-error")
        text = panel.text_content() if panel.count() else page.text_content("body")
        pytest.fail(f"the app did not start:\n{text}")


def reload_app(page: Any) -> None:
    """Reload the page and wait until the app is ready again."""
    page.reload()
    wait_ready(page)


@pytest.fixture
def yloft_page(yloft_playwright: Any, yloft_url: str, tmp_path: Path) -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: install it (Debian: apt-get install chromium)")
    ctx = yloft_playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=executable,
        args=CHROMIUM_FLAGS,
        service_workers="block",
    )
    try:
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(yloft_url)
        wait_ready(page)
        yield page
    finally:
        ctx.close()
