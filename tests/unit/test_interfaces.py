"""No module uses more of another module's members than stated here (issue 25).

A caller that needs a dozen of another module's members is a sign the boundary is in
the wrong place (CONVENTIONS.md §18). So for every pair of modules of pylib/ and
relay/ this test counts the distinct *members* of module N that module M touches: the
attribute names M reads, calls or assigns on something of N's — N itself
(``_feed.floor``), a class of N (``CachedDoc.created``) or an object M knows to be an
instance of one of N's classes. M knows what a reader of M knows, found with ``ast``:
a parameter, variable or attribute annotated with the class (``writer: Writer``,
``X | None`` too), ``x = Class(...)``, ``self.x = <known>``, and from N's own source
what a known object's attributes hold and what its methods return (their annotations).
Objects typed ``Any`` or not annotated are not followed.

Every pair may touch at most :data:`DEFAULT` members; :data:`LIMITS` states the pairs
that may touch more (the store's composition root) and pins narrow interfaces down to
what they are (a Collection uses the Writer's verbs and nothing of CachedDoc). Writes
are stricter: a module assigns another module's attributes only where :data:`WRITES`
says so, and a cached document's ``stage`` only moves inside ``_cached``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = (ROOT / "pylib", ROOT / "relay")
PACKAGES = ("yloft", "yloft_relay")

DEFAULT = 10
"""Members of one module another module may touch, unless LIMITS says otherwise."""

LIMITS: dict[tuple[str, str], int] = {
    # The store's interfaces, pinned to what they are. A Collection uses the Writer's
    # verbs (create, open, commit, abort, apply, delete, read, settled, check_open) and
    # the opened block's doc; the feed reads and writes through it; the Store (the
    # composition root) opens and closes it, runs transactions, finds documents to compact.
    ("yloft.store.collection", "yloft.store._writer"): 10,
    ("yloft.store.feed", "yloft.store._writer"): 3,
    ("yloft.store.store", "yloft.store._writer"): 9,
    ("yloft.store.archive", "yloft.store.collection"): 3,
    ("yloft.store.archive", "yloft.store.feed"): 3,
    # The write path (Writer, write-out) owns cached documents: it moves their stage
    # through CachedDoc's methods and keeps their bookkeeping.
    ("yloft.store._writer", "yloft.store._cached"): 17,
    ("yloft.store._writeout", "yloft.store._cached"): 15,
    # Pinned to what they are after issue 25's transport policy: the session drives the
    # client state machine; both relay adapters move bytes through the session (and read
    # its policy); the relay's server drives its peers.
    ("yloft.sync.session", "yloft.sync.client"): 22,
    ("yloft.sync.websocket", "yloft.sync.session"): 15,
    ("yloft.browser.relay", "yloft.sync.session"): 15,
    ("yloft_relay.server", "yloft_relay.peer"): 14,
}

WRITES: dict[tuple[str, str], str] = {
    # The write path's bookkeeping of a cached document (its stage moves only in _cached).
    ("yloft.store._writeout", "yloft.store._cached"): "incomplete key log_bytes log_count row",
    ("yloft.store._compaction", "yloft.store._cached"): "log_bytes log_count",
    ("yloft.store._doccache", "yloft.store._cached"): "deleted log_bytes log_count",
    # Settings the Store's properties set.
    ("yloft.store.store", "yloft.store._doccache"): "size",
    ("yloft.store.store", "yloft.store._writeout"): "max_log_bytes max_log_entries",
    # Pinned to what they are (issue 25).
    ("yloft.sync.session", "yloft.sync.client"): "last_seq relay_id token",
    ("yloft.sync.websocket", "yloft.sync.client"): "token",
    ("yloft.browser.relay", "yloft.sync.client"): "token",
    ("yloft.browser.relay", "yloft.sync.session"): "on_awareness",
    ("yloft_relay.server", "yloft_relay.peer"): "label pending",
    ("yloft.crdt._yjs._transaction", "yloft.crdt._yjs._core"): "txn",
    ("yloft.crdt._yjs._base", "yloft.crdt._yjs._map"): "delta keys path target transaction",
}
"""Attributes of another module's objects a module may assign (space-separated)."""


