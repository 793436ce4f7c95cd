"""Schema evolution: added, dropped and changed fields; reopening does no work."""

from __future__ import annotations

from pathlib import Path

from yloft import Field, Store
from yloft.crdt import Map, Text

V1 = {"title": Field("meta.title", str, index=True)}


def seed(path: Path, n: int = 5) -> list[str]:
    with Store(path) as s:
        notes = s.collection("notes", V1)
        ids = []
        for i in range(n):
            nid = notes.create()
            with notes.edit(nid) as doc:
                meta = doc.get("meta", type=Map)
                meta["title"] = f"t{i}"
                meta["rank"] = float(i)
                doc.get("body", type=Text).insert(0, f"body number {i}")
            ids.append(nid)
        notes.delete(ids[-1])
        return ids


def columns(s: Store, table: str = "notes") -> list[str]:
    return [r["name"] for r in s.query(f"PRAGMA table_info({table})", ())]


def indexes(s: Store) -> set[str]:
    return {r["name"] for r in s.query("PRAGMA index_list(notes)", ())}


def test_reopening_with_the_same_declaration_does_no_work(tmp_path: Path) -> None:
    seed(tmp_path / "s.db")
    commits: list[int] = []
    with Store(tmp_path / "s.db", on_commit=lambda: commits.append(1)) as s:
        commits.clear()
        before = s._con.total_changes
        s.collection("notes", dict(V1))
        assert commits == [] and s._con.total_changes == before


def test_added_field_is_backfilled(tmp_path: Path) -> None:
    ids = seed(tmp_path / "s.db")
    with Store(tmp_path / "s.db") as s:
        notes = s.collection("notes", {**V1, "rank": Field("meta.rank", float, index=True)})
        assert columns(s)[-1] == "rank"
        assert s.query("SELECT title, rank FROM notes ORDER BY rank", ()) == [
            {"title": f"t{i}", "rank": float(i)} for i in range(4)
        ]
        assert notes.schema.index_name("rank") in indexes(s)
        assert notes.row(ids[-1]) is None  # the deleted one stays gone
        nid = notes.create()
        with notes.edit(nid) as doc:
            doc.get("meta", type=Map)["rank"] = 9
        assert notes.row(nid)["rank"] == 9.0  # type: ignore[index]


def test_changed_and_dropped_fields_rebuild(tmp_path: Path) -> None:
    ids = seed(tmp_path / "s.db")
    with Store(tmp_path / "s.db") as s:
        notes = s.collection(
            "notes",
            {"title": Field("body", str, fts=True), "rank": Field("meta.rank", int)},
        )
        assert columns(s) == ["id", "title", "rank", "created_at", "updated_at"]
        assert notes.row(ids[0])["title"] == "body number 0"  # type: ignore[index]
        assert notes.row(ids[2])["rank"] == 2  # type: ignore[index]
        assert [r["id"] for r in notes.search("number")] != []
        assert len(notes.search("number")) == 4
        assert notes.schema.index_name("title") not in indexes(s)
        s._con.execute("INSERT INTO notes_fts(notes_fts) VALUES ('integrity-check')")
    with Store(tmp_path / "s.db") as s:  # and back again
        notes = s.collection("notes", V1)
        assert columns(s) == ["id", "title", "created_at", "updated_at"]
        assert s.query("SELECT name FROM sqlite_master WHERE name LIKE 'notes_fts%'", ()) == []
        assert notes.row(ids[1])["title"] == "t1"  # type: ignore[index]


def test_index_flag_toggles_without_rebuild(tmp_path: Path) -> None:
    seed(tmp_path / "s.db")
    with Store(tmp_path / "s.db") as s:
        notes = s.collection("notes", {"title": Field("meta.title", str)})
        assert notes.schema.index_name("title") not in indexes(s)
        notes = s.collection("notes", V1)
        assert notes.schema.index_name("title") in indexes(s)
        assert s.query("SELECT count(*) AS n FROM notes", ()) == [{"n": 4}]


def test_live_query_follows_a_migration(tmp_path: Path) -> None:
    seed(tmp_path / "s.db")
    with Store(tmp_path / "s.db") as s:
        s.collection("notes", V1)
        seen: list[object] = []
        s.subscribe("SELECT count(*) AS n FROM notes WHERE title IS NOT NULL", (), seen.append)
        s.collection("notes", {"title": Field("meta.nothing", str)})
        assert seen == [[{"n": 0}]]
