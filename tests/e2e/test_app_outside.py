"""Issue 13's "done when": an app made, tested, built and served outside this repository.

The test follows docs/tutorial.md, running every command and edit in it: in a temporary
folder, a fresh virtual environment installs the yloft wheel that ``build.py build``
wrote (with its ``test`` extra), then ``yloft new todo``, ``yloft test``, a pure-Python
dependency used in the app's code, ``yloft build``, ``yloft serve``, the relay; Chromium
creates an item that survives a reload, reloads offline with nothing leaving the origin,
and every file it fetched is in manifest.json with its sha256. A dependency without a
wheel Pyodide can load fails ``yloft build``, naming it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from apppage import call, open_app
from playwright.sync_api import BrowserContext, Page, expect

import build

TUTORIAL = build.ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"```(\w+)([^\n]*)\n(.*?)```", re.DOTALL)
LONG_RUNNING = ("yloft serve", "python -m yloft_relay")


def tutorial_steps() -> list[tuple[str, dict[str, str], str]]:
    """The tutorial's console commands and file edits, in order: (kind, attrs, text)."""
    steps = []
    for lang, info, body in BLOCK.findall(TUTORIAL.read_text()):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', info))
        if lang == "console":
            steps += [("cmd", {}, line[2:]) for line in body.splitlines() if line.startswith("$ ")]
        elif "file" in attrs:
            steps.append((lang, attrs | {"append": str("append" in info.split())}, body))
    return steps


class Outside:
    """Runs the tutorial in a temporary folder outside the repository, in a fresh venv.

    Commands run as a shell would after ``. venv/bin/activate`` (the venv's bin first on
    PATH); ``cd`` moves on; the long-running ones (``yloft serve``, the relay) are kept,
    with their folder, for the tests to start on a free port.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="yloft-outside-"))
        assert build.ROOT not in self.root.parents
        wheel = build.build_wheel()
        shutil.copy2(wheel, self.root / wheel.name)
        self.bin = self.root / "venv" / "bin"
        self.env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
        self.outputs: dict[str, str] = {}
        self.long_running: list[tuple[Path, str]] = []
        cwd = self.root
        for kind, attrs, text in tutorial_steps():
            if kind == "cmd" and text.startswith("cd "):
                cwd = cwd / text[3:].strip()
            elif kind == "cmd" and text.startswith(". venv/bin/activate"):
                self.env["PATH"] = f"{self.bin}{os.pathsep}{self.env.get('PATH', '')}"
                self.env["VIRTUAL_ENV"] = str(self.root / "venv")
            elif kind == "cmd" and text.startswith(LONG_RUNNING):
                self.long_running.append((cwd, text))
            elif kind == "cmd":
                self.outputs[text] = self.run(text, cwd=cwd).stdout
            elif attrs["append"] == "True":
                path = cwd / attrs["file"]
                path.write_text(path.read_text() + "\n\n" + text)
            else:
                path = cwd / attrs["file"]
                assert attrs["replace"] in path.read_text(), (attrs, path)
                path.write_text(path.read_text().replace(attrs["replace"], text.strip()))
        self.app = self.root / "todo"

    def run(self, cmd: str, cwd: Path | None = None, ok: bool = True) -> Any:
        done = subprocess.run(cmd, shell=True, cwd=cwd or self.root, env=self.env,
                              capture_output=True, text=True, timeout=900)  # fmt: skip
        if ok and done.returncode != 0:
            pytest.fail(f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def start(self, prefix: str) -> tuple[subprocess.Popen[str], str]:
        """Start the tutorial's long-running command ``prefix`` on a free port; its URL."""
        cwd, cmd = next((c, t) for c, t in self.long_running if t.startswith(prefix))
        cmd = re.sub(r"--port \d+", "--port 0", cmd) if "--port" in cmd else cmd + " --port 0"
        proc = subprocess.Popen(shlex.split(cmd), cwd=cwd, env=self.env,
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match is None:
            stop(proc)
            pytest.fail(f"{cmd} did not start: {line!r} (exit code {proc.poll()})")
        return proc, f"http://127.0.0.1:{match.group(1)}/"


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=30)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture(scope="module")
def outside() -> Iterator[Outside]:
    env = Outside()
    yield env
    shutil.rmtree(env.root, ignore_errors=True)


@pytest.fixture(scope="module")
def served(outside: Outside) -> Iterator[str]:
    """The tutorial's ``yloft serve`` (app and relay on one port); yields its URL."""
    proc, url = outside.start("yloft serve")
    yield url
    stop(proc)


def test_the_tutorial_ran_and_the_generated_tests_passed(outside: Outside) -> None:
    assert re.search(r"\b3 passed\b", outside.outputs["yloft test"]), outside.outputs
    assert "built todo" in outside.outputs["yloft build"]
    lock = json.loads((outside.app / "yloft-lock.json").read_text())
    assert [w["file"] for w in lock["wheels"]] == ["humanize-4.17.0-py3-none-any.whl"]


