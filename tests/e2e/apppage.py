"""Opening the notes app in a browser context and calling its Python, for e2e tests."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

import build

ROOT = Path(__file__).resolve().parents[2]

READY = "html[data-yloft=ready], html[data-yloft=error]"


def open_app(context: BrowserContext, url: str, name: str) -> Page:
    """A new tab of ``context`` at ``url``, once the app is ready (fails if it is not)."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("console", lambda m: print(f"[{name} {m.type}] {m.text}"))
    page.on("pageerror", lambda e: print(f"[{name} pageerror] {e}"))
    page.goto(url)
    page.wait_for_selector(READY, state="attached")
    if page.get_attribute("html", "data-yloft") != "ready":
        pytest.fail(page.text_content("#error") or "the app did not start")
    return page


def wait_until(
    page: Page, predicate: str, arg: Any = None, timeout: float = 60_000, polling: float = 100
) -> Any:
    """Evaluate ``predicate`` (a JS function, may be async) in ``page`` every ``polling``
    ms until it returns a truthy value, which is returned; fail after ``timeout`` ms.

    Not ``page.wait_for_function``: that takes the promise an async predicate returns as
    a truthy value and stops at once, whatever it resolves to. ``evaluate`` awaits it.
    A hang guard for things that must happen, never a timing assertion.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(predicate, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            waited = f"{timeout / 1000:.0f} s"
            raise AssertionError(f"timed out after {waited}: {predicate} is {value!r}")
        page.wait_for_timeout(polling)


def call(page: Page, fn: str, *args: Any) -> Any:
    """``db.call(fn, ...args)`` in the page: a public function of the app's Python."""
    return page.evaluate("([fn, args]) => window.db.call(fn, ...args)", [fn, list(args)])


@contextlib.contextmanager
def serve_relay(db: Path, *extra: str) -> Iterator[str]:
    """A relay subprocess serving web/dist/ and /relay; yields the app's base URL."""
    dist = build.build()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "relay"), str(ROOT / "pylib")]))
    args = ["--host", "127.0.0.1", "--port", "0", "--db", str(db), *extra]
    proc = subprocess.Popen(
        [sys.executable, "-m", "yloft_relay", *args, "--static", str(dist)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match is None:
            pytest.fail(f"the relay did not start: {line!r} (exit code {proc.poll()})")
        yield f"http://127.0.0.1:{match.group(1)}/"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()
