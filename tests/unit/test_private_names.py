"""No module of pylib/ or relay/ reads another module's private names.

A private name starts with one underscore (dunders are public protocol). Checked with
``ast``, per module:

- ``from .x import _y`` (or ``from x import _y``) is refused: ``_y`` belongs to ``x``;
- ``obj._name`` is refused unless ``obj`` is ``self``/``cls``, or ``_name`` is declared
  at class level by a class of the module itself (a method, a nested class, a class
  attribute or annotation, a ``__slots__`` entry): a module may use its own classes'
  private names on any of their objects, and nothing else. Assigning ``self._name``
  declares nothing (else any module could read ``other._name`` of any object by
  assigning a ``self._name`` of its own);
- the only exceptions are in :data:`ALLOWED`, each with its reason.

Importing a private *module* of the package (``from . import _sql``) or a public name
from one (``from .crdt._fast import new_doc``) is fine: modules are the package's own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "pylib").rglob("*.py"), *(ROOT / "relay").rglob("*.py")])

ALLOWED: dict[str, frozenset[str]] = {
    # The store's hot paths talk to pycrdt's Rust document and transaction directly
    # (docs/store.md, "Reading fields back"): Doc._doc, Doc._txn,
    # Doc._allow_multithreading and Transaction._txn of pycrdt 0.14.13, the version
    # pinned in pyproject.toml; a pycrdt upgrade re-checks these four reads.
    "pylib/yloft/crdt/_fast.py": frozenset({"_doc", "_txn", "_allow_multithreading"}),
}
"""Private names of other code a module may read: module (from the root) -> names."""


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own_names(tree: ast.Module) -> set[str]:
    """Every private name the module's classes declare at class level."""
    own: set[str] = set()
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        for node in cls.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, (ast.AnnAssign, ast.Assign)):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                own |= {t.id for t in targets if isinstance(t, ast.Name)}
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
    if path is not None and path.is_relative_to(ROOT):
        own |= ALLOWED.get(path.relative_to(ROOT).as_posix(), frozenset())
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
    # Assigning self._x declares nothing: other._x stays another object's.
    mine = "class A:\n    def __init__(self):\n        self._x = 1\n"
    assert violations(mine + "    def f(self, o):\n        return o._x\n") == ["5: o._x"]
    assert violations("_x = 1\ndef f(o):\n    _y = 2\n    return o._x, o._y\n") == [
        "4: o._x",
        "4: o._y",
    ]


def test_the_allowed_reads_are_the_ones_made() -> None:
    """An allowance nobody needs any more goes (pycrdt internals are read in _fast only)."""
    for name, allowed in ALLOWED.items():
        source = (ROOT / name).read_text()
        reads = {
            n.attr
            for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)
        }
        assert allowed <= reads, f"{name} no longer reads {sorted(allowed - reads)}"
    pinned = (ROOT / "pyproject.toml").read_text()
    assert '"pycrdt==0.14.13;' in pinned, "pycrdt changed: re-check ALLOWED's reads of _fast.py"
    assert violations("from . import _writer\n", ROOT / "pylib/yloft/store/store.py") == []
