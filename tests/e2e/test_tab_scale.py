"""Many tabs of the notes app at 10,000 notes stay usable and cheap (one engine per browser).

Before the one-engine design every tab held a replica of the whole database: at 10,000
notes a second tab took 28 s and 540-630 MB, and with three tabs a call never returned
(docs/tabs.md). These are liveness and resource bounds, generous on purpose (a shared,
noisy 2-core machine); the speed figures themselves are in bench/bench_app_tabs.py.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from apppage import wait_until
from playwright.sync_api import Browser, BrowserContext, Page

import build

ROOT = Path(__file__).resolve().parents[2]
NOTES = 10_000
USABLE = (
    "() => document.documentElement.dataset.yloft === 'ready'"
    " && document.querySelectorAll('#notes li').length > 0"
)


def export_of(n: int) -> bytes:
    """An export file of ``n`` notes made by the notes app's own Python on CPython."""
    sys.path.insert(0, str(ROOT / "examples" / "notes"))
    import notes_app

    from yloft.store import Store, archive

    with Store(":memory:") as store:
        notes_app.setup(store)
        with store.atomic():
            for i in range(n):
                notes_app.create_note(f"Note {i}", "some words of a body " * 8, ["t"])
        return archive.encode_store(store)


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


class Profile:
    """Chromium with its own on-disk profile; its processes' memory and CPU from /proc."""

    def __init__(self, context: BrowserContext, profile: str) -> None:
        self.context = context
        marker = f"--user-data-dir={profile}".encode()
        self.root = next(
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and marker in _cmdline(p)
        )

    def rss_mb(self) -> float:
        total = 0
        for pid in descendants(self.root):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def cpu_s(self) -> float:
        ticks = 0
        for pid in descendants(self.root):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return ticks / os.sysconf("SC_CLK_TCK")


def _cmdline(p: Path) -> bytes:
    try:
        return (p / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


@pytest.fixture
def big(browser: Browser, base_url: str) -> Iterator[tuple[Profile, str]]:
    """A fresh on-disk profile (its own Chromium) whose notes app holds 10,000 notes."""
    data = export_of(NOTES)
    profile = tempfile.mkdtemp(prefix="yloft-scale-")
    # The session's Playwright (a second sync_playwright() cannot start in this process).
    ctx = browser.browser_type.launch_persistent_context(
        profile,
        executable_path=shutil.which("chromium"),
        args=build.CHROMIUM_FLAGS,
        service_workers="block",
    )
    ctx.set_default_timeout(120_000)
    ctx.route(base_url + "__notes.yloft", lambda route: route.fulfill(body=data))
    first = ctx.pages[0] if ctx.pages else ctx.new_page()
    first.goto(base_url)
    first.wait_for_function("() => document.documentElement.dataset.yloft === 'ready'", polling=100)
    report = first.evaluate(
        "async () => window.db.importFile(await (await fetch('/__notes.yloft')).blob())"
    )
    assert report["documents"] == NOTES
    try:
        yield Profile(ctx, profile), base_url
    finally:
        ctx.close()
        shutil.rmtree(profile, ignore_errors=True)


def open_tab(browser: Profile, url: str) -> Page:
    page = browser.context.new_page()
    page.goto(url)
    page.wait_for_function(USABLE, polling=100)
    return page


def test_three_tabs_at_10000_notes_answer_calls_and_sit_idle(big: tuple[Profile, str]) -> None:
    browser, url = big
    tabs = [browser.context.pages[0], open_tab(browser, url), open_tab(browser, url)]
    assert [t.evaluate("() => window.db.status.writer") for t in tabs] == [True, False, False]
    for i, tab in enumerate(tabs):
        nid = tab.evaluate(
            "(t) => Promise.race([window.db.call('create_note', t, ''), new Promise("
            "(_, no) => setTimeout(() => no(new Error('no answer in 30 s')), 30000))])",
            f"from tab {i}",
        )
        for other in tabs:
            other.wait_for_selector(f"#notes li[data-id='{nid}']")
    tabs[0].wait_for_timeout(3000)  # let the last edits' work settle
    before = browser.cpu_s()
    time.sleep(20)
    used = browser.cpu_s() - before
    assert used < 5, f"three idle tabs used {used:.1f} CPU-seconds in 20 s (bound: 5)"


def test_five_tabs_at_10000_notes_each_add_little_memory(big: tuple[Profile, str]) -> None:
    browser, url = big
    added = []
    tabs = [browser.context.pages[0]]
    for _ in range(4):
        before = browser.rss_mb()
        tabs.append(open_tab(browser, url))
        tabs[-1].wait_for_timeout(2000)
        added.append(browser.rss_mb() - before)
    # The replica design added 540-630 MB per tab here; a tab's renderer alone is ~100 MB.
    assert max(added) < 350, f"MB added by tabs 2-5: {[round(a) for a in added]}"
    for tab in tabs:
        wait_until(tab, "() => window.db.status.unsaved === 0")
    count = tabs[-1].evaluate("() => window.db.query('SELECT count(*) AS n FROM notes', [])")
    assert count == [{"n": NOTES}]
