"""No module of pylib/ or relay/ reads another module's private names.

A private name starts with one underscore (dunders are public protocol). Checked with
``ast``, per module:

- ``from .x import _y`` (or ``from x import _y``) is refused: ``_y`` belongs to ``x``;
- ``obj._name`` is refused unless ``obj`` is ``self``/``cls`` or ``_name`` is defined
  in the module itself (a method, a class attribute, a ``__slots__`` entry, an
  attribute assigned there, a module-level name): a module may use its own private
  names on any object of its own classes, and nothing else.

Importing a private *module* of the package (``from . import _sql``) or a public name
from one (``from .crdt._fast import new_doc``) is fine: modules are the package's own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "pylib").rglob("*.py"), *(ROOT / "relay").rglob("*.py")])


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own_names(tree: ast.Module) -> set[str]:
    """Every private name this module defines, on any object."""
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                own.add(node.attr)  # writing another object's private name defines nothing
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
        elif isinstance(node, ast.alias):
            own.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, (ast.AnnAssign, ast.Assign)):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            slots = any(isinstance(t, ast.Name) and t.id == "__slots__" for t in targets)
            if slots and node.value is not None:
                own |= {
                    c.value
                    for c in ast.walk(node.value)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                }
    return {n for n in own if _private(n)}


def _is_submodule(path: Path | None, node: ast.ImportFrom, name: str) -> bool:
    """``from .pkg import _mod`` where ``_mod`` is a module of that package."""
    if path is None or node.level == 0:
        return False
    package = path.parent
    for _ in range(node.level - 1):
        package = package.parent
    package = package.joinpath(*(node.module or "").split(".")) if node.module else package
    return (package / f"{name}.py").exists() or (package / name / "__init__.py").exists()


def violations(source: str, path: Path | None = None) -> list[str]:
    """Where ``source`` reads another module's private names ("line: what")."""
    tree = ast.parse(source, str(path or "<module>"))
    own = _own_names(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if _private(alias.name) and not _is_submodule(path, node, alias.name):
                    module = "." * node.level + (node.module or "")
                    found.append(f"{node.lineno}: from {module} import {alias.name}")
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if not _private(node.attr) or node.attr in own:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_reads_another_modules_private_names(path: Path) -> None:
    found = violations(path.read_text(), path)
    assert not found, f"{path.relative_to(ROOT)} reads private names of other modules: {found}"


def test_the_check_finds_what_it_should() -> None:
    assert violations("from .x import _y\n") == ["1: from .x import _y"]
    assert violations("def f(store):\n    return store._con\n") == ["2: store._con"]
    assert violations("def f(a):\n    return a.b._c()\n") == ["2: a.b._c"]
    own = "class A:\n    def _m(self): ...\n    def f(self, other):\n        return other._m()\n"
    assert violations(own) == []
    assert violations("class A:\n    __slots__ = ('_x',)\n\ndef f(a):\n    return a._x\n") == []
    assert violations("def f(self, x):\n    return self._x, x.__class__\n") == []
    assert violations("def f(a):\n    a._x = 1\n    return a._x\n") == ["3: a._x"]
    assert violations("from . import _writer\n", ROOT / "pylib/yloft/store/store.py") == []
