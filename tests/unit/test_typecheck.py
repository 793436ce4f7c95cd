"""The page API's types can fail (issue 30): ``tsc`` on a temporary copy of the front end.

``tsc -p .`` (python3 build.py test) holds web/yloft.d.ts to web/yloft.js's JSDoc through
tests/types/yloft-api.ts. These tests prove that check bites: a declaration that drifts
from the implementation fails it, naming the member.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TSC = ROOT / "node_modules" / ".bin" / "tsc"

pytestmark = pytest.mark.skipif(not TSC.exists(), reason="no node_modules: run build.py build")


def compiler_options() -> dict[str, object]:
    """tsconfig.json's compilerOptions (the same strictness, paths and rootDirs)."""
    options = json.loads((ROOT / "tsconfig.json").read_text(encoding="utf-8"))["compilerOptions"]
    assert isinstance(options, dict)
    return options


def copy_front_end(dest: Path) -> None:
    """web/ (with the vendored bundles' .d.mts) and node_modules, as tsc resolves them."""
    shutil.copytree(ROOT / "web", dest / "web")
    (dest / "node_modules").symlink_to(ROOT / "node_modules")


def tsc(project: Path, files: list[str]) -> subprocess.CompletedProcess[str]:
    config = {"compilerOptions": compiler_options(), "files": files}
    (project / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    return subprocess.run(
        [str(TSC), "-p", str(project)], capture_output=True, text=True, timeout=300
    )


def test_a_declaration_that_drifts_from_the_implementation_fails(tmp_path: Path) -> None:
    copy_front_end(tmp_path)
    check = tmp_path / "tests" / "types" / "yloft-api.ts"
    check.parent.mkdir(parents=True)
    shutil.copy2(ROOT / "tests" / "types" / "yloft-api.ts", check)
    files = ["tests/types/yloft-api.ts"]
    assert tsc(tmp_path, files).returncode == 0  # the copy passes as the repository does

    dts = tmp_path / "web" / "yloft.d.ts"
    original = dts.read_text(encoding="utf-8")
    # A method the runtime does not have (a misspelt name) ...
    dts.write_text(
        original.replace("exportFile(): Promise<Blob>;", "exportFiles(): Promise<Blob>;")
    )
    done = tsc(tmp_path, files)
    assert done.returncode != 0
    assert "exportFiles" in done.stdout
    # ... a status field the runtime does not report ...
    dts.write_text(original.replace("  writerStalled: boolean;", "  writerStalled: number;"))
    done = tsc(tmp_path, files)
    assert done.returncode != 0
    assert "writerStalled" in done.stdout
    # ... and an option connect() does not take all fail.
    dts.write_text(
        original.replace("  stallMs?: number;", "  stallMs?: number;\n  retries?: number;")
    )
    done = tsc(tmp_path, files)
    assert done.returncode != 0
    assert re.search(r"retries", done.stdout)


def test_a_misspelt_field_in_the_typed_notes_page_fails(tmp_path: Path) -> None:
    """examples/notes/web/app.js types its list rows with rows.d.ts's NoteRow."""
    copy_front_end(tmp_path)
    shutil.copytree(ROOT / "examples" / "notes" / "web", tmp_path / "examples" / "notes" / "web")
    page = tmp_path / "examples" / "notes" / "web" / "app.js"
    files = ["examples/notes/web/app.js"]
    assert tsc(tmp_path, files).returncode == 0
    original = page.read_text(encoding="utf-8")
    typo = original.replace('row.title || "Untitled"', 'row.titel || "Untitled"')
    assert typo != original
    page.write_text(typo, encoding="utf-8")
    done = tsc(tmp_path, files)
    assert done.returncode != 0
    assert "Property 'titel' does not exist on type 'ListRow'" in done.stdout


@pytest.mark.parametrize("template", ["blank", "notes", "preact", "tasks"])
def test_a_new_app_type_checks_with_its_jsconfig(tmp_path: Path, template: str) -> None:
    from yloft.app.rowtypes import write_types
    from yloft.app.scaffold import new_app

    app = tmp_path / "todo"
    new_app(app, template)
    write_types(app)  # as `yloft new` does
    run = [str(TSC), "-p", str(app / "jsconfig.json")]
    done = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout
    # The rows are typed in the app too: a misspelt column fails.
    extra = app / "web" / "typo.js"
    extra.write_text(
        '/** @param {import("./rows.js").Rows[keyof import("./rows.js").Rows]} row */\n'
        "export const f = (row) => row.idd;\n",
        encoding="utf-8",
    )
    done = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "'idd'" in done.stdout
