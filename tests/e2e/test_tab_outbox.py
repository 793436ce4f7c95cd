"""A tab's unanswered writes survive the tab: the IndexedDB outbox (tab-outbox.js).

A tab that is not the writer sends its writes to the writer tab's engine and keeps them
in IndexedDB until the engine answers. If the tab closes or crashes before that and the
engine never ran the write (it was busy, then died too), the next writer runs it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from apppage import open_app, wait_until
from playwright.sync_api import BrowserContext, Error, Page

BLANK = "<!doctype html><meta charset=utf-8><title>outbox</title>"
LONG_QUERY = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 60000000)"
    " SELECT count(*) AS n FROM c"
)


def crash(page: Page) -> None:
    with contextlib.suppress(Error):
        page.goto("chrome://crash", timeout=5_000)


COUNT_KEPT = """(name) => new Promise((resolve, reject) => {
  const req = indexedDB.open('yloft-outbox:' + name);
  req.onsuccess = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains('pushes')) { db.close(); resolve(0); return; }
    const count = db.transaction('pushes').objectStore('pushes').count();
    count.onsuccess = () => { resolve(count.result); db.close(); };
    count.onerror = () => reject(count.error);
  };
  req.onerror = () => reject(req.error);
})"""


def kept(page: Page, name: str = "notes") -> int:
    """How many writes the outbox of database ``name`` holds (read from ``page``)."""
    return int(page.evaluate(COUNT_KEPT, name))


def test_a_crashed_tabs_unanswered_call_reaches_the_next_writer_tabs_and_relay(
    device: Any, relay_url: str
) -> None:
    url = relay_url + "?space=demo&token=demo"
    ctx = device()
    writer = open_app(ctx, url, "writer")
    replica = open_app(ctx, url, "replica")
    other = open_app(ctx, url, "other")
    assert writer.evaluate("() => window.db.status.writer") is True
    # The writer's engine is busy: the replica's call waits in its queue, unseen.
    writer.evaluate("(sql) => { window.long = window.db.query(sql, []); }", LONG_QUERY)
    replica.evaluate("() => { window.pending = window.db.call('create_note', 'kept', 'x'); }")
    replica.wait_for_function("() => window.db.status.unsaved >= 1", polling=100)
    wait_until(other, f"() => ({COUNT_KEPT})('notes').then((n) => n >= 1)", polling=100)
    crash(replica)
    crash(writer)  # it dies before it ever handled the replica's change
    other.wait_for_function("() => window.db.status.writer === true", timeout=60_000)
    wait_until(
        other,
        """() => window.db.query("SELECT 1 FROM notes WHERE title = 'kept'", [])
             .then((r) => r.length === 1)""",
    )
    other.wait_for_function("() => window.db.status.relay?.state === 'online'", polling=200)
    other.wait_for_function("() => window.db.status.relay.outbox === 0", polling=200)
    assert kept(other) == 0  # saved, then forgotten
    # Another device gets it from the relay.
    away = open_app(device(), url, "away")
    wait_until(
        away,
        """() => window.db.query("SELECT 1 FROM notes WHERE title = 'kept'", [])
             .then((r) => r.length === 1)""",
    )


@contextlib.contextmanager
def blank_pages(ctx: BrowserContext, base_url: str, n: int) -> Iterator[list[Page]]:
    url = base_url + "__outbox_test.html"
    ctx.route(url, lambda route: route.fulfill(body=BLANK, content_type="text/html"))
    pages = []
    for _ in range(n):
        page = ctx.new_page()
        page.goto(url)
        page.evaluate(
            "async () => { window.ob = await import('./worker/tab-outbox.js');"
            " window.box = await window.ob.TabOutbox.open('lab'); }"
        )
        pages.append(page)
    yield pages


def test_kept_changes_belong_to_live_tabs_until_their_lock_goes(
    context: BrowserContext, base_url: str
) -> None:
    """TabOutbox in Chromium: real IndexedDB and Web Locks, no engine."""
    with blank_pages(context, base_url, 2) as (a, b):
        a.evaluate(
            """async () => { ob.holdTabLock('lab', 'A');
                 for (const i of [1, 2, 3])
                   await box.keep('A', i, {kind: 'call', method: 'call', args: ['f', i]}); }"""
        )
        wait_until(a, "() => ob.liveTabs('lab').then((t) => t.has('A'))")
        assert b.evaluate("() => box.orphans('lab').then((o) => o.length)") == 0
        a.evaluate("() => box.dropThrough('A', 1)")  # acknowledged up to 1
        a.close()  # the tab goes: its lock is released, its kept changes are orphans
        wait_until(b, "() => box.orphans('lab').then((o) => o.length === 2)")
        applied = b.evaluate(
            """async () => { const seen = [];
                 const n = await box.recover('lab',
                   (tab, seq, e) => seen.push([tab, seq, e.args[1]]), async () => {});
                 return [n, seen, (await box.orphans('lab')).length]; }"""
        )
        assert applied == [2, [["A", 2, 2], ["A", 3, 3]], 0]


def test_acks_in_a_row_drop_in_one_transaction_and_never_a_later_keep(
    context: BrowserContext, base_url: str
) -> None:
    with blank_pages(context, base_url, 1) as (a,):
        left = a.evaluate(
            """async () => {
                 const call = (i) => ({kind: 'call', method: 'call', args: [i]});
                 for (const i of [1, 2, 3]) await box.keep('A', i, call(i));
                 const first = box.dropThrough('A', 1);
                 const widened = box.dropThrough('A', 2);   // waits behind: one delete
                 const put = box.keep('A', 4, {kind: 'call', method: 'call', args: [4]});
                 const after = box.dropThrough('A', 4);     // after the put, not merged
                 await Promise.all([first, widened, put, after]);
                 const rest = await box.orphans('nobody-holds-this');
                 return [first === widened, widened === after, rest.map((p) => p.msgId)]; }"""
        )
        assert left == [True, False, []]
        kept = a.evaluate(
            """async () => {
                 await box.keep('B', 1, {kind: 'call', method: 'call', args: [1]});
                 await box.keep('B', 2, {kind: 'call', method: 'call', args: [2]});
                 await box.dropThrough('B', 1);
                 return (await box.orphans('x')).map((p) => [p.tab, p.msgId]); }"""
        )
        assert kept == [["B", 2]]
