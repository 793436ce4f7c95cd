// The one entry point the engine worker calls to give Pyodide durable storage.
//
//   const storage = await mountStorage(pyodide, {name: "notes"});
//   // Python: con = sqlite3.connect(f"{storage.path}/notes.db"); fd = os.open(..., O_RDONLY)
//   //         after every COMMIT: os.fsync(fd)        (or JS: storage.flush())
//   await storage.settled();       // then, and only then, report the write as saved
//
// Contract (docs/storage.md has the full version):
// - kind "opfs": Python's sqlite3 reads/writes OPFS through sync access handles. Data is
//   durable once the commit hook ran (os.fsync on any file of the mount, or flush());
//   settled() resolves at once.
// - kind "idb": files in memory; the commit hook copies the changed blocks into one
//   IndexedDB transaction; settled() resolves when it has completed and rejects
//   (StorageQuotaError / StorageWriteError) when it failed: the write was NOT saved.
// - kind "memory": plain MEMFS; nothing survives a reload. Show a warning.
// - A quota error during a write reaches Python as OSError(ENOSPC) (SQLite: "database or
//   disk is full"), so the transaction fails and nothing is reported as saved.

import { createVolumeFS, StorageError } from "./storage-fs.js";
import { OpfsVolume } from "./opfs-fs.js";
import { IdbVolume } from "./idb-fs.js";

export { StorageError };

/**
 * @typedef {object} Storage
 * @property {"opfs" | "idb" | "memory"} kind  what actually holds the data
 * @property {string} path        the mount point in Pyodide's FS, e.g. "/yloft"
 * @property {string} dbPath      `${path}/${name}.db`, where SQLite should open the database
 * @property {boolean} persisted  whether the browser promised not to evict this site's data
 * @property {string | null} fallbackReason  why a better kind was not used (null if none)
 * @property {Record<string, string | number>} pragmas  SQLite settings to apply, in this
 *   order, when opening `dbPath` (chosen by measurement: docs/storage.md)
 * @property {() => void} flush   the commit hook from JS: make every write so far durable
 *   (opfs) or start storing it (idb); throws StorageError if the volume failed
 * @property {() => Promise<void>} settled  resolves when everything flushed so far is
 *   stored; rejects with StorageQuotaError / StorageWriteError if it could not be. It
 *   flushes nothing itself: the commit hook (flush) is the one durability point
 * @property {() => Record<string, number>} stats  I/O counters (for benches and tests)
 * @property {() => unknown} lastError  the last I/O failure turned into an errno, if any
 * @property {() => Promise<void>} close  flush, release handles and locks, unmount
 */

/**
 * The SQLite settings measured best on these volumes (docs/storage.md): WAL with
 * EXCLUSIVE locking, 4 KiB pages, a 16 MiB page cache. Apply them in this order.
 */
export const PRAGMAS = Object.freeze({
  page_size: 4096,
  locking_mode: "exclusive",
  journal_mode: "wal",
  journal_size_limit: 0,
  cache_size: -16000,
});

/** Errors with which a browser refuses OPFS as a whole (not a locked or broken file). */
const OPFS_REFUSED = new Set([
  "SecurityError",
  "NotAllowedError",
  "NotSupportedError",
  "TypeError",
]);

/** True in a context that has OPFS sync access handles (a dedicated worker). */
export function opfsAvailable() {
  return (
    typeof navigator !== "undefined" &&
    typeof navigator.storage?.getDirectory === "function" &&
    typeof FileSystemFileHandle !== "undefined" &&
    "createSyncAccessHandle" in FileSystemFileHandle.prototype
  );
}

/** True where IndexedDB can be opened. */
export function idbAvailable() {
  return typeof indexedDB !== "undefined";
}

/**
 * Mount durable storage for database `name` into Pyodide's file system.
 *
 * Example:
 *   const storage = await mountStorage(pyodide, {name: "notes"});
 *   storage.kind;   // "opfs" in a dedicated worker of a current browser
 *
 * @param {any} pyodide  a loaded Pyodide instance
 * @param {object} options
 * @param {string} options.name  database name: letters, digits, "_" and "-" (max 64)
 * @param {"opfs" | "idb" | "memory"} [options.force]  use this kind or fail (tests, ?storage=)
 * @param {string} [options.path]  mount point, default "/yloft"
 * @param {number} [options.lockTimeoutMs]  wait this long for another tab's handle (OPFS)
 * @param {string[]} [options.extraFiles]  more file names the mount may hold (OPFS opens a
 *   handle for each up front; the database, its -journal and -wal are always there)
 * @returns {Promise<Storage>}
 */
