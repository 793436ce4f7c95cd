"""Collection declarations: Field validation, DDL and migration plans."""

from __future__ import annotations

import sqlite3

import pytest

from yloft import Field, FieldPathError, FieldTypeError, SchemaError
from yloft.schema import CollectionSchema, check_collection_name, plan_migration


@pytest.mark.parametrize(
    "path", ["", "meta..title", ".x", "x.", "a b", "_yloft.deleted", "_yloft", " x"]
)
def test_bad_paths_are_refused(path: str) -> None:
    with pytest.raises(FieldPathError):
        Field(path, str)


def test_non_str_path_is_refused() -> None:
    with pytest.raises(FieldPathError):
        Field(3, str)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [bytes, set, object, "str", None, tuple])
def test_bad_types_are_refused(kind: object) -> None:
    with pytest.raises(FieldTypeError):
        Field("meta.x", kind)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [int, float, bool])
def test_a_root_cannot_be_a_scalar(kind: type) -> None:
    with pytest.raises(FieldPathError, match="root"):
        Field("count", kind)


def test_fts_needs_str() -> None:
    with pytest.raises(FieldTypeError, match="fts"):
        Field("meta.n", int, fts=True)


def test_valid_fields() -> None:
    assert Field("body", str, fts=True).segments == ("body",)
    assert Field("tags", list).sql_type == "TEXT"
    assert Field("m.a.b", bool).sql_type == "INTEGER"
    assert Field("m.x-y", float).segments == ("m", "x-y")


@pytest.mark.parametrize(
    "name", ["", "1x", "x-y", "sqlite_x", "Sqlite", "notes_fts", "a_fts_data", 5, "a b", "_x"]
)
def test_bad_collection_names(name: object) -> None:
    with pytest.raises(SchemaError):
        check_collection_name(name)


@pytest.mark.parametrize("col", ["id", "ID", "created_at", "updated_at", "rowid", "1a", ""])
def test_bad_column_names(col: str) -> None:
    with pytest.raises(SchemaError):
        CollectionSchema.build("notes", {col: Field("m.x", str)})


def test_fields_must_be_field_objects() -> None:
    with pytest.raises(FieldTypeError):
        CollectionSchema.build("notes", {"x": ("m.x", str)})
    with pytest.raises(SchemaError):
        CollectionSchema.build("notes", [("x", Field("m.x", str))])


def test_json_round_trip_and_columns() -> None:
    s = CollectionSchema.build(
        "notes",
        {
            "title": Field("meta.title", str, index=True),
            "tags": Field("meta.tags", list),
            "body": Field("body", str, fts=True),
        },
    )
    assert CollectionSchema.from_json("notes", s.to_json()) == s
    assert s.columns() == ["id", "title", "tags", "body", "created_at", "updated_at"]
    assert s.tables() == {"notes", "notes_fts"}


def test_ddl_runs_on_sqlite() -> None:
    s = CollectionSchema.build(
        "notes",
        {"title": Field("meta.title", str, index=True), "body": Field("body", str, fts=True)},
    )
    con = sqlite3.connect(":memory:")
    for stmt in s.create_sql():
        con.execute(stmt)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert {"notes", "notes_fts", s.index_name("title")} <= names
    con.close()


def _s(**fields: Field) -> CollectionSchema:
    return CollectionSchema.build("n", dict(fields))


def test_plans() -> None:
    a = _s(t=Field("m.t", str))
    assert plan_migration(None, a).rebuild
    assert plan_migration(a, a).is_noop
    added = plan_migration(a, _s(t=Field("m.t", str), d=Field("m.d", bool, index=True)))
    assert (added.rebuild, added.add, added.add_index) == (False, ("d",), ("d",))
    indexed = plan_migration(a, _s(t=Field("m.t", str, index=True)))
    assert (indexed.rebuild, indexed.add, indexed.add_index) == (False, (), ("t",))
    unindexed = plan_migration(_s(t=Field("m.t", str, index=True)), a)
    assert unindexed.drop_index == ("t",) and not unindexed.rebuild
    assert plan_migration(a, _s(t=Field("m.other", str))).rebuild
    assert plan_migration(a, _s(t=Field("m.t", int))).rebuild
    assert plan_migration(a, _s()).rebuild
    assert plan_migration(a, _s(t=Field("m.t", str, fts=True))).rebuild
