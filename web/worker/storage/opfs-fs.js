// OPFS volume: each file of the mount is one OPFS file held open through a
// FileSystemSyncAccessHandle (dedicated workers only), so SQLite's page reads and writes
// go straight to OPFS with no copies. Sizes are cached here (getSize() is slow).
//
// Sync handles cannot be created synchronously, so every file the mount may ever hold is
// opened at mount time: the database and its journal and WAL. A file "exists" while it
// has bytes or was created in this session; deleting it truncates it to zero bytes, which
// SQLite treats exactly like a missing journal.
//
// SQLite's own fsyncs never reach an Emscripten FS in Pyodide 314, so this volume decides
// when to flush, in the order every journal mode needs:
//   1. before a database write or truncate, flush the journal/WAL if it has unflushed
//      bytes (the undo log, or the WAL frames a checkpoint copies, are durable first);
//   2. before the journal/WAL is truncated (or deleted) or its header at offset 0 is
//      rewritten (DELETE/TRUNCATE/PERSIST commit, a new transaction's header, the record
//      count SQLite fills in before writing pages, WAL restart), flush the database and
//      then the journal's own earlier bytes: these are SQLite's journal syncs, in order;
//   3. sync() (fsync on any file of the mount, called after every COMMIT) flushes the
//      journal/WAL, then the database.

import { StorageError, VolumeError } from "./storage-fs.js";

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counters a bench or a test can read; they cost nothing to keep. */
function newStats() {
  return { reads: 0, writes: 0, truncates: 0, flushes: 0, bytesWritten: 0 };
}

class OpfsFile {
  /**
   * @param {OpfsVolume} volume
   * @param {string} name
   * @param {any} handle  a FileSystemSyncAccessHandle
   * @param {"db" | "journal" | "other"} role
   */
  constructor(volume, name, handle, role) {
    this.volume = volume;
    this.name = name;
    this.handle = handle;
    this.role = role;
    /** @type {number} */
    this.size = handle.getSize();
    this.exists = this.size > 0;
    this.dirty = false;
  }

  /** @param {Uint8Array} dst @param {number} position */
  read(dst, position) {
    if (position >= this.size || dst.length === 0) return 0;
    const want = Math.min(dst.length, this.size - position);
    this.volume.stats.reads++;
    return this.handle.read(dst.subarray(0, want), { at: position });
  }

  /** @param {Uint8Array} src @param {number} position */
  write(src, position) {
    this.beforeChange(position);
    const n = this.handle.write(src, { at: position });
    this.volume.stats.writes++;
    this.volume.stats.bytesWritten += n;
    if (n > 0) {
      this.size = Math.max(this.size, position + n);
      this.dirty = true;
    }
    if (n < src.length) {
      throw new VolumeError("ENOSPC", `only ${n} of ${src.length} bytes fit into ${this.name}`);
    }
    return n;
  }

  /** @param {number} size */
  truncate(size) {
    if (size === this.size) return;
    this.beforeChange(0);
    this.handle.truncate(size);
    this.volume.stats.truncates++;
    this.size = size;
    this.dirty = true;
  }

  /** Rules 1 and 2 above. @param {number} position */
  beforeChange(position) {
    if (this.role === "db") {
      this.volume.flushRole("journal");
    } else if (this.role === "journal" && position === 0) {
      this.volume.flushRole("db");
      this.flush();
    }
  }

  flush() {
    if (!this.dirty) return;
    this.handle.flush();
    this.volume.stats.flushes++;
    this.dirty = false;
  }
}

/**
 * The files of one database on OPFS, each held through a sync access handle.
 *
 * Example (in a dedicated worker):
 *   const dir = await (await navigator.storage.getDirectory())
 *     .getDirectoryHandle("yloft", {create: true});
 *   const volume = await OpfsVolume.open(dir, "notes.db");
 *   // ... mount it with createVolumeFS(), run SQLite, then:
 *   volume.sync();
 *   volume.close();
 */
