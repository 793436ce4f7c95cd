"""The ``yloft`` command's messages for mistakes: one line on stderr, exit status 1."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path


def yloft(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yloft", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_build_in_a_folder_without_an_app_says_what_is_missing(tmp_path: Path) -> None:
    done = yloft("build", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "pyproject.toml is missing" in done.stderr and "yloft new" in done.stderr


def test_serve_on_a_taken_port_says_so_in_one_line(tmp_path: Path) -> None:
    assert yloft("new", "todo", cwd=tmp_path).returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = yloft("serve", "todo", "--port", str(port), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        f"yloft serve: port {port} on 127.0.0.1 is already in use: stop the program using it"
        " or pick another port with --port N\n"
    )
    assert not (tmp_path / "todo" / "dist").exists()  # refused before building


def test_version(tmp_path: Path) -> None:
    import yloft as pkg

    assert yloft("--version", cwd=tmp_path).stdout.strip() == f"yloft {pkg.__version__}"


def test_serve_serves_the_app_and_rebuilds_it_when_a_file_changes(tmp_path: Path) -> None:
    assert yloft("new", "todo", cwd=tmp_path).returncode == 0
    app = tmp_path / "todo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "yloft", "serve", "--port", "0"],
        cwd=app,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", proc.stdout.readline())
        assert match is not None
        url = f"http://127.0.0.1:{match.group(1)}/"
        with urllib.request.urlopen(url + "app.js") as response:
            assert b"add_item" in response.read()
        assert "yloft is serving on" in proc.stdout.readline()
        script = app / "web" / "app.js"
        script.write_text(script.read_text() + "// changed\n")
        assert proc.stdout.readline().startswith("yloft serve: rebuilt in ")
        with urllib.request.urlopen(url + "app.js") as response:
            assert response.read().endswith(b"// changed\n")
        with urllib.request.urlopen(url + "manifest.json") as response:
            manifest = json.loads(response.read())
        assert manifest["files"]["app.js"]["size"] == script.stat().st_size
        assert manifest["devtools"] is True  # a development server enables the devtools panel
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        if proc.stdout is not None:
            proc.stdout.close()