# ------------------------------------------------------------------ the analysis


@dataclass(frozen=True)
class Ref:
    """What an expression is: a module, a class, or an instance of a class."""

    module: str
    cls: str | None = None
    instance: bool = False


@dataclass
class ClassInfo:
    attrs: dict[str, ast.expr] = field(default_factory=dict)  # attribute -> annotation
    returns: dict[str, ast.expr] = field(default_factory=dict)  # method -> return annotation
    bound: dict[str, Ref] = field(default_factory=dict)  # attribute -> what was assigned
    enum: bool = False  # an Enum: its members are values, not an interface


def _module_name(path: Path) -> str:
    for root in SOURCE_ROOTS:
        if path.is_relative_to(root):
            parts = list(path.relative_to(root).with_suffix("").parts)
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise ValueError(path)


def _sources() -> dict[str, Path]:
    out = {}
    for root in SOURCE_ROOTS:
        for path in root.rglob("*.py"):
            if "runtime" in path.relative_to(root).parts:
                continue
            out[_module_name(path)] = path
    return out


SOURCES = _sources()


@cache
def _tree(module: str) -> ast.Module:
    return ast.parse(SOURCES[module].read_text(), str(SOURCES[module]))


def _is_package(module: str) -> bool:
    return SOURCES[module].name == "__init__.py"


