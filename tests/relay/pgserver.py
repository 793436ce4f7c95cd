"""A throw-away PostgreSQL 15 server for the relay tests (no systemd).

``initdb`` and ``postgres`` refuse to run as root, so as root they run as the
``postgres`` user (``runuser -u postgres --``) in a ``mkdtemp`` folder that user
can enter. ``build.py test`` installs Debian's ``postgresql`` when it is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """``initdb`` + ``pg_ctl start`` in a temp folder; ``url(db)`` for databases on it."""

    def __init__(self) -> None:
        if not (BIN / "initdb").exists():
            raise RuntimeError("PostgreSQL 15 is missing: run python3 build.py test (apt-get)")
        self.root = Path(tempfile.mkdtemp(prefix="yloft-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-D", str(self.data))
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(BIN / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=300"
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.root / "log"),
                  "-o", opts)  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data))

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def new_db(self) -> str:
        """A fresh, empty database; its URL."""
        name = "t" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def sql(self, url: str, query: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(query, params or None)
            return cur.fetchall() if cur.description else []

    def close(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
