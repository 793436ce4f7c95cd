"""An app folder as ``yloft build`` reads it.

::

    todo/
      pyproject.toml     [project] name, version, dependencies
                         [tool.yloft] module = "todo_app" (default: the project name)
      todo_app.py        the app's Python: setup(store) and public functions
                         (or a package folder todo_app/)
      web/index.html     the page; every file under web/ is served beside the runtime
      tests/             pytest tests (yloft test)

Example::

    app = load_app(Path("todo"))
    app.module, app.dependencies   # ('todo_app', ['humanize==4.15.0'])
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AppNotFoundError
from .wheel import dist_name

NEW_HINT = "create an app with `yloft new DIR`"


@dataclass(frozen=True)
class App:
    """What a build needs to know about one app folder."""

    root: Path
    name: str
    version: str
    module: str
    dependencies: list[str] = field(default_factory=list)
    web: str = "web"

    @property
    def module_path(self) -> Path:
        """The module's file (``todo_app.py``) or package folder (``todo_app/``)."""
        single = self.root / f"{self.module}.py"
        return single if single.is_file() else self.root / self.module

    @property
    def web_dir(self) -> Path:
        return self.root / self.web


def load_app(root: Path) -> App:
    """Read ``root/pyproject.toml`` and check that the module and page exist.

    Raises:
        AppNotFoundError: naming the missing file or setting and how to add it.
    """
    root = root.resolve()
    if not root.is_dir():
        raise AppNotFoundError(f"{root} is not a folder: {NEW_HINT}")
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise AppNotFoundError(
            f"{root} holds no yloft app: pyproject.toml is missing (an app folder has "
            f"pyproject.toml, its Python module and web/index.html); {NEW_HINT}"
        )
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AppNotFoundError(f"{pyproject} is not valid TOML: {exc}; fix it") from None
    project = data.get("project")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise AppNotFoundError(
            f'{pyproject} has no [project] table with a name: add [project] name = "..."'
        )
    tool = data.get("tool", {}).get("yloft", {})
    module = tool.get("module", dist_name(project["name"]))
    if not isinstance(module, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", module):
        raise AppNotFoundError(
            f"{pyproject}: [tool.yloft] module = {module!r} is not a Python module name"
        )
    deps = project.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise AppNotFoundError(f"{pyproject}: [project] dependencies must be a list of strings")
    app = App(
        root=root,
        name=project["name"],
        version=str(project.get("version", "0.0.0")),
        module=module,
        dependencies=list(deps),
        web=str(tool.get("web", "web")),
    )
    if not app.module_path.is_file() and not (app.module_path / "__init__.py").is_file():
        raise AppNotFoundError(
            f"{root} has no app module: {module}.py (or a package {module}/) is missing "
            f"beside pyproject.toml; it holds setup(store) and the functions the page calls "
            f'(set another name with [tool.yloft] module = "...")'
        )
    if not (app.web_dir / "index.html").is_file():
        raise AppNotFoundError(
            f"{root} has no page: {app.web}/index.html is missing; it loads a module that "
            "calls connect() from ./yloft.js"
        )
    return app
