"""Bad input raises a specific YloftError and leaves the database exactly as before."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yloft import (
    Field,
    FieldPathError,
    FieldTypeError,
    InvalidIdError,
    MalformedUpdateError,
    QueryError,
    SchemaError,
    Store,
    UnknownCollectionError,
    YloftError,
)
from yloft.crdt import Doc, Map, Text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
import crdt_cases

FIELDS = {"title": Field("meta.title", str, index=True), "body": Field("body", str, fts=True)}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "in.db") as s:
        notes = s.collection("notes", FIELDS)
        nid = notes.create()
        with notes.edit(nid) as doc:
            doc.get("meta", type=Map)["title"] = "t"
            doc.get("body", type=Text).insert(0, "words")
        yield s


def first_id(store: Store) -> str:
    return store.collection("notes").ids()[0]


BAD_CALLS: dict[str, tuple[type[YloftError], Callable[[Store], object]]] = {
    "garbage update": (
        MalformedUpdateError,
        lambda s: s.collection("notes").apply_update(first_id(s), b"\x01\x02\x03"),
    ),
    "garbage update for a new doc": (
        MalformedUpdateError,
        lambda s: s.collection("notes").apply_update("new", b"\xff\xff\xff\xff"),
    ),
    "update not bytes": (
        MalformedUpdateError,
        lambda s: s.collection("notes").apply_update("new", "text"),  # type: ignore[arg-type]
    ),
    "bad state vector": (
        MalformedUpdateError,
        lambda s: s.collection("notes").get_update(first_id(s), b"\x05"),
    ),
    "unknown collection": (
        UnknownCollectionError,
        lambda s: s.apply_update("nope", "x", Doc().get_update()),
    ),
    "unknown collection lookup": (UnknownCollectionError, lambda s: s.collection("nope")),
    "non-str collection": (
        UnknownCollectionError,
        lambda s: s.apply_update(3, "x", Doc().get_update()),  # type: ignore[arg-type]
    ),
    "non-str id": (
        InvalidIdError,
        lambda s: s.collection("notes").apply_update(5, Doc().get_update()),  # type: ignore[arg-type]
    ),
    "empty id": (InvalidIdError, lambda s: s.collection("notes").row("")),
    "bytes id edit": (
        InvalidIdError,
        lambda s: s.collection("notes").edit(b"x").__enter__(),  # type: ignore[arg-type]
    ),
    "bad field path": (
        FieldPathError,
        lambda s: s.collection("notes", {**FIELDS, "x": Field("meta..x", str)}),
    ),
    "bad field type": (
        FieldTypeError,
        lambda s: s.collection("notes", {**FIELDS, "x": Field("meta.x", bytes)}),
    ),
    "bad collection name": (SchemaError, lambda s: s.collection("drop table", FIELDS)),
    "fields not a mapping": (
        SchemaError,
        lambda s: s.collection("other", [Field("m.x", str)]),  # type: ignore[arg-type]
    ),
    "writing query": (QueryError, lambda s: s.query("DELETE FROM notes", ())),
    "broken query": (QueryError, lambda s: s.query("SELEKT 1", ())),
    "bad fts query": (QueryError, lambda s: s.collection("notes").search('"unbalanced')),
    "bad origin": (
        SchemaError,
        lambda s: s.collection("notes").apply_update("y", Doc().get_update(), origin=1),  # type: ignore[arg-type]
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_changes_nothing(store: Store, case: str) -> None:
    kind, call = BAD_CALLS[case]
    before = store.dump()
    with pytest.raises(kind) as info:
        call(store)
    assert "; " in str(info.value) or "," in str(info.value)  # says what to do
    assert store.dump() == before
    # The store still works afterwards.
    notes = store.collection("notes")
    with notes.edit(first_id(store)) as doc:
        doc.get("meta", type=Map)["title"] = "after"
    assert notes.row(first_id(store))["title"] == "after"  # type: ignore[index]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(garbage=st.binary(min_size=1, max_size=64))
def test_random_bytes_never_half_apply(store: Store, garbage: bytes) -> None:
    notes = store.collection("notes")
    nid = first_id(store)
    before_row = notes.row(nid)
    try:
        notes.apply_update(nid, garbage, origin="fuzz")
    except MalformedUpdateError:
        assert notes.row(nid) == before_row
    # Whatever got in, the columns still match the document.
    doc = notes.get(nid)
    assert notes.row(nid)["body"] == str(doc.get("body", type=Text))  # type: ignore[index]


def test_garbage_for_a_document_holding_pending_structs(store: Store) -> None:
    src: Doc = Doc()
    updates: list[bytes] = []
    src.observe(lambda e: updates.append(e.update))
    text = src.get("body", type=Text)
    text.insert(0, "one ")
    text.insert(4, "two ")
    notes = store.collection("notes")
    notes.apply_update("p", updates[1], origin="peer")  # waits for updates[0]
    before = store.dump()
    with pytest.raises(MalformedUpdateError):
        notes.apply_update("p", b"\x01\x02\x03", origin="peer")
    assert store.dump() == before
    notes.apply_update("p", updates[0], origin="peer")
    assert notes.row("p")["body"] == "one two "  # type: ignore[index]


def _flip(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for index, value in edits:
        out[index % len(out)] = value
    return bytes(out)


# crdt_cases.sample_doc's update with two bytes changed: pycrdt raises
# RuntimeError("Cannot apply update: ...") after part of it went into the Doc
# (tests/unit/test_crdt_bad_input.py). The store must refuse it whole.
SAMPLE = crdt_cases.sample_doc().get_update()
HALF_APPLIED = _flip(SAMPLE, [(2, 0), (21, 2)])


def test_an_update_pycrdt_half_applies_is_refused_whole(store: Store) -> None:
    notes = store.collection("notes")
    notes.apply_update("s", SAMPLE, origin="peer")
    before = store.dump()
    with pytest.raises(MalformedUpdateError, match="not a valid Yjs v1 update"):
        notes.apply_update("s", HALF_APPLIED, origin="peer")
    assert store.dump() == before
    assert notes.get("s").get_update() == SAMPLE


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(st.tuples(st.integers(0, 999), st.integers(0, 255)), min_size=1, max_size=3))
def test_corrupted_real_updates_are_applied_whole_or_refused_whole(
    store: Store, edits: list[tuple[int, int]]
) -> None:
    notes = store.collection("notes")
    if "s" not in notes.ids():
        notes.apply_update("s", SAMPLE, origin="peer")
    before = store.dump()
    try:
        notes.apply_update("s", _flip(SAMPLE, edits), origin="fuzz")
    except MalformedUpdateError:
        assert store.dump() == before
    with notes.edit("s") as live:  # still editable, and the row follows the document
        live.get("meta", type=Map)["title"] = "after"
        live.get("body", type=Text).insert(0, "b")
    doc = notes.get("s")
    assert notes.row("s")["title"] == "after"  # type: ignore[index]
    assert notes.row("s")["body"] == str(doc.get("body", type=Text))  # type: ignore[index]
