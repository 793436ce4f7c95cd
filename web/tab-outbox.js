// A replica tab's changes that the writer tab has not acknowledged yet, kept in
// IndexedDB so that a tab closed or crashed right after an edit loses nothing.
//
//   const outbox = await TabOutbox.open("notes");
//   holdTabLock("notes", tabId);                 // this tab is alive while it holds it
//   outbox.keep(tabId, msgId, pushFrame);         // a follower, for each PUSH it sends
//   outbox.dropThrough(tabId, acked);             // the writer acknowledged up to acked
//   for (const o of await outbox.orphans("notes")) ...   // the writer: dead tabs' PUSHes
//
// A tab's liveness is a Web Lock it holds for its worker's life (`yloft-tab:<db>:<id>`):
// the browser releases it when the tab closes or its renderer crashes, so a PUSH kept
// by a tab whose lock is gone will never be resent by it, and the writer applies it
// (a PUSH the writer already had changes nothing: Yjs updates are idempotent).

const STORE = "pushes";

/** @param {IDBRequest | IDBTransaction} req @returns {Promise<any>} */
function done(req) {
  return new Promise((resolve, reject) => {
    if (req instanceof IDBTransaction) {
      req.oncomplete = () => resolve(undefined);
      req.onabort = req.onerror = () => reject(req.error);
    } else {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    }
  });
}

/** @param {string} name */
function tabLockPrefix(name) {
  return `yloft-tab:${name}:`;
}

/**
 * Hold this tab's liveness lock until the worker ends.
 * @param {string} name  the database name
 * @param {string} tabId
 */
export function holdTabLock(name, tabId) {
  navigator.locks
    .request(tabLockPrefix(name) + tabId, () => new Promise(() => {}))
    .catch((e) => console.error("yloft: tab lock request failed", e));
}

/**
 * Ids of the tabs of `name` that are alive (hold their lock).
 * @param {string} name
 * @returns {Promise<Set<string>>}
 */
export async function liveTabs(name) {
  const prefix = tabLockPrefix(name);
  const { held = [] } = await navigator.locks.query();
  return new Set(held.map((l) => l.name ?? "").filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)));
}

/** @typedef {{tab: string, msgId: number, frame: Uint8Array}} KeptPush */

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
    const req = indexedDB.open(`yloft-outbox:${name}`, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: ["tab", "msgId"] });
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
   * Keep a PUSH frame until the writer acknowledges it.
   * @param {string} tab @param {number} msgId @param {Uint8Array} frame
   * @returns {Promise<unknown>} resolves once it is stored
   */
  keep(tab, msgId, frame) {
    this.queuedDrop = null; // a later drop must run after this put
    this.last = this.last.then(() => this._run("readwrite", (s) => s.put({ tab, msgId, frame })));
    return this.last;
  }

  /**
   * Forget a tab's PUSHes up to `msgId` (acknowledged), or all of them.
   *
   * Cheaper than a keep, and safely so: a drop asked for while the previous one for the
   * same tab still waits at the end of the queue widens that one (one IndexedDB
   * transaction for a run of acks), and drops do not wait for the disk (relaxed
   * durability). A drop lost in a crash leaves acknowledged PUSHes behind, which the
   * next writer applies again: that changes nothing (Yjs updates are idempotent).
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
   * The PUSHes kept by tabs of `name` that are no longer alive, oldest first per tab.
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
   * The writer's part: apply what dead tabs kept (`apply(tab, frame)`, as if the tab had
   * sent it: the writer then answers and broadcasts it), wait until that is durable
   * (`durable()`), then forget it. A refused frame is logged and forgotten.
   * @param {string} name
   * @param {(tab: string, frame: Uint8Array) => void} apply
   * @param {() => Promise<void>} durable
   * @returns {Promise<number>} how many kept changes were applied
   */
  async recover(name, apply, durable) {
    const kept = await this.orphans(name);
    if (!kept.length) return 0;
    kept.sort((a, b) => (a.tab === b.tab ? a.msgId - b.msgId : a.tab < b.tab ? -1 : 1));
    for (const p of kept) {
      try {
        apply(p.tab, p.frame);
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

/**
 * The msg_id of a PUSH frame of yloft.sync.protocol (type 4), or 0 for other frames.
 * @param {Uint8Array} frame
 */
export function pushMsgId(frame) {
  if (frame[0] !== 4) return 0;
  let value = 0;
  let shift = 0;
  for (let i = 1; i < frame.length && i < 10; i++) {
    value += (frame[i] & 0x7f) * 2 ** shift;
    if (frame[i] < 0x80) return value;
    shift += 7;
  }
  return 0;
}
