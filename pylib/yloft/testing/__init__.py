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
  with its text;
- ``yloft_offline_page``: the same with the app's service worker installed (every file
  of the build precached): ``page.context.set_offline(True)`` then ``reload_app(page)``
  opens the app offline, as a person's browser does;
- ``yloft_browser_page``: the same on every engine chosen with ``--yloft-browser``
  (``yloft test --browser``: ``chromium``, ``firefox``, ``webkit``, ``all``; default
  ``chromium``), one run per engine (ids ``[firefox]``), as a :class:`BrowserPage`
  (``goto``, ``evaluate``, ``click``, ``type``, ``press``, ``wait_for``, ``texts``...);
  ``yloft_browser`` is its :class:`Browser` (more tabs: ``new_page``).

An engine asked for by name that is not installed is a usage error saying how to install
it; ``all`` runs on the installed ones and says which it left out and why. ``yloft_page``
tests run when Chromium is among the chosen engines and are skipped, saying so, otherwise.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..app.bundle import build_app
from ..app.deps import resolve
from ..app.project import App, load_app
from ..app.runtime import CHROMIUM_FLAGS, static_server
from ..browser.engine import Engine
from ..store import Store
from . import browsers
from .page import Browser, BrowserMissingError, BrowserPage

__all__ = ["AppCallError", "Browser", "BrowserPage", "Call", "call_app", "reload_app", "wait_ready"]

Call = Callable[..., Any]
READY = "html[data-yloft=ready], html[data-yloft=error]"
STATE = """() => { const s = document.documentElement.dataset.yloft;
  return (s === 'ready' || s === 'error') && s; }"""
CHROMIUM_ONLY = "yloft_page is a Playwright page in Chromium"
PANEL = "() => (document.querySelector('#yloft-error') ?? document.body).textContent"


class AppCallError(Exception):
    """A function of the app raised (or does not exist): ``name`` is the exception's class."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


@dataclass
class Chosen:
    """The engines ``yloft_browser_page`` tests run on, and those ``all`` left out (why)."""

    names: list[str]
    left_out: dict[str, str] = field(default_factory=dict)
    asked: bool = False  # --yloft-browser was given


CHOSEN = pytest.StashKey[Chosen]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("yloft")
    group.addoption("--yloft-app", default=None, help="the yloft app folder (default: rootdir)")
    group.addoption(
        "--yloft-browser", action="append", default=None, metavar="NAME",
        help="engines the yloft_browser_page tests run on: chromium, firefox, webkit or all "
        "(every installed one); repeat or give a comma list (default: chromium)",
    )  # fmt: skip


def choose(values: list[str] | None, app_folder: Path) -> Chosen:
    """The engines ``--yloft-browser`` names; an engine named but not installed, or an
    unknown name, raises :class:`pytest.UsageError` saying what to do."""
    if not values:
        return Chosen(["chromium"])
    hint = "--yloft-browser (yloft test --browser)"
    try:
        names = browsers.parse(values)
        named = browsers.parse(n for v in values for n in v.split(",") if n.strip() != "all")
    except ValueError as exc:
        raise pytest.UsageError(f"{hint}: {exc}") from None
    chosen = Chosen([], asked=True)
    for name in names:
        try:
            browsers.check(name, [app_folder])
        except BrowserMissingError as exc:
            if name in named:
                raise pytest.UsageError(f"{hint} {name}: {exc}") from None
            chosen.left_out[name] = str(exc)
        else:
            chosen.names.append(name)
    if not chosen.names:
        raise pytest.UsageError(f"{hint} all: no browser engine is installed here: "
                                + "; ".join(chosen.left_out.values()))  # fmt: skip
    return chosen


def pytest_configure(config: pytest.Config) -> None:
    folder = Path(config.getoption("--yloft-app") or config.rootpath)
    config.stash[CHOSEN] = choose(config.getoption("--yloft-browser"), folder)


def _left_out(config: pytest.Config) -> list[str]:
    chosen = config.stash[CHOSEN]
    return [f"yloft: {name} left out of --yloft-browser all: {why}"
            for name, why in chosen.left_out.items()]  # fmt: skip


def pytest_report_header(config: pytest.Config) -> list[str]:
    chosen = config.stash[CHOSEN]
    if not chosen.asked:
        return []
    return [f"yloft browsers: {', '.join(chosen.names)}", *_left_out(config)]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for line in _left_out(config):
        terminalreporter.write_line(line, yellow=True)
    chromium_only = [r for r in terminalreporter.stats.get("skipped", [])
                     if CHROMIUM_ONLY in str(getattr(r, "longrepr", ""))]  # fmt: skip
    if chromium_only:
        terminalreporter.write_line(
            f"yloft: {len(chromium_only)} test(s) on yloft_page skipped: {CHROMIUM_ONLY}, "
            "which --yloft-browser did not choose", yellow=True,
        )  # fmt: skip


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One run per chosen engine of each test using ``yloft_browser`` (ids ``[firefox]``)."""
    if "yloft_browser" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        if "yloft_browser" in str(mark.args[0]):
            return  # the test chose its engines itself
    names = metafunc.config.stash[CHOSEN].names
    metafunc.parametrize("yloft_browser", names, indirect=True, ids=names)


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
    """Wait until the app is ready; fail the test with the error panel's text if not.

    ``page``: a Playwright page or a :class:`BrowserPage`.
    """
    if isinstance(page, BrowserPage):
        if page.wait_until(STATE, None, 120) != "ready":
            pytest.fail(f"the app did not start in {page.browser.name}:\n{page.evaluate(PANEL)}")
        return
    page.wait_for_selector(READY, state="attached")
    if page.get_attribute("html", "data-yloft") != "ready":
        panel = page.locator("#yloft-error")
        text = panel.text_content() if panel.count() else page.text_content("body")
        pytest.fail(f"the app did not start:\n{text}")


