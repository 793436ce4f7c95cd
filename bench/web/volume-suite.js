// The contract every browser storage kind meets, as a suite a new one runs: what SQLite
// needs from the file system a volume is mounted as (web/worker/storage/storage-fs.js,
// the Volume typedef) and what durability the kind promises. In the style of
// automerge-repo's runStorageAdapterTests: a kind ("opfs", "idb", "memory", or a new
// Volume wired into mountStorage) is done when runVolumeTests reports no failure.
//
//   const report = await runVolumeTests({
//     FS: pyodide.FS, ERRNO: pyodide.ERRNO_CODES, durable: true,
//     mount: (name) => mountStorage(pyodide, {name, force: "idb"}),
//   });
//   // {passed: ["empty_at_first", ...], failed: [{name, message}]}
//
// Each check gets a mount of its own (a fresh database name); `reopen()` closes it and
// mounts the same name again, as a reload does. Files are the database and its
// "-journal" and "-wal" companions: the names every kind must hold (OPFS holds no other).
// Runs in a dedicated worker (OPFS sync access handles); bench/web/storage-lab-worker.js
// runs it for tests/e2e/test_storage_volumes.py.

/** @typedef {import("../../web/worker/storage/storage.js").Storage} Storage */

/**
 * @typedef {object} Ctx  what a check works with
 * @property {any} FS  Emscripten's FS
 * @property {Record<string, number>} ERRNO
 * @property {boolean} durable  whether the kind keeps what was flushed across a reopen
 * @property {string} db  the database file's path; `${db}-wal` and `${db}-journal` too
 * @property {() => Promise<void>} sync  the commit hook (flush) and settled()
 * @property {() => Promise<void>} reopen  close the mount and mount the same name again
 */

const O_RDONLY = 0;
const O_RDWR = 2;
const O_CREAT = 0o100;
/** Larger than IndexedDB's 8 KiB block and not a multiple of it. */
const BIG = 20_000;

