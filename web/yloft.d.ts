// Types of yloft.js, the page API of a yloft app (docs/types.md). The runtime itself is
// plain JavaScript typed with JSDoc; this file is what an app's editor and `tsc` see when
// a page imports "./yloft.js". tests/types/yloft-api.ts holds it to the implementation's
// JSDoc both ways (`tsc -p .` in python3 build.py test), so the two cannot drift apart.
//
//   import { connect } from "./yloft.js";
//   /** @typedef {import("./rows.js").NoteRow} NoteRow */   // written by `yloft types`
//   const db = await connect({ name: "notes", app: "notes_app" });
//   const notes = await db.query<NoteRow>("SELECT * FROM notes", []);  // NoteRow[]
//   // in JavaScript: /** @type {NoteRow[]} */ (await db.query("SELECT * FROM notes"))

import * as Y from "./vendor/yjs.mjs";

/** The one Yjs build the page shares with the engine and the editor bundle. */
export { Y };

/** A row of a query: column name to value, as SQLite gave it (JSON over postMessage). */
export type Row = Record<string, any>;

/** Where relay sync goes (docs/auth.md). */
export interface RelayOptions {
  /** the space (a shared set of documents) to sync */
  space: string;
  /** the token the relay checks */
  token?: string;
  /** the relay's URL (default: `/relay` of this origin) */
  url?: string;
  /** asked for a new token before the current one expires and after the relay refused one */
  getToken?: () => string | Promise<string>;
}

/** What connect() takes. */
export interface ConnectOptions {
  /** database name, one per app (letters, digits, _ or -) */
  name?: string;
  /** the app's Python module, e.g. "notes_app" */
  app?: string;
  /** force a storage kind (tests, diagnostics) */
  storage?: "opfs" | "idb" | "memory";
  /** runtime bytes fetched */
  onProgress?: (loaded: number, total: number) => void;
  /** also sync the database through a relay */
  relay?: RelayOptions;
  /** register the build's service worker so the app opens offline (default true) */
  offline?: boolean;
  /** called when a start-up stage begins, and every second while one is stalled */
  onStartup?: (startup: Startup) => void;
  /** how long a stage may go without progress before it counts as stalled (ms, default 15000) */
  stallMs?: number;
  /**
   * enable the devtools panel (docs/devtools.md): Ctrl+Shift+Y or `?devtools` opens it, and
   * the engine answers its requests; a bundle built by `yloft serve` enables it too
   */
  devtools?: boolean;
}

/** Where connect() is, for a loading screen that never stalls silently. */
export interface Startup {
  /** "worker", "prepare", "role", "engine-tab", "python", "storage", "store" or "relay" */
  stage: string;
  /** what the stage waits for, in words ("opening the database") */
  label: string;
  /** how long the stage has run (ms) */
  waitedMs: number;
  /** no progress for `stallMs`: show what it waits for (describeStartup) */
  stalled: boolean;
}

/** The browser deleted this database's storage (docs/storage.md, "Eviction"). */
export interface Evicted {
  /** when a start found it deleted (ms since the epoch) */
  at: number;
  /** the storage kind that lost it */
  storage: "opfs" | "idb";
  /** how many documents it was last seen to hold (0: unknown) */
  documents: number;
  /** it had synced with a relay, which holds what it acknowledged */
  hadRelay: boolean;
  /** when the app last exported it in this browser (ms), if ever */
  exportedAt: number | null;
  /** a relay is configured now: its catch-up brings the data back */
  relay: boolean;
  /** the database holds data again (the relay caught up, or an import) */
  restored: boolean;
}

/** Relay sync's status (the sync session's SyncStatus). */
export interface RelayStatus {
  /** caught up / catching up / no link */
  state: "online" | "syncing" | "offline";
  /** own changes the relay has not acknowledged yet */
  outbox: number;
  /** the relay's change feed position this device holds */
  last_seq: number;
  /** what the relay lets this device do */
  access: "read-write" | "read-only";
  /** the relay's last word on the token */
  auth: "ok" | "refused" | "expired" | "";
  /** why the last link ended when it was not a plain disconnection; "" once welcomed again */
  error: string;
  /** when the token expires (unix seconds, 0 = never) */
  expires_at: number;
}

/** db.status: the storage, this tab's role and what is not saved yet. */
export interface Status {
  /** "opfs", "idb" or "memory" (nothing survives a reload) */
  storage: string;
  /** why the storage is not OPFS when yloft chose it; null when OPFS or a forced kind */
  storageFallback?: string | null;
  /** how tabs share the database: one engine per browser (docs/tabs.md) */
  tabMode: "one-engine";
  /** whether the browser granted persistent storage */
  persisted: boolean;
  /** requests running plus own changes not yet durable */
  unsaved: number;
  /** the last storage or engine error, if any */
  error: string | null;
  /** the browser had deleted the stored data (null: it had not; absent with memory storage) */
  evicted?: Evicted | null;
  /** whether this tab runs the engine (holds the database) */
  writer: boolean;
  /** this tab's id among the open tabs */
  tab: string;
  /** this tab has unsaved changes and the writer tab has not answered for a while */
  writerStalled: boolean;
  /** relay sync (only when connect() was given `relay`) */
  relay?: RelayStatus;
  /** the data exists only on this device (not persisted, no relay holds a copy) */
  onlyHere?: boolean;
  /** bytes this origin stores (navigator.storage.estimate()) */
  usage?: number;
  /** bytes it may store */
  quota?: number;
}

/** What importFile() merged. */
export interface ImportResult {
  documents: number;
  changed: number;
  held: number;
  collections_declared: string[];
}

