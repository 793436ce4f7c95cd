// The engine worker: loads the self-hosted Pyodide, installs yloft and the app's
// Python module with micropip from this origin, registers Yjs, mounts storage, opens
// the Store and answers the page over postMessage.
//
// To the page:   {type: "progress", loaded, total}
//                {type: "ready", name, versions, status}   name: the database name used
//                                                   on this origin (scoped by the app's path)
//                {type: "fatal", name, message, traceback?}   (a Python error's traceback)
//                {type: "reply", id, ok, value | error: {name, message}}
//                {type: "rows", sub, rows}          a live query's new result
//                {type: "status", status}
//                {type: "doc", link, update}        a page document changed elsewhere
//                {type: "doc-saved", link, seq, ok, error?}  page updates up to seq are
//                                                   durable (or were refused)
// From the page: {type: "init", options: {name, app, storage, relay}}
//                {type: "call", id, method, args}   method: query | subscribe | unsubscribe |
//                                                   call | doc_open | doc_close
//                {type: "doc-update", link, seq, update}   a page document's own edit

import * as Y from "./vendor/yjs.mjs";
import { mountStorage } from "./storage.js";
import { TabChannel, tryWriterLock, waitWriterLock } from "./tabs.js";
import { TabOutbox, holdTabLock, pushMsgId } from "./tab-outbox.js";
import { countFetchedBytes } from "./fetch-progress.js";
import { TokenRequests, openAwareness } from "./worker-links.js";


/** This tab's view of tab sync (`engine.tab_status()`). */
/** @typedef {{writer: boolean, synced: boolean, unsaved: number, acked: number}} TabView */

/**
 * Everything the worker keeps between messages, in one place (the functions below are
 * its only writers). Python objects are PyProxies; `queue` serialises every piece of
 * Python work, so no two calls into the engine overlap.
 */
const state = {
  /** @type {any} the yloft.browser.Engine (PyProxy) */
  engine: null,
  /** @type {import("./storage.js").Storage | null} the mounted storage (flush is the commit hook) */
  storage: null,
  /** @type {{pyodide: any, name: string, force?: "opfs" | "idb" | "memory", app: string} | null} */
  ctx: null,
  /** @type {any} the yloft.browser.worker module (PyProxy) */
  glue: null,
  /** @type {TabChannel | null} */
  channel: null,
  /** @type {{yloft: string, sqlite: string, python: string} | null} */
  versions: null,
  /** @type {ReturnType<typeof setInterval> | undefined} */
  helloTimer: undefined,
  readyPosted: false,
  /** @type {Record<string, any>} what the page sees as db.status */
  status: { storage: "starting", persisted: false, unsaved: 0, error: null, writer: false, tab: "", writerStalled: false },
  /** @type {TabView} */
  tab: { writer: false, synced: false, unsaved: 0, acked: 0 },
  /** @type {[string | null, Uint8Array][]} frames Python sent, posted once durable */
  outgoing: [],
  /** @type {{msg: any, awaitAck: number}[]} replies held until the writer acknowledged */
  waiting: [],
  /** requests running now */
  inflight: 0,
  /** Date.now() when this tab last had nothing unsaved or got an acknowledgement */
  lastProgress: Date.now(),
  /** @type {{space: string, token?: string, url?: string, renew?: boolean} | null} from connect({relay}) (renew: the page has getToken); null: no relay sync */
  relayOptions: null,
  /** @type {any} the RelaySync of relay-sync.js, while this tab is the writer */
  relay: null,
  /** @type {Map<number, {updates: Uint8Array[], seq: number}>} page updates not yet applied */
  docPending: new Map(),
  docScheduled: false,
  /** @type {BroadcastChannel | null} presence between this app's pages (and the relay) */
  awarenessChannel: null,
  /** @type {Promise<void>} */
  queue: Promise.resolve(),
  /** whether the relay acknowledged everything this device wrote (see setStatus) */
  relayHoldsAll: false,
  /** when navigator.storage.estimate() last ran (ms) */
  estimatedAt: 0,
  /** @type {TabOutbox | null} this replica's unacknowledged changes, kept in IndexedDB */
  outbox: null,
  /** relay tokens asked of the page */
  tokens: new TokenRequests(),
};

/** The start-up context (Pyodide, names); only after `start()` has set it. */
function context() {
  if (!state.ctx) throw new Error("the engine worker has not started");
  return state.ctx;
}