def reload_app(page: Any) -> None:
    """Reload the page and wait until the app is ready again (either kind of page)."""
    page.reload()
    wait_ready(page)


@pytest.fixture
def yloft_page(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    yield from _chromium_page(request, tmp_path, service_workers="block")


@pytest.fixture
def yloft_offline_page(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    for page in _chromium_page(request, tmp_path, service_workers="allow"):
        # The worker controls the page once it installed, i.e. once it cached every file.
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        yield page


def _chromium_page(
    request: pytest.FixtureRequest, tmp_path: Path, service_workers: str
) -> Iterator[Any]:
    chosen = request.config.stash[CHOSEN]
    if "chromium" not in chosen.names:
        pytest.skip(
            f"{CHROMIUM_ONLY}, which --yloft-browser did not choose ({', '.join(chosen.names)}): "
            "a test on yloft_browser_page runs on every engine"
        )
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: install it (Debian: apt-get install chromium)")
    ctx = request.getfixturevalue("yloft_playwright").chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=executable,
        args=CHROMIUM_FLAGS,
        service_workers=service_workers,
    )
    try:
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(request.getfixturevalue("yloft_url"))
        wait_ready(page)
        yield page
    finally:
        ctx.close()


@pytest.fixture(scope="session")
def yloft_drivers(request: pytest.FixtureRequest, yloft_app: App) -> Iterator[browsers.Drivers]:
    """What launches the engines, shared by the session (Playwright, Node, Xvfb)."""
    drivers = browsers.Drivers(
        lambda: request.getfixturevalue("yloft_playwright").chromium, [yloft_app.root]
    )
    yield drivers
    drivers.close()


@pytest.fixture
def yloft_browser(
    request: pytest.FixtureRequest, yloft_drivers: browsers.Drivers, tmp_path: Path
) -> Iterator[Browser]:
    """One engine of ``--yloft-browser`` (the test runs once per engine) on a fresh
    on-disk profile; its pages' console lines are printed when the test ends."""
    name = getattr(request, "param", None) or request.config.stash[CHOSEN].names[0]
    try:
        browser = yloft_drivers.launch(name, tmp_path / f"{name}-profile")
    except BrowserMissingError as exc:
        pytest.fail(str(exc))
    print(f"{name}: {browser.version}")
    yield browser
    yloft_drivers.close_browsers()


@pytest.fixture
def yloft_browser_page(yloft_browser: Browser, yloft_url: str) -> BrowserPage:
    """A tab of ``yloft_browser`` with the built app loaded and ready."""
    page = yloft_browser.new_page("app")
    page.goto(yloft_url)
    wait_ready(page)
    return page