@cache
def _imports(module: str) -> dict[str, tuple[str, str | None]]:
    """Local name -> (module, name in it), or (module, None) for a module imported whole."""
    out: dict[str, tuple[str, str | None]] = {}
    base = module.split(".") if _is_package(module) else module.split(".")[:-1]
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = base[: len(base) - node.level + 1]
                source = ".".join(pkg + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                local = alias.asname or alias.name
                if f"{source}.{alias.name}" in SOURCES:
                    out[local] = (f"{source}.{alias.name}", None)
                elif source in SOURCES:
                    out[local] = (source, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in SOURCES and alias.asname:
                    out[alias.asname] = (alias.name, None)
    return out


def _defining(module: str, name: str, depth: int = 0) -> tuple[str, str] | None:
    """Where class ``name`` seen in ``module`` is defined (following re-exports)."""
    if name in _classes(module):
        return module, name
    target = _imports(module).get(name)
    if target is None or target[1] is None or depth > 5:
        return None
    return _defining(target[0], target[1], depth + 1)


def _annotation_ref(module: str, node: ast.expr | None) -> Ref | None:
    """The class an annotation names (``X``, ``X | None``, ``"X"``), as an instance."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _annotation_ref(module, ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        refs = [_annotation_ref(module, side) for side in (node.left, node.right)]
        known = [r for r in refs if r is not None]
        return known[0] if len(known) == 1 else None
    if isinstance(node, ast.Name):
        found = _defining(module, node.id)
        return None if found is None else Ref(found[0], found[1], instance=True)
    return None


@cache
def _classes(module: str) -> dict[str, ClassInfo]:
    out: dict[str, ClassInfo] = {}
    for node in _tree(module).body:
        if not isinstance(node, ast.ClassDef):
            continue
        info = out[node.name] = ClassInfo()
        info.enum = any(ast.unparse(b).endswith("Enum") for b in node.bases)
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                info.attrs[item.target.id] = item.annotation
            elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if item.returns is not None:
                    info.returns[item.name] = item.returns
                    if any(_is_property(d) for d in item.decorator_list):
                        info.attrs[item.name] = item.returns
                for sub in ast.walk(item):
                    if isinstance(sub, ast.AnnAssign) and _self_attr(sub.target):
                        info.attrs[sub.target.attr] = sub.annotation
    return out


def _is_property(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "property"


def _self_attr(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _class_bindings(module: str) -> None:
    """Fill ``bound``: ``self.x = <known>`` in each method (``self.x = param`` mostly)."""
    for node in _tree(module).body:
        if not isinstance(node, ast.ClassDef):
            continue
        info = _classes(module)[node.name]
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                env = _env(module, item, Ref(module, node.name, instance=True))
                for sub in ast.walk(item):
                    if isinstance(sub, ast.Assign):
                        for target in sub.targets:
                            if _self_attr(target) and target.attr not in info.attrs:
                                ref = _type_of(module, sub.value, env)
                                if ref is not None:
                                    info.bound[target.attr] = ref


_BOUND: set[str] = set()  # modules whose bindings are found (or being found)


def _bound_done(module: str) -> None:
    if module not in _BOUND:
        _BOUND.add(module)
        _class_bindings(module)


def _attr_type(ref: Ref, name: str) -> Ref | None:
    """What attribute ``name`` of an instance of ``ref`` holds, as its module says."""
    assert ref.cls is not None
    info = _classes(ref.module).get(ref.cls)
    if info is None:
        return None
    if name in info.attrs:
        return _annotation_ref(ref.module, info.attrs[name])
    _bound_done(ref.module)
    return info.bound.get(name)


def _type_of(module: str, node: ast.expr, env: dict[str, Ref]) -> Ref | None:
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        target = _imports(module).get(node.id)
        if target is not None and target[1] is None:
            return Ref(target[0])
        found = _defining(module, node.id)
        return None if found is None else Ref(found[0], found[1])
    if isinstance(node, ast.Attribute):
        owner = _type_of(module, node.value, env)
        if owner is None:
            return None
        if owner.cls is None:  # a module: one of its classes or submodules
            if f"{owner.module}.{node.attr}" in SOURCES:
                return Ref(f"{owner.module}.{node.attr}")
            found = _defining(owner.module, node.attr)
            return None if found is None else Ref(found[0], found[1])
        return _attr_type(owner, node.attr) if owner.instance else None
    if isinstance(node, ast.Call):
        func = _type_of(module, node.func, env)
        if func is not None and func.cls is not None and not func.instance:
            return Ref(func.module, func.cls, instance=True)  # a constructor call
        if isinstance(node.func, ast.Attribute):
            owner = _type_of(module, node.func.value, env)
            if owner is not None and owner.cls is not None:
                info = _classes(owner.module).get(owner.cls)
                if info is not None and node.func.attr in info.returns:
                    return _annotation_ref(owner.module, info.returns[node.func.attr])
    return None


_CONTAINERS = {"list", "set", "frozenset", "Sequence", "Iterable", "Iterator", "Collection"}


def _elements(node: ast.expr | None) -> ast.expr | None:
    """``T`` of an annotation ``list[T]`` (or another container of T), else None."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id in _CONTAINERS
    ):
        return node.slice
    return None


def _bind_loop(module: str, target: ast.expr, elem: ast.expr, env: dict[str, Ref]) -> None:
    """``for target in <list[elem]>``: a name, or a tuple unpacking ``tuple[...]``."""
    if isinstance(target, ast.Name):
        ref = _annotation_ref(module, elem)
        if ref is not None:
            env[target.id] = ref
    elif isinstance(target, ast.Tuple) and isinstance(elem, ast.Subscript):
        parts = elem.slice.elts if isinstance(elem.slice, ast.Tuple) else []
        if isinstance(elem.value, ast.Name) and elem.value.id == "tuple":
            for sub, part in zip(target.elts, parts, strict=False):
                _bind_loop(module, sub, part, env)


def _env(module: str, func: ast.AST, self_ref: Ref | None) -> dict[str, Ref]:
    """What the names of a function (or module body) are known to hold."""
    env: dict[str, Ref] = {}
    annotated: dict[str, ast.expr] = {}  # name -> its annotation (containers included)
    if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = func.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        for i, arg in enumerate(every):
            if i == 0 and self_ref is not None and arg.arg in ("self", "cls"):
                env[arg.arg] = self_ref
                continue
            if arg.annotation is not None:
                annotated[arg.arg] = arg.annotation
            ref = _annotation_ref(module, arg.annotation)
            if ref is not None:
                env[arg.arg] = ref
    body = (
        func.body if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)) else []
    )
    for _ in range(2):  # twice: a name assigned from a name assigned later in the text
        for node in _walk_scope(body):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                annotated[node.target.id] = node.annotation
                ref = _annotation_ref(module, node.annotation)
                if ref is not None:
                    env[node.target.id] = ref
            elif isinstance(node, ast.For) and isinstance(node.iter, ast.Name):
                elem = _elements(annotated.get(node.iter.id))
                if elem is not None:
                    _bind_loop(module, node.target, elem, env)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    ref = _type_of(module, node.value, env)
                    if ref is not None:
                        env[target.id] = ref
            elif isinstance(node, ast.NamedExpr):
                ref = _type_of(module, node.value, env)
                if ref is not None:
                    env[node.target.id] = ref
    return env


