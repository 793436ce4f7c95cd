// The engine worker: one per tab. One tab per database in this browser (the holder of
// the writer lock) runs the engine: Pyodide, yloft, the app's module and the store
// (engine-host.js). Every other tab's worker loads no Python at all: it is a client of
// that engine over BroadcastChannels (engine-client.js) and queues for the writer lock,
// to take over when the writer tab closes or crashes. docs/tabs.md has the design.
//
// To the page:   {type: "progress", loaded, total}    runtime bytes (the engine's tab)
//                {type: "stage", stage}             a start-up stage begins: prepare | role |
//                                                   engine-tab | python | storage | store | relay
//                {type: "ready", name, versions, status}   name: the database name used
//                                                   on this origin (scoped by the app's path)
//                {type: "fatal", name, message, traceback?}   (a Python error's traceback)
//                {type: "reply", id, ok, value | error: {name, message}}
//                {type: "rows", sub, rows}          a live query's new result
//                {type: "status", status}
//                {type: "doc", link, update}        a page document changed elsewhere
//                {type: "doc-saved", link, seq, ok, error?}  page updates up to seq are
//                                                   durable (or were refused)
//                {type: "get-token", id}            the relay wants a token (engine's tab)
// From the page: {type: "init", options: {name, app, storage, relay}}
//                {type: "call", id, method, args}   method: query | subscribe | unsubscribe |
//                                                   call | doc_open | doc_close | export | ...
//                {type: "doc-update", link, seq, update}   a page document's own edit
//                {type: "token", id, token | error}

// Only what every tab needs is imported here; a tab that becomes the writer imports the
// engine's modules (boot.js, engine-host.js, storage, Yjs) then: a client tab never
// loads or parses them.
import { EngineClient, describeFatal } from "./engine-client.js";
import { engineChannel, tabChannel, tabsChannel } from "../names.js";
import { TabOutbox, holdTabLock } from "./tab-outbox.js";
import { tryWriterLock, waitWriterLock } from "./tabs.js";

// Not a secure context (http:// on another host than localhost) has no crypto.randomUUID:
// start() then says what is missing instead of the module failing to load.
const tabId = typeof crypto.randomUUID === "function" ? crypto.randomUUID() : "";
// The app's root (where manifest.json, pyodide/ and wheels/ are): this module lives in
// worker/ below it. The database name is scoped by this path, so it must stay the app's.
const appRoot = new URL("../", self.location.href);

/** What this worker is: a client always, the engine's host while it holds the writer lock. */
const worker = {
  /** @type {EngineClient | null} */
  client: null,
  /** @type {import("./engine-host.js").EngineHost | null} */
  host: null,
  name: "",
  /** @type {any} */
  options: {},
  /** @type {any} */
  manifest: null,
  /** the newest writer this tab bound to (ms since epoch when it became the writer) */
  since: 0,
  /** this tab holds the writer lock (from then on the engine's messages come directly) */
  becoming: false,
  /** the app enabled the devtools panel */
  devtools: false,
};

/** @param {{name?: string, app?: string, storage?: string, relay?: any, devtools?: boolean}} options */
async function start(options) {
  const missing = missingFeatures();
  if (missing.length > 0) {
    const why = self.isSecureContext
      ? ""
      : " (this page is not a secure context: serve it over https, or from localhost)";
    const err = new Error(
      `yloft cannot run here: this browser offers no ${missing.join(", no ")}${why}`,
    );
    err.name = "UnsupportedBrowserError";
    throw err;
  }
  const given = options.name ?? "default";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(given)) {
    throw new TypeError(`database name ${JSON.stringify(given)}: use 1-64 letters, digits, _ or -`);
  }
  const name = await scopedName(given, appRoot.pathname);
  worker.name = name;
  worker.options = options;
  stage("prepare");
  // Independent start-up steps at once: the build's manifest, this tab's liveness lock
  // (held before anything is sent, for the writer's sweep), its outbox.
  const [manifest, , outbox] = await Promise.all([
    fetch(new URL("manifest.json", appRoot)).then((res) => res.json()),
    holdTabLock(name, tabId),
    TabOutbox.open(name).catch((e) => {
      console.error("yloft: no IndexedDB outbox; a closed tab's unanswered writes can be lost", e);
      return null;
    }),
  ]);
  worker.manifest = manifest;
  // The devtools panel (web/devtools/): only when the app asked for it, or its bundle was
  // built by the dev server (`yloft serve` stamps the manifest).
  worker.devtools = Boolean(options.devtools || manifest.devtools);
  performance.mark("yloft:started");
  const devtools = worker.devtools;
  const client = new EngineClient({
    tab: tabId,
    build: worker.manifest.build,
    outbox,
    devtools,
    post: (msg, transfer) =>
      postMessage(msg.type === "ready" ? { ...msg, name, devtools } : msg, transfer ?? []),
  });
  worker.client = client;
  setInterval(() => client.publish(), 1000); // a writer that stopped answering shows

  // The engine's messages: to this tab, and to every tab.
  const requests = new BroadcastChannel(engineChannel(name));
  const fromEngine = (/** @type {MessageEvent} */ event) => {
    const msg = event.data;
    if (!msg || worker.becoming) return; // the engine is here: its messages come directly
    if (msg.kind === "welcome") welcome(msg, requests);
    else client.fromEngine(msg);
  };
  new BroadcastChannel(tabChannel(name, tabId)).onmessage = fromEngine;
  new BroadcastChannel(tabsChannel(name)).onmessage = fromEngine;

  stage("role");
  const writer = await tryWriterLock(name);
  performance.mark("yloft:role");
  if (writer) {
    await becomeWriter();
  } else {
    stage("engine-tab");
    requests.postMessage({ kind: "hello", from: tabId });
    waitWriterLock(name, () => {
      becomeWriter().catch((e) => client.fail(describeFatal(e)));
    });
  }
}

