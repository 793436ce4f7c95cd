"""The CRDT conformance suite: one set of behaviour cases, two engines.

Every ``case_*`` function here is plain Python (no pytest) that imports CRDT types
from ``yloft.crdt`` and asserts. ``tests/unit/test_crdt_conformance.py`` runs each
case on CPython, where ``yloft.crdt`` is pycrdt;
``tests/pyodide/test_crdt_conformance_pyodide.py`` runs the very same functions inside
Pyodide, where it is the Yjs-backed engine.
The assertions are identical on both; where the engines cannot agree (for example
where pycrdt panics), the case is left out here and the reason is in docs/crdt.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from yloft.crdt import (
    Array,
    ArrayEvent,
    Doc,
    Map,
    MapEvent,
    Text,
    TextEvent,
    get_state,
    get_update,
    merge_updates,
)


def raises(exc_type: type[BaseException], fn: Callable[[], Any], match: str = "") -> Any:
    """Assert that ``fn()`` raises ``exc_type`` whose message contains ``match``."""
    try:
        fn()
    except exc_type as exc:
        assert match in str(exc), f"{match!r} not in {str(exc)!r}"
        return exc
    raise AssertionError(f"{exc_type.__name__} not raised")


def _doc_with(**roots: Any) -> Doc:
    doc = Doc()
    for name, value in roots.items():
        doc[name] = value
    return doc


# ---------------------------------------------------------------- Doc


def case_doc_client_id() -> None:
    assert Doc(client_id=42).client_id == 42
    assert isinstance(Doc().client_id, int)
    assert Doc(client_id=2**53 - 1).client_id == 2**53 - 1
    raises(ValueError, lambda: Doc(client_id=-1), "client_id must be a valid u64")
    raises(ValueError, lambda: Doc(client_id=2**60), "client_id cannot overflow 53 bits")


def case_doc_roots() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)
    t = doc.get("t", type=Text)
    a = doc.get("a", type=Array)
    assert isinstance(m, Map) and isinstance(t, Text) and isinstance(a, Array)
    assert sorted(doc.keys()) == ["a", "m", "t"]
    assert sorted(doc) == ["a", "m", "t"]
    assert isinstance(doc["m"], Map) and isinstance(doc["t"], Text)
    assert isinstance(doc["a"], Array)
    raises(KeyError, lambda: doc["missing"])
    # get() of an existing root gives the same content
    m["k"] = "v"
    assert doc.get("m", type=Map).to_py() == {"k": "v"}
    doc["n"] = Map({"x": 1})
    assert doc["n"].to_py() == {"x": 1.0}
    raises(RuntimeError, lambda: doc.__setitem__(1, Map()), "Key must be of type string")


def case_doc_roots_from_update() -> None:
    src = Doc()
    src["m"] = Map({"k": "v"})
    src["t"] = Text("hello")
    src["a"] = Array([1, 2])
    dst = Doc()
    dst.apply_update(src.get_update())
    assert dst.get("m", type=Map).to_py() == {"k": "v"}
    assert str(dst.get("t", type=Text)) == "hello"
    assert dst.get("a", type=Array).to_py() == [1.0, 2.0]


# ---------------------------------------------------------------- values


def case_map_value_types() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)
    m["int"] = 1
    m["neg"] = -5
    m["float"] = 1.5
    m["max_safe"] = 2**53 - 1
    m["true"] = True
    m["none"] = None
    m["str"] = "héllo ✓"
    m["bytes"] = b"\x00\xff"
    m["list"] = [1, "x", None, [2], {"k": b"y"}]
    m["dict"] = {"a": {"b": [True, 2.5]}}
    m["tuple"] = (1, 2)
    assert m["int"] == 1.0 and type(m["int"]) is float
    assert m["neg"] == -5.0 and type(m["neg"]) is float
    assert m["float"] == 1.5
    assert type(m["max_safe"]) is float
    assert m["true"] is True
    assert m["none"] is None
    assert m["str"] == "héllo ✓"
    assert m["bytes"] == bytearray(b"\x00\xff") and type(m["bytes"]) is bytearray
    assert m["list"] == [1.0, "x", None, [2.0], {"k": bytearray(b"y")}]
    assert type(m["list"][0]) is float
    assert m["dict"] == {"a": {"b": [True, 2.5]}}
    assert m["tuple"] == [1.0, 2.0]
    raises(TypeError, lambda: m.__setitem__("bad", object()), "Type not supported")
    raises(TypeError, lambda: m.__setitem__("bad", bytearray(b"x")), "Type not supported")
    assert "bad" not in m


def case_values_survive_updates() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)
    m.update({"i": 3, "b": 2**60, "f": 0.25, "s": "x", "n": None, "y": b"\x01", "l": [1, {}]})
    other = Doc()
    other.apply_update(doc.get_update())
    got = other.get("m", type=Map).to_py()
    assert got == {"i": 3.0, "b": 2.0**60, "f": 0.25, "s": "x", "n": None, "y": bytearray(b"\x01"),
                   "l": [1.0, {}]}  # fmt: skip
    # Integers travel as doubles, even beyond 2**53 (pycrdt returns those as int only
    # before they went through an update; see docs/crdt.md).
    assert type(got["i"]) is float and type(got["b"]) is float


# ---------------------------------------------------------------- Map


def case_map_mapping_protocol() -> None:
    doc = Doc()
    doc["m"] = m = Map({"a": 1, "b": "x"})
    assert len(m) == 2
    assert "a" in m and "z" not in m
    assert m["b"] == "x"
    assert m.get("z") is None and m.get("z", 7) == 7 and m.get("a") == 1.0
    assert sorted(m.keys()) == ["a", "b"]
    assert sorted(m) == ["a", "b"]
    assert sorted(m.values(), key=str) == [1.0, "x"]
    assert sorted(m.items()) == [("a", 1.0), ("b", "x")]
    m["a"] = 2
    assert m["a"] == 2.0
    del m["a"]
    assert "a" not in m and len(m) == 1
    raises(KeyError, lambda: m["a"])
    raises(KeyError, lambda: m.__delitem__("a"))
    raises(RuntimeError, lambda: m[1], "Key must be of type string")  # type: ignore[index]
    raises(RuntimeError, lambda: m.__setitem__(1, 1), "Key must be of type string")
    m.update({"c": 3, "d": Text("t")})
    assert m.to_py() == {"b": "x", "c": 3.0, "d": "t"}
    assert json.loads(str(m)) == {"b": "x", "c": 3, "d": "t"}
    m.clear()
    assert len(m) == 0 and m.to_py() == {}


def case_map_pop() -> None:
    doc = Doc()
    doc["m"] = m = Map({"a": 1, "n": Map({"x": 1})})
    assert m.pop("a") == 1.0
    assert m.pop("a", "dflt") == "dflt"
    raises(KeyError, lambda: m.pop("a"))
    assert m.pop("n") == {"x": 1.0}
    assert m.to_py() == {}


def case_map_nested_types() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)
    m["sub"] = Map({"t": Text("hi"), "a": Array([1, Map({"deep": True})])})
    sub = m["sub"]
    assert isinstance(sub, Map)
    assert isinstance(sub["t"], Text) and str(sub["t"]) == "hi"
    assert isinstance(sub["a"], Array) and isinstance(sub["a"][1], Map)
    text = sub["t"]
    text += "!"  # on a local name: `sub["t"] += ...` would re-insert the Text
    sub["a"][1]["deep"] = False
    assert m.to_py() == {"sub": {"t": "hi!", "a": [1.0, {"deep": False}]}}


# ---------------------------------------------------------------- Text


def case_text_editing() -> None:
    doc = Doc()
    doc["t"] = t = Text("Hello")
    t += ", World!"
    assert str(t) == "Hello, World!" and t.to_py() == "Hello, World!"
    assert len(t) == 13
    assert t[0] == "H" and t[-1] == "!" and t[:5] == "Hello"
    assert "World" in t and "xyz" not in t
    assert list(t)[:2] == ["H", "e"]
    t.insert(5, " there")
    assert str(t) == "Hello there, World!"
    del t[5:11]
    assert str(t) == "Hello, World!"
    del t[5]
    assert str(t) == "Hello World!"
    t[6:11] = "Brian"
    assert str(t) == "Hello Brian!"
    t[0] = "J"
    assert str(t) == "Jello Brian!"
    t[5:] = ""
    assert str(t) == "Jello"
    del t[3:1]  # empty range: nothing happens
    assert str(t) == "Jello"
    t.insert(100, "!")  # past the end appends
    assert str(t) == "Jello!"
    t.clear()
    assert str(t) == "" and len(t) == 0


def case_text_errors() -> None:
    doc = Doc()
    doc["t"] = t = Text("abc")
    raises(RuntimeError, lambda: t.__delitem__(slice(0, 2, 2)), "Step not supported")
    raises(RuntimeError, lambda: t.__delitem__(slice(-1, None)), "Negative start not supported")
    raises(RuntimeError, lambda: t.__delitem__(slice(0, -1)), "Negative stop not supported")
    raises(RuntimeError, lambda: t.__setitem__(0, "xy"), "must have a length of 1, not 2")
    raises(RuntimeError, lambda: t.__delitem__("x"), "Index not supported")
    raises(OverflowError, lambda: t.insert(-1, "x"))
    raises(OverflowError, lambda: t.__delitem__(-1))
    assert str(t) == "abc"


def case_text_unicode() -> None:
    doc = Doc()
    doc["t"] = t = Text("naïve café")
    t.insert(2, "ï")
    assert str(t) == "naïïve café"
    other = Doc()
    other.apply_update(doc.get_update())
    assert str(other.get("t", type=Text)) == "naïïve café"


def case_text_indices_count_utf8_bytes() -> None:
    # pycrdt's Text lengths and indices are UTF-8 byte offsets, not code points.
    doc = Doc()
    doc["t"] = t = Text("naïve")
    assert len(t) == 6
    t.insert(len(t), "!")
    t.insert(4, "_")
    assert str(t) == "naï_ve!"
    del t[0:4]
    assert str(t) == "_ve!"
    t[0:2] = "é"
    assert str(t) == "ée!" and len(t) == 4
    deltas: list[Any] = []
    t.observe(lambda event: deltas.append(event.delta))
    t.insert(2, "Z")
    del t[0:2]
    assert deltas == [[{"retain": 2}, {"insert": "Z"}], [{"delete": 2}]]
    assert str(t) == "Ze!"
    emoji = doc.get("e", type=Text)
    emoji += "a😀b"
    assert len(emoji) == 6
    remote = Doc()
    remote.apply_update(doc.get_update())
    rt = remote.get("t", type=Text)
    assert len(rt) == 3
    rt.insert(1, "ü")
    assert str(rt) == "Züe!" and len(rt) == 5


# ---------------------------------------------------------------- Array


def case_array_sequence_protocol() -> None:
    doc = Doc()
    doc["a"] = a = Array([1, 2, 3])
    assert len(a) == 3
    assert a[0] == 1.0 and a[-1] == 3.0 and a[1:] == [2.0, 3.0] and a[::2] == [1.0, 3.0]
    assert 2.0 in a and 9 not in a
    assert list(a) == [1.0, 2.0, 3.0]
    a.append("x")
    a.extend([None, [1]])
    a.insert(0, "first")
    assert a.to_py() == ["first", 1.0, 2.0, 3.0, "x", None, [1.0]]
    assert a.pop() == [1.0]
    assert a.pop(0) == "first"
    assert a.pop(-2) == "x"
    del a[0]
    assert a.to_py() == [2.0, 3.0, None]
    del a[-1]
    a[0] = "zero"
    a[1:1] = ["p", "q"]
    assert a.to_py() == ["zero", "p", "q", 3.0]
    del a[1:3]
    assert a.to_py() == ["zero", 3.0]
    a += ["end"]
    assert a.to_py() == ["zero", 3.0, "end"]
    assert json.loads(str(a)) == ["zero", 3, "end"]
    a.clear()
    assert a.to_py() == [] and len(a) == 0


def case_array_errors() -> None:
    doc = Doc()
    doc["a"] = a = Array([1, 2])
    raises(IndexError, lambda: a[2], "Array index out of range")
    raises(IndexError, lambda: a[-3], "Array index out of range")
    raises(IndexError, lambda: a.pop(5), "Array index out of range")
    raises(IndexError, lambda: a.__delitem__(2), "Array index out of range")
    raises(IndexError, lambda: a.__setitem__(2, 0), "Array index out of range")
    raises(RuntimeError, lambda: a.__setitem__(slice(0, 1), [9]), "Start and stop must be equal")
    raises(RuntimeError, lambda: a.__setitem__(slice(5, 5), [9]), "Index out of range")
    raises(RuntimeError, lambda: a.insert(5, 9), "Index out of range")
    raises(RuntimeError, lambda: a.__delitem__(slice(0, 2, 1)), "Step not supported")
    raises(RuntimeError, lambda: a.__delitem__(slice(-1, None)), "Negative start not supported")
    raises(RuntimeError, lambda: a.__delitem__(slice(0, -1)), "Negative stop not supported")
    raises(TypeError, lambda: a.__delitem__("x"), "Array indices must be integers or slices")
    raises(RuntimeError, lambda: a.__setitem__("x", 1), "Index must be of type integer")
    raises(RuntimeError, lambda: a.pop("x"), "Index must be of type integer")  # type: ignore[arg-type]
    raises(TypeError, lambda: a.append(object()), "Type not supported")
    assert a.to_py() == [1.0, 2.0]


def case_array_nested_types() -> None:
    doc = Doc()
    a = doc.get("a", type=Array)
    a.append(Map({"k": Array([Text("x")])}))
    a.extend([Text("t"), 5, Array([])])
    assert isinstance(a[0], Map) and isinstance(a[1], Text) and isinstance(a[3], Array)
    a[0]["k"][0].insert(1, "y")
    a[3].append(1)
    assert a.to_py() == [{"k": ["xy"]}, "t", 5.0, [1.0]]
    assert a.pop(0) == {"k": ["xy"]}


# ---------------------------------------------------------------- prelim


def case_prelim_values() -> None:
    m = Map({"a": 1, "t": Text("x"), "l": Array([Map({"z": 1})])})
    assert m.to_py() == {"a": 1, "t": "x", "l": [{"z": 1}]}  # prelim keeps Python values
    assert Map().to_py() is None and Text().to_py() is None and Array().to_py() is None
    assert Text("s").to_py() == "s"
    raises(RuntimeError, lambda: len(Map()), "Not integrated in a document yet")
    raises(RuntimeError, lambda: str(Text("x")), "Not integrated in a document yet")
    raises(RuntimeError, lambda: Map().doc, "Not integrated in a document yet")
    doc = Doc()
    doc["m"] = m
    assert m.to_py() == {"a": 1.0, "t": "x", "l": [{"z": 1.0}]}
    assert m.doc is doc


def case_reinserting_an_integrated_type_inserts_an_empty_one() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)
    child = Map({"q": 1})
    m["x"] = child
    m["y"] = child
    assert m.to_py() == {"x": {"q": 1.0}, "y": {}}


# ---------------------------------------------------------------- transactions


def case_transactions_nest_and_carry_origin() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    origins: list[Any] = []
    m.observe(lambda event: origins.append(event.transaction.origin))
    with doc.transaction(origin="me") as txn:
        assert txn.origin == "me"
        m["a"] = 1
        with doc.transaction() as inner:
            assert inner is txn and inner.origin == "me"
            m["b"] = 2
        with doc.transaction(origin="me"):
            m["c"] = 3
        raises(RuntimeError, lambda: doc.transaction(origin="other"), "same origin")
        assert updates == []  # nothing is committed before the outer block ends
    assert len(updates) == 1 and origins == ["me"]
    raises(RuntimeError, lambda: doc.transaction().origin, "No current transaction")
    other = Doc()
    other.apply_update(updates[0])
    assert other.get("m", type=Map).to_py() == {"a": 1.0, "b": 2.0, "c": 3.0}


def case_transaction_commits_when_body_raises() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)
    try:
        with doc.transaction():
            m["a"] = 1
            raise KeyError("boom")
    except KeyError:
        pass
    assert m.to_py() == {"a": 1.0}
    m["b"] = 2  # the document is usable afterwards
    assert len(m) == 2


def case_observer_errors_are_raised_at_commit() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)

    def bad(event: Any) -> None:
        raise ValueError("observer failed")

    m.observe(bad)
    group = raises(ExceptionGroup, lambda: m.__setitem__("a", 1), "Observer callback error")
    assert [type(e) for e in group.exceptions] == [ValueError]
    assert m.to_py() == {"a": 1.0}  # the change itself is committed


def case_observers_cannot_write() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)
    m.observe(lambda event: m.__setitem__("echo", 1))
    group = raises(ExceptionGroup, lambda: m.__setitem__("a", 1))
    assert isinstance(group.exceptions[0], RuntimeError)
    assert "Read-only transaction" in str(group.exceptions[0])
    assert m.to_py() == {"a": 1.0}


# ---------------------------------------------------------------- observers


def case_doc_observe_gives_one_update_per_transaction() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)
    t = doc.get("t", type=Text)
    events: list[Any] = []
    sub = doc.observe(lambda event: events.append(event.update))
    with doc.transaction():
        pass  # empty: no event
    assert events == []
    m["a"] = 1
    t += "x"
    with doc.transaction():
        m["b"] = 2
        t += "y"
    assert len(events) == 3 and all(type(u) is bytes for u in events)
    replica = Doc()
    for update in events:
        replica.apply_update(update)
    assert replica.get("m", type=Map).to_py() == {"a": 1.0, "b": 2.0}
    assert str(replica.get("t", type=Text)) == "xy"
    doc.unobserve(sub)
    m["c"] = 3
    assert len(events) == 3


def case_doc_observe_remote_updates() -> None:
    src = Doc()
    src["m"] = Map({"a": 1})
    dst = Doc()
    events: list[bytes] = []
    dst.observe(lambda event: events.append(event.update))
    dst.apply_update(src.get_update())
    assert len(events) == 1
    dst.apply_update(src.get_update())  # already known: no change, no event
    assert len(events) == 1
    third = Doc()
    third.apply_update(events[0])
    assert third.get("m", type=Map).to_py() == {"a": 1.0}


def case_map_events() -> None:
    doc = Doc()
    m = doc.get("m", type=Map)
    seen: list[Any] = []

    def on_change(event: MapEvent) -> None:
        assert isinstance(event, MapEvent)
        seen.append((event.keys, event.path, event.target.to_py()))

    sub = m.observe(on_change)
    m["a"] = 1
    m["a"] = 2
    del m["a"]
    with doc.transaction():
        m["x"] = "X"
        m["y"] = [1]
    assert seen == [
        ({"a": {"action": "add", "newValue": 1.0}}, [], {"a": 1.0}),
        ({"a": {"action": "update", "oldValue": 1.0, "newValue": 2.0}}, [], {"a": 2.0}),
        ({"a": {"action": "delete", "oldValue": 2.0}}, [], {}),
        (
            {"x": {"action": "add", "newValue": "X"}, "y": {"action": "add", "newValue": [1.0]}},
            [],
            {"x": "X", "y": [1.0]},
        ),
    ]
    m.unobserve(sub)
    m["z"] = 0
    assert len(seen) == 4


def case_text_events() -> None:
    doc = Doc()
    t = doc.get("t", type=Text)
    deltas: list[Any] = []

    def on_change(event: TextEvent) -> None:
        assert isinstance(event, TextEvent)
        deltas.append(event.delta)

    t.observe(on_change)
    t += "hello"
    t.insert(2, "XX")
    del t[0:2]
    t[1:3] = "ab"
    assert deltas == [
        [{"insert": "hello"}],
        [{"retain": 2}, {"insert": "XX"}],
        [{"delete": 2}],
        [{"retain": 1}, {"delete": 2}, {"insert": "ab"}],
    ]


def case_text_format_events() -> None:
    doc = Doc()
    doc["t"] = t = Text("hello world")
    deltas: list[Any] = []
    t.observe(lambda event: deltas.append(event.delta))
    t.format(6, 11, {"i": True})
    t.insert(0, "A", {"b": 1})
    assert deltas == [
        [{"retain": 6}, {"retain": 5, "attributes": {"i": True}}],
        [{"insert": "A", "attributes": {"b": 1.0}}],
    ]
    assert str(t) == "Ahello world"


def case_array_events() -> None:
    doc = Doc()
    a = doc.get("a", type=Array)
    deltas: list[Any] = []

    def on_change(event: ArrayEvent, txn: Any) -> None:  # the two-parameter form
        assert isinstance(event, ArrayEvent)
        assert txn is event.transaction
        deltas.append(event.delta)

    a.observe(on_change)
    a.extend([1, 2])
    del a[0]
    a.insert(0, "x")
    a.append([1])
    assert deltas == [
        [{"insert": [1.0, 2.0]}],
        [{"delete": 1}],
        [{"insert": ["x"]}],
        [{"retain": 2}, {"insert": [[1.0]]}],
    ]
    with doc.transaction():
        a.append(Map({"k": 1}))
    inserted = deltas[-1][-1]["insert"][0]
    assert isinstance(inserted, Map)


def case_observe_deep_paths() -> None:
    doc = Doc()
    root = doc.get("root", type=Map)
    root["list"] = Array([Map({"q": 1}), Text("t")])
    batches: list[Any] = []
    root.observe_deep(lambda events: batches.append(
        [(type(e).__name__, e.path, getattr(e, "keys", None) or getattr(e, "delta", None))
         for e in events]))  # fmt: skip
    root["list"][0]["q"] = 5
    root["list"][1].insert(1, "!")
    root["top"] = 1
    assert batches == [
        [("MapEvent", ["list", 0], {"q": {"action": "update", "oldValue": 1.0, "newValue": 5.0}})],
        [("TextEvent", ["list", 1], [{"retain": 1}, {"insert": "!"}])],
        [("MapEvent", [], {"top": {"action": "add", "newValue": 1.0}})],
    ]


# ---------------------------------------------------------------- updates


def case_state_and_diff_updates() -> None:
    a = Doc()
    a["m"] = Map({"x": 1})
    b = Doc()
    b.apply_update(a.get_update())
    state_b = b.get_state()
    assert type(state_b) is bytes and state_b == a.get_state()
    a["m"]["y"] = 2
    diff = a.get_update(state_b)
    assert len(diff) < len(a.get_update())
    b.apply_update(diff)
    assert b.get("m", type=Map).to_py() == {"x": 1.0, "y": 2.0}
    raises(ValueError, lambda: a.get_update(b"\xff\xff\xff"), "Cannot decode state")


def case_update_module_functions() -> None:
    a = Doc(client_id=1)
    a["t"] = Text("ab")
    u1 = a.get_update()
    state1 = a.get_state()
    a["t"] += "cd"
    u2 = a.get_update(state1)
    merged = merge_updates(u1, u2)
    assert type(merged) is bytes
    fresh = Doc()
    fresh.apply_update(merged)
    assert str(fresh.get("t", type=Text)) == "abcd"
    assert get_state(merged) == a.get_state()
    assert get_state(u1) == state1
    only_new = get_update(merged, state1)
    old = Doc()
    old.apply_update(u1)
    old.apply_update(only_new)
    assert str(old.get("t", type=Text)) == "abcd"
    raises(ValueError, lambda: merge_updates(b"xx", b"yy"), "Cannot merge updates")
    raises(ValueError, lambda: get_state(b"\x05"), "Cannot encode state vector from update")
    raises(ValueError, lambda: get_update(b"\x05", b""), "Cannot diff updates")


def case_concurrent_edits_converge() -> None:
    a, b = Doc(client_id=1), Doc(client_id=2)
    a["t"] = Text("base")
    b.apply_update(a.get_update())
    a["t"].insert(0, "A")
    b.get("t", type=Text).insert(4, "B")
    a.get("m", type=Map)["k"] = "from a"
    b.get("m", type=Map)["k"] = "from b"
    ua, ub = a.get_update(), b.get_update()
    a.apply_update(ub)
    b.apply_update(ua)
    assert str(a["t"]) == str(b["t"]) == "AbaseB"
    assert a["m"].to_py() == b["m"].to_py()
    assert a["m"]["k"] == "from b"  # the higher client id wins a concurrent map set


def case_remote_non_ascii_text_is_counted_in_bytes() -> None:
    a, b = Doc(client_id=1), Doc(client_id=2)
    a["t"] = Text("abc")
    b.apply_update(a.get_update())
    tb = b.get("t", type=Text)
    assert len(tb) == 3  # all ASCII so far
    a["t"].insert(1, "é")
    b.apply_update(a.get_update(b.get_state()))
    assert str(tb) == "aébc" and len(tb) == 5
    tb.insert(3, "X")  # byte 3 is after "é"
    assert str(tb) == "aéXbc"


def case_local_and_remote_changes_in_one_transaction() -> None:
    a, b = Doc(client_id=1), Doc(client_id=2)
    a["m"] = Map({"x": 1})
    b.apply_update(a.get_update())
    bm = b.get("m", type=Map)
    bm["from_b"] = 1  # b has local content before it vets a remote update
    a["m"]["y"] = 2
    with b.transaction():
        bm["local"] = True
        b.apply_update(a.get_update(b.get_state()))
        bm["after"] = "z"
    a["m"]["z"] = 3  # builds on the state b should have mirrored
    b.apply_update(a.get_update(b.get_state()))
    assert bm.to_py() == {"x": 1.0, "y": 2.0, "z": 3.0, "from_b": 1.0, "local": True,
                          "after": "z"}  # fmt: skip
    a.apply_update(b.get_update(a.get_state()))
    assert a["m"].to_py() == bm.to_py()


def case_client_id_is_kept_when_updates_carry_it() -> None:
    a = Doc(client_id=9)
    a["m"] = Map({"x": 1})
    b = Doc(client_id=9)  # a second replica with the same id (a reloaded tab)
    b.apply_update(a.get_update())
    with b.transaction():
        b.apply_update(a.get_update())
    assert b.client_id == 9


BAD_UPDATES = [b"", b"\x01", b"\x01\x01", b"garbage!!", b"\xff" * 9, b"\x00\x01\x00"]


def case_bad_updates_raise_and_change_nothing() -> None:
    doc = Doc()
    doc["m"] = Map({"k": "v"})
    doc["t"] = Text("text")
    good = doc.get_update()
    before = doc.get_update()
    state = doc.get_state()
    for bad in [*BAD_UPDATES, good[:-3], good[: len(good) // 2], good[:5]]:
        raises(ValueError, lambda bad=bad: doc.apply_update(bad), "Cannot decode update")
        assert doc.get_update() == before and doc.get_state() == state
        fresh = Doc()
        raises(ValueError, lambda bad=bad, fresh=fresh: fresh.apply_update(bad), "Cannot decode")
        assert fresh.get_state() == b"\x00"
    doc["m"]["k2"] = 1  # still usable
    assert doc["m"].to_py() == {"k": "v", "k2": 1.0}
    # and still takes good updates, including ones built on its latest local edits
    peer = Doc()
    peer.apply_update(doc.get_update())
    peer.get("m", type=Map)["from_peer"] = "p"
    peer.get("t", type=Text).insert(4, "!")
    doc.apply_update(peer.get_update(doc.get_state()))
    assert doc["m"].to_py() == {"k": "v", "k2": 1.0, "from_peer": "p"}
    assert str(doc["t"]) == "text!"


def sample_doc() -> Doc:
    """A small document with every root type, for the bad-input checks."""
    doc = Doc(client_id=5)
    doc["m"] = Map({"k": "v", "n": Array([1, Text("x")])})
    doc["t"] = Text("hello")
    with doc.transaction():
        doc["t"].insert(2, "__")
        del doc["m"]["k"]
    return doc


def check_apply_untrusted(data: bytes) -> str:
    """Apply ``data`` to a document: it is applied ("ok") or refused with pycrdt's
    ValueError ("rejected") leaving the document exactly as it was.

    pycrdt 0.14.13 has a third outcome, "half-applied": bytes that decode but do not
    integrate raise ``RuntimeError("Cannot apply update: ...")`` after part of the
    update went in (found by Hypothesis in CI). The Yjs engine never does this (it
    takes that example whole); the store turns both errors into MalformedUpdateError
    and drops its in-memory copy (tests/unit/test_store_input.py)."""
    doc = sample_doc()
    before, state = doc.get_update(), doc.get_state()
    try:
        doc.apply_update(data)
    except ValueError as exc:
        assert str(exc).startswith("Cannot decode update"), str(exc)
        assert doc.get_update() == before and doc.get_state() == state
        doc["m"]["after"] = 1  # still usable
        return "rejected"
    except RuntimeError as exc:
        from yloft.crdt import ENGINE

        assert ENGINE == "pycrdt", f"the {ENGINE} engine half-applied an update: {exc}"
        assert str(exc).startswith("Cannot apply update"), str(exc)
        return "half-applied"
    return "ok"


def case_exports() -> None:
    import yloft.crdt

    documented = [
        "ENGINE",
        "Array",
        "ArrayEvent",
        "Doc",
        "Map",
        "MapEvent",
        "Subscription",
        "Text",
        "TextEvent",
        "Transaction",
        "TransactionEvent",
        "get_state",
        "get_update",
        "merge_updates",
    ]  # fmt: skip  (docs/crdt.md)
    assert sorted(yloft.crdt.__all__) == sorted(documented)
    for name in documented:
        assert getattr(yloft.crdt, name) is not None, name


def case_store_fast_paths() -> None:
    """The store's fast reader/writer (yloft.crdt._fast) agree with the public API."""
    from yloft.crdt._fast import MISSING, read_paths, read_paths_public, write_map
    from yloft.extract import json_value

    doc = Doc()
    meta = doc.get("meta", type=Map)
    meta["s"] = "é"
    meta["n"] = 3
    meta["f"] = 2.5
    meta["b"] = True
    meta["l"] = ["a", 1.0, [2.0]]
    meta["d"] = {"k": 1.0}
    meta["nested"] = Map({"x": Text("t"), "y": Array([1, 2])})
    meta["none"] = None
    doc.get("body", type=Text).insert(0, "text ü")
    doc.get("items", type=Array).extend([1, "x", Map({"z": 0.5})])
    write_map(doc, "_own", {"t": 1.5, "flag": True})
    roots = (("meta", Map), ("body", Text), ("items", Array), ("_own", Map), ("gone", Map))
    keys = ["s", "n", "f", "b", "l", "d", "nested", "none", "missing"]
    paths = [(0, (k,)) for k in keys]
    paths += [(0, ("nested", "x")), (0, ("nested", "y")), (0, ("s", "deeper"))]
    paths += [(1, ()), (2, ()), (3, ("t",)), (3, ("flag",)), (4, ()), (4, ("k",))]
    fast = read_paths(doc, roots, paths)
    public = read_paths_public(doc, roots, paths)
    assert [json_value(v) for v in fast] == [json_value(v) for v in public]
    assert fast[keys.index("missing")] is MISSING and public[-1] is MISSING
    assert json_value(fast[0:9]) == [
        "é", 3, 2.5, True, ["a", 1, [2]], {"k": 1}, {"x": "t", "y": [1, 2]}, None, MISSING
    ]  # fmt: skip
    assert fast[12:] == ["text ü", [1, "x", {"z": 0.5}], 1.5, True, {}, MISSING]
    with doc.transaction():  # inside an open transaction too
        assert read_paths(doc, roots, paths) == fast
    assert doc.get("_own", type=Map).to_py() == {"t": 1.5, "flag": True}


