// Sign-out: delete everything one database keeps in this browser (db.clearLocalData()).
//
//   await clearStoredData("notes");   // no engine of "notes" may be running
//
// What goes: the database files in OPFS (`yloft/<name>.db`, its -wal/-journal) or in the
// IndexedDB volume (`yloft-fs:/yloft`, that database's files only), the tab outbox
// (`yloft-outbox:<name>`) and the relay cursors saved for it (`yloft-relay`).

import { IdbVolume } from "../worker/storage/idb-fs.js";
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

/** @param {string} name */
async function removeRelayCursors(name) {
  const known = (await indexedDB.databases?.()) ?? [{ name: "yloft-relay" }];
  if (!known.some((d) => d.name === "yloft-relay")) return;
  const db = await done(indexedDB.open("yloft-relay", 1));
  try {
    if (!db.objectStoreNames.contains("cursors")) return;
    const tx = db.transaction("cursors", "readwrite", { durability: "strict" });
    tx.objectStore("cursors").delete(IDBKeyRange.bound(`${name}:`, `${name}:\uffff`));
    await new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve(undefined);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/**
 * Delete what the database `name` stores in this browser. Call it only once no engine
 * of that database runs (db.clearLocalData() closes them all and holds the writer lock).
 * @param {string} name
 * @param {string} [path]  the storage mount point
 */
export async function clearStoredData(name, path = "/yloft") {
  await removeOpfsFiles(name, path);
  await IdbVolume.removeFiles(`yloft-fs:${path}`, `${name}.db`);
  await done(indexedDB.deleteDatabase(outboxDatabase(name)));
  await removeRelayCursors(name);
}