export class OpfsVolume {
  /**
   * Open (and create if needed) the database file and its companions.
   *
   * @param {FileSystemDirectoryHandle} dir
   * @param {string} dbFile  e.g. "notes.db"; "-journal" and "-wal" companions come along
   * @param {{lockTimeoutMs?: number, extraFiles?: string[]}} [options]
   *   lockTimeoutMs: how long to wait for a handle another tab/worker holds (a crashed
   *   tab's lock is released shortly after it dies) before failing with StorageLockedError;
   *   extraFiles: more file names the mount may hold
   * @returns {Promise<OpfsVolume>}
   */
  static async open(dir, dbFile, { lockTimeoutMs = 3000, extraFiles = [] } = {}) {
    const names = [...new Set([dbFile, `${dbFile}-journal`, `${dbFile}-wal`, ...extraFiles])];
    const volume = new OpfsVolume(dbFile);
    const deadline = Date.now() + lockTimeoutMs;
    try {
      for (const name of names) {
        const handle = await openSyncHandle(dir, name, deadline);
        const role = name === dbFile ? "db" : /-(journal|wal)$/.test(name) ? "journal" : "other";
        volume.files.set(name, new OpfsFile(volume, name, handle, role));
      }
    } catch (e) {
      volume.close();
      throw e;
    }
    return volume;
  }

  /** @param {string} dbFile */
  constructor(dbFile) {
    this.dbFile = dbFile;
    /** @type {Map<string, OpfsFile>} */
    this.files = new Map();
    this.stats = newStats();
    this.closed = false;
  }

  list() {
    return [...this.files.values()].filter((f) => f.exists).map((f) => f.name);
  }

  /** @param {string} name */
  get(name) {
    const file = this.files.get(name);
    return file?.exists ? file : undefined;
  }

  /** @param {string} name */
  create(name) {
    const file = this.files.get(name);
    if (!file) {
      const known = [...this.files.keys()].join(", ");
      throw new VolumeError("EPERM", `OPFS mount can only hold ${known}; cannot create ${name}`);
    }
    file.exists = true;
    return file;
  }

  /** @param {string} name */
  remove(name) {
    const file = this.files.get(name);
    if (!file?.exists) throw new VolumeError("ENOENT", `${name} does not exist`);
    file.truncate(0);
    file.exists = false;
  }

  /** @param {"db" | "journal" | "other"} role */
  flushRole(role) {
    for (const file of this.files.values()) if (file.role === role) file.flush();
  }

  /** Make every byte written so far durable: journal/WAL first, then the database. */
  sync() {
    this.flushRole("journal");
    this.flushRole("db");
    this.flushRole("other");
  }

  /** True while some file has bytes not yet flushed. */
  get dirty() {
    return [...this.files.values()].some((f) => f.dirty);
  }

  /** Flush and release every handle (other tabs can open the database afterwards). */
  close() {
    if (this.closed) return;
    this.closed = true;
    let first = null;
    for (const file of this.files.values()) {
      try {
        file.flush();
      } catch (e) {
        first ??= e;
      }
      file.handle.close();
    }
    if (first) throw first;
  }
}

/**
 * @param {FileSystemDirectoryHandle} dir
 * @param {string} name
 * @param {number} deadline  Date.now() value after which a held lock is an error
 */
async function openSyncHandle(dir, name, deadline) {
  const fileHandle = await dir.getFileHandle(name, { create: true });
  for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
    try {
      return await /** @type {any} */ (fileHandle).createSyncAccessHandle();
    } catch (e) {
      const err = /** @type {Error} */ (e);
      if (err.name !== "NoModificationAllowedError") throw err;
      if (Date.now() >= deadline) {
        throw new StorageError(
          "StorageLockedError",
          `The database file ${name} is open in another tab or worker of this site ` +
            "(OPFS allows one writer per file). Close the other tab and reload this one.",
          { cause: err },
        );
      }
      await sleep(wait);
    }
  }
}
