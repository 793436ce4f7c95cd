"""Document → column values."""

from __future__ import annotations

import json
import logging

import pytest

from yloft import Field
from yloft.crdt import Array, Doc, Map, Text
from yloft.extract import convert, extract, read_meta, to_python
from yloft.schema import CollectionSchema

SCHEMA = CollectionSchema.build(
    "notes",
    {
        "title": Field("meta.title", str),
        "done": Field("meta.done", bool),
        "n": Field("meta.n", int),
        "rank": Field("meta.rank", float),
        "tags": Field("meta.tags", list),
        "info": Field("meta.info", dict),
        "deep": Field("meta.info.deep", str),
        "body": Field("body", str),
        "items": Field("items", list),
        "props": Field("props", dict),
    },
)


def test_full_extraction() -> None:
    doc: Doc = Doc()
    with doc.transaction():
        meta = doc.get("meta", type=Map)
        meta["title"] = "Buy milk"
        meta["done"] = False
        meta["n"] = 3
        meta["rank"] = 2
        meta["tags"] = ["home", "food"]
        meta["info"] = Map({"deep": "yes", "z": 1, "a": [1, 2]})
        doc.get("body", type=Text).insert(0, "two litres")
        doc.get("items", type=Array).extend([1, "x"])
        doc.get("props", type=Map)["k"] = "v"
    values = extract(doc, SCHEMA).values
    assert values == {
        "title": "Buy milk",
        "done": 0,
        "n": 3,
        "rank": 2.0,
        "tags": '["home","food"]',
        "info": '{"a":[1,2],"deep":"yes","z":1}',
        "deep": "yes",
        "body": "two litres",
        "items": '[1,"x"]',
        "props": '{"k":"v"}',
    }


def test_missing_values_are_null_and_roots_empty() -> None:
    values = extract(Doc(), SCHEMA).values
    assert values["title"] is None and values["info"] is None and values["deep"] is None
    assert (values["body"], values["items"], values["props"]) == ("", "[]", "{}")


def test_wrong_types_are_null_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    doc: Doc = Doc()
    meta = doc.get("meta", type=Map)
    meta["title"] = 5
    meta["done"] = "yes"
    meta["n"] = 2.5
    meta["rank"] = True
    meta["tags"] = "not a list"
    meta["info"] = "scalar"
    with caplog.at_level(logging.WARNING, logger="yloft.extract"):
        values = extract(doc, SCHEMA).values
    for col in ("title", "done", "n", "rank", "tags", "info", "deep"):
        assert values[col] is None, col
    warned = " ".join(r.getMessage() for r in caplog.records)
    for path in ("meta.title", "meta.done", "meta.n", "meta.rank", "meta.tags", "meta.info"):
        assert path in warned


def test_text_nested_in_a_map_reads_as_str() -> None:
    doc: Doc = Doc()
    doc.get("meta", type=Map)["title"] = Text("nested")
    assert extract(doc, SCHEMA).values["title"] == "nested"


def test_meta_bookkeeping() -> None:
    doc: Doc = Doc()
    assert read_meta(doc) == (None, None, False)
    m = doc.get("_yloft", type=Map)
    m["created_at"] = 1.5
    m["updated_at"] = 2
    m["deleted"] = True
    assert read_meta(doc) == (1.5, 2.0, True)
    m["deleted"] = "yes"
    assert read_meta(doc)[2] is False


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (True, bool, (1, True)),
        (1, bool, (None, False)),
        (3.0, int, (3, True)),
        (float("inf"), float, (None, False)),
        (float("nan"), float, (None, False)),
        ([float("nan")], list, ("[null]", True)),  # as Yjs's own JSON has it
        ([1.0, b"ab"], list, ("[1,[97,98]]", True)),
        (None, str, (None, True)),
        ((1, 2), list, ("[1,2]", True)),
        ({"b": 1, "a": 2}, dict, ('{"a":2,"b":1}', True)),
        ("é", str, ("é", True)),
    ],
)
def test_convert(value: object, kind: type, expected: tuple[object, bool]) -> None:
    assert convert(value, Field("m.x", kind)) == expected


def test_to_python() -> None:
    assert to_python(0, Field("m.d", bool)) is False
    assert to_python('{"a":1}', Field("m.d", dict)) == {"a": 1}
    assert to_python(None, Field("m.d", list)) is None
    assert to_python("x", Field("m.d", str)) == "x"
    assert json.loads(convert(["ü"], Field("m.t", list))[0]) == ["ü"]


def test_a_roots_cache_reads_the_same_values() -> None:
    doc: Doc = Doc()
    roots: dict = {}
    doc.get("meta", type=Map)["title"] = "one"
    assert extract(doc, SCHEMA, roots).values == extract(doc, SCHEMA).values
    doc.get("meta", type=Map)["title"] = "two"  # cached roots see later changes
    doc.get("body", type=Text).insert(0, "b")
    assert extract(doc, SCHEMA, roots).values == extract(doc, SCHEMA).values
    assert extract(doc, SCHEMA, roots).values["title"] == "two"
