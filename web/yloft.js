// The yloft client for UIs: starts the engine worker and talks to it over postMessage.
// The UI thread never runs Python; every call returns a promise.
//
//   import { connect } from "./yloft.js";
//   const db = await connect({ name: "notes", app: "notes_app", onProgress });
//   await db.query("SELECT id, title FROM notes ORDER BY updated_at DESC", []);
//   const off = db.subscribe("SELECT count(*) AS n FROM notes", [], (rows) => {});
//   await db.call("create_note", "title", "body");
//   const provider = db.doc("notes", id);   // a page-side Y.Doc, synced both ways
//   db.status;  // {storage: "opfs" | "idb" | "memory", persisted, unsaved, error, writer, tab, evicted}
//   db.on("evicted", (evicted) => {});   // the browser had deleted the stored data
//
// Several tabs may open the same database: one of them (status.writer) runs the engine
// (Pyodide and the store); the others load no Python and forward every request to it
// (engine-client.js, engine-host.js). A call's promise resolves once its changes are
// durable, in whichever tab it was made.

import * as Y from "./vendor/yjs.mjs";
import { DocError, DocProvider } from "./page/doc-provider.js";
import { controlChannel, writerLock } from "./names.js";
import {
  STARTUP_STAGES,
  describeStartup,
  showErrorPanel,
  showStartupNotice,
  watchStartup,
} from "./page/startup.js";

// The one Yjs build the page shares with the engine and the editor bundle: import Yjs
// from here (`import { Y } from "./yloft.js"`), never a second copy.
export { DocError, DocProvider, Y };
export { STARTUP_STAGES, describeStartup, showErrorPanel, showStartupNotice };

/**
 * @typedef {object} ConnectOptions
 * @property {string} [name]     database name, one per app (letters, digits, _ or -)
 * @property {string} [app]      the app's Python module, e.g. "notes_app"
 * @property {"opfs" | "idb" | "memory"} [storage]  force a storage kind (tests, diagnostics)
 * @property {(loaded: number, total: number) => void} [onProgress]  runtime bytes fetched
 * @property {{space: string, token?: string, url?: string, getToken?: () => string | Promise<string>}} [relay]
 *   also sync the database through the relay of this origin (`/relay`), in that space with
 *   that token; `getToken` (instead of or besides `token`) is asked for a new token before
 *   the current one expires and after the relay refused one (docs/auth.md)
 * @property {boolean} [offline]  register the build's service worker (`sw.js` beside this
 *   file), which precaches every file of the manifest so the app opens offline (default true)
 * @property {(startup: Startup) => void} [onStartup]  called when a start-up stage begins,
 *   and every second while one is stalled (no progress for `stallMs`); without it, a stalled
 *   stage shows yloft's own notice in the page (showStartupNotice)
 * @property {number} [stallMs]  how long a stage may go without progress before it counts as
 *   stalled (default 15000; tests lower it)
 * @property {boolean} [devtools]  enable the devtools panel (docs/devtools.md): Ctrl+Shift+Y
 *   or `?devtools` opens it, and the engine answers its requests; a bundle built by
 *   `yloft serve` enables it too. Off by default: the panel is then unreachable
 */

/**
 * Where connect() is, for a loading screen that never stalls silently.
 * @typedef {object} Startup
 * @property {string} stage  "worker", "prepare", "role", "engine-tab", "python", "storage",
 *   "store" or "relay" (STARTUP_STAGES)
 * @property {string} label  what the stage waits for, in words ("opening the database")
 * @property {number} waitedMs  how long the stage has run
 * @property {boolean} stalled  no progress for `stallMs`: show what it waits for
 *   (describeStartup)
 */