/**
 * What one engine per browser needs and this browser lacks here: every current browser
 * has it all in a secure context (docs/browsers.md), none of it is optional.
 * @returns {string[]}
 */
function missingFeatures() {
  const missing = [];
  if (typeof navigator.locks?.request !== "function") missing.push("Web Locks (navigator.locks)");
  if (typeof BroadcastChannel !== "function") missing.push("BroadcastChannel");
  if (!tabId || !crypto.subtle) missing.push("Web Crypto (crypto.randomUUID, crypto.subtle)");
  return missing;
}

/**
 * Bind this tab's client to the writer that announced itself, unless an older writer's
 * welcome arrives late (BroadcastChannel orders messages per sender only).
 * @param {any} msg @param {BroadcastChannel} requests
 */
function welcome(msg, requests) {
  if (msg.since < worker.since) return;
  worker.since = msg.since;
  const link = {
    writer: msg.writer,
    local: false,
    send: (/** @type {any} */ m) => requests.postMessage(m),
  };
  worker.client?.bind(link, msg);
}

/** This tab holds the writer lock: load Python, open the store and serve every tab. */
async function becomeWriter() {
  const client = /** @type {EngineClient} */ (worker.client);
  worker.becoming = true;
  stage("python");
  const [{ bootPython }, { EngineHost }] = await Promise.all([
    import("./boot.js"),
    import("./engine-host.js"),
  ]);
  const python = await bootPython(
    worker.manifest,
    appRoot,
    worker.options.app ?? "",
    (loaded, total) => postMessage({ type: "progress", loaded, total }),
  );
  const host = new EngineHost({
    name: worker.name,
    tab: tabId,
    build: worker.manifest.build,
    python,
    force: worker.options.storage,
    app: worker.options.app ?? "",
    outbox: client.outbox,
    deliverLocal: (msg) => client.fromEngine(msg),
    relay: worker.options.relay ?? null,
    onStage: stage,
    devtools: worker.devtools,
  });
  try {
    await host.open();
  } catch (e) {
    // Every tab of the app would fail the same way (the app's setup raised, storage broke):
    // say so in all of them.
    host.broadcast.postMessage({ kind: "fatal", error: describeFatal(/** @type {Error} */ (e)) });
    throw e;
  }
  worker.host = host;
  worker.since = host.since;
  client.bind(
    { writer: tabId, local: true, send: (msg) => host.receive(tabId, msg) },
    host.welcome(),
  );
  console.info("yloft: this tab runs the engine");
}

/**
 * Tell the page which start-up stage begins (it shows what a slow start waits for).
 * @param {string} name
 */
function stage(name) {
  if (!worker.client?.ready) postMessage({ type: "stage", stage: name });
}

/**
 * The database name on this origin: apps served under different paths (/todo/, /notes/)
 * keep separate databases, tab locks and channels even when they use the same name. At
 * the origin's root the name stays as given (databases made before paths counted).
 * @param {string} given @param {string} path the app's base path, e.g. "/todo/"
 */
async function scopedName(given, path) {
  if (path === "/") return given;
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(path)),
  );
  const hex = Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${given.slice(0, 55)}-${hex}`;
}

// For tests and diagnostics (Playwright: page.workers[0].evaluate("yloftTabs()")).
/** @type {any} */ (self).yloftTabs = () => ({
  status: worker.client?.status(),
  engine: Boolean(worker.host),
  // whether this worker fetched the Python runtime at all (resource timing does not lie)
  python: performance.getEntriesByType("resource").some((e) => e.name.includes("pyodide.asm")),
  pending: worker.client?.pending.size ?? 0,
  ready: worker.client?.ready ?? false,
  // start-up stages (ms since the worker started): boot.js and engine-host.js marks
  marks: Object.fromEntries(
    performance.getEntriesByType("mark").map((m) => [m.name, Math.round(m.startTime)]),
  ),
});

self.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    start(msg.options ?? {}).catch((e) => {
      const error = describeFatal(/** @type {Error} */ (e));
      if (worker.client?.ready) worker.client.fail(error);
      else postMessage({ type: "fatal", ...error });
    });
  } else if (msg.type === "token") {
    worker.host?.relay.tokens.answer(msg);
  } else if (!worker.client) {
    // connect() resolves only after "ready", so a page never sends requests this early.
    if (msg.type === "call")
      postMessage({
        type: "reply",
        id: msg.id,
        ok: false,
        error: { name: "Error", message: "the engine is not ready" },
      });
  } else {
    worker.client.fromPage(msg);
  }
};
