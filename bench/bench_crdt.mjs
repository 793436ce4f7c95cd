// Times yloft.crdt's Yjs engine (Python in Pyodide) against plain JS Yjs in the same
// Node process, and tracks heap over 100,000 edits. Driven by bench/bench_crdt.py,
// which passes: ROOT ROUNDS. Prints one JSON object on stdout.
//
// Run with `node --expose-gc` so heap figures are taken after a full collection.

import path from "node:path";
import { performance } from "node:perf_hooks";
import { format } from "node:util";
import * as Y from "yjs";
import { loadBenchPyodide } from "./pyodide_node.mjs";

const root = path.resolve(process.argv[2] ?? ".");
const rounds = Number(process.argv[3] ?? 7);
const chunks = Number(process.argv[4] ?? 10); // heap measurement: chunks of 10,000 edits
const log = (...a) => process.stderr.write(format(...a) + "\n");
console.log = log; // keep stdout for the result

const pyodide = await loadBenchPyodide(root, { stdout: log, stderr: log });
const py = pyodide.globals.get("bench_crdt");

const N = 10000;

// ---- plain Yjs baselines (each returns milliseconds) ----
const js = {
  map_sets() {
    const doc = new Y.Doc();
    const m = doc.getMap("m");
    const t0 = performance.now();
    doc.transact(() => {
      for (let i = 0; i < N; i++) m.set("k" + i, i);
    });
    return performance.now() - t0;
  },
  text_inserts() {
    const doc = new Y.Doc();
    const t = doc.getText("t");
    const t0 = performance.now();
    for (let i = 0; i < N; i++) t.insert(i, "x");
    return performance.now() - t0;
  },
};

// A ~100 KB document built by the Python layer; both sides encode that same Y.Doc.
py.build_big_doc();
const bigYDoc = py.BIG._ydoc;
const REPEAT = 20;
js.get_update_100k = () => {
  const t0 = performance.now();
  for (let i = 0; i < REPEAT; i++) Y.encodeStateAsUpdate(bigYDoc);
  return (performance.now() - t0) / REPEAT;
};
const bigUpdate = Y.encodeStateAsUpdate(bigYDoc);
js.apply_update_100k = () => {
  const t0 = performance.now();
  for (let i = 0; i < REPEAT; i++) Y.applyUpdate(new Y.Doc(), bigUpdate);
  return (performance.now() - t0) / REPEAT;
};

// 200 one-character remote edits applied one by one to a replica of that document.
const smallUpdates = py.small_updates();
js.apply_small_updates = () => {
  const replica = new Y.Doc();
  Y.applyUpdate(replica, bigUpdate);
  const t0 = performance.now();
  for (const u of smallUpdates) Y.applyUpdate(replica, u);
  return (performance.now() - t0) / smallUpdates.length;
};

js.apply_small_updates_warm = () => {
  const replica = new Y.Doc();
  Y.applyUpdate(replica, bigUpdate);
  Y.applyUpdate(replica, smallUpdates[0]);
  const t0 = performance.now();
  for (let i = 1; i < smallUpdates.length; i++) Y.applyUpdate(replica, smallUpdates[i]);
  return (performance.now() - t0) / (smallUpdates.length - 1);
};

const ops = [
  "map_sets",
  "text_inserts",
  "get_update_100k",
  "apply_update_100k",
  "apply_small_updates",
  "apply_small_updates_warm",
];
const times = {};
for (const op of ops) times[op] = { js: [], py: [] };
times.text_iadd_txn = { py: [] };
for (let r = 0; r < rounds; r++) {
  for (const op of ops) {
    // Alternate which side goes first, so warm-up and GC debt do not favour one.
    if (r % 2 === 0) {
      times[op].js.push(js[op]());
      times[op].py.push(py[op](N, REPEAT));
    } else {
      times[op].py.push(py[op](N, REPEAT));
      times[op].js.push(js[op]());
    }
  }
  times.text_iadd_txn.py.push(py.text_iadd_txn(N, REPEAT));
  log(`round ${r + 1}/${rounds} done`);
}

// ---- heap over 100,000 edits: plain Yjs, then the Python layer ----
const heap = () => {
  global.gc();
  return {
    js_heap_used: process.memoryUsage().heapUsed,
    wasm_memory: pyodide._module.HEAP8.length,
  };
};
const memory = { js: [], py: [] };
{
  const doc = new Y.Doc();
  const m = doc.getMap("m");
  const t = doc.getText("t");
  memory.js.push(heap());
  for (let chunk = 0; chunk < chunks; chunk++) {
    for (let i = 0; i < N / 4; i++) {
      m.set("k", i);
      t.insert(0, "x");
      t.delete(0, 1);
      m.get("k");
    }
    memory.js.push(heap());
  }
}
{
  py.memory_setup();
  memory.py.push(heap());
  for (let chunk = 0; chunk < chunks; chunk++) {
    py.memory_chunk(N / 4);
    memory.py.push(heap());
  }
}

process.stdout.write(
  JSON.stringify({
    n: N,
    rounds,
    big_update_bytes: bigUpdate.length,
    times,
    memory,
    versions: { node: process.version, pyodide: pyodide.version, yjs: "see package.json" },
  }) + "\n",
);
process.exit(0);
