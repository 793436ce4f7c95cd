"""One small page interface over three browser engines, for tests that run on each of them.

    drivers = Drivers(browser.browser_type)          # the session's Playwright chromium
    engine = drivers.launch("firefox", tmp_path / "profile")
    page = engine.new_page("a")
    page.goto(url)
    page.evaluate("(x) => x + 1", 1)                 # a JS function's source (may be async)
    page.click("#new-note"); page.type("a title")    # real pointer and key events
    engine.kill(); engine.relaunch()                 # SIGKILL, then the same on-disk profile

- ``chromium``: Playwright, Debian's chromium on a persistent on-disk profile.
- ``firefox``: npm's puppeteer-core over WebDriver BiDi in a long-lived Node process
  (``firefox_driver.mjs``, JSON lines on stdin/stdout), Debian's firefox-esr.
- ``webkit``: Selenium's ``webdriver.WebKitGTK`` with Debian's ``WebKitWebDriver`` and the
  ``MiniBrowser`` of its webkit2gtk-4.1 folder (``--automation``), on an Xvfb display.

What an engine cannot do here is in ``Engine.cannot`` with the reason that was checked;
``Engine.require(what)`` skips the test with it. docs/browsers.md has the table.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
import warnings
from pathlib import Path
from typing import Any, ClassVar

import pytest
from playwright.sync_api import BrowserContext, BrowserType
from playwright.sync_api import Page as PlaywrightPage

import build

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ("chromium", "firefox", "webkit")

# What MiniBrowser could not do when driven here (WebKitGTK 2.50, checked on this machine).
WEBKIT_EPHEMERAL = (
    "MiniBrowser --automation keeps website data in an ephemeral session: an IndexedDB "
    "record and a localStorage key written in one WebDriver session were gone in the next "
    "(XDG_DATA_HOME kept; MiniBrowser has no profile option), so no profile outlives the "
    "browser process"
)


class EnginePage:
    """One tab. ``evaluate`` takes a JS function's source and one JSON argument."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name

    def goto(self, url: str) -> None:
        raise NotImplementedError

    def evaluate(self, fn: str, arg: Any = None) -> Any:
        raise NotImplementedError

    def click(self, selector: str) -> None:
        """A real mouse click on the element's centre (scrolled into view)."""
        raise NotImplementedError

    def type(self, text: str) -> None:
        """Key events for each character, into whatever has the focus."""
        raise NotImplementedError

    def press(self, key: str) -> None:
        """One key, with modifiers held: ``"End"``, ``"Control+Home"``."""
        raise NotImplementedError

    def set_files(self, selector: str, path: Path) -> None:
        """Choose ``path`` in the file input ``selector``, as its file chooser would."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def type_into(self, selector: str, text: str) -> None:
        self.click(selector)
        self.type(text)

    def wait_until(self, predicate: str, arg: Any = None, timeout: float = 60) -> Any:
        """Evaluate ``predicate`` (may be async) until it is truthy; return its value.

        A hang guard for what must happen, never a timing assertion.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(predicate, arg)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: timed out after {timeout:.0f} s: {predicate}")
            time.sleep(0.1)


class Engine:
    """One browser process on one on-disk profile; ``relaunch`` reopens that profile."""

    name: ClassVar[str]
    # capability -> why this engine cannot do it here (checked, not assumed)
    cannot: ClassVar[dict[str, str]] = {}

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.version = ""
        self.pages: list[EnginePage] = []

    def require(self, *what: str) -> None:
        for w in what:
            if w in self.cannot:
                pytest.skip(f"{self.name}: {self.cannot[w]}")

    def new_page(self, name: str) -> EnginePage:
        raise NotImplementedError

    def kill(self) -> None:
        """SIGKILL the browser's main process, as a crash or power cut would end it."""
        raise NotImplementedError

    def relaunch(self) -> None:
        """A new browser process on the same profile (after ``kill`` or ``close``)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def logs(self) -> list[str]:
        """Console lines and page errors of every page, for a failed test's report."""
        return []


# ------------------------------------------------------------------ chromium (Playwright)


class ChromiumPage(EnginePage):
    def __init__(self, engine: ChromiumEngine, name: str, page: PlaywrightPage) -> None:
        super().__init__(engine, name)
        self.page = page
        page.set_default_timeout(60_000)
        page.on("console", lambda m: engine.lines.append(f"[{name} {m.type}] {m.text}"))
        page.on("pageerror", lambda e: engine.lines.append(f"[{name} pageerror] {e}"))

    def goto(self, url: str) -> None:
        self.page.goto(url)

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