/** @param {Record<string, any>} changes */
function setStatus(changes) {
  const status = state.status;
  Object.assign(status, changes);
  if (state.tab.writer) {
    // Where copies of the data live: a relay holds everything once it acknowledged the
    // whole outbox; until then (or with no relay) unpersisted storage is the only copy.
    if (status.sync === "online" && (status.outbox ?? 0) === 0) state.relayHoldsAll = true;
    else if ((status.outbox ?? 0) > 0 || status.sync === undefined) state.relayHoldsAll = false;
    status.onlyHere = status.storage !== "memory" && !status.persisted && !state.relayHoldsAll;
  }
  postMessage({ type: "status", status: { ...status } });
}

/** Storage usage and quota in the status (navigator.storage.estimate), at most every 5 s. */
async function refreshEstimate() {
  const now = Date.now();
  if (now - state.estimatedAt < 5000 || !navigator.storage?.estimate) return;
  state.estimatedAt = now;
  try {
    const { usage, quota } = await navigator.storage.estimate();
    if (usage !== state.status.usage || quota !== state.status.quota) setStatus({ usage, quota });
  } catch {
    // an estimate is informative only
  }
}

/** @param {{name?: string, app?: string, storage?: string, relay?: {space: string, token: string}}} options */
async function start(options) {
  const given = options.name ?? "default";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(given)) {
    throw new TypeError(`database name ${JSON.stringify(given)}: use 1-64 letters, digits, _ or -`);
  }
  const base = new URL("./", self.location.href);
  const name = await scopedName(given, base.pathname);
  const manifest = await (await fetch(new URL("manifest.json", base))).json();
  const appWheel = options.app ? manifest.apps[options.app] : null;
  if (options.app && !appWheel) throw new Error(`no app module ${options.app} in this build`);
  // yloft, the app and the dependencies locked at build time: all from this origin.
  const wheels = [manifest.yloft_wheel, ...(appWheel ? [appWheel] : []), ...(manifest.dependencies ?? [])];
  const counted = [...manifest.runtime, ...manifest.pyodide_wheels, ...wheels];
  const total = counted.reduce((sum, f) => sum + manifest.files[f].size, 0);
  countFetchedBytes((loaded) => postMessage({ type: "progress", loaded: Math.min(loaded, total), total }));
  postMessage({ type: "progress", loaded: 0, total });

  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", base).href);
  const pyodide = await loadPyodide({ indexURL: new URL("pyodide/", base).href });
  pyodide.registerJsModule("yjs", Y);
  await pyodide.loadPackage(manifest.pyodide_wheels.map((/** @type {string} */ w) => new URL(w, base).href));
  const micropip = pyodide.pyimport("micropip");
  // deps: false, since the build resolved every dependency; nothing is looked up on PyPI.
  await micropip.install.callKwargs(pyodide.toPy(wheels.map((w) => new URL(w, base).href)), { deps: false });
  micropip.destroy();
  await registerYloftJs(pyodide);

  state.ctx = { pyodide, name, force: /** @type {any} */ (options.storage), app: options.app ?? "" };
  state.glue = pyodide.pyimport("yloft.browser.worker");
  state.versions = JSON.parse(state.glue.versions());
  state.awarenessChannel = openAwareness(name, () => state.relay);
  holdTabLock(name, tabId);
  state.outbox = await TabOutbox.open(name).catch((e) => {
    console.error("yloft: no IndexedDB outbox; a closed tab's unsaved edits can be lost", e);
    return null;
  });

  const writer = await tryWriterLock(name);
  if (writer) {
    const storage = await mountDurable();
    state.engine = state.glue.open_engine(storage.dbPath, state.ctx.app, notify, pushDoc, storage.flush, pragmasOf(storage));
  } else {
    // A replica in memory: reads stay synchronous, edits show at once and go to the writer.
    state.engine = state.glue.open_engine(":memory:", state.ctx.app, notify, pushDoc, undefined, "{}");
  }
  state.channel = new TabChannel(name, tabId, (from, to, data, meta) => {
    state.queue = state.queue.then(() => onTabFrame(from, to, data, meta)).catch(reportError);
  });
  applyTabStatus(state.glue.start_tabs(state.engine, tabId, postFrame, writer, writer ? logIdOf(state.storage) : ""));
  await sendOutgoing();
  // relay sync (issue 7): only the writer tab holds a socket; replicas get changes via tab sync
  state.relayOptions = options.relay ?? null;
  if (writer) await startRelay();
  // end relay sync (issue 7)
  setInterval(() => {
    state.queue = state.queue.then(recoverOrphans).catch(reportError);
  }, ORPHAN_CHECK_MS);
  if (!writer) {
    waitWriterLock(name, () => {
      state.queue = state.queue.then(takeOver).catch(reportError);
    });
    state.helloTimer = setInterval(() => {
      // A writer that holds the lock but does not acknowledge (frozen, stuck): say so.
      const stalled = !state.tab.writer && state.tab.unsaved > 0 && Date.now() - state.lastProgress > STALL_MS;
      if (stalled !== state.status.writerStalled) setStatus({ writerStalled: stalled });
      if (state.tab.synced || state.tab.writer) return;
      state.queue = state.queue.then(() => { state.engine.tab_hello(); return sendOutgoing(); }).catch(reportError);
    }, 1000);
  }
  maybeReady();
}

