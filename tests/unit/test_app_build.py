"""yloft.app on CPython: scaffold, build, manifest, lock file and the errors a developer
meets (``yloft new``/``yloft build``). The browser side is tests/e2e/test_app_cli.py."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from yloft.app import build_app, load_app
from yloft.app.scaffold import new_app
from yloft.errors import AppError, AppNotFoundError, DependencyError


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("apps") / "todo"
    new_app(folder)
    return folder


def test_scaffold_names_module_and_files(app_dir: Path) -> None:
    app = load_app(app_dir)
    assert (app.name, app.module, app.dependencies) == ("todo", "todo_app", [])
    names = sorted(p.relative_to(app_dir).as_posix() for p in app_dir.rglob("*") if p.is_file())
    assert names == [".gitignore", "README.md", "jsconfig.json", "pyproject.toml",
                     "tests/test_app.py", "todo_app.py", "web/app.js", "web/index.html",
                     "web/style.css"]  # fmt: skip
    assert "__" not in (app_dir / "web" / "app.js").read_text()  # every placeholder replaced


def test_new_refuses_a_folder_in_use_and_a_bad_name(app_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(AppError, match="not empty"):
        new_app(app_dir)
    with pytest.raises(AppError, match="cannot name an app"):
        new_app(tmp_path / "9 lives")
    with pytest.raises(AppError, match="no template 'kanban'"):
        new_app(tmp_path / "x", "kanban")


def test_manifest_lists_every_file_with_size_and_sha256(app_dir: Path, tmp_path: Path) -> None:
    result = build_app(app_dir, tmp_path / "out")
    on_disk = {
        p.relative_to(result.out).as_posix()
        for p in result.out.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    files = result.manifest["files"]
    assert set(files) == on_disk
    for name, entry in files.items():
        data = (result.out / name).read_bytes()
        assert entry == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}, name
    sw = (result.out / "sw.js").read_text()
    assert "__YLOFT_BUILD__" not in sw and result.manifest["build"] in sw
    assert result.manifest["apps"] == {"todo_app": "wheels/todo-0.1.0-py3-none-any.whl"}
    assert {"index.html", "app.js", "yloft.js", "worker/engine-worker.js"} <= set(files)
    # Lab pages and templates are not shipped.
    assert not [n for n in files if "storage-lab" in n or n.startswith("templates/")]


def test_wheels_hold_the_app_and_yloft_without_tooling(app_dir: Path, tmp_path: Path) -> None:
    result = build_app(app_dir, tmp_path / "out")
    with zipfile.ZipFile(result.out / result.manifest["apps"]["todo_app"]) as zf:
        assert "todo_app.py" in zf.namelist()
        assert zf.read("todo_app.py") == (app_dir / "todo_app.py").read_bytes()
    with zipfile.ZipFile(result.out / result.manifest["yloft_wheel"]) as zf:
        names = zf.namelist()
    assert "yloft/store/store.py" in names and "yloft/crdt/_yjs/yjs_helpers.js" in names
    tooling = ("yloft/runtime/", "yloft/app/", "yloft/testing/")  # testing: the pytest plugin
    assert not [n for n in names if n.startswith(tooling)]
    assert "yloft/cli.py" not in names


def test_rebuild_is_reproducible_and_a_change_moves_only_the_app(
    app_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "todo"
    shutil.copytree(app_dir, copy)
    first = build_app(copy).manifest
    again = build_app(copy).manifest
    assert again == first
    module = copy / "todo_app.py"
    module.write_text(module.read_text() + "\nLIMIT = 100\n")
    changed = build_app(copy).manifest
    differ = {n for n in first["files"] if first["files"][n] != changed["files"].get(n)}
    assert differ == {first["apps"]["todo_app"], "sw.js"}
    assert changed["build"] != first["build"]


def test_a_folder_without_an_app_says_what_is_missing(tmp_path: Path, app_dir: Path) -> None:
    with pytest.raises(AppNotFoundError, match=r"pyproject\.toml is missing.*yloft new"):
        build_app(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(app_dir, broken)
    (broken / "todo_app.py").unlink()
    with pytest.raises(AppNotFoundError, match=r"todo_app\.py .*is missing"):
        build_app(broken)
    (broken / "todo_app.py").write_text("")
    (broken / "web" / "index.html").unlink()
    with pytest.raises(AppNotFoundError, match=r"web/index\.html is missing"):
        build_app(broken)


def test_an_app_file_may_not_replace_the_runtime(tmp_path: Path, app_dir: Path) -> None:
    copy = tmp_path / "todo"
    shutil.copytree(app_dir, copy)
    (copy / "web" / "yloft.js").write_text("// mine\n")
    with pytest.raises(AppError, match=r"web/yloft\.js would replace the runtime's yloft\.js"):
        build_app(copy)


def _with_dependency(app_dir: Path, folder: Path, requirement: str) -> Path:
    shutil.copytree(app_dir, folder)
    pyproject = folder / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("dependencies = []", f'dependencies = ["{requirement}"]')
    )
    return folder


def test_a_pure_python_dependency_is_locked_and_bundled(app_dir: Path, tmp_path: Path) -> None:
    folder = _with_dependency(app_dir, tmp_path / "todo", "humanize==4.17.0")
    manifest = build_app(folder).manifest
    assert manifest["dependencies"] == ["wheels/humanize-4.17.0-py3-none-any.whl"]
    lock = json.loads((folder / "yloft-lock.json").read_text())
    assert lock["requirements"] == ["humanize==4.17.0"]
    (wheel,) = lock["wheels"]
    assert wheel["sha256"] == manifest["files"][manifest["dependencies"][0]]["sha256"]


def test_a_dependency_without_a_pure_python_wheel_is_refused(app_dir: Path, tmp_path: Path) -> None:
    folder = _with_dependency(app_dir, tmp_path / "todo", "numpy")
    with pytest.raises(DependencyError, match=r"dependency numpy cannot run in the browser") as err:
        build_app(folder)
    assert err.value.package == "numpy"
    assert not (folder / "dist").exists()


def test_the_notes_template_is_the_notes_example(tmp_path: Path) -> None:
    new_app(tmp_path / "mynotes", "notes")
    app = load_app(tmp_path / "mynotes")
    assert app.module == "notes_app"
    example = Path(__file__).resolve().parents[2] / "examples" / "notes"
    assert (tmp_path / "mynotes" / "notes_app.py").read_bytes() == (
        example / "notes_app.py"
    ).read_bytes()
    assert (tmp_path / "mynotes" / "tests" / "test_notes.py").is_file()


def test_the_tasks_template_is_the_tasks_example(tmp_path: Path) -> None:
    new_app(tmp_path / "board", "tasks")
    example = Path(__file__).resolve().parents[2] / "examples" / "tasks"
    for rel in ("tasks_app.py", "web/app.js", "tests/test_tasks.py", "pyproject.toml"):
        assert (tmp_path / "board" / rel).read_bytes() == (example / rel).read_bytes(), rel
    assert load_app(tmp_path / "board").dependencies == ["humanize==4.17.0"]


def test_the_preact_template_is_blanks_python_with_a_page_on_the_bindings(tmp_path: Path) -> None:
    written = new_app(tmp_path / "todo", "preact")
    blank = tmp_path / "blank" / "todo"
    new_app(blank)
    names = sorted(p.relative_to(tmp_path / "todo").as_posix() for p in written)
    assert names == sorted(p.relative_to(blank).as_posix() for p in blank.rglob("*") if p.is_file())
    assert (tmp_path / "todo" / "todo_app.py").read_bytes() == (blank / "todo_app.py").read_bytes()
    page = (tmp_path / "todo" / "web" / "app.js").read_text()
    assert 'from "./bindings/preact.js"' in page and "__" not in page
    result = build_app(tmp_path / "todo", tmp_path / "out")
    files = result.manifest["files"]
    bundled = {"bindings/preact.js", "bindings/hooks.js", "vendor/preact.mjs"}
    assert bundled | {"vendor/LICENSE-preact.txt", "vendor/LICENSE-htm.txt"} <= set(files)
