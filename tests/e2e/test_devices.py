"""Two devices (two browser contexts) running the notes app, synced by a real relay.

The relay runs as a subprocess (``python -m yloft_relay``) that also serves the built
app, so the page reaches it at its own origin's ``/relay`` like in production. Each
context is a separate profile with its own OPFS: a separate device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apppage import READY, call, open_app, wait_until
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]


def notes(page: Page) -> Any:
    sql = "SELECT id, title, body, done FROM notes ORDER BY id"
    return page.evaluate("([sql]) => window.db.query(sql, [])", [sql])


def local_changes(page: Page, since: int = 0) -> int:
    """How many change-feed entries this device made itself (not received from the relay)."""
    sql = "SELECT count(*) AS n FROM _yloft_updates WHERE seq > ? AND origin IS NOT 'relay'"
    return int(page.evaluate("([sql, s]) => window.db.query(sql, [s])", [sql, since])[0]["n"])


def wait_sync(page: Page, state: str, outbox: int | None = None) -> None:
    """Wait until the status badge shows ``state`` (and ``outbox`` changes to send)."""
    check = "(s) => { const e = document.querySelector('#status');"
    check += " return e.dataset.sync === s[0] && (s[1] === null || e.dataset.outbox === s[1]); }"
    page.wait_for_function(check, arg=[state, None if outbox is None else str(outbox)])


def wait_rows(page: Page, ids: set[str]) -> None:
    wait_until(
        page,
        "async (ids) => { const r = await window.db.query('SELECT id FROM notes', []);"
        " const have = new Set(r.map((x) => x.id)); return ids.every((i) => have.has(i)); }",
        arg=sorted(ids),
    )


def test_two_devices_converge_after_one_was_offline(device: Any, relay_url: str) -> None:
    url = relay_url + "?space=demo&token=demo"
    a_ctx, b_ctx = device(), device()
    a, b = open_app(a_ctx, url, "A"), open_app(b_ctx, url, "B")
    wait_sync(a, "online", 0)
    wait_sync(b, "online", 0)

    # Both online: edits on each reach the other.
    n1 = call(a, "create_note", "from A", "written on A")
    n2 = call(b, "create_note", "from B", "written on B")
    wait_rows(a, {n1, n2})
    wait_rows(b, {n1, n2})

    wait_sync(a, "online", 0)  # every change acknowledged before the network goes
    wait_sync(b, "online", 0)
    # A relay holds a copy of everything: the data is not only on this device.
    status = a.evaluate("() => window.db.status")
    assert status["onlyHere"] is False
    assert status["quota"] > 0 and 0 < status["usage"] <= status["quota"]

    # B goes offline and keeps editing; A edits too, including the note B edits.
    b_ctx.set_offline(True)
    wait_sync(b, "offline")
    mark = b.evaluate("() => window.db.query('SELECT max(seq) AS s FROM _yloft_updates', [])")
    n3 = call(b, "create_note", "offline on B", "made without a network")
    call(b, "update_note", n1, None, "B changed this while offline")
    call(a, "update_note", n1, "from A, renamed")
    n4 = call(a, "create_note", "while B was away", "A kept working")
    call(b, "update_note", n2, None, None, True)
    # B's unsent changes wait in its outbox, and the badge says how many.
    waiting = local_changes(b, int(mark[0]["s"]))
    assert waiting >= 3
    wait_sync(b, "offline", waiting)
    assert f"({waiting} to send)" in (b.text_content("#status") or "")
    # Unsent changes on storage the browser may evict: they exist only on this device.
    status = b.evaluate("() => window.db.status")
    assert status["onlyHere"] is (not status["persisted"])
    assert {r["id"] for r in notes(b)} == {n1, n2, n3}
    wait_rows(a, {n1, n2, n4})

    # Back online: the outbox drains, both catch up, and they hold identical rows.
    b_ctx.set_offline(False)
    wait_sync(b, "online", 0)
    wait_rows(a, {n1, n2, n3, n4})
    wait_rows(b, {n1, n2, n3, n4})
    wait_until(
        a,
        "async (id) => (await window.db.query('SELECT done FROM notes WHERE id = ?', [id]))[0].done"
        " === 1",
        arg=n2,
    )
    wait_until(
        b,
        "async (id) => (await window.db.query('SELECT title FROM notes WHERE id = ?', [id]))[0]"
        ".title === 'from A, renamed'",
        arg=n1,
    )
    wait_until(
        a,
        "async (id) => (await window.db.query('SELECT body FROM notes WHERE id = ?', [id]))[0]"
        ".body === 'B changed this while offline'",
        arg=n1,
    )
    assert notes(a) == notes(b)
    by_id = {r["id"]: r for r in notes(a)}
    assert by_id[n1]["title"] == "from A, renamed"
    assert by_id[n1]["body"] == "B changed this while offline"
    assert by_id[n3]["body"] == "made without a network"
    # The documents themselves (not just the extracted rows) are identical.
    for nid in (n1, n2, n3, n4):
        doc = "(id) => window.db.request('document', ['notes', id])"
        assert a.evaluate(doc, nid) == b.evaluate(doc, nid)
    for page in (a, b):
        assert page.evaluate("() => window.db.request('integrity_check', [])") == "ok"


def test_reload_resumes_from_saved_cursor(device: Any, relay_url: str) -> None:
    url = relay_url + "?space=demo&token=demo"
    a = open_app(device(), url, "A")
    wait_sync(a, "online", 0)
    nid = call(a, "create_note", "before reload", "kept")
    wait_sync(a, "online", 0)
    a.reload()
    a.wait_for_selector(READY, state="attached")
    wait_sync(a, "online", 0)
    rows = {r["id"]: r for r in notes(a)}
    assert rows[nid]["body"] == "kept"
    assert a.evaluate("() => window.db.request('integrity_check', [])") == "ok"


def test_bad_token_shows_error_and_keeps_local_data(device: Any, relay_url: str) -> None:
    ctx = device()
    page = open_app(ctx, relay_url, "local")  # no relay: a device with local notes
    ids = [call(page, "create_note", f"local {i}", f"body {i}") for i in range(3)]
    before = notes(page)
    page.goto(relay_url + "?space=demo&token=wrong")
    page.wait_for_selector(READY, state="attached")
    wait_sync(page, "error")
    text = page.text_content("#status") or ""
    assert "refused space 'demo'" in text and "token" in text
    assert notes(page) == before
    # Still usable locally; the changes wait in the outbox.
    more = call(page, "create_note", "after refusal", "still saved")
    wait_sync(page, "error")
    assert {r["id"] for r in notes(page)} == {*ids, more}
    assert page.evaluate("() => window.db.request('integrity_check', [])") == "ok"
    wait_sync(page, "error", local_changes(page))  # everything local waits in the outbox

    # Nothing of this device reached the space: a device with the right token sees none of it.
    other = open_app(device(), relay_url + "?space=demo&token=demo", "other")
    wait_sync(other, "online", 0)
    assert not {r["id"] for r in notes(other)} & {*ids, more}


def test_replica_tab_edits_sync_and_take_over_opens_the_socket(device: Any, relay_url: str) -> None:
    """One socket per browser: the writer tab's. Another tab's edits still reach B."""
    url = relay_url + "?space=demo&token=demo"
    a_ctx = device()
    a1 = open_app(a_ctx, url, "A1")
    wait_sync(a1, "online", 0)
    a2 = open_app(a_ctx, url, "A2")
    assert a2.evaluate("() => window.db.status.writer") is False
    # One socket per browser, the engine's: a2's worker runs no engine, but shows the
    # device's sync state as every tab does.
    assert a2.workers[0].evaluate("() => self.yloftTabs().engine") is False
    assert a2.evaluate("() => window.db.status.relay.state") == "online"
    b = open_app(device(), url, "B")
    wait_sync(b, "online", 0)

    from_replica = call(a2, "create_note", "typed in the second tab", "via the writer tab")
    wait_rows(b, {from_replica})
    wait_sync(a1, "online", 0)

    # The writer tab closes: the replica takes over the database and the socket.
    a1.close()
    a2.wait_for_function("() => window.db.status.writer === true")
    wait_sync(a2, "online", 0)
    from_b = call(b, "create_note", "from B after the take-over", "reaches A2")
    wait_rows(a2, {from_replica, from_b})
    wait_sync(b, "online", 0)
    wait_until(
        b,
        "async (n) => (await window.db.query('SELECT count(*) AS n FROM notes', []))[0].n === n",
        arg=len(notes(a2)),
    )
    assert notes(a2) == notes(b)
