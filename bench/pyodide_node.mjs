// Pyodide in Node with yloft's Yjs engine, for the CRDT benchmarks (bench_crdt.mjs,
// profile_crdt.mjs): Yjs and yloft's JS registered as the modules yloft.crdt imports,
// pylib/ and bench/ mounted from the checkout and on sys.path.
import path from "node:path";
import { loadPyodide } from "pyodide";
import * as Y from "yjs";
import * as yloftJs from "../pylib/yloft/crdt/_yjs/yjs_helpers.js";
import * as yloftText from "../pylib/yloft/crdt/_yjs/yjs_text.js";

/**
 * @param {string} root the checkout
 * @param {object} [options] passed to loadPyodide (stdout, stderr)
 * @returns the Pyodide instance, with `bench_crdt` imported and the Yjs engine checked
 */
export async function loadBenchPyodide(root, options = {}) {
  const pyodide = await loadPyodide(options);
  pyodide.registerJsModule("yjs", Y);
  pyodide.registerJsModule("yloft_js", { ...yloftJs, ...yloftText }); // yloft.crdt's JS side
  for (const dir of ["pylib", "bench"]) {
    const where = path.join(root, dir);
    pyodide.FS.mkdirTree(where);
    pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: where }, where);
  }
  pyodide.globals.set("ROOT", root);
  await pyodide.runPythonAsync(`
import sys
sys.dont_write_bytecode = True
sys.path[:0] = [ROOT + "/pylib", ROOT + "/bench"]
import bench_crdt
import yloft.crdt
assert yloft.crdt.ENGINE == "yjs", yloft.crdt.ENGINE
`);
  return pyodide;
}
