"""``yloft test --browser`` / the plugin's ``--yloft-browser`` (issue 26): which engines an
app's ``yloft_browser_page`` tests run on, and what is said when one is not installed.

The runs here only collect (``--co``) or stop at the usage error, so no browser starts;
tests/e2e/test_app_browsers.py runs an app's page test in Firefox through ``yloft test``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from yloft.cli import _test_args
from yloft.errors import YloftError
from yloft.testing import browsers, firefox
from yloft.testing.page import BrowserMissingError

ROOT = Path(__file__).resolve().parents[2]
PAGE_TEST = """
from yloft.testing import BrowserPage


def test_the_page(yloft_browser_page: BrowserPage) -> None:
    pass
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new app with one test on yloft_browser_page beside the template's yloft_page test."""
    folder = tmp_path_factory.mktemp("apps")
    subprocess.run([sys.executable, "-m", "yloft", "new", "todo"], cwd=folder, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    (folder / "todo" / "tests" / "test_page.py").write_text(PAGE_TEST)
    return folder / "todo"


def yloft_test(app: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=path if path is not None else os.environ["PATH"])
    cmd = [sys.executable, "-m", "yloft", "test", str(app), *args]
    cmd += ["-p", "no:cacheprovider"] if "--" in args else ["--", "-p", "no:cacheprovider"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def test_names_are_repeated_or_comma_lists_and_all_is_every_engine() -> None:
    assert browsers.parse(["firefox"]) == ["firefox"]
    assert browsers.parse(["webkit, chromium", "firefox", "webkit"]) == [
        "webkit",
        "chromium",
        "firefox",
    ]
    assert browsers.parse(["firefox,all"]) == ["firefox", "chromium", "webkit"]
    with pytest.raises(ValueError, match="unknown browser 'safari': use chromium, firefox, webkit"):
        browsers.parse(["chromium,safari"])


def test_the_command_turns_browser_into_the_plugins_option() -> None:
    assert _test_args(["app", "--browser", "firefox", "-x", "--browser=webkit"]) == (
        Path("app"),
        ["--yloft-browser=firefox", "--yloft-browser=webkit", "-x"],
    )
    # DIR may come after the option; after `--` everything is pytest's, --browser too
    assert _test_args(["--browser", "all", "app", "--", "-k", "--browser"]) == (
        Path("app"),
        ["--yloft-browser=all", "-k", "--browser"],
    )
    assert _test_args(["-k", "x"]) == (Path("."), ["-k", "x"])
    with pytest.raises(YloftError, match="--browser needs a name"):
        _test_args(["--browser", "-x"])


def test_a_bad_engine_name_is_a_usage_error(app: Path) -> None:
    done = yloft_test(app, "--browser", "opera")
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error
    assert (
        "ERROR: --yloft-browser (yloft test --browser): unknown browser 'opera': use chromium, "
        "firefox, webkit or all (repeat the option or give a comma list)"
    ) in done.stderr
    assert "collected" not in done.stdout


def test_each_engine_is_a_run_of_the_page_test(app: Path) -> None:
    done = yloft_test(app, "--browser", "firefox,chromium", "--", "--co", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    assert ids == [
        "tests/test_app.py::test_added_items_are_listed_in_order",
        "tests/test_app.py::test_an_empty_title_is_refused",
        "tests/test_app.py::test_an_item_typed_in_the_page_survives_a_reload",
        "tests/test_page.py::test_the_page[firefox]",
        "tests/test_page.py::test_the_page[chromium]",
    ]


def test_the_default_is_chromium_and_says_nothing(app: Path) -> None:
    done = yloft_test(app, "--", "--co", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tests/test_page.py::test_the_page[chromium]" in done.stdout
    assert "yloft" not in done.stdout.replace("todo", "")  # no header, nothing left out


def only(tmp_path: Path, *commands: str) -> str:
    """A PATH with only these commands of this machine's (and none of the others)."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for command in commands:
        found = shutil.which(command)
        assert found, f"{command} is not installed (python3 build.py test installs it)"
        (bin_ / command).symlink_to(found)
    return str(bin_)


def test_an_engine_asked_for_by_name_but_missing_says_how_to_install_it(
    app: Path, tmp_path: Path
) -> None:
    path = only(tmp_path, "chromium")
    done = yloft_test(app, "--browser", "chromium,firefox", path=path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert (
        "ERROR: --yloft-browser (yloft test --browser) firefox: firefox is not installed: "
        "apt-get install firefox-esr (Debian's package)"
    ) in done.stderr
    done = yloft_test(app, "--browser", "webkit", path=path)
    assert "webkit is not installed: apt-get install webkit2gtk-driver xvfb" in done.stderr


def test_all_runs_what_is_installed_and_says_what_it_left_out(app: Path, tmp_path: Path) -> None:
    done = yloft_test(app, "--browser", "all", "--", "--co", "-q", path=only(tmp_path, "chromium"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tests/test_page.py::test_the_page[chromium]" in done.stdout
    assert "[firefox]" not in done.stdout and "[webkit]" not in done.stdout
    # said at the end of the run (and in the header without -q)
    assert (
        "yloft: firefox left out of --yloft-browser all: firefox is not installed: "
        "apt-get install firefox-esr (Debian's package)"
    ) in done.stdout
    assert "yloft: webkit left out of --yloft-browser all: webkit is not installed" in done.stdout
    done = yloft_test(app, "--browser", "all", path=str(tmp_path / "none"))
    assert done.returncode == 4
    assert "all: no browser engine is installed here: chromium is not installed" in done.stderr


def test_page_tests_of_yloft_page_are_chromium_only_and_skip_saying_why(app: Path) -> None:
    done = yloft_test(app, "--browser", "firefox", "--", "-k", "typed_in_the_page")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert (
        "yloft: 1 test(s) on yloft_page skipped: yloft_page is a Playwright page in Chromium, "
        "which --yloft-browser did not choose"
    ) in done.stdout


def test_firefox_without_puppeteer_core_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the driver alone, away from any node_modules (as in an app folder without it)
    alone = tmp_path / "driver" / firefox.DRIVER.name
    alone.parent.mkdir()
    shutil.copy(firefox.DRIVER, alone)
    monkeypatch.setattr(firefox, "DRIVER", alone)
    monkeypatch.delenv("NODE_PATH", raising=False)
    with pytest.raises(BrowserMissingError) as err:
        browsers.check("firefox", [tmp_path])
    assert f"puppeteer-core is not installed in or above {tmp_path}" in str(err.value)
    assert f"run `npm install puppeteer-core@24.43.1` in {tmp_path}" in str(err.value)
    # found from the app's folder, as an app developer installs it
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    browsers.check("firefox", [tmp_path])


def test_the_driver_pins_the_puppeteer_core_the_repository_tests_with() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["puppeteer-core"]
    assert f"puppeteer-core@{pinned}" == firefox.PUPPETEER
