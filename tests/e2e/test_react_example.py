"""The React example (examples/react), built as its developer builds it and driven in
Chromium: esbuild bundles src/ with the installed runtime's yloft.js and bindings/hooks.js
(build.mjs), `yloft build` makes the site, and a person adds, ticks and renames items
through the React-bound hooks (useQuery, useCall, useDoc, useStatus). The example's own
tests (examples/react/tests/) run with `yloft test`."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator

import pytest
from apppage import open_app
from playwright.sync_api import BrowserContext, expect

import build
from yloft.app import build_app
from yloft.app.runtime import runtime_dir, static_server

EXAMPLE = build.EXAMPLES / "react"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    build.build_runtime()
    subprocess.run(["node", str(EXAMPLE / "build.mjs"), str(runtime_dir())], check=True)
    out = build_app(EXAMPLE, tmp_path_factory.mktemp("react") / "dist").out
    assert "yloft-runtime" not in (out / "app.js").read_text()  # every import was bundled
    server = static_server(out)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_person_adds_ticks_and_renames_items_in_the_react_app(
    context: BrowserContext, site: str
) -> None:
    page = open_app(context, site, "react")
    items = page.get_by_role("list", name="Shopping list")
    expect(page.get_by_text("storage: opfs")).to_be_visible()  # useStatus
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_have_text("an item needs a name: type one first")
    page.get_by_label("Item").press_sequentially("Oat milk")
    page.keyboard.press("Enter")
    expect(items.get_by_role("listitem")).to_have_text(["Oat milk✎"])
    expect(page.get_by_role("alert")).to_have_count(0)  # useCall's error cleared by a success
    page.get_by_role("checkbox", name="Oat milk").check()
    page.get_by_role("button", name="Rename Oat milk").click()
    name = page.get_by_role("region", name="Rename item").get_by_label("Name")
    name.press("End")
    name.press_sequentially(", 2 litres")
    expect(page.get_by_role("checkbox", name="Oat milk, 2 litres")).to_be_checked()  # useQuery
    page.reload()
    page.wait_for_selector("html[data-yloft=ready]", state="attached")
    expect(page.get_by_role("checkbox", name="Oat milk, 2 litres")).to_be_checked()
