// Runs a whole pytest session inside Pyodide under Node (used by
// tests/pyodide/test_crdt_store_in_pyodide.py to run the store's own tests there).
//
// Usage: node tests/pyodide/pytest_in_pyodide.mjs ROOT SITE [PYTEST ARGS...]
// ROOT (the project) is mounted at its host path and is the working directory;
// SITE is a folder of pure-Python packages (pytest and its plugins) put on sys.path
// after pylib/. npm's Yjs is the JS module `yjs`. The exit code is pytest's.

import path from "node:path";
import { format } from "node:util";
import { loadPyodide } from "pyodide";
import * as Y from "yjs";
import * as yloftJs from "../../pylib/yloft/crdt/_yjs/yjs_helpers.js";
import * as yloftText from "../../pylib/yloft/crdt/_yjs/yjs_text.js";

const [root, site, ...args] = process.argv.slice(2).map((a, i) => (i < 2 ? path.resolve(a) : a));
const write = (...a) => process.stdout.write(format(...a) + "\n");
console.log = write;
const pyodide = await loadPyodide({ stdout: write, stderr: write });
pyodide.registerJsModule("yjs", Y);
pyodide.registerJsModule("yloft_js", { ...yloftJs, ...yloftText }); // yloft.crdt's JS side
for (const where of [root, site]) {
  pyodide.FS.mkdirTree(where);
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: where }, where);
}
pyodide.globals.set("ROOT", root);
pyodide.globals.set("SITE", site);
pyodide.globals.set("ARGS", args);
let code = 3;
try {
  code = await pyodide.runPythonAsync(`
import os, sys
sys.dont_write_bytecode = True
sys.path[:0] = [ROOT + "/pylib", ROOT + "/relay", SITE]
os.chdir(ROOT)
import yloft.crdt
print("yloft.crdt engine:", yloft.crdt.ENGINE)
import pytest
int(pytest.main(ARGS.to_py()))
`);
} catch (e) {
  write(String(e.message ?? e).slice(-4000));
}
process.exit(code);
