"""What is particular to the Yjs engine: engine choice, proxy ownership, JS interop."""

from __future__ import annotations

from harness import run_in_pyodide


@run_in_pyodide
def test_pycrdt_is_preferred_when_importable() -> None:
    import importlib
    import sys
    import types

    import yloft.crdt

    assert yloft.crdt.ENGINE == "yjs"
    fake = types.ModuleType("pycrdt")
    names = ["Array", "ArrayEvent", "Doc", "Map", "MapEvent", "Subscription", "Text",
             "TextEvent", "Transaction", "TransactionEvent", "get_state", "get_update",
             "merge_updates"]  # fmt: skip
    for name in names:
        setattr(fake, name, object())
    sys.modules["pycrdt"] = fake
    try:
        assert importlib.reload(yloft.crdt).ENGINE == "pycrdt"
        assert yloft.crdt.Doc is fake.Doc
    finally:
        del sys.modules["pycrdt"]
        importlib.reload(yloft.crdt)
    assert yloft.crdt.ENGINE == "yjs"


@run_in_pyodide
def test_unobserve_releases_the_callback() -> None:
    import gc
    import weakref

    from yloft.crdt import Doc, Map, Text

    doc = Doc()
    m = doc.get("m", type=Map)
    t = doc.get("t", type=Text)

    class Callback:
        def __init__(self) -> None:
            self.calls = 0

        def __call__(self, event: object) -> None:
            self.calls += 1

    refs = []
    for observe, unobserve, edit in [
        (m.observe, m.unobserve, lambda: m.__setitem__("k", 1)),
        (m.observe_deep, m.unobserve, lambda: m.__setitem__("k", 2)),
        (t.observe, t.unobserve, lambda: t.insert(0, "x")),
        (doc.observe, doc.unobserve, lambda: m.__setitem__("k", 3)),
    ]:
        cb = Callback()
        sub = observe(cb)
        edit()
        assert cb.calls == 1
        unobserve(sub)
        sub.drop()  # dropping twice is harmless
        edit()
        assert cb.calls == 1
        refs.append(weakref.ref(cb))
        del cb, sub
    gc.collect()
    # The JS proxies were destroyed, so nothing keeps the callbacks alive.
    assert [r() for r in refs] == [None, None, None, None]


@run_in_pyodide
def test_js_peer_sees_python_edits_and_back() -> None:
    import yjs
    from pyodide.ffi import to_js

    from yloft.crdt import Doc, Map, Text

    doc = Doc()
    doc["m"] = Map({"n": 1, "s": "x"})
    doc["t"] = Text("hi")
    peer = yjs.Doc.new()
    yjs.applyUpdate(peer, to_js(doc.get_update()))
    assert peer.getMap("m").toJSON().to_py() == {"n": 1, "s": "x"}
    peer.getText("t").insert(2, "!")
    peer.getMap("m").set("big", 2**60)  # a JS BigInt: pycrdt reads those as int
    doc.apply_update(bytes(yjs.encodeStateAsUpdate(peer).to_bytes()))
    assert str(doc["t"]) == "hi!"
    big = doc["m"]["big"]
    assert big == 2**60 and type(big) is int


@run_in_pyodide
def test_transaction_events_carry_states() -> None:
    from yloft.crdt import Doc, Map, get_state

    doc = Doc(client_id=3)
    m = doc.get("m", type=Map)
    seen = []
    doc.observe(lambda e: seen.append((e.update, e.before_state, e.after_state, e.delete_set)))
    m["a"] = 1
    del m["a"]
    (u1, before1, after1, ds1), (u2, before2, after2, ds2) = seen
    assert before1 == b"\x00" and after1 == get_state(u1) == b"\x01\x03\x01"
    assert before2 == after1 == after2 and ds1 == b"\x00"
    assert ds2 == b"\x01\x03\x01\x00\x01" and len(u2) > 0


@run_in_pyodide
def test_shadow_copy_follows_local_and_remote_changes() -> None:
    from yloft.crdt import Doc, Map, Text
    from yloft.crdt._yjs import _js

    a, b = Doc(client_id=1), Doc(client_id=2)
    a["m"] = Map({"x": 1})
    b["t"] = Text("local")  # b is not empty: its next remote update goes via a shadow
    assert _js.shadow_state(b._ydoc) is None
    b.apply_update(a.get_update())
    assert bytes(_js.shadow_state(b._ydoc).to_bytes()) == b.get_state()
    a["m"]["y"] = 2
    with b.transaction():
        b["t"] += "!"  # local and remote changes in one (then non-local) transaction
        b.apply_update(a.get_update(b.get_state()))
        b.get("m", type=Map)["z"] = 3
    assert bytes(_js.shadow_state(b._ydoc).to_bytes()) == b.get_state()
    b.get("m", type=Map)["w"] = 4
    assert bytes(_js.shadow_state(b._ydoc).to_bytes()) == b.get_state()
    # After a refused update, later updates are still vetted against an exact copy.
    refused = False
    try:
        b.apply_update(a.get_update()[:-2] + b"\xff\xff")
    except ValueError:
        refused = True
    assert refused
    a["m"]["v"] = 5
    b.apply_update(a.get_update(b.get_state()))
    assert bytes(_js.shadow_state(b._ydoc).to_bytes()) == b.get_state()
    assert b.get("m", type=Map).to_py() == {"x": 1.0, "y": 2.0, "z": 3.0, "w": 4.0, "v": 5.0}


@run_in_pyodide
def test_shadow_copy_mirrors_what_an_observer_writes_during_a_remote_update() -> None:
    # applyChecked's own transaction is not mirrored (the copy has it already); a
    # change an observer makes in reaction to it is its own transaction, and must be.
    from yloft.crdt import Doc, Map, Text
    from yloft.crdt._yjs import _js

    a, b = Doc(client_id=1), Doc(client_id=2)
    a["m"] = Map({"x": 1})
    b["t"] = Text("local")
    b.apply_update(a.get_update())  # the shadow exists from here on
    counter = b.get("t", type=Text)
    sub = b.observe(lambda e: counter.insert(0, "+") if len(str(counter)) < 8 else None)
    a["m"]["y"] = 2
    b.apply_update(a.get_update(b.get_state()))
    assert str(counter).startswith("+")
    assert bytes(_js.shadow_state(b._ydoc).to_bytes()) == b.get_state()
    b.unobserve(sub)
    # The copy is exact: an update built on the observer's write is taken.
    a.apply_update(b.get_update(a.get_state()))
    a.get("t", type=Text).insert(0, "A")
    b.apply_update(a.get_update(b.get_state()))
    assert str(b.get("t", type=Text)) == str(a.get("t", type=Text))
    assert bytes(_js.shadow_state(b._ydoc).to_bytes()) == b.get_state()
