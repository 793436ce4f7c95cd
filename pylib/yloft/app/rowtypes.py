"""``yloft types [DIR]``: TypeScript types for an app's page (docs/types.md).

It imports the app's module on CPython, runs its ``setup(store)`` on an empty in-memory
store and writes, from the collections it declared:

- ``web/rows.d.ts``: one interface per collection (``notes`` -> ``NoteRow``) with every
  column of its table as a query row holds it in the page (:data:`TS_TYPES`), and
  ``Rows`` mapping collection names to them;
- ``.yloft/types/``: the runtime's declarations (``yloft.d.ts``, ``text-input.d.ts``,
  ``bindings/*.d.ts``) and the vendored bundles' (:data:`TYPINGS`), which the app's
  ``jsconfig.json`` puts beside ``web/`` (``rootDirs``), so ``import ... from
  "./yloft.js"`` is typed.

Example::

    written = write_types(Path("todo"))   # [.../web/rows.d.ts, .../.yloft/types/yloft.d.ts, ...]

A query row holds what SQLite stored, sent as JSON: a ``bool`` field arrives as ``0`` or
``1``, a ``list`` or ``dict`` field as its JSON text, and any field is ``null`` in a
document that lacks it (or holds a value of another type).
"""

from __future__ import annotations

import importlib
import re
import shutil
import sys
from pathlib import Path

from ..errors import AppError, YloftError
from ..schema import CollectionSchema
from ..store import Store
from .deps import resolve
from .project import App, load_app
from .runtime import RUNTIME

ROWS_FILE = "rows.d.ts"
TYPES_DIR = Path(".yloft") / "types"
TYPINGS = Path(__file__).resolve().parent / "typings"
"""Declarations of the vendored bundles (``vendor/yjs.mjs``, ``editor.mjs``, ``preact.mjs``)."""

PAGE = {"yloft.d.ts", "text-input.d.ts", "bindings"}
"""What of the runtime's declarations an app's page may import (not the devtools')."""
TS_TYPES: dict[type, str] = {
    str: "string",
    int: "number",
    float: "number",
    bool: "0 | 1",
    list: "string",
    dict: "string",
}
"""A field column's value in a query row, by the Field's type (``| null`` is added)."""
_NOTES = {bool: "0 or 1", list: "JSON text of a list", dict: "JSON text of an object"}
# Every table's own columns (schema.CollectionSchema.create_sql).
_META = [
    ("id", "string", "the document id"),
    ("created_at", "number | null", "creation time (unix seconds)"),
    ("updated_at", "number | null", "last change (unix seconds)"),
]


def interface_name(collection: str) -> str:
    """``notes`` -> ``NoteRow``, ``todo_items`` -> ``TodoItemRow``, ``status`` -> ``StatusRow``."""
    words = [w for w in re.split(r"[_\W]+", collection) if w]
    last = words[-1]
    if len(last) > 1 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        words[-1] = last[:-1]
    return "".join(w[:1].upper() + w[1:] for w in words) + "Row"


def _prop(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", name) else f'"{name}"'


def rows_source(schemas: list[CollectionSchema]) -> str:
    """The text of ``rows.d.ts`` for these collections."""
    names = [interface_name(s.name) for s in schemas]
    clash = {n for n in names if names.count(n) > 1}
    out = [
        "// Written by `yloft types` from the app's Field declarations: do not edit, run it",
        "// again after changing them (docs/types.md). A row holds what SQLite stored: a bool",
        "// field is 0 or 1, a list or dict field its JSON text (JSON.parse it), and a field",
        "// is null in a document without it. Pick the columns a query selects:",
        '//   /** @type {Pick<NoteRow, "id" | "title">[]} */',
        "",
    ]
    rows = []
    for schema, name in zip(schemas, names, strict=True):
        if name in clash:  # "note" and "notes": keep the plural (NotesRow)
            name = "".join(w[:1].upper() + w[1:] for w in schema.name.split("_")) + "Row"
        rows.append((schema.name, name))
        out.append(f"/** A row of the {schema.name!r} collection's table. */")
        out.append(f"export interface {name} {{")
        for col, ts, note in _META[:1]:
            out += [f"  /** {note} */", f"  {col}: {ts};"]
        for col, field in schema.fields:
            kind = field.type
            note = f"{field.path}: {kind.__name__}"
            if kind in _NOTES:
                note += f", {_NOTES[kind]}"
            out += [f"  /** {note} */", f"  {_prop(col)}: {TS_TYPES[kind]} | null;"]
        for col, ts, note in _META[1:]:
            out += [f"  /** {note} */", f"  {col}: {ts};"]
        out += ["}", ""]
    out.append("/** Each collection's row type, by collection name. */")
    out.append("export interface Rows {")
    out += [f"  {_prop(coll)}: {name};" for coll, name in rows]
    out.append("}")
    return "\n".join(out) + "\n"


def declared_collections(app: App) -> list[CollectionSchema]:
    """Run the app's ``setup(store)`` on an empty in-memory store; its collections.

    Raises:
        AppError: the module cannot be imported, its ``setup`` raised, or it declared no
            collection.
    """
    cache = app.root / ".yloft" / "wheels"
    wheels = [cache / w.file for w in resolve(app, cache)] if app.dependencies else []
    paths = [app.root, *wheels]
    for path in paths:
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    for name in [m for m in sys.modules if m == app.module or m.startswith(app.module + ".")]:
        del sys.modules[name]  # the module as it is now, not an earlier import of it
    store = Store(":memory:")
    try:
        try:
            module = importlib.import_module(app.module)
            setup = getattr(module, "setup", None)
            if callable(setup):
                setup(store)
        except YloftError:
            raise
        except Exception as exc:
            raise AppError(
                f"could not load the app module {app.module} to read its collections: "
                f"{type(exc).__name__}: {exc}; fix it (yloft test shows the traceback)"
            ) from exc
        schemas = [store.collection(name).schema for name in store.collections()]
    finally:
        store.close()
    if not schemas:
        raise AppError(
            f"{app.module} declares no collections, so there are no row types to write: "
            'declare one in setup(store), e.g. store.collection("items", {"title": '
            'Field("item.title", str)})'
        )
    return schemas


def copy_runtime_types(root: Path) -> list[Path]:
    """The runtime's and the vendored bundles' declarations into ``root/.yloft/types/``."""
    dest = root / TYPES_DIR
    sources = sorted(p for p in RUNTIME.rglob("*.d.ts") if p.relative_to(RUNTIME).parts[0] in PAGE)
    if not sources:
        raise AppError(
            f"this yloft installation has no page API types ({RUNTIME} lacks yloft.d.ts): "
            "install yloft from its wheel, or in a checkout run `python3 build.py build`"
        )
    if dest.exists():
        shutil.rmtree(dest)
    written = []
    for src in [*sources, *sorted(TYPINGS.rglob("*.d.mts"))]:
        rel = src.relative_to(TYPINGS if src.is_relative_to(TYPINGS) else RUNTIME)
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out)
        written.append(out)
    return written


def write_types(root: Path) -> list[Path]:
    """``yloft types``: write ``web/rows.d.ts`` and ``.yloft/types/``; the files written.

    Raises:
        AppNotFoundError: ``root`` holds no app.
        AppError: the app's module cannot be loaded or declares no collection.
    """
    app = load_app(root)
    source = rows_source(declared_collections(app))
    rows = app.web_dir / ROWS_FILE
    rows.write_text(source, encoding="utf-8")
    return [rows, *copy_runtime_types(app.root)]
