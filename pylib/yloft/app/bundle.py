"""``yloft build``: an app folder -> one static folder that runs offline.

The bundle holds the runtime (from ``yloft/runtime/``), the yloft wheel for the browser,
the app's wheel, its locked dependencies and the app's own ``web/`` files, plus::

    manifest.json   every file with its size and sha256, and which wheels load when
    sw.js           the service worker, stamped with this build's id: it precaches
                    exactly the files of the manifest

Example::

    result = build_app(Path("todo"))          # writes todo/dist/
    result.out, result.manifest["apps"]        # (PosixPath('.../todo/dist'), {'todo_app': ...})
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AppError
from .deps import Locked, resolve
from .project import App, load_app
from .runtime import RUNTIME_FETCHED, runtime_files, write_browser_wheel
from .wheel import package_files, write_wheel

BUILD_ID = "__YLOFT_BUILD__"


@dataclass(frozen=True)
class BuildResult:
    out: Path
    app: App
    manifest: dict[str, Any]

    @property
    def size(self) -> int:
        """Bytes of every file in the manifest."""
        return sum(int(f["size"]) for f in self.manifest["files"].values())


def _copy_app_web(app: App, out: Path, taken: set[str]) -> None:
    for src in sorted(app.web_dir.rglob("*")):
        rel = src.relative_to(app.web_dir)
        if not src.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        if rel.parts[0] in taken:
            raise AppError(
                f"{app.web}/{rel.as_posix()} would replace the runtime's {rel.parts[0]}: "
                "rename it (the runtime owns that name in the bundle)"
            )
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)


def _app_wheel(app: App, dest: Path) -> Path:
    if app.module_path.is_dir():
        files = package_files(app.module_path, app.module)
    else:
        files = {f"{app.module}.py": app.module_path.read_bytes()}
    return write_wheel(dest, app.name, app.version, files)


def _link_or_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)  # the runtime's megabytes, without copying them each build
    except OSError:
        shutil.copy2(src, dest)


def _file_table(out: Path) -> dict[str, dict[str, Any]]:
    files = {}
    for f in sorted(out.rglob("*")):
        if f.is_file():
            data = f.read_bytes()
            files[f.relative_to(out).as_posix()] = {
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
    return files


def _write_manifest(
    out: Path, app: App, wheels: dict[str, Any], devtools: bool = False
) -> dict[str, Any]:
    """Stamp sw.js with the id of every other file, then list them all (sw.js too);
    ``devtools``: the bundle enables the devtools panel (docs/devtools.md)."""
    files = _file_table(out)
    files.pop("sw.js", None)
    build_id = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
    sw = out / "sw.js"
    sw.unlink()  # a hard link to the runtime's file: never write through it
    sw.write_text(
        (runtime_files()["sw.js"]).read_text(encoding="utf-8").replace(BUILD_ID, build_id),
        encoding="utf-8",
    )
    data = sw.read_bytes()
    files["sw.js"] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {
        "app": {"name": app.name, "version": app.version, "module": app.module},
        "build": build_id,
        **wheels,
        "runtime": [f"pyodide/{n}" for n in RUNTIME_FETCHED],
        "files": dict(sorted(files.items())),
    }
    if devtools:
        manifest["devtools"] = True
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def build_app(root: Path, out: Path | None = None, *, devtools: bool = False) -> BuildResult:
    """Build the app folder ``root`` into ``out`` (default ``root/dist``), replacing it.

    ``devtools``: the bundle enables the devtools panel whatever the page passes to
    ``connect()`` (``yloft serve`` builds so; docs/devtools.md).

    Raises:
        AppNotFoundError: ``root`` holds no app (the message names what is missing).
        DependencyError: a dependency has no wheel the browser's Pyodide can load.
    """
    app = load_app(root)
    out = (out or app.root / "dist").resolve()
    locked: list[Locked] = resolve(app)
    runtime = runtime_files()
    tmp = out.with_name(out.name + ".building")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        for rel, src in runtime.items():
            _link_or_copy(src, tmp / rel)
        _copy_app_web(app, tmp, {rel.split("/")[0] for rel in runtime} | {"manifest.json"})
        wheel_dir = tmp / "wheels"
        yloft_whl = write_browser_wheel(wheel_dir)
        app_whl = _app_wheel(app, wheel_dir)
        cache = app.root / ".yloft" / "wheels"
        for w in locked:
            _link_or_copy(cache / w.file, wheel_dir / w.file)
        runtime_wheels = sorted(f"wheels/{p.name}" for p in (runtime_files_dir(runtime)))
        wheels = {
            "yloft_wheel": f"wheels/{yloft_whl.name}",
            "apps": {app.module: f"wheels/{app_whl.name}"},
            "dependencies": [f"wheels/{w.file}" for w in locked],
            "pyodide_wheels": runtime_wheels,
        }
        manifest = _write_manifest(tmp, app, wheels, devtools)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return BuildResult(out, app, manifest)


def runtime_files_dir(runtime: dict[str, Path]) -> list[Path]:
    """The runtime's own wheels (micropip, packaging): loaded before anything else."""
    return [src for rel, src in runtime.items() if rel.startswith("wheels/")]