class ChromiumEngine(Engine):
    name = "chromium"

    def __init__(self, browser_type: BrowserType, profile: Path) -> None:
        super().__init__(profile)
        self.browser_type = browser_type
        self.lines: list[str] = []
        self.context: BrowserContext | None = None
        self.relaunch()
        out = subprocess.run([self.executable, "--version"], capture_output=True, text=True)
        self.version = out.stdout.strip()

    @property
    def executable(self) -> str:
        found = shutil.which("chromium")
        if found is None:
            pytest.fail("chromium is not installed: run `python3 build.py test`, which installs it")
        return found

    def relaunch(self) -> None:
        self.context = self.browser_type.launch_persistent_context(
            str(self.profile),
            executable_path=self.executable,
            args=build.CHROMIUM_FLAGS,
            service_workers="allow",
        )
        self._blank = list(self.context.pages)  # the window a persistent context opens with

    def new_page(self, name: str) -> EnginePage:
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


# ------------------------------------------------------------------ firefox (puppeteer-core)


class FirefoxDriver:
    """The Node process running firefox_driver.mjs; ``call`` sends one command."""

    def __init__(self) -> None:
        node = shutil.which("node")
        assert node is not None, "node is missing (build.py needs Node.js 20+)"
        self.proc = subprocess.Popen(
            [node, str(Path(__file__).with_name("firefox_driver.mjs"))],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
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


class FirefoxPage(EnginePage):
    def __init__(self, engine: FirefoxEngine, name: str, page_id: int) -> None:
        super().__init__(engine, name)
        self.driver = engine.driver
        self.id = page_id

    def _call(self, cmd: str, **args: Any) -> Any:
        return self.driver.call(cmd, page=self.id, **args)

    def goto(self, url: str) -> None:
        self._call("goto", url=url)

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


class FirefoxEngine(Engine):
    name = "firefox"

    def __init__(self, driver: FirefoxDriver, profile: Path, private: bool = False) -> None:
        super().__init__(profile)
        self.driver = driver
        self.browser: int | None = None
        # every window private (as a private window of a person's Firefox)
        self.prefs = {"browser.privatebrowsing.autostart": True} if private else {}
        self.relaunch()

    def relaunch(self) -> None:
        firefox = shutil.which("firefox-esr")
        if firefox is None:
            pytest.fail("firefox-esr is not installed: run `python3 build.py test`")
        self.profile.mkdir(parents=True, exist_ok=True)
        got = self.driver.call(
            "launch", firefox=firefox, profile=str(self.profile), prefs=self.prefs
        )
        self.browser, self.version = got["browser"], got["version"]

    def new_page(self, name: str) -> EnginePage:
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


# ------------------------------------------------------------------ webkit (Selenium)


def minibrowser() -> str:
    """Debian's MiniBrowser, which webkit2gtk-driver's WebKitWebDriver launches."""
    found = glob.glob("/usr/lib/*/webkit2gtk-4.1/MiniBrowser")
    if not found or shutil.which("WebKitWebDriver") is None or shutil.which("Xvfb") is None:
        pytest.fail("webkit2gtk-driver and xvfb are missing: run `python3 build.py test`")
    return found[0]


class Xvfb:
    """A virtual X display for MiniBrowser (with --headless its session never started)."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            pass_fds=[write],
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number.isdigit():
            self.proc.kill()
            raise AssertionError(f"Xvfb did not start (exit code {self.proc.wait()})")
        self.display = ":" + number

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


_KEYS = {"Control": "CONTROL", "Shift": "SHIFT", "Alt": "ALT", "Meta": "META"}


class WebKitPage(EnginePage):
    SCRIPT = """const arg = arguments[0], done = arguments[arguments.length - 1];
Promise.resolve().then(() => (%s)(arg)).then(
  (v) => done({ok: true, value: v === undefined ? null : v}),
  (e) => done({ok: false, error: String((e && (e.stack || e.message)) || e)}));"""

    def __init__(self, engine: WebKitEngine, name: str, handle: str) -> None:
        super().__init__(engine, name)
        self.wk = engine
        self.handle = handle

    @property
    def driver(self) -> Any:
        return self.wk.focus(self.handle)

    def goto(self, url: str) -> None:
        self.driver.get(url)

    def evaluate(self, fn: str, arg: Any = None) -> Any:
        got = self.driver.execute_async_script(self.SCRIPT % fn, arg)
        if not got["ok"]:
            raise AssertionError(f"webkit evaluate: {got['error']}")
        return got["value"]

    def click(self, selector: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).click()

    def type(self, text: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.driver).send_keys(text).perform()

    def press(self, key: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        *mods, main = key.split("+")
        name = {"ArrowRight": "ARROW_RIGHT", "ArrowLeft": "ARROW_LEFT"}.get(main, main.upper())
        chain = ActionChains(self.driver)
        for m in mods:
            chain.key_down(getattr(Keys, _KEYS[m]))
        chain.send_keys(getattr(Keys, name) if len(main) > 1 else main)
        for m in reversed(mods):
            chain.key_up(getattr(Keys, _KEYS[m]))
        chain.perform()

    def set_files(self, selector: str, path: Path) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).send_keys(str(path))

    def close(self) -> None:
        self.driver.close()
        self.wk.current = None


class WebKitEngine(Engine):
    name = "webkit"
    cannot: ClassVar[dict[str, str]] = {"relaunch": WEBKIT_EPHEMERAL}

    def __init__(self, display: str, profile: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        super().__init__(profile)
        options = Options()
        options.binary_location = minibrowser()
        options.add_argument("--automation")
        env = dict(os.environ, DISPLAY=display)
        service = Service(executable_path=shutil.which("WebKitWebDriver"), env=env)
        with warnings.catch_warnings():
            # Selenium 4.51's own WebKitGTK driver passes remote_server_addr, which that same
            # Selenium deprecates (the suite turns warnings into errors).
            warnings.filterwarnings("ignore", "setting remote_server_addr", DeprecationWarning)
            self.driver = webdriver.WebKitGTK(options=options, service=service)
        self.driver.set_script_timeout(120)
        self.driver.set_page_load_timeout(60)
        self.version = "WebKitGTK " + str(self.driver.capabilities.get("browserVersion"))
        self.first: str | None = self.driver.current_window_handle
        self.current: str | None = self.first

    def focus(self, handle: str) -> Any:
        """The driver, switched to window ``handle`` (WebDriver drives one at a time)."""
        if self.current != handle:
            self.driver.switch_to.window(handle)
            self.current = handle
        return self.driver

    def new_page(self, name: str) -> EnginePage:
        if self.first is not None:
            handle, self.first = self.first, None
        else:
            self.driver.switch_to.new_window("tab")
            handle = self.driver.current_window_handle
            self.current = handle
        page = WebKitPage(self, name, handle)
        self.pages.append(page)
        return page

    def kill(self) -> None:
        self.require("relaunch")

    def relaunch(self) -> None:
        self.require("relaunch")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.driver.quit()


# ------------------------------------------------------------------ launching


class Drivers:
    """What launching an engine needs, started once and shared by a test module."""

    def __init__(self, chromium: BrowserType) -> None:
        self.chromium = chromium
        self._firefox: FirefoxDriver | None = None
        self._xvfb: Xvfb | None = None
        self.launched: list[Engine] = []

    def launch(self, name: str, profile: Path, private: bool = False) -> Engine:
        """``name`` on the on-disk ``profile``; ``private``: in private windows (Firefox)."""
        engine: Engine
        if private and name != "firefox":
            raise ValueError("private windows are driven in Firefox only")
        if name == "chromium":
            engine = ChromiumEngine(self.chromium, profile)
        elif name == "firefox":
            if self._firefox is None:
                self._firefox = FirefoxDriver()
            engine = FirefoxEngine(self._firefox, profile, private)
        elif name == "webkit":
            if self._xvfb is None:
                self._xvfb = Xvfb()
            engine = WebKitEngine(self._xvfb.display, profile)
        else:
            raise ValueError(f"unknown engine {name!r}: one of {ENGINES}")
        self.launched.append(engine)
        return engine

    def close_engines(self) -> None:
        """Close every engine launched so far, printing their pages' console lines."""
        for engine in self.launched:
            for line in engine.logs():
                print(f"[{engine.name}] {line}")
            engine.close()
        self.launched.clear()

    def close(self) -> None:
        self.close_engines()
        if self._firefox is not None:
            self._firefox.close()
        if self._xvfb is not None:
            self._xvfb.close()
