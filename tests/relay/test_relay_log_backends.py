"""The log backend contract (yloft_relay.backend_tests) on both backends, and proof that
each of its checks fails on a backend broken in the way it guards against."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pgserver import PgServer

from yloft_relay.backend_tests import (
    CHECKS,
    SHARED_CHECKS,
    ContractError,
    OpenLog,
    run_log_backend_tests,
)
from yloft_relay.logbase import Assigned, DocKey, PushJob, Row
from yloft_relay.pg_log import PgLog
from yloft_relay.sqlite_log import SqliteLog


def sqlite_logs(folder: Path, cls: type[SqliteLog] = SqliteLog) -> OpenLog:
    return lambda name: cls(str(folder / f"{name}.db"))


def test_the_sqlite_log_meets_the_contract(tmp_path: Path) -> None:
    run_log_backend_tests(sqlite_logs(tmp_path))


def test_the_postgres_log_meets_the_contract_shared_by_several_processes(pg: PgServer) -> None:
    urls: dict[str, str] = {}

    def open_log(name: str) -> PgLog:
        if name not in urls:
            urls[name] = pg.new_db()
        return PgLog(urls[name])

    run_log_backend_tests(open_log, shared=True)


# ------------------------------------------------- backends broken on purpose


class SkipsASeq(SqliteLog):
    """Numbers a space's pushes 1, 3, 5 …"""

    def _head(self, space: str) -> int:
        head = super()._head(space)
        return head + 1 if head else head


class ForgetsMsgIds(SqliteLog):
    def _last_msg(self, space: str, client: str) -> int:
        return 0


class SendsTheCursorsRowAgain(SqliteLog):
    def since(self, space: str, last_seq: int) -> tuple[list[Row], int]:
        return super().since(space, last_seq - 1)


class NewestUpdatesFirst(SqliteLog):
    def doc_updates(self, space: str, collection: str, doc_id: str) -> list[bytes]:
        return super().doc_updates(space, collection, doc_id)[::-1]


class CachesHeadsBeforeCommit(SqliteLog):
    """Takes the new heads before COMMIT and keeps them when the batch fails."""

    def append(
        self, batch: list[PushJob], before_commit: Callable[[Assigned], None] | None = None
    ) -> Assigned:
        def early(out: Assigned) -> None:
            for space, head in out.heads.items():
                self._heads.put(space, head)
            if before_commit is not None:
                before_commit(out)

        return super().append(batch, early)

    def reset(self) -> None:
        pass


class ForgetsOnRestart(SqliteLog):
    def __init__(self, path: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        super().__init__(path)


class KeepsTheOldestSeq(SqliteLog):
    """Compaction leaves the merged row at the LOWEST merged seq: a client past that
    seq never gets the later updates merged into it."""

    def compact(self, key: DocKey, max_rows: int) -> int:
        where = "FROM log WHERE space=? AND collection=? AND doc_id=?"
        first = self._conn().execute(f"SELECT min(seq) {where}", key).fetchone()[0]
        removed = super().compact(key, max_rows)
        if removed:
            merged = self._conn().execute(f"SELECT min(seq) {where}", key).fetchone()[0]
            self._conn().execute("UPDATE log SET seq=? WHERE space=? AND seq=?",
                                 (first, key[0], merged))  # fmt: skip
        return removed


class SwallowsRowsThatDoNotMerge(SqliteLog):
    def compact(self, key: DocKey, max_rows: int) -> int:
        try:
            return super().compact(key, max_rows)
        except ValueError:
            return 0


class ReadsWithoutASnapshot(SqliteLog):
    """Reads the rows, then the head in another statement: a commit in between is
    counted in the head but its rows are missing."""

    def since(self, space: str, last_seq: int) -> tuple[list[Row], int]:
        rows = (
            self._conn()
            .execute(
                "SELECT seq, collection, doc_id, data FROM log WHERE space=? AND seq>?"
                " ORDER BY seq",
                (space, last_seq),
            )
            .fetchall()
        )
        time.sleep(0.005)
        return rows, self.heads([space])[space]


BROKEN: list[tuple[type[SqliteLog], bool, str]] = [
    (SkipsASeq, False, "gap_free_seqs"),
    (ForgetsMsgIds, False, "msg_id_dedup"),
    (SendsTheCursorsRowAgain, False, "catch_up_from_a_cursor"),
    (NewestUpdatesFirst, False, "document_rows"),
    (CachesHeadsBeforeCommit, False, "failed_append_stores_nothing"),
    (ForgetsOnRestart, False, "restart_keeps_everything"),
    (ForgetsOnRestart, False, "relay_id"),
    (KeepsTheOldestSeq, False, "compaction"),
    (SwallowsRowsThatDoNotMerge, False, "compaction_refuses_rows_that_do_not_merge"),
    (ReadsWithoutASnapshot, False, "reads_during_writes"),
    # A SQLite log belongs to one process: opened twice, its cached heads collide.
    (SqliteLog, True, "concurrent_writers"),
]


@pytest.mark.parametrize(
    ("cls", "shared", "check"), BROKEN, ids=[f"{c.__name__}-{check}" for c, _s, check in BROKEN]
)
def test_the_suite_reports_a_broken_backend(
    tmp_path: Path, cls: type[SqliteLog], shared: bool, check: str
) -> None:
    with pytest.raises(ContractError) as info:
        run_log_backend_tests(sqlite_logs(tmp_path, cls), shared=shared)
    assert check in info.value.failures, str(info.value)
    assert check in str(info.value)


def test_every_check_is_shown_to_fail_on_some_broken_backend() -> None:
    assert {check for _c, _s, check in BROKEN} == {*CHECKS, *SHARED_CHECKS}
