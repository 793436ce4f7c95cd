"""``yloft serve``: build the app, serve it and the relay on one port, rebuild on change.

The relay (``python -m yloft_relay --static DIST``) serves the bundle over plain HTTP and
``/relay`` over websockets on the same port of 127.0.0.1, so the app and its relay share
an origin. This process watches the app folder and rebuilds the bundle in place when a
file changes; a failed rebuild is reported and the last good bundle stays served.
"""

from __future__ import annotations

import errno
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from ..errors import AppError, YloftError
from .bundle import build_app
from .project import load_app

SKIP_DIRS = frozenset({"dist", ".yloft", "__pycache__", "node_modules", ".venv", ".git"})
POLL_S = 0.5


class PortInUseError(AppError, OSError):
    """The port is taken by another program: stop it or pick another with ``--port N``."""


def check_port(host: str, port: int) -> None:
    """Raise :class:`PortInUseError` (one line) when ``host:port`` cannot be bound."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PortInUseError(
                f"port {port} on {host} is already in use: stop the program using it or "
                "pick another port with --port N"
            ) from None


def snapshot(root: Path, out: Path) -> dict[str, float]:
    """Modification times of the app's files (not its outputs or caches)."""
    seen: dict[str, float] = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(p in SKIP_DIRS or p.startswith(".") for p in rel.parts[:-1]):
            continue
        if path == out or out in path.parents or not path.is_file():
            continue
        if path.name == "yloft-lock.json" or path.suffix == ".pyc":
            continue
        try:
            seen[rel.as_posix()] = path.stat().st_mtime
        except OSError:
            continue  # removed meanwhile
    return seen


def _rebuild(root: Path, out: Path) -> None:
    started = time.monotonic()
    try:
        build_app(root, out, devtools=True)
    except YloftError as exc:
        print(f"yloft serve: the rebuild failed, still serving the last build: {exc}",
              file=sys.stderr, flush=True)  # fmt: skip
        return
    print(f"yloft serve: rebuilt in {time.monotonic() - started:.2f} s", flush=True)


def serve(root: Path, port: int, tokens: str, out: Path | None = None, poll: float = POLL_S) -> int:
    """Serve until interrupted; returns the relay's exit status."""
    host = "127.0.0.1"
    check_port(host, port)
    app = load_app(root)
    out = (out or app.root / "dist").resolve()
    # A development server: its bundle enables the devtools panel (docs/devtools.md).
    build_app(app.root, out, devtools=True)
    relay_db = app.root / ".yloft" / "relay.db"
    relay_db.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "yloft_relay", "--host", host, "--port", str(port),
           "--db", str(relay_db), "--tokens", tokens, "--static", str(out)]  # fmt: skip
    relay = subprocess.Popen(cmd)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        seen = snapshot(app.root, out)
        while relay.poll() is None:
            time.sleep(poll)
            now = snapshot(app.root, out)
            if now != seen:
                _rebuild(app.root, out)
                seen = snapshot(app.root, out)
        return relay.returncode
    except KeyboardInterrupt:
        return 0
    finally:
        if relay.poll() is None:
            relay.terminate()
            relay.wait(timeout=20)
