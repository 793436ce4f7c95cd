// The writer role of a database among this browser's tabs: a Web Lock. Its holder's
// worker runs the one engine (engine-host.js); every other tab's worker is a client of
// it (engine-client.js) and queues for the lock, to take over when the writer goes.
//
//   const writer = await tryWriterLock("notes");        // true: this tab runs the engine
//   if (!writer) waitWriterLock("notes", () => takeOver());
//
// The lock is requested by the engine worker and held until the worker ends, so the
// browser releases it when the tab closes or its renderer crashes.

import { writerLock } from "../names.js";

/**
 * Take the writer lock if no other tab holds it; hold it for the worker's life.
 * @param {string} name
 * @returns {Promise<boolean>}
 */
export function tryWriterLock(name) {
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(writerLock(name), { ifAvailable: true }, (lock) => {
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
 */
export function waitWriterLock(name, onGranted) {
  navigator.locks
    .request(writerLock(name), () => {
      onGranted();
      return new Promise(() => {});
    })
    .catch((e) => console.error("yloft: writer lock request failed", e));
}
