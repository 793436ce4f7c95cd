// Where the time of one small remote update goes in yloft.crdt's Yjs engine (Node).
//
//   node bench/profile_crdt.mjs [ROOT] [ROUNDS]
//
// The same 200 one-character edits of a ~100 KB document as bench_crdt.py's
// apply_small_updates, applied to a fresh replica per layer, per update (µs, median of
// ROUNDS rounds):
//   plain       Y.applyUpdate(replica, u)                      (JS Yjs alone)
//   vetted      applyChecked(replica, u), shadow already built  (the vetting, JS only)
//   python      Doc.apply_update(u) from Python                 (vetting + FFI + Python)
//   shadow      building the vetting copy (once per replica; whole-document copy), ms
// Prints one JSON object. Used for docs/performance.md; not part of bench/run.py.
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as Y from "yjs";
import * as yloftJs from "../pylib/yloft/crdt/_yjs/yjs_helpers.js";
import { loadBenchPyodide } from "./pyodide_node.mjs";

const root = path.resolve(process.argv[2] ?? ".");
const rounds = Number(process.argv[3] ?? 7);
const pyodide = await loadBenchPyodide(root);
await pyodide.runPythonAsync("bench_crdt.build_big_doc()");
const py = pyodide.globals.get("bench_crdt");
const small = py.small_updates();
const big = py.BIG.get_update().toJs();
const h = yloftJs.helpers(Y);

/** @param {(doc: Y.Doc) => void} prepare @param {(doc: Y.Doc, u: Uint8Array) => void} apply */
const perUpdate = (prepare, apply) => {
  const replica = new Y.Doc();
  Y.applyUpdate(replica, big);
  prepare(replica);
  const t0 = performance.now();
  for (let i = 1; i < small.length; i++) apply(replica, small[i]);
  return ((performance.now() - t0) * 1000) / (small.length - 1);
};
const samples = { plain: [], vetted: [], python: [], shadow_ms: [] };
for (let r = 0; r < rounds; r++) {
  samples.plain.push(
    perUpdate(
      (d) => Y.applyUpdate(d, small[0]),
      (d, u) => Y.applyUpdate(d, u),
    ),
  );
  samples.vetted.push(
    perUpdate(
      (d) => h.applyChecked(d, small[0]),
      (d, u) => h.applyChecked(d, u),
    ),
  );
  samples.python.push(py.apply_small_updates_warm(0, 0) * 1000);
  const replica = new Y.Doc();
  Y.applyUpdate(replica, big);
  const t0 = performance.now();
  h.applyChecked(replica, small[0]); // builds the shadow, then vets and applies one edit
  samples.shadow_ms.push(performance.now() - t0);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
console.log(JSON.stringify({ rounds, update_bytes: big.length, ...out }));
