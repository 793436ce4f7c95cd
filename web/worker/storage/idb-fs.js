// IndexedDB volume, the fallback where OPFS sync access handles are missing: files live
// in memory (SQLite reads and writes them synchronously) and are loaded back from
// IndexedDB at mount. sync() — an fsync on any file of the mount, called after every
// COMMIT — copies the blocks written since the last sync into ONE IndexedDB transaction
// (durability "strict"); settled() resolves when that transaction has completed.
//
// Because the copy is taken synchronously at one instant and an IndexedDB transaction
// commits entirely or not at all, what IndexedDB holds is always the files as they were
// at some sync(): after a commit hook, a consistent database.

import { done } from "../idb.js";
import { StorageError, VolumeError } from "./storage-fs.js";

/** Bytes per IndexedDB record; a small edit writes a few of them. */
export const BLOCK = 8192;
const FILES = "files";
const BLOCKS = "blocks";

/** @param {string} name */
const blocksOf = (name, from = 0) => IDBKeyRange.bound([name, from], [name, Infinity]);

class MemFile {
  /** @param {string} name @param {Uint8Array} [data] */
  constructor(name, data = new Uint8Array(0)) {
    this.name = name;
    this.data = data;
    this.size = data.length;
    /** @type {Set<number>} blocks changed since the last sync */
    this.dirtyBlocks = new Set();
    /** true when the size changed (or the file was created) since the last sync */
    this.metaDirty = false;
    /** smallest size since the last sync: blocks past it are deleted at sync */
    this.shrunkTo = Infinity;
  }

  /** @param {Uint8Array} dst @param {number} position */
  read(dst, position) {
    if (position >= this.size) return 0;
    const n = Math.min(dst.length, this.size - position);
    dst.set(this.data.subarray(position, position + n));
    return n;
  }

  /** @param {Uint8Array} src @param {number} position */
  write(src, position) {
    const end = position + src.length;
    if (end > this.size) this.resize(end);
    this.data.set(src, position);
    this.markDirty(position, end);
    return src.length;
  }

  /** @param {number} size */
  truncate(size) {
    if (size === this.size) return;
    if (size < this.size) {
      this.data.fill(0, size, this.size);
      this.shrunkTo = Math.min(this.shrunkTo, size);
      this.markDirty(size, size + 1);
      this.size = size;
      this.metaDirty = true;
    } else {
      const old = this.size;
      this.resize(size);
      this.markDirty(old, size);
    }
  }

  /** @param {number} size */
  resize(size) {
    if (size > this.data.length) {
      const grown = new Uint8Array(Math.max(size, Math.ceil(this.data.length * 1.5), BLOCK));
      grown.set(this.data.subarray(0, this.size));
      this.data = grown;
    }
    this.size = size;
    this.metaDirty = true;
  }

  /** @param {number} start @param {number} end */
  markDirty(start, end) {
    for (let b = Math.floor(start / BLOCK); b * BLOCK < end; b++) this.dirtyBlocks.add(b);
  }
}

/**
 * Files in memory, made durable in IndexedDB at every sync().
 *
 * Example:
 *   const volume = await IdbVolume.open("yloft:/yloft");
 *   // ... mount it with createVolumeFS(), run SQLite, COMMIT, fsync, then:
 *   await volume.settled();   // the IndexedDB transaction has completed
 */
export class IdbVolume {
  /**
   * Open the IndexedDB database and load every stored file into memory.
   * @param {string} idbName
   * @returns {Promise<IdbVolume>}
   */
  static async open(idbName) {
    const request = indexedDB.open(idbName, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(FILES);
      request.result.createObjectStore(BLOCKS);
    };
    request.onblocked = () => {};
    const db = await done(request);
    const volume = new IdbVolume(db);
    const tx = db.transaction([FILES, BLOCKS], "readonly");
    const names = await done(tx.objectStore(FILES).getAllKeys());
    const metas = await done(tx.objectStore(FILES).getAll());
    for (let i = 0; i < names.length; i++) {
      const name = /** @type {string} */ (names[i]);
      const size = metas[i].size;
      const data = new Uint8Array(size);
      const range = blocksOf(name);
      const keys = await done(tx.objectStore(BLOCKS).getAllKeys(range));
      const blocks = await done(tx.objectStore(BLOCKS).getAll(range));
      for (let j = 0; j < keys.length; j++) {
        const offset = keys[j][1] * BLOCK;
        if (offset < size) data.set(blocks[j].subarray(0, size - offset), offset);
      }
      volume.files.set(name, new MemFile(name, data));
    }
    return volume;
  }

