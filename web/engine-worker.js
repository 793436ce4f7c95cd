// The engine worker: loads the self-hosted Pyodide, installs yloft with micropip from
// this origin, registers Yjs, and answers the page over postMessage.
//
// Messages to the page:   {type: "progress", loaded, total}
//                         {type: "ready", versions}
//                         {type: "fatal", name, message}
//                         {type: "reply", id, ok, value | error: {name, message}}
// Messages from the page: {type: "init", options}
//                         {type: "call", id, method, args}

import * as Y from "./vendor/yjs.mjs";

/** @type {any} */
let pyodide = null;
/** @type {Record<string, (...args: any[]) => any>} */
const methods = {};

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

/** @param {any} options */
async function start(options) {
  const base = new URL("./", self.location.href);
  const manifest = await (await fetch(new URL("manifest.json", base))).json();
  const counted = [...manifest.runtime, ...manifest.pyodide_wheels, manifest.yloft_wheel];
  const total = counted.reduce((sum, f) => sum + manifest.files[f].size, 0);
  countFetchedBytes((loaded) => postMessage({ type: "progress", loaded: Math.min(loaded, total), total }));
  postMessage({ type: "progress", loaded: 0, total });

  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", base).href);
  pyodide = await loadPyodide({ indexURL: new URL("pyodide/", base).href });
  pyodide.registerJsModule("yjs", Y);
  await pyodide.loadPackage(manifest.pyodide_wheels.map((w) => new URL(w, base).href));
  const micropip = pyodide.pyimport("micropip");
  await micropip.install(new URL(manifest.yloft_wheel, base).href);
  micropip.destroy();

  const versions = pyodide
    .runPython("import json, sqlite3, sys, yloft\n"
      + "json.dumps({'yloft': yloft.__version__, 'sqlite': sqlite3.sqlite_version,"
      + " 'python': sys.version.split()[0]})");
  Object.assign(methods, {
    versions: () => JSON.parse(versions),
  });
  postMessage({ type: "ready", versions: JSON.parse(versions), options });
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    try {
      await start(msg.options ?? {});
    } catch (e) {
      const err = /** @type {Error} */ (e);
      postMessage({ type: "fatal", name: err.name, message: String(err.message ?? err) });
    }
  } else if (msg.type === "call") {
    try {
      const fn = methods[msg.method];
      if (!fn) throw new Error(`unknown method ${msg.method}`);
      postMessage({ type: "reply", id: msg.id, ok: true, value: await fn(...msg.args) });
    } catch (e) {
      const err = /** @type {Error} */ (e);
      postMessage({ type: "reply", id: msg.id, ok: false, error: { name: err.name, message: err.message } });
    }
  }
};