/** The details db.on() listeners get, by event. */
export interface DatabaseEvents {
  /** db.status changed */
  status: Status;
  /** the browser had deleted the stored data (status.evicted) */
  evicted: Evicted;
  /** clearLocalData() ran in some tab: this database is closed */
  cleared: null;
  /** a live query failed (subscribe) */
  error: Error;
}

/** An error raised by Python (or the engine), with the Python exception's name. */
export declare class EngineError extends Error {
  constructor(info: { name: string; message: string; traceback?: string });
  /** the Python traceback, when Python raised it */
  traceback: string | undefined;
}

/** A connection to the engine worker (from connect()). Emits "status" events. */
export declare class Database extends EventTarget {
  /** Use connect(), which starts the worker and waits for the engine. */
  constructor(worker: Worker, info: any, name: string);
  /** the database name */
  name: string;
  /** versions of the engine's parts */
  versions: { yloft: string; sqlite: string; python: string };
  /** the app enabled the devtools panel (connect({devtools: true}) or `yloft serve`) */
  devtools: boolean;
  /** the current status; "status" events tell when it changes */
  status: Status;
  /** close() or clearLocalData() ran */
  closed: boolean;
  /** Run a read-only SQL query; `Row` is the type of each row (`yloft types` writes them). */
  query<R = Row>(sql: string, params?: unknown[]): Promise<R[]>;
  /**
   * Call `callback(rows)` now and whenever the query's result changes; returns a function
   * that stops the subscription. A failing query calls `onError`, or without it emits
   * "error".
   */
  subscribe<R = Row>(
    sql: string,
    params: unknown[],
    callback: (rows: R[]) => void,
    onError?: (error: Error) => void,
  ): () => void;
  /** Call a function of the app's Python module; Python errors reject with EngineError. */
  call<T = any>(name: string, ...args: unknown[]): Promise<T>;
  /** A page-side Y.Doc kept in sync with a stored document (editors, presence). */
  doc(collection: string, id: string, options?: { doc?: Y.Doc }): DocProvider;
  /** Listen to an event; returns a function that stops listening. */
  on<K extends keyof DatabaseEvents>(
    type: K,
    listener: (detail: DatabaseEvents[K]) => void,
  ): () => void;
  /** The whole database as one export file (every document's Yjs state, the schemas). */
  exportFile(): Promise<Blob>;
  /** Merge an export file into the database, all or nothing (ArchiveError: nothing changed). */
  importFile(file: Blob): Promise<ImportResult>;
  /** A collection's columns as CSV or JSON text. */
  exportRows(collection: string, format?: "csv" | "json"): Promise<string>;
  /**
   * Sign-out: close this database in every tab and delete what it stores in this browser.
   * Rejects with UnsyncedChangesError (clearing nothing) unless `discardUnsynced`.
   */
  clearLocalData(options?: { discardUnsynced?: boolean }): Promise<{ discarded: number }>;
  /** Open the devtools panel in this page; DevtoolsDisabledError unless enabled. */
  openDevtools(): Promise<void>;
  /** Stop the engine worker. */
  close(): void;
  /** Low level: one engine method by name (what the methods above and the devtools use). */
  request(method: string, args: unknown[]): Promise<any>;
}

/** Raised (emitted as "error") when the engine refused or could not open a document. */
export declare class DocError extends Error {
  constructor(info: { name: string; message: string });
}

/** A provider's link to the engine. */
export type ProviderStatus = "connecting" | "connected" | "disconnected";

/** The events of a DocProvider (provider.on(name, listener)). */
export interface DocProviderEvents {
  /** the page holds the stored state */
  synced: (synced: boolean) => void;
  /** every own edit is durable */
  saved: () => void;
  /** the engine refused an edit or could not open the document */
  error: (error: DocError) => void;
  status: (event: { status: ProviderStatus }) => void;
  destroy: (provider: DocProvider) => void;
}

/**
 * What db.doc() returns: a page-side Y.Doc synced with one stored document, shaped like the
 * Yjs ecosystem's providers (bind an editor to `doc` and `awareness`).
 */
export declare class DocProvider extends Y.ObservableV2<DocProviderEvents> {
  constructor(host: any, collection: string, id: string, options?: { doc?: Y.Doc });
  collection: string;
  id: string;
  /** the synced document */
  doc: Y.Doc;
  /** presence of the people on this document (cursors, names) */
  awareness: Y.Awareness;
  /** whether the page holds the stored state */
  synced: boolean;
  /** resolves once the page holds the stored state */
  whenSynced: Promise<DocProvider>;
  status: ProviderStatus;
  /** own edits the engine has not made durable yet (0: everything is saved) */
  unsaved: number;
  /** the last refusal or failure, if any */
  error: DocError | null;
  /** Send raw bytes as if this page had made them (tests and tools). */
  sendRawUpdate(update: Uint8Array): void;
  /** Stop syncing: unlink on both sides, drop presence, free everything it holds. */
  destroy(): void;
}

/** The start-up stages, in the order a tab meets them, and what each waits for. */
export declare const STARTUP_STAGES: Readonly<{
  worker: string;
  prepare: string;
  role: string;
  "engine-tab": string;
  python: string;
  storage: string;
  store: string;
  relay: string;
}>;

/** "Still waiting for: opening the database (45 s)". */
export declare function describeStartup(startup: Startup): string;

/** Show why the app could not start, in the page: `main().catch(showErrorPanel)`. */
export declare function showErrorPanel(error: unknown): void;

/** connect()'s notice while a stage is stalled (null removes it). */
export declare function showStartupNotice(startup: Startup | null): void;

/**
 * Start an engine worker and resolve once Python, yloft and the store are ready; a failure
 * rejects with EngineError (show it with showErrorPanel).
 */
export declare function connect(options?: ConnectOptions): Promise<Database>;
