"""``python -m yloft_relay backup --db relay.db OUT``: a consistent online copy of the log.

The copy is taken with SQLite's online backup API while the relay keeps running (WAL:
writers are not blocked; the copy is the log as of one commit). The copy is then made
safe to *restore*:

- it gets a **new relay_id**, so every client that syncs with it sees another log: it
  resets its cursor, fetches everything again and resends all its local changes (which
  restores whatever was acknowledged after the copy was taken);
- its msg_id dedup table (``clients``) is emptied, so those resent changes are stored,
  not taken for duplicates of what the copy already holds (a duplicate Yjs update
  changes nothing, and compaction folds it away).

Restoring is putting the file in place of ``--db`` while the relay is stopped. The
PostgreSQL backend is backed up with PostgreSQL's own tools (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import uuid
from pathlib import Path

from .config import ConfigError


def backup(db: str | os.PathLike[str], out: str | os.PathLike[str]) -> str:
    """Copy the relay log ``db`` to ``out`` (which must not exist); return the copy's id.

    Raises:
        ConfigError: ``db`` is not a relay log, is PostgreSQL, or ``out`` exists.
    """
    src_path, out_path = Path(db), Path(out)
    if str(db).startswith(("postgres://", "postgresql://")):
        raise ConfigError("a PostgreSQL log is backed up with pg_dump (see docs/deploy.md)")
    if not src_path.is_file():
        raise ConfigError(f"no relay log at {src_path}: pass the file given to --db")
    if out_path.exists():
        raise ConfigError(f"{out_path} exists already: choose a new file for the backup")
    tmp = out_path.with_name(out_path.name + ".partial")
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=30)
    try:
        if (
            src.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
            is None
        ):
            raise ConfigError(f"{src_path} is not a yloft relay log (no meta table)")
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
            new_id = uuid.uuid4().hex
            with dst:
                dst.execute("UPDATE meta SET value = ? WHERE key = 'relay_id'", (new_id,))
                dst.execute("DELETE FROM clients")
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise ConfigError(f"the copy failed its integrity check ({check}); try again")
        finally:
            dst.close()
        os.replace(tmp, out_path)
        return new_id
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{src_path} cannot be backed up: {exc}") from exc
    finally:
        src.close()
        tmp.unlink(missing_ok=True)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m yloft_relay backup", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--db", required=True, help="the relay's SQLite log (as given to --db)")
    ap.add_argument("out", type=Path, help="the backup file to write (must not exist)")
    args = ap.parse_args(argv)
    try:
        relay_id = backup(args.db, args.out)
    except ConfigError as exc:
        print(f"yloft_relay backup: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"backed up {args.db} to {args.out} (relay_id {relay_id})")