/**
 * The browser deleted this database's storage (eviction) while records of it kept outside
 * the database remained (docs/storage.md, "Eviction").
 * @typedef {object} Evicted
 * @property {number} at  when a start found it deleted (ms since the epoch)
 * @property {"opfs" | "idb"} storage  the storage kind that lost it
 * @property {number} documents  how many documents it was last seen to hold (0: unknown)
 * @property {boolean} hadRelay  it had synced with a relay, which holds what it acknowledged
 * @property {number | null} exportedAt  when the app last exported it in this browser (ms),
 *   if ever: that file can be imported
 * @property {boolean} relay  a relay is configured now: its catch-up brings the data back
 * @property {boolean} restored  the database holds data again (the relay caught up, or an
 *   import)
 */

/**
 * @typedef {object} Status
 * @property {string} storage    "opfs", "idb" or "memory" (nothing survives a reload)
 * @property {string | null} [storageFallback]  why the storage is not OPFS when yloft chose
 *   it (e.g. WebKit has no OPFS sync access handles); null when OPFS or a forced kind
 * @property {"one-engine"} tabMode  how tabs share the database: one engine per browser,
 *   every other tab its client (docs/tabs.md); a browser that cannot (no Web Locks, not a
 *   secure context) fails to start with UnsupportedBrowserError
 * @property {boolean} persisted whether the browser granted persistent storage
 * @property {number} unsaved    requests running plus own changes not yet durable
 * @property {string | null} error  the last storage or engine error, if any
 * @property {Evicted | null} [evicted]  the browser had deleted the stored data (null: it
 *   had not; absent with memory storage); also the "evicted" event (Database.on)
 * @property {boolean} writer    whether this tab runs the engine (holds the database)
 * @property {string} tab        this tab's id among the open tabs
 * @property {boolean} writerStalled  this tab has unsaved changes and the writer tab has not
 *   answered anything for 3 s (it may be busy or frozen); the changes are kept
 * @property {RelayStatus} [relay]  relay sync (only when connect() was given `relay`)
 * @property {boolean} [onlyHere]  the data exists only on this device: storage is not
 *   persisted (the browser may evict it) and no relay holds a copy of everything
 * @property {number} [usage]    bytes this origin stores (navigator.storage.estimate())
 * @property {number} [quota]    bytes it may store
 */

/**
 * Relay sync's status: the sync session's SyncStatus (yloft.sync.session), the same shape
 * CPython's RelaySync.status reports.
 * @typedef {object} RelayStatus
 * @property {"online" | "syncing" | "offline"} state  caught up / catching up / no link
 * @property {number} outbox     own changes the relay has not acknowledged yet
 * @property {number} last_seq   the relay's change feed position this device holds
 * @property {"read-write" | "read-only"} access  what the relay lets this device do
 * @property {"ok" | "refused" | "expired" | ""} auth  the relay's last word on the token
 * @property {string} error      why the last link ended when it was not a plain
 *   disconnection (a refused or expired token, an error close); "" once welcomed again
 * @property {number} expires_at  when the token expires (unix seconds, 0 = never)
 */

/** An error raised by Python (or the engine), with the Python exception's name. */
export class EngineError extends Error {
  /** @param {{name: string, message: string, traceback?: string}} info */
  constructor(info) {
    super(info.message);
    this.name = info.name;
    /** @type {string | undefined} */
    this.traceback = info.traceback;
  }
}

/** A connection to the engine worker. Emits "status" events when `status` changes. */
export class Database extends EventTarget {
  /** @param {Worker} worker @param {any} info @param {string} name */
  constructor(worker, info, name) {
    super();
    this.worker = worker;
    this.name = name;
    /** @type {Map<number, DocProvider>} open document providers by link */
    this.providers = new Map();
    /** @type {{yloft: string, sqlite: string, python: string}} */
    this.versions = info.versions;
    /** @type {Status} */
    this.status = info.status;
    /** @type {Map<number, {resolve: (v: any) => void, reject: (e: Error) => void}>} */
    this.pending = new Map();
    /** @type {Map<number, (rows: any[]) => void>} */
    this.listeners = new Map();
    this.nextId = 1;
    this.closed = false;
    /** the eviction the "evicted" event was given for (its `at`) */
    this.evictedAt = info.status?.evicted?.at ?? 0;
    /** the app enabled the devtools panel (connect({devtools: true}) or `yloft serve`) */
    this.devtools = Boolean(info.devtools);
    if (this.devtools && typeof window !== "undefined") {
      import("./devtools/trigger.js").then(({ watchDevtools }) => watchDevtools(this));
    }
    worker.addEventListener("message", (event) => this.onMessage(event.data));
    /** Messages between the pages of this database (sign-out closes them all). */
    this.control = new BroadcastChannel(controlChannel(name));
    this.control.onmessage = (event) => {
      if (event.data?.kind === "clear") this.closeAs("cleared");
    };
  }

