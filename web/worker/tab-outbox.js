// A tab's writes that the engine (the writer tab's worker) has not answered yet, kept in
// IndexedDB so that a tab closed or crashed right after an edit loses nothing.
//
//   const outbox = await TabOutbox.open("notes");
//   holdTabLock("notes", tabId);                 // this tab is alive while it holds it
//   outbox.keep(tabId, seq, entry);               // each write it sends to the engine
//   outbox.dropThrough(tabId, answered);          // every write up to it was answered
//   for (const o of await outbox.orphans("notes")) ...   // the writer: dead tabs' writes
//
// A tab's liveness is a Web Lock it holds for its worker's life (`yloft-tab:<db>:<id>`):
// the browser releases it when the tab closes or its renderer crashes, so a write kept
// by a tab whose lock is gone will never be resent by it, and the writer runs it. That
// is safe whether or not the engine already had it: a call runs once per (tab, seq)
// (yloft.browser.once), and a document update applied twice changes nothing.

import { outboxDatabase, tabLock, tabLockPrefix } from "../names.js";
import { done } from "./idb.js";

const STORE = "pushes";

/**
 * @typedef {{kind: "call", method: string, args: any[]}
 *   | {kind: "doc", collection: string, docId: string, update: Uint8Array}} KeptEntry
 */

/**
 * Hold this tab's liveness lock until the worker ends.
 * @param {string} name  the database name
 * @param {string} tabId
 * @returns {Promise<void>} resolves once the lock is held (the tab counts as alive)
 */
export function holdTabLock(name, tabId) {
  return new Promise((resolve) => {
    navigator.locks
      .request(tabLock(name, tabId), () => {
        resolve();
        return new Promise(() => {});
      })
      .catch((e) => {
        console.error("yloft: tab lock request failed", e);
        resolve();
      });
  });
}

/**
 * Ids of the tabs of `name` that are alive (hold their lock).
 * @param {string} name
 * @returns {Promise<Set<string>>}
 */
export async function liveTabs(name) {
  const prefix = tabLockPrefix(name);
  const { held = [] } = await navigator.locks.query();
  return new Set(
    held
      .map((l) => l.name ?? "")
      .filter((n) => n.startsWith(prefix))
      .map((n) => n.slice(prefix.length)),
  );
}

/** @typedef {{tab: string, msgId: number, entry: KeptEntry}} KeptPush */

export class TabOutbox {
  /** @param {IDBDatabase} db */
  constructor(db) {
    this.db = db;
    /** @type {Promise<unknown>} writes in the order they were asked for */
    this.last = Promise.resolve();
    /** @type {{tab: string, msgId: number, done: Promise<unknown>} | null} a drop queued last, not started */
    this.queuedDrop = null;
  }

  /**
   * @param {string} name  the database name
   * @returns {Promise<TabOutbox>}
   */
  static async open(name) {
    const req = indexedDB.open(outboxDatabase(name), 2);
    req.onupgradeneeded = () => {
      // Version 1 kept replica PUSH frames (the design before one engine per browser).
      if (req.result.objectStoreNames.contains(STORE)) req.result.deleteObjectStore(STORE);
      req.result.createObjectStore(STORE, { keyPath: ["tab", "msgId"] });
    };
    return new TabOutbox(await done(req));
  }

  /**
   * @param {"readonly" | "readwrite"} mode
   * @param {(store: IDBObjectStore) => void} fn
   */
  _run(mode, fn, durability = /** @type {IDBTransactionDurability} */ ("strict")) {
    const tx = this.db.transaction(STORE, mode, { durability });
    fn(tx.objectStore(STORE));
    return done(tx);
  }

  /**
   * Keep a write until the engine answers it.
   * @param {string} tab @param {number} msgId the write's seq @param {KeptEntry} entry
   * @returns {Promise<unknown>} resolves once it is stored
   */
  keep(tab, msgId, entry) {
    this.queuedDrop = null; // a later drop must run after this put
    this.last = this.last.then(() => this._run("readwrite", (s) => s.put({ tab, msgId, entry })));
    return this.last;
  }

  /**
   * Forget a tab's writes up to `msgId` (answered), or all of them.
   *
   * Cheaper than a keep, and safely so: a drop asked for while the previous one for the
   * same tab still waits at the end of the queue widens that one (one IndexedDB
   * transaction for a run of acks), and drops do not wait for the disk (relaxed
   * durability). A drop lost in a crash leaves answered writes behind, which the next
   * writer runs again: that changes nothing (calls run once, updates are idempotent).
   * @param {string} tab @param {number} [msgId]
   * @returns {Promise<unknown>}
   */
  dropThrough(tab, msgId = Number.MAX_SAFE_INTEGER) {
    const queued = this.queuedDrop;
    if (queued !== null && queued.tab === tab) {
      queued.msgId = Math.max(queued.msgId, msgId);
      return queued.done;
    }
    const drop = { tab, msgId, done: Promise.resolve(/** @type {unknown} */ (undefined)) };
    drop.done = this.last = this.last.then(() => {
      if (this.queuedDrop === drop) this.queuedDrop = null;
      const range = IDBKeyRange.bound([tab, 0], [tab, drop.msgId]);
      return this._run("readwrite", (s) => s.delete(range), "relaxed");
    });
    this.queuedDrop = drop;
    return drop.done;
  }

  /**
   * The writes kept by tabs of `name` that are no longer alive.
   * @param {string} name
   * @returns {Promise<KeptPush[]>}
   */
  async orphans(name) {
    await this.last;
    const live = await liveTabs(name);
    const tx = this.db.transaction(STORE, "readonly");
    /** @type {KeptPush[]} */
    const all = await done(tx.objectStore(STORE).getAll());
    return all.filter((p) => !live.has(p.tab));
  }

  /**
   * The writer's part: run what dead tabs kept (`apply(tab, seq, entry)`, as if the tab
   * had sent it), oldest first per tab, wait until that is durable (`durable()`), then
   * forget it. A refused entry is logged and forgotten.
   * @param {string} name
   * @param {(tab: string, seq: number, entry: KeptEntry) => void} apply
   * @param {() => Promise<void>} durable
   * @returns {Promise<number>} how many kept changes were applied
   */
  async recover(name, apply, durable) {
    const kept = await this.orphans(name);
    if (!kept.length) return 0;
    kept.sort((a, b) => (a.tab === b.tab ? a.msgId - b.msgId : a.tab < b.tab ? -1 : 1));
    for (const p of kept) {
      try {
        apply(p.tab, p.msgId, p.entry);
      } catch (e) {
        console.error(`yloft: a kept change of closed tab ${p.tab} was refused`, e);
      }
    }
    await durable();
    for (const tab of new Set(kept.map((p) => p.tab))) await this.dropThrough(tab);
    return kept.length;
  }

  close() {
    this.db.close();
  }
}
