"""Sign-out: db.clearLocalData() closes every tab's engine and deletes what the app stored."""

from __future__ import annotations

from typing import Any

import pytest
from apppage import call, open_app, wait_until
from playwright.sync_api import BrowserContext, Page

STORED = """async () => {
  const out = [];
  try {
    let dir = await navigator.storage.getDirectory();
    dir = await dir.getDirectoryHandle('yloft');
    for await (const key of dir.keys()) out.push('opfs:' + key);
  } catch (e) { /* no yloft directory */ }
  for (const d of await indexedDB.databases()) {
    if (/^yloft-(fs|outbox)/.test(d.name)) out.push('idb:' + d.name);
  }
  return out.sort();
}"""


def notes(page: Page) -> int:
    return int(
        page.evaluate("() => window.db.query('SELECT count(*) AS n FROM notes', [])")[0]["n"]
    )


@pytest.mark.parametrize("storage", ["opfs", "idb"])
def test_clear_local_data_with_three_tabs_leaves_nothing(
    context: BrowserContext, base_url: str, storage: str
) -> None:
    url = f"{base_url}?storage={storage}"
    tabs = [open_app(context, url, f"t{i}") for i in range(3)]
    call(tabs[0], "create_note", "private", "to be signed out")
    call(tabs[1], "create_note", "also private", "from a replica")
    wait_until(
        tabs[2], "() => window.db.query('SELECT 1 FROM notes', []).then((r) => r.length === 2)"
    )
    assert any("notes.db" in s or "yloft-fs" in s for s in tabs[0].evaluate(STORED))
    # Without a relay every note exists only here: refused, and it says how many.
    error = tabs[1].evaluate(
        "() => window.db.clearLocalData().then(() => null, (e) => [e.name, e.message])"
    )
    assert error[0] == "UnsyncedChangesError" and error[1].startswith("2 document(s)")
    assert notes(tabs[0]) == 2 and notes(tabs[2]) == 2  # nothing was cleared
    for t in tabs:
        t.evaluate(
            "() => { window.cleared = false;"
            " window.db.addEventListener('cleared', () => { window.cleared = true; }); }"
        )
    done = tabs[1].evaluate("() => window.db.clearLocalData({discardUnsynced: true})")
    assert done == {"discarded": 2}
    for t in tabs:
        t.wait_for_function("() => window.db.closed === true")
    assert tabs[0].evaluate("() => window.cleared") and tabs[2].evaluate("() => window.cleared")
    leftovers: Any = tabs[0].evaluate(STORED)
    assert [s for s in leftovers if "notes" in s or s.startswith("idb:")] == []
    # The next connect() starts empty.
    for t in tabs:
        t.close()
    fresh = open_app(context, url, "fresh")
    assert notes(fresh) == 0
