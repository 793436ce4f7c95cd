// IndexedDB's callbacks as promises, for the worker's IndexedDB users: the tab outbox,
// the storage manifest and the IndexedDB volume.

/**
 * A request's result, or a transaction's completion, as a promise.
 * @param {IDBRequest | IDBTransaction} req
 * @returns {Promise<any>}
 */
export function done(req) {
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