def case_store_covered() -> None:
    """``covered(state, updates)`` (compaction's one-call check) agrees with a diff per
    update: False as soon as one update holds a struct the state has not integrated."""
    from yloft.crdt._fast import covered

    src = Doc()
    updates: list[bytes] = []
    src.observe(lambda e: updates.append(e.update))
    text = src.get("body", type=Text)
    for i, word in enumerate(["one ", "two ", "three"]):
        text.insert(len(str(text)), word)
        src.get("meta", type=Map)["n"] = i
    other = Doc()
    other.get("body", type=Text).insert(0, "elsewhere")

    def one_by_one(state: bytes, parts: list[bytes]) -> bool:
        return all(get_update(u, state)[0] == 0 for u in parts)

    replica = Doc()
    replica.apply_update(updates[0])
    replica.apply_update(updates[3])  # waits for updates 1 and 2: pending
    state = replica.get_state()
    cases = [
        [],
        [updates[0]],
        [updates[0], updates[1]],  # updates[1] not integrated
        [updates[3]],  # pending: held, not integrated
        [src.get_update()],
        [other.get_update()],
        [updates[0], other.get_update()],
    ]
    got = [covered(state, parts) for parts in cases]
    assert got == [one_by_one(state, parts) for parts in cases]
    assert got == [True, True, False, False, False, False, False]
    full = src.get_state()
    assert covered(full, updates) and covered(full, [src.get_update(), *updates])
    assert not covered(full, [*updates, other.get_update()])


CASES = sorted(name for name in globals() if name.startswith("case_"))
