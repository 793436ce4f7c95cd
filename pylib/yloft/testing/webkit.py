"""WebKitGTK through Selenium: Debian's ``WebKitWebDriver`` and the ``MiniBrowser`` of its
webkit2gtk-4.1 folder (``--automation``), on an Xvfb display (with ``--headless`` its
WebDriver session never started)."""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any, ClassVar

from .page import Browser, BrowserMissingError, BrowserPage

# What MiniBrowser could not do when driven here (WebKitGTK 2.50, checked on this machine).
WEBKIT_EPHEMERAL = (
    "MiniBrowser --automation keeps website data in an ephemeral session: an IndexedDB "
    "record and a localStorage key written in one WebDriver session were gone in the next "
    "(XDG_DATA_HOME kept; MiniBrowser has no profile option), so no profile outlives the "
    "browser process"
)


def minibrowser() -> str:
    """Debian's MiniBrowser, which webkit2gtk-driver's WebKitWebDriver launches; raises
    :class:`BrowserMissingError` saying what to install when a part is missing."""
    found = glob.glob("/usr/lib/*/webkit2gtk-4.1/MiniBrowser")
    missing = [] if found and shutil.which("WebKitWebDriver") else ["webkit2gtk-driver"]
    missing += [] if shutil.which("Xvfb") else ["xvfb"]
    if missing:
        raise BrowserMissingError(
            f"webkit is not installed: apt-get install {' '.join(missing)} (Debian's packages)"
        )
    if importlib.util.find_spec("selenium") is None:
        raise BrowserMissingError(
            "webkit is driven with Selenium, which is not installed: pip install 'yloft[test]'"
        )
    return found[0]


class Xvfb:
    """A virtual X display for MiniBrowser."""

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
_NAMED = {"ArrowRight": "ARROW_RIGHT", "ArrowLeft": "ARROW_LEFT", "ArrowUp": "ARROW_UP",
          "ArrowDown": "ARROW_DOWN", "PageUp": "PAGE_UP", "PageDown": "PAGE_DOWN"}  # fmt: skip


class WebKitPage(BrowserPage):
    SCRIPT = """const arg = arguments[0], done = arguments[arguments.length - 1];
Promise.resolve().then(() => (%s)(arg)).then(
  (v) => done({ok: true, value: v === undefined ? null : v}),
  (e) => done({ok: false, error: String((e && (e.stack || e.message)) || e)}));"""

    def __init__(self, browser: WebKitBrowser, name: str, handle: str) -> None:
        super().__init__(browser, name)
        self.wk = browser
        self.handle = handle

    @property
    def driver(self) -> Any:
        return self.wk.focus(self.handle)

    def goto(self, url: str) -> None:
        self.driver.get(url)

    def reload(self) -> None:
        self.driver.refresh()

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
        chain = ActionChains(self.driver)
        for m in mods:
            chain.key_down(getattr(Keys, _KEYS[m]))
        chain.send_keys(getattr(Keys, _NAMED.get(main, main.upper())) if len(main) > 1 else main)
        for m in reversed(mods):
            chain.key_up(getattr(Keys, _KEYS[m]))
        chain.perform()

    def set_files(self, selector: str, path: Path) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).send_keys(str(path))

    def close(self) -> None:
        self.driver.close()
        self.wk.current = None


class WebKitBrowser(Browser):
    name = "webkit"
    cannot: ClassVar[dict[str, str]] = {"relaunch": WEBKIT_EPHEMERAL}

    def __init__(self, display: str, profile: Path) -> None:
        binary = minibrowser()
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        super().__init__(profile)
        options = Options()
        options.binary_location = binary
        options.add_argument("--automation")
        env = dict(os.environ, DISPLAY=display)
        service = Service(executable_path=shutil.which("WebKitWebDriver"), env=env)
        with warnings.catch_warnings():
            # Selenium 4.51's own WebKitGTK driver passes remote_server_addr, which that same
            # Selenium deprecates (yloft's own suite turns warnings into errors).
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

    def new_page(self, name: str) -> BrowserPage:
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
