// The database's manifest: a small record kept outside the database file (IndexedDB
// database `yloft-manifest`), so that a start can tell a database the browser deleted
// (evicted) from a new one. docs/storage.md, "Eviction", has the design.
//
//   const reading = Manifest.read("notes");                  // start it early: one IDB get
//   const found = databaseFound(pyodide.FS, storage.dbPath);  // before SQLite creates it
//   ... open the store ...
//   const manifest = new Manifest("notes", storage.kind, await reading, { count, run, onHeld });
//   const lost = manifest.start(found);   // null, or what the browser deleted
//   manifest.wrote();            // after durable writes: counted (rarely) until data is seen
//   manifest.relaySeq(lastSeq);  // the relay cursor moved: written at most every 5 s
//   manifest.exported();         // the app exported the database: written now
//
// What it holds, per database and storage kind (key `<name>:<kind>`): when the database
// was created, how many documents it was last seen to hold, the relay feed position it
// had reached, when the app last exported it, and, while a deleted database has not got
// its data back, what was lost. It is written at start and then only when one of those
// changes in a way that matters: never per write once the database is known to hold data.
//
// A start finds eviction when the database holds no documents while the manifest says it
// held some. (The relay cursor cannot tell: it lives inside the database, written with the
// updates it covers, and goes with it; so a new database syncs as a new device, from 0.)
// Browsers usually evict a whole origin at once, manifest included: that start is a fresh
// one, with nothing to detect (the relay, if any, refills it).

import { manifestDatabase } from "../../names.js";
import { done } from "../idb.js";

const STORE = "databases";
const RELAY_DATABASE = "yloft-relay"; // relay cursors kept by earlier versions of relay sync
const RELAY_STORE = "cursors";
const RELAY_WRITE_MS = 5000; // a moving relay cursor is written at most this often
const COUNT_MS = 250; // after writes, while no data was seen yet

/**
 * What the browser deleted: carried in db.status.evicted (with `relay` and `restored`).
 * @typedef {object} Lost
 * @property {number} at  when a start found the database gone (ms since the epoch)
 * @property {"opfs" | "idb"} storage  the storage kind that lost it
 * @property {number} documents  how many documents it was last seen to hold (0: unknown)
 * @property {boolean} hadRelay  it had synced with a relay, which holds what it acknowledged
 * @property {number | null} exportedAt  when the app last exported it here (ms), if ever
 */

/**
 * @typedef {object} ManifestRecord
 * @property {number} created  when this database was created (or first seen), ms
 * @property {number} held  how many documents it was last seen to hold
 * @property {number} lastSeq  the relay feed position it had reached (0: none)
 * @property {number | null} exportedAt  the app's last export of it, ms
 * @property {Lost | null} lost  set while a deleted database has not got data back
 */

