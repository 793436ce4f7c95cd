"""yloft's Preact bindings live across tabs, as a person sees them (issue 30).

Two apps on web/bindings/preact.js: the tasks example (examples/tasks, a board rendered
from a live query) and an app made with ``yloft new --template preact``. Each opens in two
tabs of one browser profile; what a person does in one tab (add a card, move it, rename an
item in its document) shows in the other through useQuery, with no reload.

``YLOFT_DOC_IMAGES=1`` also saves the screenshots of docs/bindings.md into docs/images/.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from apppage import open_app
from playwright.sync_api import BrowserContext, Page, expect

import build
from yloft.app import build_app
from yloft.app.scaffold import new_app

IMAGES = build.ROOT / "docs" / "images"


def serve(app: Path, out: Path) -> Iterator[str]:
    build.build_runtime()
    server = build.make_server(0, build_app(app, out).out)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tasks_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(build.EXAMPLES / "tasks", tmp_path_factory.mktemp("tasks") / "dist")


@pytest.fixture(scope="module")
def preact_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("apps") / "groceries"
    new_app(folder, "preact")
    yield from serve(folder, folder / "dist")


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("YLOFT_DOC_IMAGES"):
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 900, "height": 560})
        page.screenshot(path=str(IMAGES / f"bindings-{name}.png"))


def add_card(page: Page, title: str, labels: str, points: str) -> None:
    page.get_by_label("Card title").press_sequentially(title)
    page.get_by_label("Labels", exact=True).press_sequentially(labels)
    page.get_by_label("Points").fill(points)
    page.get_by_role("button", name="Add card").click()


def test_a_card_added_and_moved_in_one_tab_shows_in_the_other(
    context: BrowserContext, tasks_url: str
) -> None:
    first = open_app(context, tasks_url, "tab 1")
    second = open_app(context, tasks_url, "tab 2")
    add_card(first, "Prune roses", "garden, spring", "3")
    expect(first.get_by_label("Card title")).to_have_value("")  # the form is cleared once added
    add_card(first, "Fix the fence", "garden", "5")
    todo = second.get_by_role("list", name="todo")
    expect(todo.get_by_role("listitem")).to_have_count(2)
    expect(todo).to_contain_text("#garden #spring · 3 pts")
    expect(second.get_by_label("Labels in use")).to_have_text("garden (2), spring (1)")
    second.get_by_role("button", name="Move Fix the fence right").click()
    expect(first.get_by_role("list", name="doing")).to_contain_text("Fix the fence")
    expect(first.get_by_role("list", name="todo").get_by_role("listitem")).to_have_count(1)
    screenshot(first, "tasks")


def test_an_item_renamed_in_one_tab_is_renamed_in_the_others_list(
    context: BrowserContext, preact_url: str
) -> None:
    first = open_app(context, preact_url, "tab 1")
    second = open_app(context, preact_url, "tab 2")
    for title in ("Buy oat milk", "Call Ada"):
        first.get_by_label("New item").press_sequentially(title)
        first.keyboard.press("Enter")
    items = second.get_by_role("list", name="Items")
    expect(items.locator("span")).to_have_text(["Buy oat milk", "Call Ada"])
    second.get_by_label("Done: Call Ada").check()
    second.get_by_role("button", name="Edit Buy oat milk").click()
    title = second.get_by_role("region", name="Edit item").get_by_label("Title")
    title.press("End")
    title.press_sequentially(" and bread")
    expect(first.get_by_role("list", name="Items").locator("span")).to_have_text(
        ["Buy oat milk and bread", "Call Ada"]
    )
    expect(first.get_by_label("Done: Call Ada")).to_be_checked()
    expect(second.get_by_text("Saved")).to_be_visible()
    screenshot(second, "preact")


# A component an app could write, mounted beside the template's page: a search box whose
# text is useQuery's parameter, and a query SQLite refuses.
PROBE = """async () => {
  const { DatabaseProvider, html, render, useDoc, useQuery, useState } =
    await import("./bindings/preact.js");
  function Probe() {
    const [word, setWord] = useState("");
    const found = useQuery("SELECT id, title FROM items WHERE title LIKE ? ORDER BY title",
                           [`%${word}%`]);
    const bad = useQuery("SELECT nope FROM items", []);
    const first = useDoc("items", found.rows[0]?.id ?? "none");
    return html`<input aria-label="Search" value=${word}
        onInput=${(e) => setWord(e.currentTarget.value)} />
      <ul aria-label="Found">${found.rows.map((r) => html`<li key=${r.id}>${r.title}</li>`)}</ul>
      <p aria-label="First">${first.doc?.getMap("item").get("title")}</p>
      ${bad.error && html`<p role="alert">${bad.error.message}</p>`}`;
  }
  const box = document.body.appendChild(document.createElement("section"));
  window.probe = {
    mount: () => render(html`<${DatabaseProvider} db=${window.db}><${Probe} /><//>`, box),
    unmount: () => render(null, box),
    bare: () => {
      try {
        render(html`<${Probe} />`, document.createElement("section"));
      } catch (e) {
        return e.message;
      }
    },
  };
}"""


def test_hooks_follow_their_arguments_report_errors_and_clean_up_on_unmount(
    context: BrowserContext, preact_url: str
) -> None:
    page = open_app(context, preact_url, "probe")
    for title in ("Oat milk", "Bread", "Rice milk"):
        page.get_by_label("New item").press_sequentially(title)
        page.keyboard.press("Enter")
    expect(page.get_by_role("list", name="Items").locator("span")).to_have_count(3)
    subscriptions = page.evaluate("() => window.db.listeners.size")
    documents = page.evaluate("() => window.db.providers.size")
    page.evaluate(PROBE)
    assert "inside <DatabaseProvider db={db}>" in page.evaluate("() => window.probe.bare()")
    page.evaluate("() => window.probe.mount()")
    found = page.get_by_role("list", name="Found").get_by_role("listitem")
    expect(found).to_have_text(["Bread", "Oat milk", "Rice milk"])
    expect(page.get_by_role("alert")).to_contain_text("no such column: nope")
    page.get_by_label("Search").press_sequentially("milk")
    expect(found).to_have_text(["Oat milk", "Rice milk"])  # a new subscription per params
    expect(page.get_by_label("First")).to_have_text("Oat milk")  # useDoc of the first row
    page.get_by_label("New item").press_sequentially("Almond milk")
    page.keyboard.press("Enter")
    expect(found).to_have_text(["Almond milk", "Oat milk", "Rice milk"])  # and it is live
    assert page.evaluate("() => window.db.listeners.size") == subscriptions + 1
    page.evaluate("() => window.probe.unmount()")
    expect(page.get_by_label("Search")).to_have_count(0)
    assert page.evaluate("() => window.db.listeners.size") == subscriptions
    assert page.evaluate("() => window.db.providers.size") == documents  # useDoc's destroyed
