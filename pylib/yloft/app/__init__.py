"""Building apps that live outside this repository (``yloft new/build/serve/test``).

CPython tooling only: none of it ships in the browser's yloft wheel.
"""

from __future__ import annotations

from .bundle import BuildResult as BuildResult
from .bundle import build_app as build_app
from .deps import Locked as Locked
from .deps import resolve as resolve
from .project import App as App
from .project import load_app as load_app
from .runtime import runtime_dir as runtime_dir
from .runtime import write_browser_wheel as write_browser_wheel

__all__ = [
    "App",
    "BuildResult",
    "Locked",
    "build_app",
    "load_app",
    "resolve",
    "runtime_dir",
    "write_browser_wheel",
]
