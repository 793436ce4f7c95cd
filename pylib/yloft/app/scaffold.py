"""``yloft new DIR``: scaffold an app whose tests pass as generated.

Templates are folders under ``yloft/app/templates/`` (and, for the notes and tasks
examples, copies of ``examples/notes`` and ``examples/tasks`` in
``yloft/runtime/templates/``). A template may be layers: ``preact`` is ``blank``'s Python
with its own page and tests written over it. In ``*.tmpl`` files
``__NAME__``, ``__MODULE__`` and ``__TITLE__`` are replaced, ``module.py`` becomes
``<module>.py`` and ``gitignore`` becomes ``.gitignore``; other files are copied as
they are.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import AppError
from .runtime import RUNTIME

_OWN = Path(__file__).resolve().parent / "templates"
TEMPLATES = {
    "blank": (_OWN / "blank",),
    "notes": (RUNTIME / "templates" / "notes",),
    "preact": (_OWN / "blank", _OWN / "preact"),  # the page on yloft's Preact bindings
    "tasks": (RUNTIME / "templates" / "tasks",),
}
"""Each template's folders, later ones written over earlier ones."""


def names_for(dest: Path) -> dict[str, str]:
    """``todo-list`` -> name ``todo-list``, module ``todo_list_app``, title ``Todo list``."""
    name = dest.name.lower()
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,63}", name):
        raise AppError(
            f"{dest.name!r} cannot name an app: start with a letter and use letters, digits, "
            "- or _ (at most 64), e.g. `yloft new todo`"
        )
    words = re.split(r"[-_]+", name)
    return {
        "__NAME__": name,
        "__MODULE__": "_".join(words) + "_app",
        "__TITLE__": " ".join(words).capitalize(),
    }


def _target(rel: Path, names: dict[str, str]) -> Path:
    parts = list(rel.parts)
    parts[-1] = parts[-1].removesuffix(".tmpl")
    if parts[-1] == "module.py":
        parts[-1] = f"{names['__MODULE__']}.py"
    elif parts[-1] == "gitignore":
        parts[-1] = ".gitignore"
    return Path(*parts)


def new_app(dest: Path, template: str = "blank") -> list[Path]:
    """Write the template into ``dest`` (created; must be empty) and return the files."""
    layers = TEMPLATES.get(template)
    if layers is None:
        raise AppError(f"no template {template!r}: choose one of {', '.join(sorted(TEMPLATES))}")
    for source in layers:
        if not source.is_dir():
            raise AppError(f"this yloft installation lacks the {template!r} template ({source})")
    names = names_for(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise AppError(f"{dest} already exists and is not empty: pick a new folder name")
    written: dict[Path, None] = {}  # in order, each file once (a later layer overwrites)
    for source in layers:
        for out in _write_layer(source, dest, names):
            written[out] = None
    return list(written)


def _write_layer(source: Path, dest: Path, names: dict[str, str]) -> list[Path]:
    written = []
    for src in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = src.relative_to(source)
        if "__pycache__" in rel.parts:
            continue
        data = src.read_bytes()
        if src.suffix == ".tmpl":
            text = data.decode()
            for key, value in names.items():
                text = text.replace(key, value)
            data = text.encode()
            rel = _target(rel, names)
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        written.append(out)
    return written
