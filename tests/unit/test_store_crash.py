"""A process killed in the middle of writes leaves a store whose rows match its
documents: every transaction is all or nothing (real process, real SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from yloft import Store
from yloft.crdt import Map, Text
from yloft.extract import extract

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    from yloft import Field, Store
    from yloft.crdt import Map, Text
    store = Store(sys.argv[1], max_log_entries=7)
    notes = store.collection("notes", {
        "title": Field("meta.title", str, index=True),
        "n": Field("meta.n", int),
        "body": Field("body", str, fts=True),
    })
    ids = [notes.create() for _ in range(5)]
    i = 0
    while True:
        nid = ids[i % 5]
        if i % 3 == 0:
            with store.atomic():
                for other in ids:
                    with notes.edit(other) as doc:
                        doc.get("meta", type=Map)["n"] = i
        else:
            with notes.edit(nid) as doc:
                doc.get("meta", type=Map)["title"] = f"t{i}"
                doc.get("body", type=Text).insert(0, f"w{i} ")
        i += 1
        print(i, flush=True)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs processes and SIGKILL")
@pytest.mark.parametrize("after", [5, 60, 200])
def test_kill_during_writes_leaves_consistent_rows(tmp_path: Path, after: int) -> None:
    db = tmp_path / "crash.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(ROOT / "pylib")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(after):  # wait for real progress, then kill mid-stream
        assert proc.stdout.readline(), "writer died early"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    with Store(db) as store:
        notes = store.collection("notes")
        assert store.query("PRAGMA integrity_check", ()) == [{"integrity_check": "ok"}]
        store._con.execute("INSERT INTO notes_fts(notes_fts) VALUES ('integrity-check')")
        ids = notes.ids()
        assert len(ids) == 5
        for nid in ids:
            doc = notes.get(nid)
            expected = extract(doc, notes.schema)
            row = notes.row(nid)
            assert row is not None
            assert {k: row[k] for k in ("title", "n", "body")} == expected.values
            assert row["updated_at"] == expected.updated_at
            body = str(doc.get("body", type=Text))
            if body:
                word = body.split()[0]
                assert nid in [r["id"] for r in notes.search(word)]
        # The store keeps working after the crash.
        with notes.edit(ids[0]) as doc:
            doc.get("meta", type=Map)["title"] = "after"
        assert notes.row(ids[0])["title"] == "after"  # type: ignore[index]