def _walk_scope(body: list[ast.stmt]):
    """Every node of a scope, not descending into nested functions or classes."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        for child in reversed(list(ast.iter_child_nodes(node))):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stack.append(child)


def _scopes(module: str):
    """(scope, what its names hold) for the module body and every function and method."""
    tree = _tree(module)
    yield tree, _env(module, tree, None)
    owner = {
        id(item): node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for item in node.body
    }
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            cls = owner.get(id(node))
            yield node, _env(module, node, None if cls is None else Ref(module, cls, True))


@cache
def touched(module: str) -> dict[str, dict[str, bool]]:
    """module N -> {member of N touched by ``module``: True when it is assigned}."""
    out: dict[str, dict[str, bool]] = defaultdict(dict)
    for scope, env in _scopes(module):
        body = scope.body
        for node in _walk_scope(body):
            if not isinstance(node, ast.Attribute):
                continue
            if node.attr.startswith("__") and node.attr.endswith("__"):
                continue
            owner = _type_of(module, node.value, env)
            if owner is None or owner.module == module or owner.cls is None:
                continue  # a module's own name, or a name looked up in a module (an import)
            if _classes(owner.module)[owner.cls].enum:
                continue
            write = isinstance(node.ctx, ast.Store)
            seen = out[owner.module]
            seen[node.attr] = seen.get(node.attr, False) or write
    return dict(out)


# ------------------------------------------------------------------ the tests

PAIRS = sorted((m, n) for m in SOURCES for n in touched(m))


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}->{p[1]}")
def test_a_module_touches_few_members_of_another(pair: tuple[str, str]) -> None:
    members = touched(pair[0])[pair[1]]
    limit = LIMITS.get(pair, DEFAULT)
    assert len(members) <= limit, (
        f"{pair[0]} touches {len(members)} members of {pair[1]} (at most {limit}): "
        f"{sorted(members)}; give {pair[1]} a narrower interface, or state why in LIMITS"
    )


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}->{p[1]}")
def test_a_module_writes_another_modules_state_only_where_stated(pair: tuple[str, str]) -> None:
    written = {name for name, write in touched(pair[0])[pair[1]].items() if write}
    allowed = set(WRITES.get(pair, "").split())
    assert written <= allowed, (
        f"{pair[0]} assigns {sorted(written - allowed)} of {pair[1]}'s objects; "
        f"ask {pair[1]} to do it (a method), or state why in WRITES"
    )


def test_limits_name_existing_pairs() -> None:
    for pair in [*LIMITS, *WRITES]:
        assert pair[0] in SOURCES and pair[1] in SOURCES, pair


def test_only_a_cached_document_moves_its_stage() -> None:
    for module in SOURCES:
        stage = touched(module).get("yloft.store._cached", {}).get("stage", False)
        assert not stage, f"{module} assigns a CachedDoc's stage: call a CachedDoc method"


def test_the_collection_uses_the_writers_verbs_only() -> None:
    used = set(touched("yloft.store.collection").get("yloft.store._writer", {}))
    verbs = {"create", "open", "commit", "abort", "apply", "delete", "read", "settled"}
    assert used <= verbs | {"check_open", "doc"}, used
    assert "yloft.store._cached" not in touched("yloft.store.collection")


def test_the_analysis_sees_what_it_should() -> None:
    # store.py builds the writer and calls it: its use of the Writer is seen.
    assert {"transaction", "settled", "close"} <= set(
        touched("yloft.store.store")["yloft.store._writer"]
    )
    # The write-out assigns a cached document's fields (seen as writes), through a
    # loop over an annotated list of tuples.
    assert touched("yloft.store._writeout")["yloft.store._cached"]["log_count"] is True
    # A module's names (an import, not an object's interface) and Enum members are not
    # counted: the feed's SQL module is not a member of anything.
    assert "yloft.store._feed" not in touched("yloft.store.feed")
