"""The Pyodide layer itself: yloft imports, SQLite has what yloft needs, Yjs is there."""

from __future__ import annotations

import pytest

from harness import run_in_pyodide


@run_in_pyodide
def yloft_version_in_pyodide() -> str:
    import sys

    import yloft

    assert sys.platform == "emscripten"
    assert sys.version_info[:2] == (3, 14)
    assert yloft.__file__.endswith("pylib/yloft/__init__.py")
    return yloft.__version__


def test_yloft_imports_in_pyodide(pyodide) -> None:  # type: ignore[no-untyped-def]
    import yloft

    assert yloft_version_in_pyodide(pyodide=pyodide) == yloft.__version__


@run_in_pyodide
def test_sqlite_has_fts5_and_json() -> None:
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
    db.execute("INSERT INTO t VALUES ('two litres of milk')")
    assert db.execute("SELECT count(*) FROM t WHERE t MATCH 'litres'").fetchone() == (1,)
    assert db.execute("SELECT json_extract('{\"a\": [1, 2]}', '$.a[1]')").fetchone() == (2,)


@run_in_pyodide
def update_made_by_yjs() -> bytes:
    import yjs

    doc = yjs.Doc.new()
    doc.getMap("m").set("k", "v")
    return bytes(yjs.encodeStateAsUpdate(doc).to_py())


def test_yjs_update_applies_in_pycrdt(pyodide) -> None:  # type: ignore[no-untyped-def]
    from pycrdt import Doc, Map

    update = update_made_by_yjs(pyodide=pyodide)
    doc = Doc()
    doc.apply_update(update)
    assert doc.get("m", type=Map).to_py() == {"k": "v"}


@run_in_pyodide
def echo(payload):  # type: ignore[no-untyped-def]
    return payload


@pytest.mark.parametrize("value", [b"\x00\xff", "text", [1, 2.5, None, {"k": b"v"}], ("a", [b"y"])])
def test_values_round_trip(pyodide, value) -> None:  # type: ignore[no-untyped-def]
    assert echo(pyodide=pyodide, payload=value) == value


@pytest.mark.parametrize("n", [1, 2])
@run_in_pyodide
def test_parametrize_reaches_pyodide(n: int) -> None:
    assert n in (1, 2)


def test_failure_inside_pyodide_fails_the_test(pyodide) -> None:  # type: ignore[no-untyped-def]
    @run_in_pyodide
    def boom() -> None:
        raise ValueError("raised in Pyodide")

    with pytest.raises(pytest.fail.Exception, match=r"(?s)ValueError: raised in Pyodide"):
        boom(pyodide=pyodide)
