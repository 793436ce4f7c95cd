// Storage diagnostics worker (tests and bench only; the app never loads it). It loads
// bare Pyodide, mounts storage with web/worker/storage/storage.js and runs SQLite from
// Python on it, records the OPFS volume's I/O (opfs-trace.js) and runs the volume suite
// (volume-suite.js) on each storage kind, or on a volume broken on purpose (volume-bugs.js).
//
// Messages from the page: {id, method, args}; replies {id, ok, value | error}.
// While commitLoop runs it also posts {type: "committed", i} after each durable commit.

import { mountStorage } from "../../web/worker/storage/storage.js";
import { takeTrace, traceOpfs } from "./opfs-trace.js";
import { BUGS } from "./volume-bugs.js";
import { CHECKS, runVolumeTests } from "./volume-suite.js";

// Served from a copy of the repository layout: /web/ (runtime, its folders kept),
// /bench/web/ (this lab), /pyodide/ (the runtime files); see build.lab_root().
const base = new URL("../../", self.location.href);
/** @type {any} */
let pyodide = null;
/** @type {Map<string, import("../../web/worker/storage/storage.js").Storage>} */
const mounts = new Map();
let suiteRuns = 0;

/**
 * The commit hook, then settled(): for the lab's commits, which run without the engine's
 * hook. A row is reported durable only after this resolved.
 * @param {import("../../web/worker/storage/storage.js").Storage} storage
 */
async function afterCommit(storage) {
  storage.flush();
  await storage.settled();
}

// The Python side: one SQLite connection per mount, one row per transaction.
const LAB_PY = `
import json, os, sqlite3

def payload(i, nbytes):
    unit = f"{i}:".encode()
    return (unit * (nbytes // len(unit) + 1))[:nbytes]

class Lab:
    def __init__(self, path, journal_mode, locking_mode, page_size, cache_size):
        self.path = path
        self.con = sqlite3.connect(path, isolation_level=None)
        c = self.con
        c.execute(f"PRAGMA page_size={int(page_size)}")
        c.execute(f"PRAGMA locking_mode={locking_mode}")
        self.journal_mode = c.execute(f"PRAGMA journal_mode={journal_mode}").fetchone()[0]
        if self.journal_mode == "wal":
            c.execute("PRAGMA journal_size_limit=0")
        c.execute(f"PRAGMA cache_size={int(cache_size)}")
        c.execute("PRAGMA synchronous=FULL")
        c.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, k INTEGER, v BLOB)")
        c.execute("CREATE INDEX IF NOT EXISTS t_k ON t(k)")
        self.page_size = c.execute("PRAGMA page_size").fetchone()[0]
        # Any descriptor on the mount: os.fsync on it is the commit hook.
        self.fd = os.open(path, os.O_RDONLY)

    def insert(self, i, nbytes, hook=True):
        self.con.execute("BEGIN IMMEDIATE")
        self.con.execute("INSERT INTO t(id, k, v) VALUES (?, ?, ?)",
                         (i, (i * 7919) % 10007, payload(i, nbytes)))
        self.con.execute("COMMIT")
        if hook:
            os.fsync(self.fd)

    def try_insert(self, i, nbytes):
        try:
            self.insert(i, nbytes)
            return json.dumps({"ok": True})
        except Exception as e:
            if self.con.in_transaction:
                self.con.execute("ROLLBACK")
            return json.dumps({"ok": False, "type": type(e).__name__, "message": str(e),
                               "errno": getattr(e, "errno", None),
                               "is_oserror": isinstance(e, OSError)})

    def check(self, nbytes):
        c = self.con
        ids = [r[0] for r in c.execute("SELECT id FROM t ORDER BY id")]
        bad = [i for (i, v) in c.execute("SELECT id, v FROM t") if v != payload(i, nbytes)]
        return json.dumps({
            "ids": ids,
            "bad": bad,
            "integrity": c.execute("PRAGMA integrity_check").fetchone()[0],
            "journal_mode": c.execute("PRAGMA journal_mode").fetchone()[0],
            "page_size": c.execute("PRAGMA page_size").fetchone()[0],
        })

    def lookups(self, n, seed):
        import random
        rng = random.Random(seed)
        found = 0
        for _ in range(n):
            k = rng.randrange(10007)
            found += len(self.con.execute("SELECT v FROM t WHERE k = ?", (k,)).fetchall())
        return found

    def close(self):
        os.close(self.fd)
        self.con.close()

labs = {}
`;

