"""``yloft types`` (issue 30): TypeScript row types from an app's Field declarations.

The types must tell the truth: a row the page gets from ``db.query`` (the engine's JSON
reply, as ``Engine.handle`` gives it to the worker) holds exactly the declared columns,
each value of its declared TypeScript type.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from yloft.app.rowtypes import TYPES_DIR, interface_name, write_types
from yloft.app.scaffold import new_app
from yloft.browser.engine import Engine
from yloft.errors import AppError, AppNotFoundError

EVERY_TYPE = """
from yloft import Field
from yloft.crdt import Map, Text

FIELDS = {
    "title": Field("title", str, fts=True),
    "count": Field("m.count", int, index=True),
    "score": Field("m.score", float),
    "done": Field("m.done", bool),
    "tags": Field("m.tags", list),
    "extra": Field("m.extra", dict),
}
_store = None


def setup(store):
    global _store
    _store = store
    store.collection("things", FIELDS)
    store.collection("todo_items", {"label": Field("label", str)})


def add_full():
    things = _store.collection("things")
    tid = things.create()
    with things.edit(tid) as doc:
        doc.get("title", type=Text).insert(0, "hi")
        m = doc.get("m", type=Map)
        m["count"], m["score"], m["done"] = 3, 1.5, True
        m["tags"], m["extra"] = ["a", "b"], {"k": 1}
    return tid


def add_empty():
    return _store.collection("things").create()
