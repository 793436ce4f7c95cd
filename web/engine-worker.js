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
// From the page: {type: "init", options: {name, app, storage, relay}}
//                {type: "call", id, method, args}   method: query | subscribe | unsubscribe | call

import * as Y from "./vendor/yjs.mjs";
import { mountStorage } from "./storage.js";
import { TabChannel, tryWriterLock, waitWriterLock } from "./tabs.js";

/** @type {any} */
let engine = null;
/** @type {any} */
let storage = null;
/** @type {Record<string, any>} */
const status = { storage: "starting", persisted: false, unsaved: 0, error: null, writer: false, tab: "", writerStalled: false };

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

/** @param {{name?: string, app?: string, storage?: string, relay?: {space: string, token: string}}} options */
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
  // yloft.crdt's JS side (yloft/crdt/_yjs/yjs_helpers.js) ships in the wheel: import it from there.
  const helpers = pyodide.FS.readFile(pyodide.runPython(
    "import importlib.util as u; u.find_spec('yloft').submodule_search_locations[0]")
    + "/crdt/_yjs/yjs_helpers.js", { encoding: "utf8" });
  pyodide.registerJsModule("yloft_js", await import(URL.createObjectURL(new Blob([helpers], { type: "text/javascript" }))));

  ctx = { pyodide, name, force: options.storage, app: options.app ?? "" };
  glue = pyodide.runPython(`
import json
from pyodide.ffi import to_js
from yloft.browser import Engine

def open_engine(path, app, notify, flush, pragmas):
    return Engine.open(
        path,
        app=app or None,
        notify=lambda sub, rows: notify(sub, json.dumps(rows)),
        on_commit=flush,
        pragmas=json.loads(pragmas),
    )

def start_tabs(engine, tab_id, post, leader, log_id):
    send = lambda to, frame: post(to, to_js(frame))
    return engine.start_tabs(tab_id, send, leader=leader, log_id=log_id)

def receive(engine, sender, data, direct):
    return engine.tab_receive(sender, data.to_bytes(), direct)

def take_over(engine, path, log_id, flush, pragmas):
    return engine.take_over(path, log_id, on_commit=flush, pragmas=json.loads(pragmas))

{"open": open_engine, "start_tabs": start_tabs, "receive": receive, "take_over": take_over}
`).toJs({ dict_converter: Object.fromEntries });

  const notify = (/** @type {number} */ sub, /** @type {string} */ rows) =>
    postMessage({ type: "rows", sub, rows: JSON.parse(rows) });
  versions = JSON.parse(pyodide.runPython(
    "import json, sqlite3, sys, yloft\n"
    + "json.dumps({'yloft': yloft.__version__, 'sqlite': sqlite3.sqlite_version,"
    + " 'python': sys.version.split()[0]})"));

  const writer = await tryWriterLock(name);
  if (writer) {
    await mountDurable();
    engine = glue.open(storage.dbPath, ctx.app, notify, storage.flush ?? undefined, pragmasOf(storage));
  } else {
    // A replica in memory: reads stay synchronous, edits show at once and go to the writer.
    engine = glue.open(":memory:", ctx.app, notify, undefined, "{}");
  }
  channel = new TabChannel(name, tabId, (from, to, data, meta) => {
    queue = queue.then(() => onTabFrame(from, to, data, meta)).catch(reportError);
  });
  applyTabStatus(glue.start_tabs(engine, tabId, postFrame, writer, writer ? logIdOf(storage) : ""));
  await sendOutgoing();
  // relay sync (issue 7): only the writer tab holds a socket; replicas get changes via tab sync
  relayOptions = options.relay ?? null;
  if (writer) await startRelay();
  // end relay sync (issue 7)
  if (!writer) {
    waitWriterLock(name, () => {
      queue = queue.then(takeOver).catch(reportError);
    });
    helloTimer = setInterval(() => {
      // A writer that holds the lock but does not acknowledge (frozen, stuck): say so.
      const stalled = !tab.writer && tab.unsaved > 0 && Date.now() - lastProgress > STALL_MS;
      if (stalled !== status.writerStalled) setStatus({ writerStalled: stalled });
      if (tab.synced || tab.writer) return;
      queue = queue.then(() => { engine.tab_hello(); return sendOutgoing(); }).catch(reportError);
    }, 1000);
  }
  maybeReady();
}

/** @type {any} */
let ctx = null;
/** @type {any} */
let glue = null;
/** @type {any} */
let channel = null;
/** @type {any} */
let versions = null;
/** @type {ReturnType<typeof setInterval> | undefined} */
let helloTimer;
let readyPosted = false;
const tabId = crypto.randomUUID();
/** This tab's view of tab sync (engine.tab_status()). */
let tab = { writer: false, synced: false, unsaved: 0, acked: 0 };
/** @type {[string | null, Uint8Array][]} frames Python sent, posted once durable */
let outgoing = [];
/** @type {{id: number, reply: any, awaitAck: number}[]} replies held until acknowledged */
let waiting = [];
let inflight = 0;
/** Date.now() when this tab last had nothing unsaved or got an acknowledgement. */
let lastProgress = Date.now();
const STALL_MS = 3000;

/** @param {any} storage */
function pragmasOf(storage) {
  return JSON.stringify(storage.pragmas ?? { journal_mode: "truncate" });
}

