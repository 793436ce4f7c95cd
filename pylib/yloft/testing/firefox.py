"""Firefox through npm's puppeteer-core over WebDriver BiDi, Debian's ``firefox-esr``.

One long-lived Node process runs ``firefox_driver.mjs`` (shipped beside this module): one
JSON command per line on stdin, one JSON answer per line on stdout; several browsers, each
on its own profile, share it. Playwright cannot open a Firefox context here
(docs/testing.md). The driver loads ``puppeteer-core`` (it downloads no browser) from the
first of the folders it is given (an app's folder), NODE_PATH, or its own folder's
``node_modules`` (a checkout of yloft).
"""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from .page import Browser, BrowserMissingError, BrowserPage

DRIVER = Path(__file__).with_name("firefox_driver.mjs")
PUPPETEER = "puppeteer-core@24.43.1"
"""The version the driver is tested with (yloft's package.json pins the same)."""


def executable() -> str:
    found = shutil.which("firefox-esr") or shutil.which("firefox")
    if found is None:
        raise BrowserMissingError(
            "firefox is not installed: apt-get install firefox-esr (Debian's package)"
        )
    return found


def check(search: list[Path]) -> None:
    """Raise :class:`BrowserMissingError` unless Firefox, Node and puppeteer-core are here."""
    executable()
    node = shutil.which("node")
    if node is None:
        raise BrowserMissingError(
            "firefox is driven from Node.js, which is not installed: apt-get install nodejs"
        )
    done = subprocess.run([node, str(DRIVER), "--check", *map(str, search)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    if done.returncode != 0:
        said = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
        raise BrowserMissingError(
            f"firefox is driven with npm's puppeteer-core, which Node did not find "
            f"({said[-1]}): run "
            f"`npm install {PUPPETEER}` in {search[0] if search else 'the app folder'} "
            "(or put its node_modules on NODE_PATH)"
        )


class FirefoxDriver:
    """The Node process running firefox_driver.mjs; ``call`` sends one command."""

    def __init__(self, search: list[Path]) -> None:
        node = shutil.which("node")
        if node is None:
            raise BrowserMissingError("node is missing: apt-get install nodejs")
        self.proc = subprocess.Popen(
            [node, str(DRIVER), *map(str, search)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.answers: queue.Queue[str] = queue.Queue()
        self.next_id = 1
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.answers.put(line)
        self.answers.put("")  # the process ended

    def call(self, cmd: str, timeout: float = 120, **args: Any) -> Any:
        assert self.proc.stdin is not None
        msg_id, self.next_id = self.next_id, self.next_id + 1
        self.proc.stdin.write(json.dumps({"id": msg_id, "cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.answers.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"firefox_driver: no answer to {cmd} in {timeout} s") from None
            if not line:
                raise AssertionError(f"firefox_driver exited ({self.proc.poll()}) during {cmd}")
            answer = json.loads(line)
            if answer["id"] != msg_id:
                continue  # the late answer of a command that timed out
            if not answer["ok"]:
                raise AssertionError(f"firefox {cmd}: {answer['error']}")
            return answer["value"]

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        # The reader ends at EOF; then its pipe is closed here, not left to the garbage
        # collector (a ResourceWarning there failed an unrelated test: warnings are errors).
        self.reader.join(timeout=10)
        if self.proc.stdout is not None and not self.reader.is_alive():
            self.proc.stdout.close()


class FirefoxPage(BrowserPage):
    def __init__(self, browser: FirefoxBrowser, name: str, page_id: int) -> None:
        super().__init__(browser, name)
        self.driver = browser.driver
        self.id = page_id

    def _call(self, cmd: str, **args: Any) -> Any:
        return self.driver.call(cmd, page=self.id, **args)

    def goto(self, url: str) -> None:
        self._call("goto", url=url)

    def reload(self) -> None:
        self._call("reload")

    def evaluate(self, fn: str, arg: Any = None) -> Any:
        return self._call("evaluate", fn=fn, arg=arg)

    def click(self, selector: str) -> None:
        self._call("click", selector=selector)

    def type(self, text: str) -> None:
        self._call("type", text=text)

    def press(self, key: str) -> None:
        self._call("press", key=key)

    def set_files(self, selector: str, path: Path) -> None:
        self._call("setFiles", selector=selector, paths=[str(path)])

    def close(self) -> None:
        self._call("closePage")


class FirefoxBrowser(Browser):
    name = "firefox"

    def __init__(self, driver: FirefoxDriver, profile: Path, private: bool = False) -> None:
        super().__init__(profile)
        self.driver = driver
        self.browser: int | None = None
        # every window private (as a private window of a person's Firefox)
        self.prefs = {"browser.privatebrowsing.autostart": True} if private else {}
        self.relaunch()

    def relaunch(self) -> None:
        self.profile.mkdir(parents=True, exist_ok=True)
        got = self.driver.call(
            "launch", firefox=executable(), profile=str(self.profile), prefs=self.prefs
        )
        self.browser, self.version = got["browser"], got["version"]

    def new_page(self, name: str) -> BrowserPage:
        page = FirefoxPage(self, name, self.driver.call("newPage", browser=self.browser))
        self.pages.append(page)
        return page

    def kill(self) -> None:
        self.driver.call("kill", browser=self.browser)
        self.browser = None

    def close(self) -> None:
        if self.browser is not None:
            with contextlib.suppress(AssertionError):
                self.driver.call("close", browser=self.browser, timeout=30)
        self.browser = None

    def logs(self) -> list[str]:
        lines: list[str] = []
        for page in self.pages:
            assert isinstance(page, FirefoxPage)
            got = self.driver.call("logs", page=page.id)
            lines += [f"[{page.name}] {line}" for line in got]
        return lines
