"""Resolve an app's dependencies at build time into pure-Python wheels and a lock file.

The browser's Pyodide can load pure-Python wheels (``py3-none-any``) and what its
runtime holds (the standard library, sqlite3); PyPI has no Pyodide build of compiled
packages here (DESIGN.md §5). So ``pip download`` resolves the requirements for
Python 3.14 with only ``none-any`` wheels allowed, and a requirement that has none is
refused now, naming the package, instead of failing in a user's browser.

The result is written to ``yloft-lock.json`` beside ``pyproject.toml`` and the wheels are
kept in ``.yloft/wheels/``; a later build whose requirements did not change reuses both
without running pip.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import AppError, DependencyError
from .project import App
from .wheel import dist_name

PYODIDE_PYTHON = "3.14"
LOCK_FILE = "yloft-lock.json"
# Provided by the bundle itself (yloft) or never needed in the browser.
PROVIDED = frozenset({"yloft"})


@dataclass(frozen=True)
class Locked:
    """One resolved wheel: ``file`` in the wheel cache, with its sha256."""

    name: str
    version: str
    file: str
    sha256: str


def requirement_name(req: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    if match is None:
        raise AppError(f"dependency {req!r} is not a valid requirement: use e.g. 'humanize==4.15'")
    return dist_name(match.group(1))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _from_lock(app: App, requirements: list[str], cache: Path) -> list[Locked] | None:
    """The lock file's wheels when it matches these requirements and the cache has them."""
    try:
        data = json.loads((app.root / LOCK_FILE).read_text())
        if data.get("requirements") != requirements or data.get("python") != PYODIDE_PYTHON:
            return None
        locked = [Locked(**w) for w in data["wheels"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for w in locked:
        path = cache / w.file
        if not path.is_file() or _sha256(path) != w.sha256:
            return None
    return locked


def _refusal(stderr: str) -> DependencyError | None:
    """A DependencyError naming the package pip found no usable wheel for, if that was it."""
    match = re.search(r"(?:No matching distribution found for|satisfies the requirement) (\S+)",
                      stderr)  # fmt: skip
    if match is None:
        return None
    package = match.group(1)
    return DependencyError(
        package,
        f"dependency {package} cannot run in the browser: PyPI has no pure-Python wheel "
        f"(py3-none-any) of it for Python {PYODIDE_PYTHON}, and Pyodide loads only pure-Python "
        "wheels (compiled packages have no Pyodide build here). Remove it from [project] "
        "dependencies in pyproject.toml or choose a pure-Python package.",
    )


def _download(requirements: list[str], cache: Path) -> list[Locked]:
    with tempfile.TemporaryDirectory(prefix="yloft-deps-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
               "--only-binary=:all:", "--python-version", PYODIDE_PYTHON,
               "--implementation", "py", "--abi", "none", "--platform", "any",
               "-d", tmp, *requirements]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            refusal = _refusal(proc.stderr)
            if refusal is not None:
                raise refusal
            raise AppError(
                "resolving the app's dependencies failed (is PyPI reachable?): "
                + proc.stderr.strip()[-2000:]
            )
        cache.mkdir(parents=True, exist_ok=True)
        locked = []
        for whl in sorted(Path(tmp).glob("*.whl")):
            name, version = whl.name.split("-")[:2]
            if dist_name(name) in PROVIDED:
                continue
            shutil.copy2(whl, cache / whl.name)
            locked.append(Locked(dist_name(name), version, whl.name, _sha256(whl)))
        return locked


def resolve(app: App, cache: Path | None = None) -> list[Locked]:
    """The app's dependencies as locked wheels (in ``cache``, default ``.yloft/wheels``).

    Raises:
        DependencyError: a requirement has no wheel Pyodide can load (``.package`` names it).
        AppError: pip failed for another reason (its message is included).
    """
    cache = cache or app.root / ".yloft" / "wheels"
    requirements = sorted(r for r in app.dependencies if requirement_name(r) not in PROVIDED)
    locked = _from_lock(app, requirements, cache)
    if locked is None:
        locked = _download(requirements, cache) if requirements else []
        lock = {
            "python": PYODIDE_PYTHON,
            "requirements": requirements,
            "wheels": [w.__dict__ for w in locked],
        }
        (app.root / LOCK_FILE).write_text(json.dumps(lock, indent=1) + "\n")
    return locked