/** @param {string} key */
function lab(key) {
  const lab = pyodide.globals.get("labs").get(key);
  if (!lab) throw new Error(`no database open on ${key}: call openDb first`);
  return lab;
}

const methods = {
  async load() {
    if (pyodide) return;
    const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", base).href);
    pyodide = await loadPyodide({ indexURL: new URL("pyodide/", base).href });
    pyodide.runPython(LAB_PY);
  },

  /**
   * Make navigator.storage.getDirectory() reject the way some private modes do (tests of
   * the fallback). @param {{name: string}} o  the DOMException name to reject with
   */
  refuseOpfs({ name }) {
    navigator.storage.getDirectory = () =>
      Promise.reject(new DOMException("refused by test", name));
  },

  /**
   * trace: record the OPFS handles' I/O (opfs-trace.js; takeTrace() in traceCommits).
   * @param {{name?: string, force?: "opfs" | "idb" | "memory", path?: string,
   *   lockTimeoutMs?: number, extraFiles?: string[], trace?: boolean}} o
   */
  async mount({ name = "lab", force, path = "/yloft", lockTimeoutMs, extraFiles, trace = false }) {
    await methods.load();
    traceOpfs(trace);
    const storage = await mountStorage(pyodide, {
      name,
      force: force ?? undefined,
      path,
      lockTimeoutMs,
      extraFiles,
    });
    mounts.set(path, storage);
    const { kind, dbPath, persisted, fallbackReason, pragmas } = storage;
    return { kind, path, dbPath, persisted, fallbackReason, pragmas };
  },

  /** @param {{path?: string, journalMode?: string, lockingMode?: string, pageSize?: number, cacheSize?: number}} o */
  openDb({
    path = "/yloft",
    journalMode = "wal",
    lockingMode = "exclusive",
    pageSize = 4096,
    cacheSize = -16000,
  }) {
    const storage = mountOf(path);
    const Lab = pyodide.globals.get("Lab");
    const db = Lab(storage.dbPath, journalMode, lockingMode, pageSize, cacheSize);
    pyodide.globals.get("labs").set(path, db);
    Lab.destroy();
    return { journalMode: db.journal_mode, pageSize: db.page_size };
  },

  /**
   * Commit rows start..start+n-1, one per transaction; after each is durable (commit
   * hook ran and afterCommit() resolved) post {type: "committed", i}.
   * @param {{path?: string, start?: number, n: number, nbytes?: number}} o
   */
  async commitLoop({ path = "/yloft", start = 0, n, nbytes = 100 }) {
    const storage = mountOf(path);
    const db = lab(path);
    for (let i = start; i < start + n; i++) {
      db.insert(i, nbytes);
      await afterCommit(storage);
      postMessage({ type: "committed", i });
    }
    return n;
  },

  /**
   * Like commitLoop, but return the recorded OPFS I/O (mounted with trace: true) with a
   * ["c", i] marker after each commit was durable; bytes as base64. With hookEvery k > 1
   * only every k-th commit runs the commit hook (and gets a marker): the others rely on
   * the file system's own flush order.
   * @param {{path?: string, start?: number, n: number, nbytes?: number, hookEvery?: number}} o
   */
  async traceCommits({ path = "/yloft", start = 0, n, nbytes = 100, hookEvery = 1 }) {
    const storage = mountOf(path);
    const db = lab(path);
    const events = takeTrace();
    for (let i = start; i < start + n; i++) {
      const hook = (i - start + 1) % hookEvery === 0;
      db.insert(i, nbytes, hook);
      if (!hook) continue;
      await afterCommit(storage);
      events.push(...takeTrace(), ["c", i]);
    }
    events.push(...takeTrace());
    return events.map((e) => (e[0] === "w" ? ["w", e[1], e[2], toBase64(e[3])] : e));
  },

  /** @param {{path?: string, i: number, nbytes?: number}} o */
  async tryInsert({ path = "/yloft", i, nbytes = 100 }) {
    const result = JSON.parse(lab(path).try_insert(i, nbytes));
    if (result.ok) {
      try {
        await afterCommit(mountOf(path));
      } catch (e) {
        const err = /** @type {Error} */ (e);
        return { ok: false, type: err.name, message: err.message, afterCommit: true };
      }
    }
    return result;
  },

  /** @param {{path?: string}} o */
  async afterCommit({ path = "/yloft" }) {
    await afterCommit(mountOf(path));
  },

  /** @param {{path?: string, nbytes?: number}} o */
  check({ path = "/yloft", nbytes = 100 }) {
    return JSON.parse(lab(path).check(nbytes));
  },

  /** @param {{path?: string}} o */
  stats({ path = "/yloft" }) {
    return mountOf(path).stats();
  },

  /** Run Python code and return the JSON its last expression evaluates to. @param {{code: string}} o */
  py({ code }) {
    return JSON.parse(pyodide.runPython(code));
  },

  /**
   * Time n durable one-row commits on an open database; returns commits per second and
   * the file-system calls per commit.
   * @param {{path?: string, start: number, n: number, nbytes?: number}} o
   */
  async benchCommits({ path = "/yloft", start, n, nbytes = 100 }) {
    const storage = mountOf(path);
    const db = lab(path);
    const before = storage.stats();
    const t0 = performance.now();
    for (let i = start; i < start + n; i++) {
      db.insert(i, nbytes);
      await afterCommit(storage);
    }
    const seconds = (performance.now() - t0) / 1000;
    const after = storage.stats();
    /** @type {Record<string, number>} */
    const perCommit = {};
    for (const [k, v] of Object.entries(after)) perCommit[k] = (v - (before[k] ?? 0)) / n;
    return { commitsPerSecond: n / seconds, perCommit };
  },

  /**
   * Time n random index lookups (reads only) on an open database.
   * @param {{path?: string, n: number, seed?: number}} o
   */
  benchReads({ path = "/yloft", n, seed = 1 }) {
    const storage = mountOf(path);
    const before = storage.stats();
    const t0 = performance.now();
    lab(path).lookups(n, seed);
    const seconds = (performance.now() - t0) / 1000;
    return {
      readsPerSecond: n / seconds,
      fsReadsPerLookup: ((storage.stats().reads ?? 0) - (before.reads ?? 0)) / n,
    };
  },

  /**
   * The baseline: append the same bytes a row holds to a raw OPFS file through a sync
   * access handle and flush, n times.
   * @param {{file: string, n: number, nbytes?: number}} o
   */
  async benchRawOpfs({ file, n, nbytes = 100 }) {
    const root = await navigator.storage.getDirectory();
    const fh = await root.getFileHandle(file, { create: true });
    const handle = await /** @type {any} */ (fh).createSyncAccessHandle();
    try {
      handle.truncate(0);
      handle.flush();
      const bytes = new TextEncoder().encode("x".repeat(nbytes));
      let size = 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        size += handle.write(bytes, { at: size });
        handle.flush();
      }
      const seconds = (performance.now() - t0) / 1000;
      return { commitsPerSecond: n / seconds };
    } finally {
      handle.close();
    }
  },

  /**
   * Run the volume suite on one storage kind (each check on a database and a mount of its
   * own, /volumes/<name>), with one of volume-bugs.js's faults when `bug` names one.
   * @param {{kind: "opfs" | "idb" | "memory", bug?: string}} o
   */
  async volumeSuite({ kind, bug }) {
    await methods.load();
    const undo = bug ? BUGS[bug]() : () => {};
    try {
      return await runVolumeTests({
        FS: pyodide.FS,
        ERRNO: pyodide.ERRNO_CODES,
        durable: kind !== "memory",
        prefix: `s${++suiteRuns}-`,
        mount: (name) => mountStorage(pyodide, { name, force: kind, path: `/volumes/${name}` }),
      });
    } finally {
      undo();
    }
  },

  /** The volume suite's checks, by name. */
  volumeChecks() {
    return Object.keys(CHECKS);
  },

  /** @param {{path?: string}} o */
  async unmount({ path = "/yloft" }) {
    const labs = pyodide.globals.get("labs");
    if (labs.has(path)) {
      labs.get(path).close();
      labs.delete(path);
    }
    labs.destroy();
    await mountOf(path).close();
    mounts.delete(path);
  },
};

/** @param {Uint8Array} bytes */
function toBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** @param {string} path */
function mountOf(path) {
  const storage = mounts.get(path);
  if (!storage) throw new Error(`nothing mounted at ${path}: call mount first`);
  return storage;
}

self.onmessage = async (event) => {
  const { id, method, args } = event.data;
  try {
    const fn = /** @type {any} */ (methods)[method];
    if (!fn) throw new Error(`unknown method ${method}`);
    postMessage({ id, ok: true, value: await fn(...args) });
  } catch (e) {
    const err = /** @type {Error} */ (e);
    postMessage({ id, ok: false, error: { name: err.name, message: String(err.message ?? err) } });
  }
};
postMessage({ type: "started" });