  /**
   * Sign-out: close this database in every tab and delete everything it stores in this
   * browser (database files in OPFS or IndexedDB, the tab outbox, the relay cursor). The
   * next connect() starts empty. Changes that exist only here would be lost: unless
   * `discardUnsynced`, it rejects with UnsyncedChangesError saying how many, and clears
   * nothing. Every open page of the database gets a "cleared" event.
   * @param {{discardUnsynced?: boolean}} [options]
   * @returns {Promise<{discarded: number}>}
   */
  async clearLocalData({ discardUnsynced = false } = {}) {
    const s = this.status;
    // With a relay: what it has not acknowledged (the writer's outbox, a replica's own
    // unsaved edits). Without one: every document exists only on this device.
    const relay = s.relay !== undefined;
    const unsynced = relay
      ? (s.relay?.outbox ?? 0) + (s.writer ? 0 : s.unsaved)
      : await this.request("document_count", []);
    if (unsynced > 0 && !discardUnsynced) {
      throw new EngineError({
        name: "UnsyncedChangesError",
        message:
          `${unsynced} ${relay ? "change(s) not on the relay yet" : "document(s) stored only on this device"}` +
          " would be lost: sync (or export) first, or pass {discardUnsynced: true}",
      });
    }
    this.control.postMessage({ kind: "clear" });
    this.closeAs("cleared");
    const { clearStoredData } = await import("./page/clear.js");
    // Granted once no engine of this database runs (the writer's lock is released).
    await navigator.locks.request(writerLock(this.name), () => clearStoredData(this.name));
    return { discarded: unsynced };
  }

  /**
   * Listen to an event of the database; returns a function that stops listening. Events:
   * "status" (db.status changed), "evicted" (the browser had deleted the stored data:
   * status.evicted; given at once, too, when the start found it so before connect()
   * resolved), "cleared" (clearLocalData in some tab), "error".
   * @param {"status" | "evicted" | "cleared" | "error"} type
   * @param {(detail: any) => void} listener  called with the event's detail
   * @returns {() => void}
   */
  on(type, listener) {
    let listening = true;
    const handler = (/** @type {Event} */ event) =>
      listener(/** @type {CustomEvent} */ (event).detail);
    this.addEventListener(type, handler);
    const evicted = this.status.evicted;
    if (type === "evicted" && evicted) queueMicrotask(() => listening && listener(evicted));
    return () => {
      listening = false;
      this.removeEventListener(type, handler);
    };
  }

  /**
   * Open the devtools panel in this page (docs/devtools.md); rejects with
   * DevtoolsDisabledError unless the app enabled devtools.
   * @returns {Promise<void>}
   */
  async openDevtools() {
    if (!this.devtools) {
      throw new EngineError({
        name: "DevtoolsDisabledError",
        message: "devtools are not enabled for this app: pass connect({devtools: true})",
      });
    }
    const { openPanel } = await import("./devtools/panel.js");
    openPanel(this);
  }

  /** @param {string} event  the event to dispatch once closed */
  closeAs(event) {
    if (this.closed) return;
    this.close();
    this.dispatchEvent(new CustomEvent(event));
  }

