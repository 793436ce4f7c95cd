"""Chromium through Playwright: Debian's ``chromium`` on a persistent on-disk profile."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..app.runtime import CHROMIUM_FLAGS
from .page import Browser, BrowserMissingError, BrowserPage

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, BrowserType
    from playwright.sync_api import Page as PlaywrightPage

INSTALL = "chromium is not installed: apt-get install chromium (Debian's package)"


def executable() -> str:
    """Debian's chromium; raises :class:`BrowserMissingError` saying how to install it."""
    found = shutil.which("chromium")
    if found is None:
        raise BrowserMissingError(INSTALL)
    return found


class ChromiumPage(BrowserPage):
    def __init__(self, browser: ChromiumBrowser, name: str, page: PlaywrightPage) -> None:
        super().__init__(browser, name)
        self.page = page
        page.set_default_timeout(60_000)
        page.on("console", lambda m: browser.lines.append(f"[{name} {m.type}] {m.text}"))
        page.on("pageerror", lambda e: browser.lines.append(f"[{name} pageerror] {e}"))

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def reload(self) -> None:
        self.page.reload()

    def evaluate(self, fn: str, arg: Any = None) -> Any:
        return self.page.evaluate(fn, arg)

    def click(self, selector: str) -> None:
        self.page.click(selector)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def set_files(self, selector: str, path: Path) -> None:
        self.page.set_input_files(selector, str(path))

    def close(self) -> None:
        self.page.close()


class ChromiumBrowser(Browser):
    name = "chromium"

    def __init__(self, browser_type: BrowserType, profile: Path) -> None:
        super().__init__(profile)
        self.browser_type = browser_type
        self.executable = executable()
        self.lines: list[str] = []
        self.context: BrowserContext | None = None
        self.relaunch()
        out = subprocess.run([self.executable, "--version"], capture_output=True, text=True)
        self.version = out.stdout.strip()

    def relaunch(self) -> None:
        self.context = self.browser_type.launch_persistent_context(
            str(self.profile),
            executable_path=self.executable,
            args=CHROMIUM_FLAGS,
            service_workers="allow",
        )
        self._blank = list(self.context.pages)  # the window a persistent context opens with

    def new_page(self, name: str) -> BrowserPage:
        assert self.context is not None
        page = self._blank.pop() if self._blank else self.context.new_page()
        made = ChromiumPage(self, name, page)
        self.pages.append(made)
        return made

    def kill(self) -> None:
        # Playwright starts chromium from its own driver; find the browser's main process
        # (no --type=) by the profile it was given.
        flag = f"--user-data-dir={self.profile}"
        pids = [
            int(p.parent.name)
            for p in Path("/proc").glob("[0-9]*/cmdline")
            if _has_args(p, flag, without="--type=")
        ]
        assert len(pids) == 1, f"expected one chromium on {self.profile}, found {pids}"
        os.kill(pids[0], signal.SIGKILL)
        _wait_gone(pids[0])
        with contextlib.suppress(Exception):
            assert self.context is not None
            self.context.close()
        self.context = None

    def close(self) -> None:
        if self.context is not None:
            with contextlib.suppress(Exception):
                self.context.close()
        self.context = None

    def logs(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


def _has_args(cmdline: Path, flag: str, without: str) -> bool:
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    text = [a.decode(errors="replace") for a in args]
    return flag in text and not any(a.startswith(without) for a in text)


def _wait_gone(pid: int, timeout: float = 20) -> None:
    """Wait until ``pid`` is no longer running (a zombie counts as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return
        if state == "Z":
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still runs {timeout} s after SIGKILL")
