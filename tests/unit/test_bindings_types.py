"""The UI bindings are typed in an app (issue 30): a new preact app's editor and
``tsc -p jsconfig.json`` see the hooks' signatures and results (bindings/preact.d.ts and
hooks.d.ts, which build.py writes from their JSDoc, copied into .yloft/types/ by
``yloft types``), so a misused hook fails. tests/unit/test_typecheck.py checks that each
new app type-checks as generated."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from yloft.app.rowtypes import write_types
from yloft.app.scaffold import new_app

TSC = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "tsc"

pytestmark = pytest.mark.skipif(not TSC.exists(), reason="no node_modules: run build.py build")

MISUSE = """import { useCall, useDoc, useQuery, useStatus } from "./bindings/preact.js";
export function Probe() {
  const { rows, loading } = useQuery("SELECT id FROM items", []);
  const ok = rows.map((r) => r.id).concat(loading ? ["…"] : []);
  const { call, pending } = useCall();
  const { doc, unsaved } = useDoc("items", ok[0]);
  return [call("list_items"), pending + unsaved, doc?.getMap("item"), useStatus().storage];
}
export const wrong = [useQuery(42), useDoc("items"), useStatus().storrage];
"""


def test_a_misused_hook_fails_tsc_in_a_new_preact_app(tmp_path: Path) -> None:
    app = tmp_path / "todo"
    new_app(app, "preact")
    write_types(app)
    (app / "web" / "probe.js").write_text(MISUSE, encoding="utf-8")
    done = subprocess.run([str(TSC), "-p", str(app / "jsconfig.json")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    errors = sorted(line for line in done.stdout.splitlines() if "probe.js" in line)
    assert len(errors) == 3, done.stdout
    assert "Argument of type 'number' is not assignable to parameter of type 'string'" in errors[0]
    assert "Expected 2 arguments, but got 1" in errors[1]
    assert "Property 'storrage' does not exist on type 'Status'" in errors[2]
