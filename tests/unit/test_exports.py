"""The public API is what the docs promise (CONVENTIONS.md §1)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yloft
import yloft_relay
from yloft import YloftError

ROOT = Path(__file__).resolve().parents[2]


def test_version_is_the_packaged_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", yloft.__version__)
    from importlib.metadata import version

    assert version("yloft") == yloft.__version__


def test_all_names_exist() -> None:
    for name in yloft.__all__:
        assert hasattr(yloft, name), name


def test_yloft_error_is_the_root() -> None:
    assert issubclass(YloftError, Exception)


def test_relay_package_imports() -> None:
    assert yloft_relay.__version__ == yloft.__version__


def test_dependencies_are_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        assert "==" in req, f"{req} is not pinned"