/** @type {Record<string, (ctx: Ctx) => Promise<void> | void>} */
export const CHECKS = {
  /** A fresh name holds no file; a missing file cannot be opened or stat'ed. */
  empty_at_first(ctx) {
    equal(names(ctx), [], "files of a fresh mount");
    expectErrno(ctx, "ENOENT", () => ctx.FS.stat(ctx.db), "stat of a missing file");
    expectErrno(ctx, "ENOENT", () => ctx.FS.open(ctx.db, O_RDONLY), "open of a missing file");
  },

  /** Bytes written at any offset read back as written, across block boundaries. */
  write_then_read(ctx) {
    const head = pattern(3000, 1);
    const body = pattern(BIG, 2);
    equal(writeAt(ctx, ctx.db, head, 0), head.length, "bytes written at 0");
    equal(writeAt(ctx, ctx.db, body, 5000), body.length, "bytes written at 5000");
    equal(size(ctx, ctx.db), 5000 + BIG, "size");
    sameBytes(readAt(ctx, ctx.db, 0, 3000), head, "bytes at 0");
    sameBytes(readAt(ctx, ctx.db, 3000, 2000), new Uint8Array(2000), "the gap between writes");
    sameBytes(readAt(ctx, ctx.db, 5000, BIG), body, "bytes at 5000");
    sameBytes(readAt(ctx, ctx.db, 8190, 5), body.subarray(3190, 3195), "bytes across 8192");
    equal(names(ctx), [file(ctx.db)], "files");
  },

  /** Writing inside a file changes those bytes only, not the size. */
  overwrite_in_place(ctx) {
    const all = pattern(BIG, 3);
    writeAt(ctx, ctx.db, all, 0);
    const patch = pattern(9000, 4);
    writeAt(ctx, ctx.db, patch, 4000);
    all.set(patch, 4000);
    equal(size(ctx, ctx.db), BIG, "size after an overwrite");
    sameBytes(readAt(ctx, ctx.db, 0, BIG), all, "bytes after an overwrite");
  },

  /** A write past the end leaves a gap that reads as zeros. */
  sparse_write_reads_zeros(ctx) {
    writeAt(ctx, ctx.db, pattern(100, 5), 0);
    writeAt(ctx, ctx.db, pattern(10, 6), 30_000);
    equal(size(ctx, ctx.db), 30_010, "size after a write past the end");
    sameBytes(readAt(ctx, ctx.db, 100, 29_900), new Uint8Array(29_900), "the gap");
  },

  /** Reads stop at the end of the file. */
  read_past_end(ctx) {
    const data = pattern(5000, 7);
    writeAt(ctx, ctx.db, data, 0);
    sameBytes(readAt(ctx, ctx.db, 4990, 100), data.subarray(4990), "a read across the end");
    equal(readAt(ctx, ctx.db, 5000, 100).length, 0, "bytes read at the end");
    equal(readAt(ctx, ctx.db, 9000, 100).length, 0, "bytes read past the end");
  },

  /** Truncation shrinks (the bytes past it are gone) and grows (with zeros). */
  truncate(ctx) {
    const data = pattern(BIG, 8);
    writeAt(ctx, ctx.db, data, 0);
    ctx.FS.truncate(ctx.db, 100);
    equal(size(ctx, ctx.db), 100, "size after shrinking");
    sameBytes(readAt(ctx, ctx.db, 0, BIG), data.subarray(0, 100), "bytes after shrinking");
    ctx.FS.truncate(ctx.db, BIG);
    equal(size(ctx, ctx.db), BIG, "size after growing");
    const want = new Uint8Array(BIG);
    want.set(data.subarray(0, 100));
    sameBytes(readAt(ctx, ctx.db, 0, BIG), want, "bytes after shrinking then growing");
    ctx.FS.truncate(ctx.db, 0);
    equal(size(ctx, ctx.db), 0, "size after truncating to 0");
  },

  /** An unlinked file is gone; created again, it is empty. */
  unlink(ctx) {
    const wal = `${ctx.db}-wal`;
    writeAt(ctx, ctx.db, pattern(10, 9), 0);
    writeAt(ctx, wal, pattern(BIG, 10), 0);
    ctx.FS.unlink(wal);
    expectErrno(ctx, "ENOENT", () => ctx.FS.stat(wal), "stat of an unlinked file");
    equal(names(ctx), [file(ctx.db)], "files after an unlink");
    writeAt(ctx, wal, pattern(3, 11), 0);
    equal(size(ctx, wal), 3, "size of the file created again");
    expectErrno(
      ctx,
      "ENOENT",
      () => ctx.FS.unlink(`${ctx.db}-journal`),
      "unlink of a missing file",
    );
  },

  /** The database, its WAL and its journal are separate files. */
  files_are_independent(ctx) {
    const files = [ctx.db, `${ctx.db}-wal`, `${ctx.db}-journal`];
    files.forEach((path, i) => writeAt(ctx, path, pattern(BIG - i * 1000, 20 + i), 0));
    ctx.FS.truncate(files[1], 10);
    equal(names(ctx), files.map(file).sort(), "files");
    sameBytes(readAt(ctx, files[0], 0, BIG), pattern(BIG, 20), "the database");
    sameBytes(readAt(ctx, files[1], 0, BIG), pattern(10, 21), "the WAL");
    sameBytes(readAt(ctx, files[2], 0, BIG), pattern(BIG - 2000, 22), "the journal");
  },

  /** What was flushed is there after a reopen (a durable kind), or nothing is (memory). */
  async flushed_data_survives_reopen(ctx) {
    const wal = `${ctx.db}-wal`;
    writeAt(ctx, ctx.db, pattern(BIG, 30), 0);
    writeAt(ctx, wal, pattern(777, 31), 0);
    await ctx.sync();
    writeAt(ctx, ctx.db, pattern(50, 32), 8000);
    await ctx.sync();
    await ctx.reopen();
    if (!ctx.durable) {
      equal(names(ctx), [], "files after a reopen of a kind that keeps nothing");
      return;
    }
    const want = pattern(BIG, 30);
    want.set(pattern(50, 32), 8000);
    equal(names(ctx), [file(ctx.db), file(wal)].sort(), "files after a reopen");
    sameBytes(readAt(ctx, ctx.db, 0, BIG), want, "the database after a reopen");
    sameBytes(readAt(ctx, wal, 0, 1000), pattern(777, 31), "the WAL after a reopen");
  },

  /** Unlinks and truncations (shrink, then grow with zeros) are kept by a reopen too. */
  async deletes_and_truncations_survive_reopen(ctx) {
    const wal = `${ctx.db}-wal`;
    writeAt(ctx, ctx.db, pattern(BIG * 2, 40), 0);
    writeAt(ctx, wal, pattern(BIG, 41), 0);
    await ctx.sync();
    ctx.FS.unlink(wal);
    ctx.FS.truncate(ctx.db, 100);
    ctx.FS.truncate(ctx.db, BIG);
    await ctx.sync();
    await ctx.reopen();
    if (!ctx.durable) {
      equal(names(ctx), [], "files after a reopen of a kind that keeps nothing");
      return;
    }
    equal(names(ctx), [file(ctx.db)], "files after a reopen");
    const want = new Uint8Array(BIG);
    want.set(pattern(100, 40));
    sameBytes(readAt(ctx, ctx.db, 0, BIG * 2), want, "the truncated database after a reopen");
  },
};

