// One side of bench/bench_crdt.py: times yloft.crdt's Yjs engine (Python in Pyodide) or
// plain JS Yjs, and tracks heap over 100,000 edits. Driven by bench/bench_crdt.py (its
// docstring has the method):
//
//   node --expose-gc bench/bench_crdt.mjs ROOT SIDE      SIDE: js | py | both
//
// "py" loads Pyodide and yloft.crdt; "js" loads Yjs alone (no Pyodide in its heap);
// "both" runs the two in one process. Commands arrive as JSON lines on stdin, and each
// gets one JSON line on stdout:
//   {"cmd": "data"}                       -> the ~100 KB document's update and the 200
//                                            small updates, base64 (a side with Python
//                                            builds them)
//   {"cmd": "data", "big": B64, "small": [B64]}   -> the "js" side takes them
//   {"cmd": "round", "round": R, "gc": "minor"}   -> {"times": {op: {side: ms}}}: every
//                                            op once per side, each after Python's
//                                            gc.collect() and a V8 GC of that type
//                                            ("minor", "major"; "none": no GC)
//   {"cmd": "memory", "chunks": 10}        -> {"memory": {side: [heap after each chunk]}}
//   {"cmd": "quit"}
// Logs go to stderr.

import path from "node:path";
import { performance } from "node:perf_hooks";
import readline from "node:readline";
import { format } from "node:util";
import * as Y from "yjs";

const root = path.resolve(process.argv[2] ?? ".");
const side = process.argv[3] ?? "both";
const sides = side === "both" ? ["js", "py"] : [side];
const log = (...a) => process.stderr.write(format(...a) + "\n");
console.log = log; // keep stdout for the results

let pyodide = null;
let py = null;
if (sides.includes("py")) {
  const { loadBenchPyodide } = await import("./pyodide_node.mjs");
  pyodide = await loadBenchPyodide(root, { stdout: log, stderr: log });
  py = pyodide.globals.get("bench_crdt");
}

const N = 10000;
const REPEAT = 20;
const OPS = [
  "map_sets",
  "text_inserts",
  "get_update_100k",
  "apply_update_100k",
  "apply_small_updates",
  "apply_small_updates_warm",
];
const PY_ONLY = ["text_iadd_txn"];

let bigYDoc; // the document get_update_100k encodes
let bigUpdate; // its update, which apply_update_100k applies
let smallUpdates; // 200 one-character remote edits of it

const b64 = (u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString("base64");
const unb64 = (s) => new Uint8Array(Buffer.from(s, "base64"));

// ---- plain Yjs (each returns milliseconds) ----
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
  get_update_100k() {
    const t0 = performance.now();
    for (let i = 0; i < REPEAT; i++) Y.encodeStateAsUpdate(bigYDoc);
    return (performance.now() - t0) / REPEAT;
  },
  apply_update_100k() {
    const t0 = performance.now();
    for (let i = 0; i < REPEAT; i++) Y.applyUpdate(new Y.Doc(), bigUpdate);
    return (performance.now() - t0) / REPEAT;
  },
  apply_small_updates() {
    const replica = new Y.Doc();
    Y.applyUpdate(replica, bigUpdate);
    const t0 = performance.now();
    for (const u of smallUpdates) Y.applyUpdate(replica, u);
    return (performance.now() - t0) / smallUpdates.length;
  },
  apply_small_updates_warm() {
    const replica = new Y.Doc();
    Y.applyUpdate(replica, bigUpdate);
    Y.applyUpdate(replica, smallUpdates[0]);
    const t0 = performance.now();
    for (let i = 1; i < smallUpdates.length; i++) Y.applyUpdate(replica, smallUpdates[i]);
    return (performance.now() - t0) / (smallUpdates.length - 1);
  },
};

/** A full collection (Python's cycles first, then V8's), so no op pays earlier debt. */
const settle = (kind = "major") => {
  if (kind === "none") return;
  if (py) py.collect();
  global.gc({ type: kind });
};

const run = (s, op) => (s === "js" ? js[op]() : py[op](N, REPEAT));

const commands = {
  data(msg) {
    if (py) {
      py.build_big_doc();
      bigUpdate = Y.encodeStateAsUpdate(py.BIG._ydoc);
      smallUpdates = py.small_updates();
    } else {
      bigUpdate = unb64(msg.big);
      smallUpdates = msg.small.map(unb64);
    }
    // Loaded from the update, as Python's BIG is (bench_crdt.build_big_doc says why).
    bigYDoc = new Y.Doc();
    Y.applyUpdate(bigYDoc, bigUpdate);
    return { big: b64(bigUpdate), small: [...smallUpdates].map(b64) };
  },
  round(msg) {
    const times = {};
    OPS.forEach((op, i) => {
      times[op] = {};
      // With both sides here, alternate which goes first, op by op and round by round.
      const order = (i + (msg.round ?? 0)) % 2 ? [...sides].reverse() : sides;
      for (const s of order) {
        settle(msg.gc);
        times[op][s] = run(s, op);
      }
    });
    if (py) {
      for (const op of PY_ONLY) {
        settle(msg.gc);
        times[op] = { py: run("py", op) };
      }
    }
    settle(); // leave no garbage to collect while the other process measures
    return { times };
  },
  memory(msg) {
    const heap = () => {
      global.gc();
      return {
        js_heap_used: process.memoryUsage().heapUsed,
        wasm_memory: pyodide ? pyodide._module.HEAP8.length : 0,
      };
    };
    const memory = {};
    if (sides.includes("js")) {
      const series = (memory.js = []);
      const doc = new Y.Doc();
      const m = doc.getMap("m");
      const t = doc.getText("t");
      series.push(heap());
      for (let chunk = 0; chunk < msg.chunks; chunk++) {
        for (let i = 0; i < N / 4; i++) {
          m.set("k", i);
          t.insert(0, "x");
          t.delete(0, 1);
          m.get("k");
        }
        series.push(heap());
      }
    }
    if (py) {
      const series = (memory.py = []);
      py.memory_setup();
      series.push(heap());
      for (let chunk = 0; chunk < msg.chunks; chunk++) {
        py.memory_chunk(N / 4);
        series.push(heap());
      }
    }
    return { memory };
  },
};

const versions = { node: process.version, pyodide: pyodide?.version ?? null };
process.stdout.write(JSON.stringify({ ready: sides, n: N, repeat: REPEAT, versions }) + "\n");
for await (const line of readline.createInterface({ input: process.stdin })) {
  const msg = JSON.parse(line);
  if (msg.cmd === "quit") break;
  process.stdout.write(JSON.stringify(commands[msg.cmd](msg)) + "\n");
}
process.exit(0);
