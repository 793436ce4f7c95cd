"""Fixtures that run the relay as a real subprocess on 127.0.0.1 with a temp --db.

``relay`` runs once on each backend: a SQLite file and a database on a throw-away
PostgreSQL server (``pg``, one per test session, see pgserver.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from authkit import Keys
from pgserver import PgServer

TOKENS = "team=secret-team,other=secret-other"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RelayProcess:
    """``python -m yloft_relay`` in a subprocess; restartable on the same db and port."""

    def __init__(self, db: Path | str, *extra: str, env: dict[str, str] | None = None) -> None:
        self.db = db
        self.env = env or {}
        self.port = free_port()
        self.extra = list(extra)
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.started = False  # listened once: restarts keep the port clients know

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/relay"

    def room_url(self, space: str, collection: str, doc_id: str, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/relay/yws/{space}/{collection}/{doc_id}?token={token}"

    def start(self) -> None:
        # The port is free_port()'s: another process may take it before the relay binds
        # it (seen in a run beside other browser tests). On a first start nothing knows
        # the port yet, so a taken one is replaced; a restart must keep its port.
        for _ in range(3):
            if self._launch():
                return
            if self.started or "already in use" not in self.log_text():
                break
            self.port = free_port()
        raise RuntimeError("relay did not start:\n" + self.log_text())

    def _launch(self) -> bool:
        """Start the process; True once it listens (False: it exited or hung, and is gone)."""
        cmd = [sys.executable, "-m", "yloft_relay", "--port", str(self.port)]
        cmd += ["--db", str(self.db), "--tokens", TOKENS, *self.extra]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        ready = threading.Event()
        self._pump_thread = threading.Thread(
            target=self._pump, args=(self.proc, ready), daemon=True
        )
        self._pump_thread.start()
        deadline = time.monotonic() + 30
        while not ready.wait(0.1):
            exited = self.proc.poll() is not None and not self._pump_thread.is_alive()
            if exited or time.monotonic() > deadline:
                self.kill9()
                return False
        self.started = True
        return True

    def _pump(self, proc: subprocess.Popen[str], ready: threading.Event) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)
            if "listening on" in line:
                ready.set()

    def log_text(self) -> str:
        return "".join(self.lines)

    def wait_log(self, *needles: str, count: int = 1, timeout: float = 20) -> str:
        """The log once one of ``needles`` is in it ``count`` times.

        The relay writes a line before it closes a connection, but the thread that reads
        its pipe may run later on a busy machine: never assert on ``log_text()`` at once.
        """
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            text = self.log_text()
            if any(text.count(n) >= count for n in needles):
                return text
            time.sleep(0.05)
        raise AssertionError(f"{needles!r} not {count}x in relay log:\n{self.log_text()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
        self._close_pipe()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self._pump_thread.join(10)
            self.proc.stdout.close()


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """One throw-away PostgreSQL server for the whole session."""
    server = PgServer()
    yield server
    server.close()


@pytest.fixture
def relay_factory(tmp_path: Path) -> Iterator[type[RelayProcess]]:
    """Make relays with extra command-line flags; all stopped at teardown."""
    started: list[RelayProcess] = []

    class Factory(RelayProcess):
        def __init__(
            self, *extra: str, db: Path | str | None = None, env: dict[str, str] | None = None
        ) -> None:
            super().__init__(db or tmp_path / f"relay{len(started)}.db", *extra, env=env)
            started.append(self)

    yield Factory
    for r in started:
        r.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def relay(relay_factory: type[RelayProcess], request: pytest.FixtureRequest) -> RelayProcess:
    """A running relay with default limits; spaces ``team`` and ``other``; on each backend."""
    if request.param == "postgres":
        r = relay_factory(db=request.getfixturevalue("pg").new_db())
    else:
        r = relay_factory()
    r.start()
    return r


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """Key files of each kind the relay takes (tests/relay/authkit.py)."""
    return Keys.make(tmp_path_factory.mktemp("keys"))


@pytest.fixture(params=["sqlite", "postgres"])
def auth_relay(
    relay_factory: type[RelayProcess], keys: Keys, request: pytest.FixtureRequest
) -> RelayProcess:
    """A relay taking shared secrets and the three key kinds; compacts after 4 rows."""
    db = request.getfixturevalue("pg").new_db() if request.param == "postgres" else None
    r = relay_factory(*keys.relay_args(), "--compact-after", "4", db=db)
    r.start()
    return r
