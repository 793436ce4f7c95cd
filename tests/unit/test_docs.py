"""The README's Python example runs and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def test_readme_example_prints_what_it_promises() -> None:
    blocks = python_blocks((ROOT / "README.md").read_text())
    assert blocks, "README.md has no Python example"
    for block in blocks:
        expected = [
            m.group(1).strip() for m in re.finditer(r"print\(.*\)\s+#\s*(.*)$", block, re.M)
        ]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
        assert out.getvalue().splitlines() == expected
