"""One CloseCode enum: the JS module is generated from it, and no code writes a bare code."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from yloft.sync.closecodes import QUIET, CloseCode, js_module

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "web" / "worker" / "close-codes.js"
PYTHON = sorted(
    [
        *(ROOT / "relay" / "yloft_relay").glob("*.py"),
        *(ROOT / "pylib" / "yloft" / "sync").glob("*.py"),
        ROOT / "pylib" / "yloft" / "browser" / "relay.py",
    ]
)
CODES = {int(c) for c in CloseCode}


def test_the_js_module_is_the_generated_one() -> None:
    assert JS.read_text() == js_module(), (
        "web/worker/close-codes.js differs from the enum: run"
        " `.venv/bin/python -m yloft.sync.closecodes > web/worker/close-codes.js`"
    )
    out = subprocess.run([sys.executable, "-m", "yloft.sync.closecodes"],
                         capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
    assert out.stdout == js_module()


def test_the_js_module_holds_every_code() -> None:
    pairs = dict(re.findall(r"^  (\w+): (\d+),$", JS.read_text(), re.M))
    assert {name: int(v) for name, v in pairs.items()} == {c.name: c.value for c in CloseCode}


def test_the_browser_adapter_takes_its_codes_from_the_module() -> None:
    source = (ROOT / "web" / "worker" / "relay-sync.js").read_text()
    assert 'import { CloseCode } from "./close-codes.js";' in source
    code_lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("//", "*"))]
    codes = r"\b(100[1-9]|101[01]|[34]\d{3})\b|close\(\s*1000"  # 1000 alone: milliseconds
    bare = [ln for ln in code_lines if re.search(codes, ln)]
    assert not bare, f"close codes written as numbers in relay-sync.js: {bare}"


@pytest.mark.parametrize("path", PYTHON, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_python_module_writes_a_bare_close_code(path: Path) -> None:
    if path.name == "closecodes.py":
        return
    tree = ast.parse(path.read_text())
    bare = [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value in CODES
    ]
    assert not bare, f"{path.name}: use CloseCode instead of {bare}"


def test_quiet_closes_are_the_ones_that_are_no_ones_fault() -> None:
    assert {int(c) for c in QUIET} == {1000, 1001, 1005, 1006}
    assert CloseCode.TOKEN_EXPIRED == 4401 and CloseCode.POLICY_VIOLATION == 1008
    assert all(1000 <= c <= 1015 or 3000 <= c <= 4999 for c in CloseCode)
