"""Export and import (yloft.store.archive): real SQLite files, pycrdt documents, damaged files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yloft import ArchiveError, Field, Store
from yloft.crdt import Doc, Map, Text
from yloft.store import archive

FIELDS = {
    "title": Field("meta.title", str, index=True),
    "body": Field("body", str, fts=True),
    "tags": Field("meta.tags", list),
    "rank": Field("meta.rank", float),
}


def fill(store: Store) -> dict[str, str]:
    """Two collections, a deleted note and an update held for an undeclared one."""
    notes = store.collection("notes", FIELDS)
    store.collection("folders", {"name": Field("name", str)})
    ids = {}
    for i, title in enumerate(["Buy milk", "Call Ann", "Gone soon"]):
        nid = notes.create()
        with notes.edit(nid) as doc:
            meta = doc.get("meta", type=Map)
            meta["title"] = title
            meta["tags"] = ["home", f"t{i}"]
            meta["rank"] = float(i)
            doc.get("body", type=Text).insert(0, f"body of {title}")
        ids[title] = nid
    notes.delete(ids["Gone soon"])
    fid = store.collection("folders").create()
    with store.collection("folders").edit(fid) as doc:
        doc.get("name", type=Text).insert(0, "Inbox")
    later: Doc = Doc()
    later.get("m", type=Map)["x"] = 1.0
    store.hold_update("tasks", "t1", later.get_update())
    return ids


def rows(store: Store, table: str) -> list[dict[str, object]]:
    return store.query(f"SELECT * FROM {table} ORDER BY id", ())  # type: ignore[return-value]


def integrity(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def test_export_then_import_into_an_empty_store_gives_the_same_data(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as a:
        ids = fill(a)
        a.export_to(tmp_path / "a.yloft")
        docs = [(c, d) for _, c, d in a.feed.document_seqs()]
        before = {t: rows(a, t) for t in ("notes", "folders")}
        updates = {(c, d): a.get_update(c, d) for c, d in docs}
    with Store(tmp_path / "b.db") as b:
        report = b.import_from(tmp_path / "a.yloft")
        assert report.documents == 4 and report.held == 1 and report.changed == 4
        assert report.collections_declared == ("folders", "notes")
        assert {t: rows(b, t) for t in ("notes", "folders")} == before
        assert b.collection("notes").deleted(ids["Gone soon"])
        assert b.collection("notes").search("milk")[0]["id"] == ids["Buy milk"]
        for c, d in docs:
            assert b.get_update(c, d) == updates[(c, d)]  # the same Yjs state, byte for byte
        # The held update waits for its collection and arrives when it is declared.
        assert b.held_updates() == [("tasks", "t1", b.held_updates()[0][2])]
        assert b.collection("tasks", {"x": Field("m.x", float)}).row("t1")["x"] == 1.0  # type: ignore[index]
    assert integrity(tmp_path / "b.db") == "ok"


def test_importing_the_same_file_again_writes_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as a:
        fill(a)
        a.export_to(tmp_path / "a.yloft")
    with Store(tmp_path / "b.db") as b:
        b.import_from(tmp_path / "a.yloft")
        dump, head = b.dump(), b.feed.head()
        report = b.import_from(tmp_path / "a.yloft")
        assert report.changed == 0 and report.collections_declared == ()
        assert b.feed.head() == head
        assert b.dump() == dump


def test_import_keeps_concurrent_edits_of_both_sides(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        ids = fill(a)
        a.export_to(tmp_path / "1.yloft")
        b.import_from(tmp_path / "1.yloft")
        nid = ids["Buy milk"]
        with a.collection("notes").edit(nid) as doc:
            doc.get("body", type=Text).insert(0, "A: ")
        with b.collection("notes").edit(nid) as doc:
            doc.get("meta", type=Map)["title"] = "Buy oat milk"
            doc.get("body", type=Text).insert(len(str(doc.get("body", type=Text))), " (B)")
        a.export_to(tmp_path / "2.yloft")
        assert b.import_from(tmp_path / "2.yloft").changed == 1
        row = b.collection("notes").row(nid)
        assert row is not None
        assert row["title"] == "Buy oat milk"
        assert row["body"] == "A: body of Buy milk (B)"


def test_a_collection_the_store_declares_keeps_its_own_declaration(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as a:
        ids = fill(a)
        a.export_to(tmp_path / "a.yloft")
    with Store(tmp_path / "b.db") as b:
        mine = b.collection("notes", {"heading": Field("meta.title", str)})
        report = b.import_from(tmp_path / "a.yloft")
        assert "notes" not in report.collections_declared
        assert b.collection("notes").schema == mine.schema
        assert mine.row(ids["Call Ann"]) is not None
        assert mine.row(ids["Call Ann"])["heading"] == "Call Ann"  # type: ignore[index]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("exp") / "a.yloft"
    with Store(":memory:") as a:
        fill(a)
        a.export_to(path)
    return path.read_bytes()


def refused_unchanged(tmp_path: Path, data: bytes, match: str) -> None:
    """Importing ``data`` into a store holding data raises ArchiveError and changes nothing."""
    path = tmp_path / "bad.yloft"
    path.write_bytes(data)
    with Store(tmp_path / "target.db") as b:
        if not b.collections():
            fill(b)
        dump, head = b.dump(), b.feed.head()
        with pytest.raises(ArchiveError, match=match):
            b.import_from(path)
        assert b.dump() == dump and b.feed.head() == head


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_damaged_or_truncated_file_is_refused_and_changes_nothing(
    tmp_path: Path, exported: bytes, data: st.DataObject
) -> None:
    how = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
    raw = bytearray(exported)
    at = data.draw(st.integers(0, len(raw) - 1))
    if how == "flip":
        raw[at] ^= data.draw(st.integers(1, 255))
    elif how == "truncate":
        del raw[at:]
    else:
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    refused_unchanged(tmp_path, bytes(raw), "export")


@pytest.mark.parametrize(
    "data",
    [b"", b"SQLite format 3\x00" + b"\x00" * 200, b'{"notes": []}', b"\x89yloft-export"],
    ids=["empty", "sqlite", "json", "signature-only"],
)
def test_a_foreign_file_is_refused(tmp_path: Path, data: bytes) -> None:
    refused_unchanged(tmp_path, data, "not a yloft export|truncated")


def resealed(body: bytes) -> bytes:
    return body + hashlib.sha256(body).digest()


def test_a_newer_format_says_to_upgrade(tmp_path: Path, exported: bytes) -> None:
    body = bytearray(exported[: -archive.DIGEST_BYTES])
    body[len(archive.MAGIC)] = 2  # the format version varuint
    refused_unchanged(tmp_path, resealed(bytes(body)), "upgrade yloft")


def test_an_intact_file_with_a_broken_document_imports_nothing(tmp_path: Path) -> None:
    good: Doc = Doc()
    good.get("body", type=Text).insert(0, "fine")
    records = (
        archive.Record("notes", "ok1", good.get_update()),
        archive.Record("notes", "bad", b"\x01\x02\x03 not yjs"),
    )
    schemas = {"notes": Store(":memory:").collection("notes", FIELDS).schema}
    data = archive.encode(archive.Archive({}, schemas, records))
    refused_unchanged(tmp_path, data, "notes/bad .*not a valid Yjs update")


def test_columns_export_as_csv_and_json(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as a:
        ids = fill(a)
        table = list(csv.DictReader(io.StringIO(archive.rows_csv(a, "notes"))))
        assert [r["title"] for r in table] == ["Buy milk", "Call Ann"]
        assert list(table[0]) == ["id", "title", "body", "tags", "rank", "created_at", "updated_at"]
        assert json.loads(table[1]["tags"]) == ["home", "t1"] and table[1]["rank"] == "1.0"
        objs = json.loads(archive.rows_json(a, "notes"))
        assert [o["id"] for o in objs] == [ids["Buy milk"], ids["Call Ann"]]
        assert objs[0]["tags"] == ["home", "t0"]
