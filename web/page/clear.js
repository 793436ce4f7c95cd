// Sign-out: delete everything one database keeps in this browser (db.clearLocalData()).
//
//   await clearStoredData("notes");   // no engine of "notes" may be running
//
// What goes: the database files in OPFS (`yloft/<name>.db`, its -wal/-journal) or in the
// IndexedDB volume (`yloft-fs:/yloft`, that database's files only), the tab outbox
// (`yloft-outbox:<name>`), relay cursors earlier versions saved for it (`yloft-relay`) and its
// manifest (`yloft-manifest`: the next start is a fresh one, not an eviction).

import { IdbVolume } from "../worker/storage/idb-fs.js";
import { forgetManifest, forgetRelayCursors } from "../worker/storage/manifest.js";
import { outboxDatabase } from "../names.js";

/** @param {IDBRequest} req @returns {Promise<any>} */
function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** @param {string} name @param {string} path the storage mount point ("/yloft") */
async function removeOpfsFiles(name, path) {
  if (!navigator.storage?.getDirectory) return;
  let dir = await navigator.storage.getDirectory();
  for (const part of path.split("/").filter(Boolean)) {
    try {
      dir = await dir.getDirectoryHandle(part);
    } catch {
      return; // never created: nothing stored in OPFS
    }
  }
  const file = `${name}.db`;
  /** @type {string[]} */
  const victims = [];
  for await (const key of /** @type {any} */ (dir).keys()) {
    if (key === file || key.startsWith(`${file}-`)) victims.push(key);
  }
  for (const key of victims) {
    // A closed worker's sync access handles are released shortly after it ends.
    for (let attempt = 0; ; attempt++) {
      try {
        await dir.removeEntry(key);
        break;
      } catch (e) {
        if (attempt >= 50) throw e;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

/**
 * Delete what the database `name` stores in this browser. Call it only once no engine
 * of that database runs (db.clearLocalData() closes them all and holds the writer lock).
 * @param {string} name
 * @param {string} [path]  the storage mount point
 */
export async function clearStoredData(name, path = "/yloft") {
  // The manifest first: a sign-out cut short must never look like an eviction later.
  await forgetManifest(name);
  await removeOpfsFiles(name, path);
  await IdbVolume.removeFiles(`yloft-fs:${path}`, `${name}.db`);
  await done(indexedDB.deleteDatabase(outboxDatabase(name)));
  await forgetRelayCursors(name);
}