class Fetches:
    """Every GET of the app's origin answered 200, with the sha256 of its body.

    Bodies are read before each navigation (Chromium drops them afterwards). What the
    service worker fetched itself (its precache) has no body here: ``by_worker`` names
    it, and the test checks those bytes in the Cache Storage instead.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.pending: list[Any] = []
        self.sha256: dict[str, str] = {}
        self.by_worker: set[str] = set()

    def collect(self) -> None:
        for response in self.pending:
            url = response.url
            if not url.startswith(self.base) or response.request.method != "GET":
                continue
            if response.status != 200:
                continue
            rel = urlsplit(url).path[len(urlsplit(self.base).path) :] or "index.html"
            if response.request.service_worker is not None:
                self.by_worker.add(rel)
            else:
                self.sha256[rel] = hashlib.sha256(response.body()).hexdigest()
        self.pending.clear()


CACHED = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const body = await (await cache.match(request)).arrayBuffer();
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      out[new URL(request.url).pathname.slice(1) || "index.html"] = hex;
    }
  }
  return out;
}"""


def test_the_built_app_works_offline_and_fetches_only_its_manifest(
    sw_context: BrowserContext, served: str, outside: Outside
) -> None:
    requests: list[str] = []
    fetches = Fetches(served)
    sw_context.on("request", lambda r: requests.append(r.url))
    sw_context.on("response", lambda r: fetches.pending.append(r))
    page = open_app(sw_context, served, "todo")
    page.get_by_label("New item").press_sequentially("Buy milk")
    page.keyboard.press("Enter")
    expect(page.locator("#items li span")).to_have_text(["Buy milk"])
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    fetches.collect()
    reload(page)
    expect(page.locator("#items li span")).to_have_text(["Buy milk"])

    sw_context.set_offline(True)
    fetches.collect()
    reload(page)
    expect(page.locator("#items li span")).to_have_text(["Buy milk"])
    page.get_by_label("New item").press_sequentially("Call Ada")
    page.keyboard.press("Enter")
    expect(page.get_by_role("listitem")).to_have_count(2)
    assert call(page, "summary") == "two items"  # humanize, imported offline
    fetches.collect()
    sw_context.set_offline(False)

    foreign = [u for u in requests if not u.startswith((served, "blob:", "data:"))]
    assert foreign == []
    manifest = json.loads((outside.app / "dist" / "manifest.json").read_text())
    files = {rel: entry["sha256"] for rel, entry in manifest["files"].items()}
    # What the page and the engine worker fetched (online, then from the cache offline).
    fetched = dict(fetches.sha256)
    fetched.pop("manifest.json")
    assert len(fetched) > 10, fetched
    for rel, sha in fetched.items():
        assert rel in files, f"{rel} was fetched but is not in manifest.json"
        assert files[rel] == sha, rel
    # What the service worker fetched and keeps: exactly the manifest's files, same bytes.
    cached = page.evaluate(CACHED)
    cached.pop("manifest.json")
    assert fetches.by_worker - {"manifest.json"} <= set(files)
    assert cached == {rel: sha for rel, sha in files.items() if rel != "sw.js"}
    assert "wheels/humanize-4.17.0-py3-none-any.whl" in fetched


def reload(page: Page) -> None:
    page.reload()
    page.wait_for_selector("html[data-yloft=ready], html[data-yloft=error]", state="attached")
    assert page.get_attribute("html", "data-yloft") == "ready", page.text_content("body")


def test_a_dependency_without_a_usable_wheel_fails_the_build(outside: Outside) -> None:
    folder = outside.root / "todo-numpy"
    shutil.copytree(outside.app, folder, ignore=shutil.ignore_patterns("dist", ".yloft"))
    pyproject = folder / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"humanize==4.17.0"', '"humanize==4.17.0", "numpy"')
    )
    done = outside.run("yloft build", cwd=folder, ok=False)
    assert done.returncode == 1
    assert "dependency numpy cannot run in the browser" in done.stderr
    assert not (folder / "dist").exists()


def test_the_deployed_relay_serves_the_folder(outside: Outside) -> None:
    proc, url = outside.start("python -m yloft_relay")
    try:
        with urllib.request.urlopen(url) as response:
            page = response.read()
        assert page == (outside.app / "dist" / "index.html").read_bytes()
        assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    finally:
        stop(proc)


def test_yloft_comes_from_the_venv(outside: Outside) -> None:
    done = outside.run("python -c 'import yloft; print(yloft.__file__)'")
    assert done.stdout.startswith(str(outside.root / "venv"))