/**
 * The database name on this origin: apps served under different paths (/todo/, /notes/)
 * keep separate databases, tab locks and channels even when they use the same name. At
 * the origin's root the name stays as given (databases made before paths counted).
 * @param {string} given @param {string} path the app's base path, e.g. "/todo/"
 */
async function scopedName(given, path) {
  if (path === "/") return given;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(path)));
  const hex = Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${given.slice(0, 55)}-${hex}`;
}

/**
 * yloft.crdt's JS side ships in the wheel (yloft/crdt/_yjs/yjs_helpers.js and
 * yjs_text.js): import both from the installed package and register them as `yloft_js`.
 * @param {any} pyodide
 */
async function registerYloftJs(pyodide) {
  const dir = pyodide.runPython(
    "import importlib.util as u; u.find_spec('yloft').submodule_search_locations[0]") + "/crdt/_yjs/";
  const modules = await Promise.all(["yjs_helpers.js", "yjs_text.js"].map((file) => {
    const source = pyodide.FS.readFile(dir + file, { encoding: "utf8" });
    return import(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
  }));
  pyodide.registerJsModule("yloft_js", Object.assign({}, ...modules));
}

/** @param {number} sub @param {string} rows a live query's new rows (JSON) */
function notify(sub, rows) {
  postMessage({ type: "rows", sub, rows: JSON.parse(rows) });
}

/** @param {number} link @param {Uint8Array} update a page document changed elsewhere */
function pushDoc(link, update) {
  const copy = update.slice(); // never transfer a buffer Pyodide may own
  postMessage({ type: "doc", link, update: copy }, [copy.buffer]);
}

const tabId = crypto.randomUUID();
const STALL_MS = 3000;
const ORPHAN_CHECK_MS = 2000; // how often the writer looks for closed tabs' kept changes

/** @param {any} mounted */
function pragmasOf(mounted) {
  return JSON.stringify(mounted.pragmas ?? { journal_mode: "truncate" });
}

/** @param {any} mounted the log seqs refer to: the database itself (memory: this tab's) */
function logIdOf(mounted) {
  return mounted.kind === "memory" ? `memory:${tabId}` : `${mounted.kind}:${state.ctx?.name}`;
}

/** @returns {Promise<import("./storage.js").Storage>} */
async function mountDurable() {
  // A closed or crashed writer's OPFS handles are released a little after its lock.
  const { pyodide, name, force } = context();
  const storage = await mountStorage(pyodide, { name, force, lockTimeoutMs: 20000 });
  state.storage = storage;
  setStatus({ storage: storage.kind, persisted: storage.persisted });
  void refreshEstimate();
  return storage;
}

/** @param {string | null} to @param {any} data */
function postFrame(to, data) {
  const frame = data instanceof Uint8Array ? data.slice() : new Uint8Array(data);
  state.outgoing.push([to ?? null, frame]);
  // A replica's own change: kept in IndexedDB until the writer acknowledges it.
  const msgId = state.tab.writer ? 0 : pushMsgId(frame);
  if (msgId && state.outbox) state.outbox.keep(tabId, msgId, frame).catch(reportError);
}

/** The writer saves what closed tabs kept unacknowledged (tab-outbox.js). */
async function recoverOrphans() {
  if (!state.tab.writer || !state.outbox || !state.engine) return;
  const apply = (/** @type {string} */ tab, /** @type {Uint8Array} */ frame) =>
    applyTabStatus(state.glue.receive(state.engine, tab, frame, true));
  const saved = await state.outbox.recover(context().name, apply, sendOutgoing);
  if (saved) console.info(`yloft: saved ${saved} change(s) of closed tabs the writer had not acknowledged`);
}

/**
 * Wait until the writer's commits so far are stored. The commit hook (storage.flush,
 * called by the store's Writer after each COMMIT) is the one durability point; this only
 * waits for it to settle (IndexedDB completes asynchronously) and rethrows its failure.
 * A follower's writes are durable when the writer acks them, not here.
 */
async function durable() {
  if (state.tab.writer && state.storage) await state.storage.settled();
}

/** Post what Python sent, after storage says the writes behind it are durable. */
async function sendOutgoing() {
  await durable();
  void refreshEstimate();
  const frames = state.outgoing;
  state.outgoing = [];
  const { status } = state;
  const meta = state.tab.writer ? { storage: state.storage?.kind, persisted: state.storage?.persisted, onlyHere: status.onlyHere, outbox: status.outbox } : {};
  for (const [to, data] of frames) state.channel?.post(to, data, meta);
}

/** @param {string} json */
function applyTabStatus(json) {
  const before = state.tab;
  state.tab = JSON.parse(json);
  if (!state.tab.writer && state.tab.acked > (before.acked ?? 0)) state.outbox?.dropThrough(tabId, state.tab.acked).catch(reportError);
  if (state.tab.acked !== before.acked || state.tab.unsaved === 0 || state.tab.writer) state.lastProgress = Date.now();
  const still = [];
  for (const w of state.waiting) {
    if (state.tab.writer || w.awaitAck <= state.tab.acked) postMessage(w.msg);
    else still.push(w);
  }
  state.waiting = still;
  setStatus({ writer: state.tab.writer, tab: tabId, unsaved: state.inflight + state.tab.unsaved });
}

function maybeReady() {
  if (state.readyPosted || !(state.tab.writer || state.tab.synced)) return;
  state.readyPosted = true;
  postMessage({ type: "ready", name: context().name, versions: state.versions, status: { ...state.status } });
}

/** @param {string} from @param {string | null} to @param {Uint8Array} data @param {any} meta */
async function onTabFrame(from, to, data, meta) {
  if (!state.engine) return;
  const st = state.status;
  if (!state.tab.writer && meta.storage && (meta.storage !== st.storage || meta.onlyHere !== st.onlyHere || meta.outbox !== st.outbox)) {
    setStatus({ storage: meta.storage, persisted: Boolean(meta.persisted), onlyHere: Boolean(meta.onlyHere), outbox: meta.outbox });
  }
  try {
    applyTabStatus(state.glue.receive(state.engine, from, data, to !== null));
  } finally {
    await sendOutgoing();
  }
  maybeReady();
}

/** The writer lock is ours: the writer tab closed or died. Open the database and lead. */
async function takeOver() {
  clearInterval(state.helloTimer);
  let storage;
  for (let attempt = 1; ; attempt++) {
    try {
      storage = await mountDurable();
      break;
    } catch (e) {
      console.error(`yloft: taking over as writer, attempt ${attempt} failed`, e);
      if (attempt >= 5) throw e;
    }
  }
  const applied = state.glue.take_over(state.engine, storage.dbPath, logIdOf(storage), storage.flush, pragmasOf(storage));
  applyTabStatus(state.engine.tab_status());
  await sendOutgoing();
  await state.outbox?.dropThrough(tabId); // take_over saved this tab's own outbox
  await recoverOrphans();
  await startRelay(); // relay sync (issue 7)
  console.info(`yloft: this tab is now the writer (${applied} own changes saved on take-over)`);
  maybeReady();
}

// relay sync (issue 7) --------------------------------------------------------------
/** Sync the (writer's) store with the relay space; status goes through setStatus. */
async function startRelay() {
  if (!state.relayOptions || state.relay) return;
  const { startRelaySync } = await import("./relay-sync.js");
  state.relay = await startRelaySync(context().pyodide, state.engine, state.relayOptions, {
    name: context().name,
    setStatus,
    run: (/** @type {() => any} */ fn) => (state.queue = state.queue.then(fn).then(sendOutgoing).catch(reportError)),
    beforeSend: () => state.storage?.settled() ?? Promise.resolve(),
    keepCursor: state.storage?.kind !== "memory",
    onAwareness: (/** @type {string} */ collection, /** @type {string} */ docId, /** @type {Uint8Array} */ payload) =>
      state.awarenessChannel?.postMessage({ kind: "update", collection, docId, payload, from: "relay" }),
    onOnline: () => state.awarenessChannel?.postMessage({ kind: "announce", collection: "", docId: "", from: "relay" }),
    getToken: state.relayOptions.renew ? () => state.tokens.ask() : undefined,
  });
}

// page documents (db.doc) -------------------------------------------------------------

/**
 * Apply the page documents' updates that arrived since the last run, one commit per
 * document however many keystrokes they hold (typing never waits for storage).
 */
async function applyDocUpdates() {
  state.docScheduled = false;
  const batches = state.docPending;
  state.docPending = new Map();
  for (const [link, batch] of batches) {
    state.inflight += 1;
    setStatus({ unsaved: state.inflight + state.tab.unsaved });
    try {
      const update = batch.updates.length === 1 ? batch.updates[0] : Y.mergeUpdates(batch.updates);
      const reply = JSON.parse(state.glue.doc_update(state.engine, link, update));
      const awaitAck = reply.await_ack ?? 0;
      await durable();
      const out = { type: "doc-saved", link, seq: batch.seq, ok: reply.ok, error: reply.error };
      if (reply.ok && awaitAck > 0) state.waiting.push({ msg: out, awaitAck });
      else postMessage(out);
    } catch (e) {
      const err = /** @type {Error} */ (e);
      postMessage({ type: "doc-saved", link, seq: batch.seq, ok: false, error: { name: err.name, message: err.message } });
    } finally {
      state.inflight -= 1;
    }
  }
  applyTabStatus(state.engine.tab_status());
  await sendOutgoing();
}

/** @param {{link: number, seq: number, update: Uint8Array}} msg */
function queueDocUpdate(msg) {
  const batch = state.docPending.get(msg.link) ?? { updates: [], seq: 0 };
  batch.updates.push(msg.update);
  batch.seq = msg.seq;
  state.docPending.set(msg.link, batch);
  if (state.docScheduled) return;
  state.docScheduled = true;
  state.queue = state.queue.then(applyDocUpdates).catch(reportError);
}

// end relay sync (issue 7) ----------------------------------------------------------

/**
 * A start-up failure for the page: a Python error (Pyodide's PythonError, whose message
 * is the traceback) becomes the Python exception's name, its last line and the traceback.
 * @param {Error & {type?: string}} err
 */
function describeFatal(err) {
  const text = String(err.message ?? err);
  if (err.name !== "PythonError" || !err.type) return { name: err.name, message: text };
  const lines = text.trim().split("\n");
  const last = lines[lines.length - 1] ?? "";
  const message = last.startsWith(`${err.type}:`) ? last.slice(err.type.length + 1).trim() : last;
  return { name: err.type, message, traceback: text };
}

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
  if (!state.engine) throw new Error("the engine is not ready");
  state.inflight += 1;
  setStatus({ unsaved: state.inflight + state.tab.unsaved });
  try {
    const reply = JSON.parse(state.engine.handle(JSON.stringify({ method: msg.method, args: msg.args })));
    const awaitAck = reply.await_ack ?? 0;
    delete reply.await_ack;
    await durable();
    const out = { type: "reply", id: msg.id, ...reply };
    if (awaitAck > 0) state.waiting.push({ msg: out, awaitAck });
    else postMessage(out);
  } finally {
    state.inflight -= 1;
    applyTabStatus(state.engine.tab_status());
    await sendOutgoing();
  }
}


// For tests and diagnostics (Playwright: page.workers[0].evaluate("yloftTabs()")).
/** @type {any} */ (self).yloftTabs = () => ({ status: { ...state.status }, tab: state.tab, waiting: state.waiting.length, outgoing: state.outgoing.length, ready: state.readyPosted });

self.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    state.queue = start(msg.options ?? {}).catch((e) => {
      const err = /** @type {Error & {type?: string}} */ (e);
      setStatus({ error: err.message });
      postMessage({ type: "fatal", ...describeFatal(err) });
    });
  } else if (msg.type === "token") {
    state.tokens.answer(msg);
  } else if (msg.type === "doc-update") {
    if (!state.engine) {
      postMessage({ type: "doc-saved", link: msg.link, seq: msg.seq, ok: false, error: { name: "Error", message: "the engine is not ready" } });
    } else {
      queueDocUpdate(msg);
    }
  } else if (msg.type === "call") {
    // One request at a time, in order: Python runs single-threaded anyway.
    state.queue = state.queue.then(() => handle(msg)).catch((e) => {
      const err = /** @type {Error} */ (e);
      setStatus({ error: err.message });
      postMessage({ type: "reply", id: msg.id, ok: false, error: { name: err.name, message: err.message } });
    });
  }
};