/** @param {string} name @param {string} store @returns {Promise<IDBDatabase>} */
function openDb(name, store) {
  const req = indexedDB.open(name, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(store);
  return done(req);
}

/** Whether an IndexedDB database exists (without creating it, where the browser can tell). @param {string} name */
async function exists(name) {
  if (typeof indexedDB.databases !== "function") return true;
  return (await indexedDB.databases()).some((d) => d.name === name);
}

/** Keys `<name>:...` of one database. @param {string} name */
const keysOf = (name) => IDBKeyRange.bound(`${name}:`, `${name}:\uffff`);

/**
 * Whether the database file was there before SQLite opened it: it has bytes (a new
 * SQLite database in WAL mode gets its first page as soon as it is opened).
 * @param {any} FS  Pyodide's file system, with the storage mounted
 * @param {string} path  the database file
 */
export function databaseFound(FS, path) {
  try {
    return FS.stat(path).size > 0;
  } catch {
    return false;
  }
}

/**
 * Delete the relay cursors earlier versions of relay sync kept for `name` in IndexedDB
 * (sign-out; relay sync now keeps its cursor in the database only).
 * @param {string} name
 */
export async function forgetRelayCursors(name) {
  if (!(await exists(RELAY_DATABASE))) return;
  const db = await openDb(RELAY_DATABASE, RELAY_STORE);
  try {
    const tx = db.transaction(RELAY_STORE, "readwrite", { durability: "strict" });
    tx.objectStore(RELAY_STORE).delete(keysOf(name));
    await done(tx);
  } finally {
    db.close();
  }
}

/**
 * Delete the manifests of `name`, every storage kind (sign-out: the next start is a
 * fresh one, not an eviction).
 * @param {string} name
 */
export async function forgetManifest(name) {
  if (!(await exists(manifestDatabase))) return;
  const db = await openDb(manifestDatabase, STORE);
  try {
    const tx = db.transaction(STORE, "readwrite", { durability: "strict" });
    tx.objectStore(STORE).delete(keysOf(name));
    await done(tx);
  } finally {
    db.close();
  }
}

/**
 * What a start concludes (pure): the store holds no documents while the manifest says
 * the database held some (an empty store whose file was there counts too: a database
 * replaced by a new one, or a start that ended before it wrote the manifest).
 * @param {object} o
 * @param {number} o.documents  documents the opened store holds
 * @param {ManifestRecord | null} o.record  the manifest, if any
 * @param {"opfs" | "idb"} o.kind
 * @param {number} o.now
 * @returns {Lost | null}
 */
export function lostAtStart({ documents, record, kind, now }) {
  if (documents > 0) return null;
  if (record?.lost) return record.lost; // still gone: the same loss as before
  if ((record?.held ?? 0) === 0) return null; // nothing was ever here
  return {
    at: now,
    storage: kind,
    documents: record?.held ?? 0,
    hadRelay: (record?.lastSeq ?? 0) > 0,
    exportedAt: record?.exportedAt ?? null,
  };
}

export class Manifest {
  /**
   * The stored manifests of `name`, by storage kind (errors are logged: a start never
   * fails for want of a manifest).
   * @param {string} name
   * @returns {Promise<Record<string, ManifestRecord>>}
   */
  static async read(name) {
    try {
      if (!(await exists(manifestDatabase))) return {};
      const db = await openDb(manifestDatabase, STORE);
      try {
        const store = db.transaction(STORE).objectStore(STORE);
        const [keys, values] = await Promise.all([
          done(store.getAllKeys(keysOf(name))),
          done(store.getAll(keysOf(name))),
        ]);
        return Object.fromEntries(
          keys.map((/** @type {string} */ k, /** @type {number} */ i) => [
            k.slice(name.length + 1),
            values[i],
          ]),
        );
      } finally {
        db.close();
      }
    } catch (e) {
      console.error("yloft: the database's manifest could not be read; eviction goes unnoticed", e);
      return {};
    }
  }

  /**
   * @param {string} name  the database name
   * @param {"opfs" | "idb"} kind
   * @param {Record<string, ManifestRecord>} records  from Manifest.read
   * @param {{count: () => number, run: (fn: () => any) => Promise<void>, onHeld: () => void}} hooks
   *   count: documents the store holds (Python, in the engine's queue: see run);
   *   onHeld: the database holds documents again after a loss
   */
  constructor(name, kind, records, hooks) {
    this.name = name;
    this.kind = kind;
    this.key = `${name}:${kind}`;
    this.hooks = hooks;
    /** @type {ManifestRecord | null} */
    this.stored = records[kind] ?? null;
    /** @type {ManifestRecord} */
    this.record = { created: Date.now(), held: 0, lastSeq: 0, exportedAt: null, lost: null };
    this.written = "";
    /** @type {number | undefined} a relay feed position to record at the next write */
    this.next = undefined;
    /** @type {Promise<void>} writes land in the order they were made */
    this.writing = Promise.resolve();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.due = Infinity;
  }

  /**
   * Decide at start whether the browser deleted this database, and write the record.
   * Call it once the store is open.
   * @param {boolean} found  databaseFound() before the store was opened
   * @returns {Lost | null}
   */
  start(found) {
    const stored = this.stored;
    const documents = this.hooks.count();
    const now = Date.now();
    const lost = lostAtStart({ documents, record: stored, kind: this.kind, now });
    this.record = {
      created: found && stored ? stored.created : now,
      held: documents,
      lastSeq: found && !lost ? (stored?.lastSeq ?? 0) : 0,
      exportedAt: stored?.exportedAt ?? null,
      lost,
    };
    this.write();
    return lost;
  }

  /** Durable writes happened: until the database is seen to hold data, count soon. */
  wrote() {
    if (this.record.held === 0) this.schedule(COUNT_MS);
  }

  /** The relay feed position this database holds. @param {number | undefined} lastSeq */
  relaySeq(lastSeq) {
    if (typeof lastSeq === "number" && lastSeq !== this.record.lastSeq) {
      this.next = lastSeq;
      this.schedule(this.record.held === 0 ? COUNT_MS : RELAY_WRITE_MS);
    }
  }

  /** The app exported the database (the file the person can import after a loss). */
  exported() {
    this.record.exportedAt = Date.now();
    this.schedule(0);
  }

  /** @param {number} ms */
  schedule(ms) {
    const due = Date.now() + ms;
    if (this.timer !== undefined && this.due <= due) return;
    clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = Infinity;
      void this.hooks.run(() => this.refresh());
    }, ms);
  }

  /** Count (in the engine's queue), update the record, write it if it changed. */
  refresh() {
    const record = this.record;
    const held = this.hooks.count();
    if (typeof this.next === "number") record.lastSeq = this.next;
    const regained = record.held === 0 && held > 0 && record.lost !== null;
    record.held = held;
    if (held > 0) record.lost = null;
    this.write();
    if (regained) this.hooks.onHeld();
  }

  write() {
    const text = JSON.stringify(this.record);
    if (text === this.written || text === JSON.stringify(this.stored)) {
      this.written = text;
      return;
    }
    this.written = text;
    const record = { ...this.record };
    this.writing = this.writing
      .then(async () => {
        const db = await openDb(manifestDatabase, STORE);
        try {
          const tx = db.transaction(STORE, "readwrite", { durability: "strict" });
          tx.objectStore(STORE).put(record, this.key);
          await done(tx);
        } finally {
          db.close();
        }
      })
      .catch((e) => {
        this.written = "";
        console.error("yloft: the database's manifest could not be written", e);
      });
  }
}