  /** @param {any} msg */
  onMessage(msg) {
    if (msg.type === "reply") {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.ok) waiter.resolve(msg.value);
      else waiter.reject(new EngineError(msg.error));
    } else if (msg.type === "rows") {
      this.listeners.get(msg.sub)?.(msg.rows);
    } else if (msg.type === "doc") {
      this.providers.get(msg.link)?._receive(msg.update);
    } else if (msg.type === "doc-saved") {
      this.providers.get(msg.link)?._saved(msg);
    } else if (msg.type === "status") {
      this.status = msg.status;
      this.dispatchEvent(new CustomEvent("status", { detail: msg.status }));
      const evicted = msg.status.evicted;
      if (evicted && evicted.at !== this.evictedAt) {
        this.evictedAt = evicted.at;
        this.dispatchEvent(new CustomEvent("evicted", { detail: evicted }));
      }
    }
  }

  /**
   * @param {string} method
   * @param {any[]} args
   * @returns {Promise<any>}
   */
  request(method, args) {
    if (this.closed) return Promise.reject(new Error("the database is closed"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: "call", id, method, args });
    });
  }

  /**
   * Run a read-only SQL query.
   * @template [R=Record<string, any>]  a row's type (yloft types writes them)
   * @param {string} sql
   * @param {any[]} [params]
   * @returns {Promise<R[]>}
   */
  query(sql, params = []) {
    return this.request("query", [sql, params]);
  }

  /**
   * Call `callback(rows)` now and whenever the query's result changes.
   * @template [R=Record<string, any>]  a row's type (yloft types writes them)
   * @param {string} sql
   * @param {any[]} params
   * @param {(rows: R[]) => void} callback
   * @param {(error: Error) => void} [onError]  called if the query fails (e.g. bad SQL);
   *   without it, the error goes to the database's "error" event
   * @returns {() => void} stops the subscription
   */
  subscribe(sql, params, callback, onError) {
    let subId = 0;
    let stopped = false;
    this.request("subscribe", [sql, params]).then(
      (/** @type {{id: number, rows: any[]}} */ sub) => {
        subId = sub.id;
        if (stopped) {
          this.request("unsubscribe", [subId]).catch(() => {});
          return;
        }
        this.listeners.set(subId, callback);
        callback(sub.rows);
      },
      (err) =>
        onError ? onError(err) : this.dispatchEvent(new CustomEvent("error", { detail: err })),
    );
    return () => {
      stopped = true;
      if (subId) {
        this.listeners.delete(subId);
        this.request("unsubscribe", [subId]).catch(() => {});
      }
    };
  }

  /**
   * Call a function of the app's Python module; Python errors reject with their name.
   * @param {string} name
   * @param {...any} args
   * @returns {Promise<any>}
   */
  call(name, ...args) {
    return this.request("call", [name, ...args]);
  }

  /**
   * The whole database as one export file (every document's Yjs state, the schemas):
   * keep it as a backup, or merge it into another device with importFile().
   * @returns {Promise<Blob>}
   */
  async exportFile() {
    const { $bytes } = await this.request("export", []);
    const raw = atob($bytes);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return new Blob([bytes], { type: "application/vnd.yloft.export" });
  }

  /**
   * Merge an export file into the database, all or nothing: importing a file twice
   * changes nothing; a damaged or foreign file rejects with ArchiveError and changes
   * nothing. Resolves with {documents, changed, held, collections_declared}.
   * @param {Blob} file
   * @returns {Promise<{documents: number, changed: number, held: number, collections_declared: string[]}>}
   */
  async importFile(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let raw = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      raw += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return this.request("import", [btoa(raw)]);
  }

  /**
   * A collection's columns as CSV or JSON text (for spreadsheets and other tools).
   * @param {string} collection
   * @param {"csv" | "json"} [format]
   * @returns {Promise<string>}
   */
  exportRows(collection, format = "csv") {
    return this.request("export_rows", [collection, format]);
  }

  /**
   * A page-side Y.Doc kept in sync with a stored document (edits both ways, presence,
   * saved state): bind an editor to `provider.doc` and `provider.awareness`.
   * @param {string} collection
   * @param {string} id
   * @param {{doc?: Y.Doc}} [options]  sync an existing Y.Doc instead of a new one
   * @returns {DocProvider}
   */
  doc(collection, id, options) {
    if (typeof collection !== "string" || typeof id !== "string" || !collection || !id) {
      throw new TypeError("db.doc(collection, id): both must be non-empty strings");
    }
    return new DocProvider(this, collection, id, options);
  }

  /** @param {any} msg @param {Transferable[]} [transfer] */
  post(msg, transfer = []) {
    if (!this.closed) this.worker.postMessage(msg, transfer);
  }

  /** Stop the engine worker. */
  close() {
    for (const provider of [...this.providers.values()]) provider.destroy();
    this.closed = true;
    this.control.close();
    this.worker.terminate();
    for (const waiter of this.pending.values()) waiter.reject(new Error("the database is closed"));
    this.pending.clear();
    this.listeners.clear();
  }
}