"""


def make_app(root: Path, module: str, source: str) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\nversion = "0.1.0"\n[tool.yloft]\nmodule = "{module}"\n'
    )
    (root / f"{module}.py").write_text(source)
    (root / "web").mkdir()
    (root / "web" / "index.html").write_text("<!doctype html>")
    return root


def declared(rows_ts: str, interface: str) -> dict[str, str]:
    """``{column: TS type}`` of one interface of rows.d.ts."""
    body = re.search(rf"export interface {interface} {{\n(.*?)\n}}", rows_ts, re.S)
    assert body is not None, f"no interface {interface}"
    return dict(re.findall(r"^  (\w+): (.+);$", body.group(1), re.M))


def holds(ts: str, value: object) -> bool:
    """Whether a JSON value from the engine is of the TypeScript type ``ts``."""
    for part in (p.strip() for p in ts.split("|")):
        if part == "null" and value is None:
            return True
        if part == "string" and isinstance(value, str):
            return True
        if part == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if part in ("0", "1") and value == int(part) and not isinstance(value, bool):
            return True
    return False


def test_rows_match_what_a_query_returns_for_every_field_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path / "demo", "every_type_app", EVERY_TYPE)
    written = write_types(app)
    rows_ts = (app / "web" / "rows.d.ts").read_text()
    assert written[0] == app / "web" / "rows.d.ts"
    things = declared(rows_ts, "ThingRow")
    assert things == {
        "id": "string",
        "title": "string | null",
        "count": "number | null",
        "score": "number | null",
        "done": "0 | 1 | null",
        "tags": "string | null",
        "extra": "string | null",
        "created_at": "number | null",
        "updated_at": "number | null",
    }
    assert declared(rows_ts, "TodoItemRow").keys() == {"id", "label", "created_at", "updated_at"}
    assert "  things: ThingRow;" in rows_ts and "  todo_items: TodoItemRow;" in rows_ts

    # What the page gets: the engine's JSON reply to db.query / db.call.
    monkeypatch.syspath_prepend(str(app))
    engine = Engine.open(str(tmp_path / "app.db"), app="every_type_app")
    try:

        def request(method: str, *args: object) -> object:
            reply = json.loads(engine.handle(json.dumps({"method": method, "args": list(args)})))
            assert reply["ok"], reply
            return reply["value"]

        request("call", "add_full")
        request("call", "add_empty")
        rows = request("query", "SELECT * FROM things ORDER BY title IS NULL", [])
    finally:
        engine.store.close()
    assert isinstance(rows, list) and len(rows) == 2
    full, empty = rows
    for row in rows:
        assert row.keys() == things.keys()  # every column declared, none made up
        for col, value in row.items():
            assert holds(things[col], value), f"{col}: {value!r} is not {things[col]}"
    # The cases the types warn about: 0/1 and JSON text, null where a document lacks it.
    assert full["done"] == 1 and json.loads(full["tags"]) == ["a", "b"]
    assert json.loads(full["extra"]) == {"k": 1}
    assert empty["done"] is None and empty["tags"] is None


def test_runtime_types_are_copied_beside_the_rows(tmp_path: Path) -> None:
    app = make_app(tmp_path / "demo", "copied_types_app", EVERY_TYPE)
    write_types(app)
    types = app / TYPES_DIR
    assert "export declare function connect(" in (types / "yloft.d.ts").read_text()
    assert (types / "text-input.d.ts").is_file()
    assert (types / "vendor" / "yjs.d.mts").is_file()
    assert (types / "vendor" / "editor.d.mts").is_file()


def test_an_app_without_collections_is_told_how_to_declare_one(tmp_path: Path) -> None:
    app = make_app(tmp_path / "demo", "no_collections_app", "def setup(store):\n    pass\n")
    with pytest.raises(AppError, match=r"declares no collections.*store\.collection"):
        write_types(app)
    assert not (app / "web" / "rows.d.ts").exists()


def test_a_module_that_cannot_load_is_named_with_its_error(tmp_path: Path) -> None:
    app = make_app(tmp_path / "demo", "broken_app", "import not_installed_anywhere\n")
    with pytest.raises(AppError, match=r"could not load the app module broken_app.*not_install"):
        write_types(app)
    app2 = make_app(tmp_path / "demo2", "raising_app", "def setup(store):\n    1 / 0\n")
    with pytest.raises(AppError, match=r"raising_app.*ZeroDivisionError"):
        write_types(app2)


def test_a_folder_without_an_app_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(AppNotFoundError, match=r"pyproject\.toml is missing"):
        write_types(tmp_path)


@pytest.mark.parametrize(
    ("collection", "name"),
    [("notes", "NoteRow"), ("todo_items", "TodoItemRow"), ("status", "StatusRow"),
     ("boards", "BoardRow"), ("address", "AddressRow"), ("x", "XRow")],
)  # fmt: skip
def test_interface_names(collection: str, name: str) -> None:
    assert interface_name(collection) == name


def yloft(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yloft", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_types_writes_them_and_new_does_too(tmp_path: Path) -> None:
    done = yloft("new", "todo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = tmp_path / "todo" / "web" / "rows.d.ts"
    assert "export interface ItemRow {" in rows.read_text()
    assert (tmp_path / "todo" / "jsconfig.json").is_file()
    rows.unlink()
    done = yloft("types", cwd=tmp_path / "todo")
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and rows.is_file()
    done = yloft("types", str(tmp_path / "nothing"), cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.startswith("yloft types: ")


def test_every_template_has_a_jsconfig(tmp_path: Path) -> None:
    from yloft.app.scaffold import TEMPLATES

    for template in TEMPLATES:
        files = new_app(tmp_path / template, template)
        assert tmp_path / template / "jsconfig.json" in files, template


def test_yloft_test_without_pytest_says_to_install_the_test_extra(tmp_path: Path) -> None:
    assert yloft("new", "todo", cwd=tmp_path).returncode == 0
    # pytest made unimportable, as in an install without the test extra
    code = "import sys; sys.modules['pytest'] = None; from yloft.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "test", str(tmp_path / "todo")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert 'pip install "yloft[test]"' in done.stderr
    assert "No module named" not in done.stderr


def test_the_bundle_carries_the_page_api_types(tmp_path: Path) -> None:
    from yloft.app.bundle import build_app

    app = tmp_path / "todo"
    new_app(app)
    write_types(app)
    files = build_app(app).manifest["files"]
    assert {"yloft.d.ts", "text-input.d.ts", "rows.d.ts"} <= files.keys()
