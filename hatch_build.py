"""Hatch build hook: a yloft wheel without its browser runtime is refused.

``pylib/yloft/runtime/`` is generated (``python3 build.py build`` needs Node and npm to
bundle Yjs and the editor); a wheel built before that would install a yloft whose
``yloft build`` cannot work, so building one fails here with what to run instead.
Editable installs (the repository's own .venv) read the folder in place and pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

REQUIRED = (
    "worker/engine-worker.js",
    "yloft.js",
    "sw.js",
    "vendor/yjs.mjs",
    "pyodide/pyodide.asm.wasm",
)


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        runtime = Path(self.root) / "pylib" / "yloft" / "runtime"
        missing = [name for name in REQUIRED if not (runtime / name).is_file()]
        if missing:
            raise RuntimeError(
                f"{runtime} lacks {', '.join(missing)}: run `python3 build.py build` first "
                "(it bundles the browser runtime, which needs Node and npm), then build the wheel"
            )
