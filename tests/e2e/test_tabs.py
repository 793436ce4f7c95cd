"""Several tabs of the notes app in one browser context: one engine (the writer tab), clients."""

from __future__ import annotations

import base64
import contextlib
import os
import random
from typing import Any

import pytest
from apppage import wait_until
from playwright.sync_api import BrowserContext, Error, Page

from yloft.crdt import Doc, Text

READY = "html[data-yloft=ready], html[data-yloft=error]"
ROWS = "SELECT id, title, body, done FROM notes ORDER BY id"


def open_tab(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("console", lambda m: print(f"[{m.type}] {m.text}") if m.type != "log" else None)
    page.goto(url)
    page.wait_for_selector(READY, state="attached")
    if page.get_attribute("html", "data-yloft") != "ready":
        pytest.fail(page.text_content("#error") or "the app did not start")
    return page


def rows(page: Page) -> Any:
    return page.evaluate("([sql]) => window.db.query(sql, [])", [ROWS])


def status(page: Page) -> Any:
    return page.evaluate("() => window.db.status")


def call(page: Page, name: str, *args: Any) -> Any:
    return page.evaluate("([n, a]) => window.db.call(n, ...a)", [name, list(args)])


def wait_rows(page: Page, expected: Any, timeout: float = 20_000) -> None:
    """Wait until the tab's rows equal ``expected`` (via its own query)."""
    wait_until(
        page,
        """([sql, want]) => window.db.query(sql, []).then(
               (r) => JSON.stringify(r) === JSON.stringify(want))""",
        arg=[ROWS, expected],
        timeout=timeout,
    )


def crash(page: Page) -> None:
    with contextlib.suppress(Error):
        page.goto("chrome://crash", timeout=5_000)


def test_two_tabs_one_writer_edits_flow_both_ways(context: BrowserContext, base_url: str) -> None:
    a = open_tab(context, base_url)
    b = open_tab(context, base_url)
    assert status(a)["writer"] is True and status(b)["writer"] is False
    assert status(b)["storage"] == "opfs"
    nid = call(b, "create_note", "from b", "hello")
    # Saved: the status message follows the reply (a separate message from the worker).
    wait_until(b, "() => window.db.status.unsaved === 0")
    wait_rows(a, rows(b))
    call(a, "update_note", nid, None, "hello world")
    wait_rows(b, rows(a))
    assert rows(b)[0]["body"] == "hello world"


LOOP = """([prefix, pause]) => {
  window.saved = []; window.failed = []; window.stop = false;
  window.loop = (async () => {
    for (let i = 0; !window.stop; i++) {
      const title = `${prefix}-${i}`;
      try {
        await window.db.call("create_note", title, title);
        window.saved.push(title);
      } catch (e) { window.failed.push(String(e)); }
      await new Promise((r) => setTimeout(r, pause));
    }
  })();
}"""


def start_loop(page: Page, prefix: str, pause: int = 30) -> None:
    page.evaluate(LOOP, [prefix, pause])


def stop_loop(page: Page) -> list[str]:
    """Stop the tab's edit loop, wait for its last call, return the titles it saw saved."""
    return page.evaluate(
        "async () => { window.stop = true; await window.loop; return window.saved; }"
    )


def titles(page: Page) -> set[str]:
    got = page.evaluate("() => window.db.query('SELECT title FROM notes', [])")
    return {r["title"] for r in got}


def writer_of(pages: list[Page]) -> Page | None:
    found = [p for p in pages if status(p)["writer"]]
    assert len(found) <= 1, "two tabs say they are the writer"
    return found[0] if found else None


def wait_for_writer(pages: list[Page], timeout_s: float = 30) -> Page:
    """The tab that holds the writer role, once one does (after a take-over)."""
    for _ in range(int(timeout_s * 10)):
        w = writer_of(pages)
        if w is not None:
            return w
        pages[0].wait_for_timeout(100)
    raise AssertionError("no tab became the writer")


def test_three_tabs_converge_to_the_reference_merge(context: BrowserContext, base_url: str) -> None:
    tabs = [open_tab(context, base_url) for _ in range(3)]
    ids = [call(tabs[0], "create_note", f"note {i}", "shared body") for i in range(3)]
    for t in tabs:
        wait_rows(t, rows(tabs[0]))
    # Every tab edits the titles and the same bodies at once, without waiting for the others.
    for me, t in enumerate(tabs):
        t.evaluate(EDITS, [ids, me])
    for t in tabs:
        t.evaluate("() => window.work")
    final = rows(tabs[0])
    for t in tabs[1:]:
        wait_rows(t, final)
    for t in tabs:
        wait_until(t, "() => window.db.status.unsaved === 0")
    # Reference: merge every tab's copy of each document on CPython (pycrdt).
    for row in final:
        ref = Doc()
        for t in tabs:
            got = t.evaluate("([id]) => window.db.request('document', ['notes', id])", [row["id"]])
            ref.apply_update(base64.b64decode(got["$bytes"]))
        assert row["title"] == str(ref.get("title", type=Text))
        assert row["body"] == str(ref.get("body", type=Text))
        assert row["title"].startswith("title by ")


EDITS = """([ids, me]) => {
  window.work = (async () => {
    const work = [];
    for (let round = 0; round < 8; round++) {
      for (const id of ids) {
        const body = (await window.db.query("SELECT body FROM notes WHERE id = ?", [id]))[0].body;
        const at = (round * 7 + me * 3) % (body.length + 1);
        const next = `${body.slice(0, at)} ${me}.${round} ${body.slice(at)}`;
        work.push(window.db.call("update_note", id, `title by ${me} round ${round}`, next));
      }
    }
    await Promise.all(work);
  })();
}"""


def test_chaos_writer_closed_or_crashed_while_every_tab_edits(
    context: BrowserContext, base_url: str
) -> None:
    """Fixed seed: edits from every tab, the writer closed or crashed, new tabs opened.

    ``YLOFT_CHAOS_ROUNDS`` / ``YLOFT_CHAOS_SEED`` make it longer / different (bench runs).
    """
    rnd = random.Random(int(os.environ.get("YLOFT_CHAOS_SEED", "20261126")))
    live = [open_tab(context, base_url) for _ in range(3)]
    saved: set[str] = set()
    n = 0
    for round_ in range(int(os.environ.get("YLOFT_CHAOS_ROUNDS", "3"))):
        for p in live:
            n += 1
            start_loop(p, f"r{round_}t{n}", rnd.randint(10, 60))
        live[0].wait_for_timeout(rnd.randint(300, 1500))
        writer = wait_for_writer(live)
        # What the writer saw saved is durable; read it, then kill it mid-stream.
        saved.update(writer.evaluate("() => window.saved"))
        live.remove(writer)
        if rnd.random() < 0.5:
            crash(writer)
        else:
            writer.close()
        live.append(open_tab(context, base_url))  # a new tab while the others edit
        new_writer = wait_for_writer(live)
        assert new_writer is not None
        for p in live:
            if p.evaluate("() => window.loop !== undefined && !window.stop"):
                saved.update(stop_loop(p))
    for p in live:
        assert p.evaluate("() => window.failed ?? []") == []
    expected = titles(wait_for_writer(live))  # the writer holds every acknowledged edit
    assert saved <= expected, f"saved but missing: {sorted(saved - expected)[:10]}"
    for p in live:
        wait_until(
            p,
            "([n]) => window.db.query('SELECT count(*) AS n FROM notes', [])"
            ".then((r) => r[0].n === n)",
            arg=[len(expected)],
        )
        assert titles(p) == expected
        wait_until(p, "() => window.db.status.unsaved === 0")
    assert len(saved) > 20
    for p in live:
        p.close()
    fresh = open_tab(context, base_url)
    assert status(fresh)["writer"] is True
    assert titles(fresh) == expected
    assert fresh.evaluate("() => window.db.request('integrity_check', [])") == "ok"


def test_a_tab_opened_while_others_edit_catches_up_then_stays_live(
    context: BrowserContext, base_url: str
) -> None:
    a, b = open_tab(context, base_url), open_tab(context, base_url)
    start_loop(a, "a", 20)
    start_loop(b, "b", 20)
    wait_until(a, "() => window.saved.length >= 3")
    wait_until(b, "() => window.saved.length >= 3")
    # Saved (durable in the writer) before c opened, so in c once it is ready, without a
    # reload. Read before opening c: a title saved while c was reading could be on its way.
    before = set(a.evaluate("() => window.saved")) | set(b.evaluate("() => window.saved"))
    c = open_tab(context, base_url)
    assert before and before <= titles(c)
    c.evaluate(
        """() => { window.seen = new Set();
             window.db.subscribe('SELECT title FROM notes', [],
               (rows) => rows.forEach((r) => window.seen.add(r.title))); }"""
    )
    a.wait_for_timeout(800)
    after = set(stop_loop(a)) | set(stop_loop(b))
    c.wait_for_function(
        "([want]) => want.every((t) => window.seen.has(t))", arg=[sorted(after)], polling=100
    )
    assert len(after - before) > 0


def test_stuck_writer_keeps_follower_calls_unsaved_until_it_answers(
    context: BrowserContext, base_url: str
) -> None:
    """A writer that holds the lock but does not answer is not replaced; nothing is lost.

    The writer's worker is kept busy by a long query (CDP Page.setWebLifecycleState
    "frozen" freezes the page but not its engine worker here, which keeps answering).
    The follower's call waits (the engine is the writer's), counted as unsaved, and the
    follower says the writer stalled; once the writer answers, the call completes.
    """
    a, b = open_tab(context, base_url), open_tab(context, base_url)
    assert status(a)["writer"] is True
    a.evaluate(
        """() => { window.long = window.db.query(
             'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 60000000)'
             + ' SELECT count(*) AS n FROM c', []); }"""
    )
    b.evaluate("() => { window.pending = window.db.call('create_note', 'while stuck', ''); }")
    b.wait_for_function(
        "() => window.db.status.writerStalled && window.db.status.unsaved >= 1", polling=100
    )
    assert status(b)["writer"] is False
    assert a.evaluate("() => window.long")[0]["n"] == 60_000_000
    assert isinstance(b.evaluate("() => window.pending"), str)  # the new note's id
    b.wait_for_function("() => window.db.status.unsaved === 0", polling=100)
    b.wait_for_function("() => window.db.status.writerStalled === false", polling=200)
    assert "while stuck" in titles(a)