/**
 * Run every check, each on a mount of its own.
 *
 * @param {object} o
 * @param {any} o.FS  Emscripten's FS (pyodide.FS)
 * @param {Record<string, number>} o.ERRNO  pyodide.ERRNO_CODES
 * @param {(name: string) => Promise<Storage>} o.mount  mount the database `name` (a fresh
 *   name: empty); after close(), the same name mounts what was kept
 * @param {boolean} o.durable  whether the kind keeps what was flushed across a reopen
 * @param {string} [o.prefix]  prepended to each check's database name
 * @returns {Promise<{passed: string[], failed: {name: string, message: string}[]}>}
 */
export async function runVolumeTests({ FS, ERRNO, mount, durable, prefix = "" }) {
  /** @type {string[]} */
  const passed = [];
  /** @type {{name: string, message: string}[]} */
  const failed = [];
  for (const [name, check] of Object.entries(CHECKS)) {
    const dbName = `${prefix}${name}`;
    /** @type {Storage | null} */
    let storage = await mount(dbName);
    const current = () => /** @type {Storage} */ (storage);
    /** @type {Ctx} */
    const ctx = {
      FS,
      ERRNO,
      durable,
      get db() {
        return current().dbPath;
      },
      async sync() {
        current().flush();
        await current().settled();
      },
      async reopen() {
        const closing = current();
        storage = null;
        await closing.close();
        storage = await mount(dbName);
      },
    };
    try {
      await check(ctx);
      passed.push(name);
    } catch (e) {
      const err = /** @type {Error} */ (e);
      failed.push({ name, message: `${err.name}: ${err.message}` });
    } finally {
      await storage?.close();
    }
  }
  return { passed, failed };
}

// ------------------------------------------------------------------ helpers

/** @param {number} n @param {number} seed  bytes that differ with the seed and position */
function pattern(n, seed) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 255;
  return out;
}

/** @param {string} path */
const file = (path) => path.slice(path.lastIndexOf("/") + 1);

/** @param {Ctx} ctx */
function names(ctx) {
  const dir = ctx.db.slice(0, ctx.db.lastIndexOf("/")) || "/";
  return /** @type {string[]} */ (ctx.FS.readdir(dir))
    .filter((n) => n !== "." && n !== "..")
    .sort();
}

/** @param {Ctx} ctx @param {string} path */
const size = (ctx, path) => ctx.FS.stat(path).size;

/** @param {Ctx} ctx @param {string} path @param {Uint8Array} bytes @param {number} position */
function writeAt(ctx, path, bytes, position) {
  const stream = ctx.FS.open(path, O_RDWR | O_CREAT, 0o666);
  try {
    return ctx.FS.write(stream, bytes, 0, bytes.length, position);
  } finally {
    ctx.FS.close(stream);
  }
}

/** @param {Ctx} ctx @param {string} path @param {number} position @param {number} length */
function readAt(ctx, path, position, length) {
  const stream = ctx.FS.open(path, O_RDONLY);
  try {
    const buffer = new Uint8Array(length);
    return buffer.subarray(0, ctx.FS.read(stream, buffer, 0, length, position));
  } finally {
    ctx.FS.close(stream);
  }
}

/** @param {unknown} got @param {unknown} want @param {string} what */
function equal(got, want, what) {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
}

/** @param {Uint8Array} got @param {Uint8Array} want @param {string} what */
function sameBytes(got, want, what) {
  if (got.length !== want.length) {
    throw new Error(`${what}: got ${got.length} bytes, expected ${want.length}`);
  }
  const at = got.findIndex((b, i) => b !== want[i]);
  if (at >= 0) throw new Error(`${what}: byte ${at} is ${got[at]}, expected ${want[at]}`);
}

/** @param {Ctx} ctx @param {string} code @param {() => unknown} fn @param {string} what */
function expectErrno(ctx, code, fn, what) {
  try {
    fn();
  } catch (e) {
    const errno = /** @type {any} */ (e)?.errno;
    if (errno === ctx.ERRNO[code]) return;
    throw new Error(`${what}: failed with errno ${errno}, expected ${code}`, { cause: e });
  }
  throw new Error(`${what}: succeeded, expected ${code}`);
}
