// Runs test bodies inside Pyodide under Node for tests/pyodide (see conftest.py).
//
// Usage: node tests/pyodide/runner.mjs ROOT
// The project's pylib/, relay/ and tests/ are mounted (NODEFS) at their host paths, so
// tracebacks name the real files; pylib/ is on sys.path and npm's Yjs is the JS module
// `yjs`. Protocol: one JSON request per stdin line, one JSON reply per stdout line.
// Python's own output goes to stderr so it never mixes with replies.

import readline from "node:readline";
import path from "node:path";
import { format } from "node:util";
import { loadPyodide } from "pyodide";
import * as Y from "yjs";
import * as yloftJs from "../../pylib/yloft/crdt/_yjs/yjs_helpers.js";
import * as yloftText from "../../pylib/yloft/crdt/_yjs/yjs_text.js";

const root = path.resolve(process.argv[2] ?? ".");
const write = (line) => process.stderr.write(line + "\n");
// stdout carries only replies: JS logging (Yjs logs some malformed updates with
// console.log) goes to stderr too, or it would be read as a reply.
for (const name of ["log", "info", "debug"]) {
  console[name] = (...args) => write(format(...args));
}
const pyodide = await loadPyodide({ stdout: write, stderr: write });
pyodide.registerJsModule("yjs", Y);
pyodide.registerJsModule("yloft_js", { ...yloftJs, ...yloftText }); // yloft.crdt's JS side
for (const dir of ["pylib", "relay", "tests"]) {
  const where = path.join(root, dir);
  pyodide.FS.mkdirTree(where);
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: where }, where);
}
pyodide.globals.set("ROOT", root);
await pyodide.runPythonAsync(`
import sys
sys.dont_write_bytecode = True
sys.path[:0] = [ROOT + "/pylib", ROOT + "/tests/pyodide"]
from _runner import run_request
`);
const runRequest = pyodide.globals.get("run_request");
process.stdout.write(JSON.stringify({ ready: true }) + "\n");

const lines = readline.createInterface({ input: process.stdin, terminal: false });
for await (const line of lines) {
  if (!line.trim()) continue;
  const reply = await runRequest(line);
  process.stdout.write(reply + "\n");
}