  /**
   * Delete the stored files whose names start with `prefix` (no volume may have the
   * database mounted); the IndexedDB database itself goes when no file is left.
   * @param {string} idbName
   * @param {string} prefix
   */
  static async removeFiles(idbName, prefix) {
    const known = (await indexedDB.databases?.()) ?? [{ name: idbName }];
    if (!known.some((d) => d.name === idbName)) return;
    const db = await done(indexedDB.open(idbName, 1));
    try {
      if (!db.objectStoreNames.contains(FILES)) return;
      const names = /** @type {string[]} */ (
        await done(db.transaction(FILES).objectStore(FILES).getAllKeys())
      );
      const tx = db.transaction([FILES, BLOCKS], "readwrite", { durability: "strict" });
      for (const name of names.filter((n) => n.startsWith(prefix))) {
        tx.objectStore(FILES).delete(name);
        tx.objectStore(BLOCKS).delete(blocksOf(name));
      }
      await new Promise((resolve, reject) => {
        tx.oncomplete = () => resolve(undefined);
        tx.onerror = tx.onabort = () => reject(tx.error);
      });
      if (names.every((n) => n.startsWith(prefix))) {
        db.close();
        await done(indexedDB.deleteDatabase(idbName));
      }
    } finally {
      db.close();
    }
  }

  /** @param {IDBDatabase} db */
  constructor(db) {
    this.db = db;
    /** @type {Map<string, MemFile>} */
    this.files = new Map();
    /** @type {Set<string>} files deleted since the last sync */
    this.removed = new Set();
    /** @type {Promise<void>} the last IndexedDB transaction started by sync() */
    this.pending = Promise.resolve();
    /** @type {Error | null} set for good once a transaction failed */
    this.failed = null;
    this.stats = { syncs: 0, blocksWritten: 0, bytesWritten: 0 };
  }

  list() {
    return [...this.files.keys()];
  }

  /** @param {string} name */
  get(name) {
    return this.files.get(name);
  }

  /** @param {string} name */
  create(name) {
    const file = new MemFile(name);
    file.metaDirty = true;
    file.shrunkTo = 0; // a file of this name may have been stored before: drop its blocks
    this.files.set(name, file);
    this.removed.delete(name);
    return file;
  }

  /** @param {string} name */
  remove(name) {
    if (!this.files.delete(name)) throw new VolumeError("ENOENT", `${name} does not exist`);
    this.removed.add(name);
  }

  /**
   * Copy every change since the last sync into one IndexedDB transaction (started now,
   * completing later: see settled()). Throws once a previous transaction has failed,
   * so no later commit can look saved.
   */
  sync() {
    if (this.failed) throw this.failureAsVolumeError();
    const changed = [...this.files.values()].filter((f) => f.metaDirty || f.dirtyBlocks.size);
    if (!changed.length && !this.removed.size) return;
    const tx = this.db.transaction([FILES, BLOCKS], "readwrite", { durability: "strict" });
    const files = tx.objectStore(FILES);
    const blocks = tx.objectStore(BLOCKS);
    for (const name of this.removed) {
      files.delete(name);
      blocks.delete(blocksOf(name));
    }
    this.removed.clear();
    for (const file of changed) {
      files.put({ size: file.size }, file.name);
      const count = Math.ceil(file.size / BLOCK);
      // Blocks past the smallest size since the last sync are stale even if the file
      // grew again (the gap reads as zeros): delete them before the puts below.
      if (file.shrunkTo !== Infinity) {
        blocks.delete(blocksOf(file.name, Math.ceil(file.shrunkTo / BLOCK)));
      }
      for (const b of file.dirtyBlocks) {
        if (b >= count) continue;
        const block = file.data.slice(b * BLOCK, Math.min(file.size, (b + 1) * BLOCK));
        blocks.put(block, [file.name, b]);
        this.stats.blocksWritten++;
        this.stats.bytesWritten += block.length;
      }
      file.dirtyBlocks.clear();
      file.metaDirty = false;
      file.shrunkTo = Infinity;
    }
    this.stats.syncs++;
    const committed = new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve(undefined);
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
      tx.onerror = () => {};
    });
    this.pending = committed.catch((e) => {
      this.failed ??= e;
    });
  }

  /**
   * Resolve when every sync() so far is stored; reject if any of them failed.
   * @returns {Promise<void>}
   */
  async settled() {
    await this.pending;
    if (this.failed) throw this.failureAsStorageError();
  }

  failureAsVolumeError() {
    const quota = this.failed?.name === "QuotaExceededError";
    return new VolumeError(quota ? "ENOSPC" : "EIO", this.failureAsStorageError().message);
  }

  failureAsStorageError() {
    const err = /** @type {Error} */ (this.failed);
    if (err.name === "QuotaExceededError") {
      return new StorageError(
        "StorageQuotaError",
        "The browser's storage quota is full: the last changes were NOT saved. " +
          "Free space (delete data or other sites' storage) and reload.",
        { cause: err },
      );
    }
    return new StorageError(
      "StorageWriteError",
      `Saving to IndexedDB failed (${err.name}: ${err.message}): the last changes were NOT ` +
        "saved. Reload the page to continue from the last saved state.",
      { cause: err },
    );
  }

  /** Close the IndexedDB connection (after letting pending writes finish). */
  close() {
    this.db.close();
  }
}
