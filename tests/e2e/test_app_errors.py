"""Mistakes an app developer makes show in the page, and apps on one origin stay apart.

A syntax error in the app module, or a ``setup()`` that raises, shows an error panel with
the Python traceback (not a blank page); two apps under different paths of one origin
keep separate databases. The apps are scaffolded (``yloft new``) and built with
``yloft.app.build_app`` into one folder served on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from apppage import open_app
from playwright.sync_api import BrowserContext, Page, expect

import build
from yloft.app import build_app
from yloft.app.scaffold import new_app


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """``/a/`` and ``/b/``: the same todo app twice; ``/syntax/`` and ``/raises/`` broken."""
    root = Path(tempfile.mkdtemp(prefix="yloft-apps-"))
    src = root / "src"
    new_app(src / "todo")
    for path in ("a", "b"):
        build_app(src / "todo", root / "www" / path)
    shutil.copytree(src / "todo", src / "syntax")
    module = src / "syntax" / "todo_app.py"
    module.write_text(
        module.read_text().replace("def add_item(title: str)", "def add_item(title str)")
    )
    build_app(src / "syntax", root / "www" / "syntax")
    shutil.copytree(src / "todo", src / "raises")
    module = src / "raises" / "todo_app.py"
    module.write_text(
        module.read_text().replace(
            '    store.collection("items", FIELDS)',
            '    raise RuntimeError("the items table is not ready")',
        )
    )
    build_app(src / "raises", root / "www" / "raises")
    server = build.make_server(0, root / "www")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    shutil.rmtree(root, ignore_errors=True)


def failed_page(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("html[data-yloft=ready], html[data-yloft=error]", state="attached")
    assert page.get_attribute("html", "data-yloft") == "error"
    return page


def test_a_syntax_error_shows_the_traceback(context: BrowserContext, site: str) -> None:
    page = failed_page(context, site + "syntax/")
    panel = page.get_by_role("alert")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("This app could not start")
    expect(panel).to_contain_text("SyntaxError")
    expect(panel.locator("pre")).to_contain_text("Traceback (most recent call last)")
    expect(panel.locator("pre")).to_contain_text("todo_app.py")
    expect(panel.locator("pre")).to_contain_text("def add_item(title str)")


def test_a_raising_setup_shows_the_traceback(context: BrowserContext, site: str) -> None:
    page = failed_page(context, site + "raises/")
    panel = page.get_by_role("alert")
    expect(panel).to_contain_text("RuntimeError: the items table is not ready")
    expect(panel.locator("pre")).to_contain_text("in setup")


def test_two_apps_under_different_paths_keep_separate_databases(
    context: BrowserContext, site: str
) -> None:
    a = open_app(context, site + "a/", "a")
    a.get_by_label("New item").press_sequentially("only in a")
    a.keyboard.press("Enter")
    expect(a.locator("#items li span")).to_have_text(["only in a"])
    # Scoped by the app's root path (not the worker's own folder, worker/): the same name
    # as every earlier build gave it, so its users keep their database.
    assert a.evaluate("window.db.name") == "todo-" + hashlib.sha256(b"/a/").hexdigest()[:8]
    b = open_app(context, site + "b/", "b")
    assert b.evaluate("window.db.query('SELECT count(*) AS n FROM items')") == [{"n": 0}]
    assert a.evaluate("window.db.status.writer") and b.evaluate("window.db.status.writer")
    b.get_by_label("New item").press_sequentially("only in b")
    b.keyboard.press("Enter")
    expect(b.locator("#items li span")).to_have_text(["only in b"])
    a.reload()
    a.wait_for_selector("html[data-yloft=ready]", state="attached")
    expect(a.locator("#items li span")).to_have_text(["only in a"])