export async function mountStorage(
  pyodide,
  { name, force, path = "/yloft", lockTimeoutMs = 3000, extraFiles = [] },
) {
  if (typeof name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new StorageError(
      "StorageNameError",
      `Invalid database name ${JSON.stringify(name)}: use 1-64 letters, digits, "_" or "-".`,
    );
  }
  if (force !== undefined && !["opfs", "idb", "memory"].includes(force)) {
    throw new StorageError(
      "StorageNameError",
      `Unknown storage kind ${JSON.stringify(force)}: use "opfs", "idb" or "memory".`,
    );
  }
  const dbFile = `${name}.db`;
  /** @type {string | null} */
  let fallbackReason = null;
  let kind = force;
  if (!kind) {
    if (opfsAvailable()) kind = "opfs";
    else {
      fallbackReason = "OPFS sync access handles are not available in this browser/context";
      kind = idbAvailable() ? "idb" : "memory";
      if (kind === "memory") fallbackReason += "; IndexedDB is not available either";
    }
  } else if (kind === "opfs" && !opfsAvailable()) {
    throw new StorageError(
      "StorageUnavailableError",
      "OPFS sync access handles are not available here (they need a dedicated worker in " +
        "a current browser): use storage idb.",
    );
  } else if (kind === "idb" && !idbAvailable()) {
    throw new StorageError("StorageUnavailableError", "IndexedDB is not available here.");
  }

  const FS = pyodide.FS;
  FS.mkdirTree(path);
  if (FS.isMountpoint(FS.lookupPath(path, { follow_mount: false }).node)) {
    throw new StorageError(
      "StorageNameError",
      `Something is already mounted at ${path}: close() that storage first, or use another path.`,
    );
  }
  if (kind === "memory") {
    FS.mount(FS.filesystems.MEMFS, {}, path);
    return finish({ kind, path, dbPath: `${path}/${dbFile}`, fallbackReason, volume: null, FS });
  }

  /** @type {OpfsVolume | IdbVolume} */
  let volume;
  if (kind === "opfs") {
    try {
      volume = await OpfsVolume.open(await opfsDirectory(path), dbFile, {
        lockTimeoutMs,
        extraFiles,
      });
    } catch (e) {
      // Some private modes expose the API but refuse to use it: fall back (reported), but
      // only when the choice was ours and the browser refused OPFS as such. A locked file
      // or a failing disk is an error, never a silent switch to other (empty) storage.
      const err = /** @type {Error} */ (e);
      if (force || !OPFS_REFUSED.has(err.name) || !idbAvailable()) throw e;
      fallbackReason = `OPFS refused (${err.name}: ${err.message})`;
      kind = "idb";
      volume = await openIdbVolume(path);
    }
  } else {
    volume = await openIdbVolume(path);
  }
  /** @type {unknown} */
  let lastError = null;
  const type = createVolumeFS(FS, pyodide.ERRNO_CODES, volume, (e) => {
    lastError = e;
    console.error(`yloft storage (${kind}) I/O error:`, e);
  });
  try {
    FS.mount(type, {}, path);
  } catch (e) {
    await closeVolume(volume);
    throw e;
  }
  return finish({
    kind,
    path,
    dbPath: `${path}/${dbFile}`,
    fallbackReason,
    volume,
    FS,
    getError: () => lastError,
  });
}

/** @param {string} path */
async function opfsDirectory(path) {
  const root = await navigator.storage.getDirectory();
  let dir = root;
  for (const part of path.split("/").filter(Boolean)) {
    dir = await dir.getDirectoryHandle(part, { create: true });
  }
  return dir;
}

/** @param {string} path */
async function openIdbVolume(path) {
  const idbName = `yloft-fs:${path}`;
  // Two tabs mirroring one IndexedDB store would overwrite each other's blocks: hold an
  // exclusive Web Lock for as long as the volume is mounted.
  const release = await holdLock(idbName);
  try {
    const volume = await IdbVolume.open(idbName);
    /** @type {any} */ (volume).releaseLock = release;
    return volume;
  } catch (e) {
    release();
    throw e;
  }
}

/**
 * @param {string} lockName
 * @returns {Promise<() => void>} call it to release the lock
 */
async function holdLock(lockName) {
  if (!navigator.locks) return () => {};
  /** @type {() => void} */
  let release = () => {};
  const held = new Promise((resolve) => {
    release = () => resolve(undefined);
  });
  const got = await new Promise((resolve, reject) => {
    navigator.locks
      .request(lockName, { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        return lock ? held : undefined;
      })
      .catch(reject);
  });
  if (!got) {
    throw new StorageError(
      "StorageLockedError",
      "This database is open in another tab or worker of this site. Close the other tab " +
        "and reload this one.",
    );
  }
  return release;
}

/** @param {any} volume */
async function closeVolume(volume) {
  if (volume instanceof IdbVolume) {
    try {
      await volume.settled();
    } finally {
      volume.close();
      /** @type {any} */ (volume).releaseLock?.();
    }
  } else {
    volume.close();
  }
}

async function persistedFlag() {
  const storage = /** @type {any} */ (navigator.storage);
  try {
    // persist() exists only in windows; a worker can read the page's answer.
    if (typeof storage?.persist === "function") return Boolean(await storage.persist());
    if (typeof storage?.persisted === "function") return Boolean(await storage.persisted());
  } catch {
    return false;
  }
  return false;
}

/**
 * @param {{kind: "opfs" | "idb" | "memory", path: string, dbPath: string,
 *   fallbackReason: string | null, volume: any, FS: any, getError?: () => unknown}} parts
 * @returns {Promise<Storage>}
 */
async function finish({ kind, path, dbPath, fallbackReason, volume, FS, getError }) {
  const persisted = kind === "memory" ? false : await persistedFlag();
  let closed = false;
  const flush = () => {
    if (!volume) return;
    try {
      volume.sync();
    } catch (e) {
      const err = /** @type {Error} */ (e);
      if (err instanceof StorageError) throw err;
      const quota = err.name === "QuotaExceededError" || /** @type {any} */ (err).code === "ENOSPC";
      throw new StorageError(
        quota ? "StorageQuotaError" : "StorageWriteError",
        quota
          ? "The browser's storage quota is full: the last changes were NOT saved."
          : `Flushing storage failed: ${err.message}`,
        { cause: err },
      );
    }
  };
  return {
    kind,
    path,
    dbPath,
    pragmas: { ...PRAGMAS },
    persisted,
    fallbackReason,
    flush,
    async settled() {
      if (volume instanceof IdbVolume) await volume.settled();
    },
    stats: () => ({ ...(volume?.stats ?? {}) }),
    lastError: () => (getError ? getError() : null),
    async close() {
      if (closed) return;
      closed = true;
      try {
        if (volume) {
          flush();
          await closeVolume(volume);
        }
      } finally {
        FS.unmount(path);
      }
    },
  };
}