/** @param {any} storage the log seqs refer to: the database itself (memory: this tab's) */
function logIdOf(storage) {
  return storage.kind === "memory" ? `memory:${tabId}` : `${storage.kind}:${ctx.name}`;
}

async function mountDurable() {
  // A closed or crashed writer's OPFS handles are released a little after its lock.
  storage = await mountStorage(ctx.pyodide, { name: ctx.name, force: ctx.force, lockTimeoutMs: 20000 });
  setStatus({ storage: storage.kind, persisted: storage.persisted });
}

/** @param {string | null} to @param {any} data */
function postFrame(to, data) {
  outgoing.push([to ?? null, data instanceof Uint8Array ? data.slice() : new Uint8Array(data)]);
}

/** Post what Python sent, after storage says the writes behind it are durable. */
async function sendOutgoing() {
  if (tab.writer && storage?.afterCommit) await storage.afterCommit();
  const frames = outgoing;
  outgoing = [];
  const meta = tab.writer ? { storage: storage?.kind, persisted: storage?.persisted } : {};
  for (const [to, data] of frames) channel.post(to, data, meta);
}

/** @param {string} json */
function applyTabStatus(json) {
  const before = tab;
  tab = JSON.parse(json);
  if (tab.acked !== before.acked || tab.unsaved === 0 || tab.writer) lastProgress = Date.now();
  const still = [];
  for (const w of waiting) {
    if (tab.writer || w.awaitAck <= tab.acked) postMessage({ type: "reply", id: w.id, ...w.reply });
    else still.push(w);
  }
  waiting = still;
  setStatus({ writer: tab.writer, tab: tabId, unsaved: inflight + tab.unsaved });
}

function maybeReady() {
  if (readyPosted || !(tab.writer || tab.synced)) return;
  readyPosted = true;
  postMessage({ type: "ready", versions, status: { ...status } });
}

/** @param {string} from @param {string | null} to @param {Uint8Array} data @param {any} meta */
async function onTabFrame(from, to, data, meta) {
  if (!engine) return;
  if (!tab.writer && meta.storage && meta.storage !== status.storage) {
    setStatus({ storage: meta.storage, persisted: Boolean(meta.persisted) });
  }
  try {
    applyTabStatus(glue.receive(engine, from, data, to !== null));
  } finally {
    await sendOutgoing();
  }
  maybeReady();
}

/** The writer lock is ours: the writer tab closed or died. Open the database and lead. */
async function takeOver() {
  clearInterval(helloTimer);
  for (let attempt = 1; ; attempt++) {
    try {
      await mountDurable();
      break;
    } catch (e) {
      console.error(`yloft: taking over as writer, attempt ${attempt} failed`, e);
      if (attempt >= 5) throw e;
    }
  }
  const applied = glue.take_over(engine, storage.dbPath, logIdOf(storage), storage.flush ?? undefined, pragmasOf(storage));
  applyTabStatus(engine.tab_status());
  await sendOutgoing();
  await startRelay(); // relay sync (issue 7)
  console.info(`yloft: this tab is now the writer (${applied} own changes saved on take-over)`);
  maybeReady();
}

// relay sync (issue 7) --------------------------------------------------------------
/** @type {any} {space, token} from connect({relay}), or null: no relay sync */
let relayOptions = null;
/** @type {any} */
let relay = null;
/** Sync the (writer's) store with the relay space; status goes through setStatus. */
async function startRelay() {
  if (!relayOptions || relay) return;
  const { startRelaySync } = await import("./relay-sync.js");
  relay = await startRelaySync(ctx.pyodide, engine, relayOptions, {
    name: ctx.name,
    setStatus,
    run: (fn) => (queue = queue.then(fn).then(sendOutgoing).catch(reportError)),
    beforeSend: async () => { if (storage?.afterCommit) await storage.afterCommit(); },
    keepCursor: storage?.kind !== "memory",
  });
}
// end relay sync (issue 7) ----------------------------------------------------------

/** @param {unknown} e */
function reportError(e) {
  const err = /** @type {Error} */ (e);
  console.error("yloft tab sync:", err);
  setStatus({ error: String(err?.message ?? err) });
}

/**
 * Run one request; a write is reported only once it is durable (this tab's storage, or
 * the writer tab's acknowledgement).
 * @param {{id: number, method: string, args: any[]}} msg
 */
async function handle(msg) {
  if (!engine) throw new Error("the engine is not ready");
  inflight += 1;
  setStatus({ unsaved: inflight + tab.unsaved });
  try {
    const reply = JSON.parse(engine.handle(JSON.stringify({ method: msg.method, args: msg.args })));
    const awaitAck = reply.await_ack ?? 0;
    delete reply.await_ack;
    if (tab.writer && storage?.afterCommit) await storage.afterCommit();
    if (awaitAck > 0) waiting.push({ id: msg.id, reply, awaitAck });
    else postMessage({ type: "reply", id: msg.id, ...reply });
  } finally {
    inflight -= 1;
    applyTabStatus(engine.tab_status());
    await sendOutgoing();
  }
}

/** @type {Promise<void>} */
let queue = Promise.resolve();

// For tests and diagnostics (Playwright: page.workers[0].evaluate("yloftTabs()")).
/** @type {any} */ (self).yloftTabs = () => ({ status: { ...status }, tab, waiting: waiting.length, outgoing: outgoing.length, ready: readyPosted });

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
