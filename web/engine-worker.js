// The engine worker: loads the self-hosted Pyodide, installs yloft and the app's
// Python module with micropip from this origin, registers Yjs, mounts storage, opens
// the Store and answers the page over postMessage.
//
// To the page:   {type: "progress", loaded, total}
//                {type: "ready", versions, status}
//                {type: "fatal", name, message}
//                {type: "reply", id, ok, value | error: {name, message}}
//                {type: "rows", sub, rows}          a live query's new result
//                {type: "status", status}
// From the page: {type: "init", options: {name, app, storage}}
//                {type: "call", id, method, args}   method: query | subscribe | unsubscribe | call

import * as Y from "./vendor/yjs.mjs";
import { mountStorage } from "./storage.js";

/** @type {any} */
let engine = null;
/** @type {any} */
let storage = null;
/** @type {Record<string, any>} */
const status = { storage: "starting", persisted: false, unsaved: 0, error: null };

/** @param {Record<string, any>} changes */
function setStatus(changes) {
  Object.assign(status, changes);
  postMessage({ type: "status", status: { ...status } });
}

/**
 * Wrap fetch so every byte Pyodide downloads is counted as it arrives.
 * @param {(loaded: number) => void} onBytes
 */
function countFetchedBytes(onBytes) {
  const original = self.fetch.bind(self);
  let loaded = 0;
  self.fetch = async (input, init) => {
    const response = await original(input, init);
    if (!response.body) return response;
    const counter = new TransformStream({
      transform(chunk, controller) {
        loaded += chunk.byteLength;
        onBytes(loaded);
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(counter), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** @param {{name?: string, app?: string, storage?: string}} options */
async function start(options) {
  const name = options.name ?? "default";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new TypeError(`database name ${JSON.stringify(name)}: use 1-64 letters, digits, _ or -`);
  }
  const base = new URL("./", self.location.href);
  const manifest = await (await fetch(new URL("manifest.json", base))).json();
  const appWheel = options.app ? manifest.apps[options.app] : null;
  if (options.app && !appWheel) throw new Error(`no app module ${options.app} in this build`);
  const wheels = [manifest.yloft_wheel, ...(appWheel ? [appWheel] : [])];
  const counted = [...manifest.runtime, ...manifest.pyodide_wheels, ...wheels];
  const total = counted.reduce((sum, f) => sum + manifest.files[f].size, 0);
  countFetchedBytes((loaded) => postMessage({ type: "progress", loaded: Math.min(loaded, total), total }));
  postMessage({ type: "progress", loaded: 0, total });

  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", base).href);
  const pyodide = await loadPyodide({ indexURL: new URL("pyodide/", base).href });
  pyodide.registerJsModule("yjs", Y);
  await pyodide.loadPackage(manifest.pyodide_wheels.map((/** @type {string} */ w) => new URL(w, base).href));
  const micropip = pyodide.pyimport("micropip");
  await micropip.install(pyodide.toPy(wheels.map((w) => new URL(w, base).href)));
  micropip.destroy();

  storage = await mountStorage(pyodide, { name, force: options.storage });
  setStatus({ storage: storage.kind, persisted: storage.persisted });

  const notify = (/** @type {number} */ sub, /** @type {string} */ rows) =>
    postMessage({ type: "rows", sub, rows: JSON.parse(rows) });
  const open = pyodide.runPython(`
import json
from yloft.browser import Engine

def open_engine(path, app, notify, flush, pragmas):
    return Engine.open(
        path,
        app=app or None,
        notify=lambda sub, rows: notify(sub, json.dumps(rows)),
        on_commit=flush,
        pragmas=json.loads(pragmas),
    )
open_engine`);
  const pragmas = JSON.stringify(storage.pragmas ?? { journal_mode: "truncate" });
  engine = open(storage.dbPath, options.app ?? "", notify, storage.flush ?? null, pragmas);
  open.destroy();
  const versions = JSON.parse(pyodide.runPython(
    "import json, sqlite3, sys, yloft\n"
    + "json.dumps({'yloft': yloft.__version__, 'sqlite': sqlite3.sqlite_version,"
    + " 'python': sys.version.split()[0]})"));
  postMessage({ type: "ready", versions, status: { ...status } });
}

/**
 * Run one request; a write is reported only once storage says it is durable.
 * @param {{id: number, method: string, args: any[]}} msg
 */
async function handle(msg) {
  if (!engine) throw new Error("the engine is not ready");
  setStatus({ unsaved: status.unsaved + 1 });
  try {
    const reply = JSON.parse(engine.handle(JSON.stringify({ method: msg.method, args: msg.args })));
    if (storage?.afterCommit) await storage.afterCommit();
    postMessage({ type: "reply", id: msg.id, ...reply });
  } finally {
    setStatus({ unsaved: status.unsaved - 1 });
  }
}

/** @type {Promise<void>} */
let queue = Promise.resolve();

self.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    queue = start(msg.options ?? {}).catch((e) => {
      const err = /** @type {Error} */ (e);
      setStatus({ error: err.message });
      postMessage({ type: "fatal", name: err.name, message: String(err.message ?? err) });
    });
  } else if (msg.type === "call") {
    // One request at a time, in order: Python runs single-threaded anyway.
    queue = queue.then(() => handle(msg)).catch((e) => {
      const err = /** @type {Error} */ (e);
      setStatus({ error: err.message });
      postMessage({ type: "reply", id: msg.id, ok: false, error: { name: err.name, message: err.message } });
    });
  }
};