/**
 * Start an engine worker and resolve once Python, yloft and the store are ready.
 * While it starts, each stage is reported (options.onStartup), and one that stalls says
 * what it waits for; a failure rejects (show it with showErrorPanel).
 * @param {ConnectOptions} [options]
 * @returns {Promise<Database>}
 */
export function connect(options = {}) {
  if (options.offline !== false && "serviceWorker" in navigator) {
    // The app works without it too: a refusal (e.g. a blocked context) is only logged.
    navigator.serviceWorker
      .register(new URL("./sw.js", import.meta.url))
      .catch((e) => console.warn("yloft: no offline cache:", e));
  }
  const url = new URL("./worker/engine-worker.js", import.meta.url);
  const worker = new Worker(url, { type: "module", name: `yloft:${options.name ?? "default"}` });
  return new Promise((resolve, reject) => {
    const startup = watchStartup(options);
    /** @param {MessageEvent} event */
    const onMessage = (event) => {
      const msg = event.data;
      if (msg.type === "progress") {
        startup.progress();
        options.onProgress?.(msg.loaded, msg.total);
      } else if (msg.type === "stage") {
        startup.stage(msg.stage);
      } else if (msg.type === "ready") {
        startup.stop();
        worker.removeEventListener("message", onMessage);
        resolve(new Database(worker, msg, msg.name ?? options.name ?? "default"));
      } else if (msg.type === "fatal") {
        startup.stop();
        worker.removeEventListener("message", onMessage);
        worker.terminate();
        reject(new EngineError(msg));
      }
    };
    worker.addEventListener("message", onMessage);
    worker.addEventListener("error", (event) => {
      startup.stop();
      // A module worker that cannot load (a missing file, a syntax error) gives no message.
      const why =
        event.message || `${url.pathname} could not be loaded (missing file, or an error in it)`;
      reject(
        new EngineError({ name: "EngineWorkerError", message: `the engine worker failed: ${why}` }),
      );
    });
    const { onProgress, offline, relay, onStartup, stallMs, ...plain } = options;
    const getToken = relay?.getToken;
    if (relay) {
      const { getToken: _fn, ...relayPlain } = relay; // functions cannot cross to the worker
      /** @type {any} */ (plain).relay = { ...relayPlain, renew: typeof getToken === "function" };
    }
    if (getToken) {
      // The writer tab's engine worker asks for tokens for the whole life of the worker.
      worker.addEventListener("message", (event) => {
        if (event.data?.type !== "get-token") return;
        const id = event.data.id;
        Promise.resolve()
          .then(() => getToken())
          .then(
            (token) => worker.postMessage({ type: "token", id, token }),
            (e) => worker.postMessage({ type: "token", id, error: String(e?.message ?? e) }),
          );
      });
    }
    worker.postMessage({ type: "init", options: plain });
  });
}
