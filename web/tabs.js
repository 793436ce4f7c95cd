// The browser side of tab sync: a BroadcastChannel for frames and a Web Lock for the
// writer role. Everything else (roles, outbox, acks, catch-up) is Python
// (yloft.sync.tabs); this file only moves bytes and reports lock grants.
//
//   const channel = new TabChannel("notes", tabId, (from, to, data, meta) => ...);
//   channel.post(null, frame, {storage: "opfs"});      // to every tab (or a tab id)
//   const writer = await tryWriterLock("notes");        // true: this tab writes now
//   if (!writer) waitWriterLock("notes", () => takeOver());
//
// The lock is requested by the engine worker and held until the worker ends, so the
// browser releases it when the tab closes or its renderer crashes.

/**
 * @callback TabHandler
 * @param {string} from     the sending tab's id
 * @param {string | null} to  this tab's id when addressed to it, null for every tab
 * @param {Uint8Array} data  one yloft.sync.protocol frame
 * @param {Record<string, any>} meta  small facts about the sender (e.g. its storage kind)
 */

/** Frames between the tabs of one database, over a BroadcastChannel. */
export class TabChannel {
  /**
   * @param {string} name  the database name
   * @param {string} tabId  this tab's id
   * @param {TabHandler} onFrame
   */
  constructor(name, tabId, onFrame) {
    this.tabId = tabId;
    this.channel = new BroadcastChannel(`yloft-tabs:${name}`);
    this.channel.onmessage = (event) => {
      const msg = event.data;
      if (!msg || msg.from === tabId) return;
      if (msg.to !== null && msg.to !== tabId) return;
      onFrame(msg.from, msg.to, msg.data, msg.meta ?? {});
    };
  }

  /**
   * @param {string | null} to  a tab id, or null for every tab
   * @param {Uint8Array} data
   * @param {Record<string, any>} [meta]
   */
  post(to, data, meta = {}) {
    this.channel.postMessage({ from: this.tabId, to, data, meta });
  }

  close() {
    this.channel.close();
  }
}

/** @param {string} name */
function lockName(name) {
  return `yloft-writer:${name}`;
}

/**
 * Take the writer lock if no other tab holds it; hold it for the worker's life.
 * @param {string} name
 * @returns {Promise<boolean>}
 */
export function tryWriterLock(name) {
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(lockName(name), { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        // Never settles: the lock is ours until the worker ends.
        return lock ? new Promise(() => {}) : undefined;
      })
      .catch(reject);
  });
}

/**
 * Queue for the writer lock; `onGranted` runs once when this tab gets it (the writer
 * closed or died). The lock is then held for the worker's life.
 * @param {string} name
 * @param {() => void} onGranted
 * @param {{steal?: boolean}} [options]  steal: take it from a holder that stopped answering
 */
export function waitWriterLock(name, onGranted, options = {}) {
  navigator.locks
    .request(lockName(name), { steal: Boolean(options.steal) }, () => {
      onGranted();
      return new Promise(() => {});
    })
    .catch((e) => console.error("yloft: writer lock request failed", e));
}
