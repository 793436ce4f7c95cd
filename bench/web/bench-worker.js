// Benchmark worker (bench only; never shipped in web/dist). Bundled by bench/_browser.py
// with the repo's esbuild together with npm yjs and y-indexeddb 9.0.12, so the y-indexeddb
// baseline runs the package's own code with its documented defaults, and so Pyodide's
// `import yjs` is the very same Yjs build.
//
// From the page: {id, method, args}; replies {id, ok, value | error: {name, message}}.

import * as Y from "yjs";
import { IndexeddbPersistence } from "y-indexeddb";
import { mountStorage } from "../../web/worker/storage/storage.js";

const base = new URL("./", self.location.href);
/** @type {any} */
let pyodide = null;
/** @type {any} */
let lab = null;
/** @type {Map<string, any>} */
const mounts = new Map();
const CONCURRENCY = 50; // y-indexeddb documents opened at once (one IndexedDB each)

/** Load Pyodide (and, unless bare, micropip + the yloft wheel + bench_lab.py). */
async function loadPython(/** @type {{bare?: boolean}} */ { bare = false } = {}) {
  const t0 = performance.now();
  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", base).href);
  pyodide = await loadPyodide({ indexURL: new URL("pyodide/", base).href });
  const pyodideMs = performance.now() - t0;
  if (!bare) {
    const manifest = await (await fetch(new URL("manifest.json", base))).json();
    pyodide.registerJsModule("yjs", Y);
    await pyodide.loadPackage(
      manifest.pyodide_wheels.map((/** @type {string} */ w) => new URL(w, base).href),
    );
    const micropip = pyodide.pyimport("micropip");
    await micropip.install(pyodide.toPy([new URL(manifest.yloft_wheel, base).href]));
    micropip.destroy();
    // yloft.crdt's JS side ships in the wheel: import it from there (see web/worker/boot.js).
    const dir =
      pyodide.runPython(
        "import importlib.util as u; u.find_spec('yloft').submodule_search_locations[0]",
      ) + "/crdt/_yjs/";
    const modules = await Promise.all(
      ["yjs_helpers.js", "yjs_text.js"].map(
        (file) =>
          import(
            URL.createObjectURL(
              new Blob([pyodide.FS.readFile(dir + file, { encoding: "utf8" })], {
                type: "text/javascript",
              }),
            )
          ),
      ),
    );
    pyodide.registerJsModule("yloft_js", Object.assign({}, ...modules));
    const src = await (await fetch(new URL("bench_lab.py", base))).text();
    pyodide.FS.writeFile("/home/pyodide/bench_lab.py", src);
    pyodide.runPython("import sys\nsys.path.insert(0, '/home/pyodide')");
    lab = pyodide.pyimport("bench_lab");
  }
  return { pyodide_ms: pyodideMs, total_ms: performance.now() - t0, version: pyodide.version };
}

/** Mount storage at `path` (database `name`): OPFS unless `force` says otherwise;
 * "auto" lets yloft choose as an app's engine does (OPFS, else the IndexedDB fallback). */
async function mount(/** @type {{name: string, path: string, force?: string}} */ opts) {
  const storage = await mountStorage(pyodide, {
    name: opts.name,
    path: opts.path,
    force: /** @type {any} */ (opts.force === "auto" ? undefined : (opts.force ?? "opfs")),
  });
  mounts.set(opts.path, storage);
  return {
    kind: storage.kind,
    dbPath: storage.dbPath,
    pragmas: storage.pragmas,
    fallbackReason: storage.fallbackReason,
  };
}

/** Durable small edits, as an app's engine reports "saved": each note of the lab's Store
 * (bench_lab.edit_one: its own transaction, the commit hook flushes) and then the mount
 * at `path` settled (at once on OPFS; the IndexedDB transaction completed on the
 * fallback). Returns ms per edit over the round. */
async function durableEdits(/** @type {{path: string, value0: number}} */ { path, value0 }) {
  const storage = mounts.get(path);
  const n = lab.note_count();
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    lab.edit_one(k, value0 + k);
    await storage.settled();
  }
  return { per_edit_ms: (performance.now() - t0) / n, edits: n, kind: storage.kind };
}

/** The smallest step of performance.now() seen here (browsers coarsen their clocks). */
function timerStep() {
  let step = Infinity;
  for (let i = 0; i < 20; i++) {
    const a = performance.now();
    let b = performance.now();
    while (b === a) b = performance.now();
    step = Math.min(step, b - a);
  }
  return step;
}

/** Call bench_lab.FN(*args); `flushPath` passes that mount's commit hook first. */
function py(
  /** @type {string} */ fn,
  /** @type {any[]} */ args = [],
  /** @type {string | null} */ flushPath = null,
) {
  const pre = flushPath
    ? [mounts.get(flushPath).flush, JSON.stringify(mounts.get(flushPath).pragmas)]
    : [];
  const out = lab[fn](
    ...pre,
    ...args.map((a) => (typeof a === "object" && a !== null ? JSON.stringify(a) : a)),
  );
  return typeof out === "string" ? JSON.parse(out) : out;
}

/** Sizes of the files in the OPFS folder of a mount (logical bytes). */
async function opfsBytes(/** @type {string} */ path) {
  let dir = await navigator.storage.getDirectory();
  for (const part of path.split("/").filter(Boolean)) dir = await dir.getDirectoryHandle(part);
  /** @type {Record<string, number>} */
  const files = {};
  // @ts-ignore - async iteration of a directory handle
  for await (const [name, handle] of dir.entries()) {
    if (handle.kind === "file") files[name] = (await handle.getFile()).size;
  }
  return files;
}

// ------------------------------------------------------------------ y-indexeddb side

/** Resolves once every y-indexeddb write queued so far on `p` has committed: a readonly
 * transaction on the same store starts only after earlier readwrite ones finished. */
function durable(/** @type {any} */ p) {
  return new Promise((resolve, reject) => {
    const req = p.db.transaction(["updates"], "readonly").objectStore("updates").count();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Run `fn` over items with at most CONCURRENCY in flight. */
async function pool(
  /** @type {any[]} */ items,
  /** @type {(x: any, i: number) => Promise<any>} */ fn,
) {
  const out = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

async function openDoc(/** @type {string} */ name) {
  const doc = new Y.Doc();
  const p = new IndexeddbPersistence(name, doc);
  await p.whenSynced;
  return { doc, p };
}

/** The same edit the Python side makes to a new note. */
function writeNote(/** @type {Y.Doc} */ doc, /** @type {any} */ note) {
  doc.transact(() => {
    const meta = doc.getMap("meta");
    meta.set("title", note.title);
    meta.set("done", note.done);
    meta.set("tags", note.tags);
    meta.set("rank", note.rank);
    doc.getText("body").insert(0, note.body);
  });
}

/** Store notes, one y-indexeddb database each (its design), waiting until stored. */
async function yidbCreate(/** @type {{prefix: string, n: number}} */ { prefix, n }) {
  const notes = JSON.parse(lab.notes_json(n));
  const t0 = performance.now();
  await pool(notes, async (note, i) => {
    const { doc, p } = await openDoc(`${prefix}${i}`);
    writeNote(doc, note);
    await durable(p);
    await p.destroy();
  });
  return { ms: performance.now() - t0 };
}

/** The fields query `kind` filters and sorts on, and no other, from a note's Y.Doc:
 * the filter reads two keys of the `meta` map (done, title), never the body's text; the
 * full-text search reads the title and the body's text (the field it searches). */
function noteRow(/** @type {Y.Doc} */ doc, /** @type {string} */ kind) {
  const meta = doc.getMap("meta");
  if (kind === "filter") return { title: meta.get("title"), done: meta.get("done") };
  return { title: meta.get("title"), body: doc.getText("body").toString() };
}

/** Load every note and read the fields query `kind` needs, as an app without a query
 * layer must. */
async function loadAll(
  /** @type {string} */ prefix,
  /** @type {number} */ n,
  /** @type {string} */ kind,
) {
  return pool(
    Array.from({ length: n }, (_, i) => i),
    async (i) => {
      const { doc, p } = await openDoc(`${prefix}${i}`);
      const row = noteRow(doc, kind);
      await p.destroy();
      doc.destroy();
      return row;
    },
  );
}

/** The two queries of comparison 2 over rows already read, in JS. */
function runQuery(
  /** @type {any[]} */ rows,
  /** @type {string} */ kind,
  /** @type {string} */ arg,
) {
  let hits;
  if (kind === "filter") {
    hits = rows
      .filter((r) => r.done === false && r.title > arg)
      .sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : 0));
  } else {
    hits = rows
      .filter((r) => r.body.split(" ").includes(arg))
      .sort((a, b) => (a.title < b.title ? -1 : 1));
  }
  return { titles: hits.slice(0, 50).map((r) => r.title), matches: hits.length };
}

/** Comparison 2, cold: reopen every y-indexeddb database, then filter in JS. */
async function yidbQuery(
  /** @type {{prefix: string, n: number, kind: string, arg: string}} */ { prefix, n, kind, arg },
) {
  const t0 = performance.now();
  const rows = await loadAll(prefix, n, kind);
  const out = runQuery(rows, kind, arg);
  return { ms: performance.now() - t0, ...out };
}

/** @type {Y.Doc[]} */
let warmDocs = [];

/** Comparison 2, warm: load every note's Y.Doc from y-indexeddb once and keep it in
 * memory, as an app that holds all its documents does (the providers are closed: a
 * query only reads). */
async function yidbWarmLoad(/** @type {{prefix: string, n: number}} */ { prefix, n }) {
  const t0 = performance.now();
  for (const doc of warmDocs) doc.destroy();
  warmDocs = await pool(
    Array.from({ length: n }, (_, i) => i),
    async (i) => {
      const { doc, p } = await openDoc(`${prefix}${i}`);
      await p.destroy();
      return doc;
    },
  );
  return { ms: performance.now() - t0, docs: warmDocs.length };
}

/** Comparison 2, warm: read the fields the query needs from every in-memory Y.Doc
 * (noteRow), then filter in JS. */
function yidbWarmQuery(/** @type {{kind: string, arg: string}} */ { kind, arg }) {
  const t0 = performance.now();
  const out = runQuery(
    warmDocs.map((doc) => noteRow(doc, kind)),
    kind,
    arg,
  );
  return { ms: performance.now() - t0, ...out };
}

/** Comparison 1: `rounds` of one small durable edit to each of `n` documents. */
async function yidbEdits(
  /** @type {{prefix: string, n: number, rounds: number, start: number}} */ {
    prefix,
    n,
    rounds,
    start,
  },
) {
  const docs = await pool(
    Array.from({ length: n }, (_, i) => i),
    (i) => openDoc(`${prefix}${i}`),
  );
  /** @type {number[]} */
  const perEditMs = [];
  /** @type {number[]} */
  const sizes = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const { doc, p } = docs[i];
      const before = Y.encodeStateVector(doc);
      doc.getMap("meta").set("rank", start + r * n + i);
      await durable(p);
      if (r === 0) sizes.push(Y.encodeStateAsUpdate(doc, before).length);
    }
    perEditMs.push((performance.now() - t0) / n);
  }
  for (const { doc, p } of docs) {
    await p.destroy();
    doc.destroy();
  }
  return { per_edit_ms: perEditMs, update_bytes: sizes };
}

/** Comparison 6: many small edits spread over the notes (text inserts), then stored. */
async function yidbManyEdits(
  /** @type {{prefix: string, n: number, edits: number}} */ { prefix, n, edits },
) {
  const t0 = performance.now();
  const perDoc = Math.ceil(edits / n);
  await pool(
    Array.from({ length: n }, (_, i) => i),
    async (i) => {
      const { doc, p } = await openDoc(`${prefix}${i}`);
      const text = doc.getText("body");
      for (let k = 0; k < perDoc && i * perDoc + k < edits; k++) {
        if (k % 2) doc.getMap("meta").set("title", `edited ${i} ${k}`);
        else text.insert((k * 37) % text.length, "edit ");
      }
      await durable(p);
      await p.destroy();
      doc.destroy();
    },
  );
  return { ms: performance.now() - t0, per_doc: perDoc };
}

/** Stored bytes of each y-indexeddb database (update log) and its compacted Yjs state. */
async function yidbSizes(/** @type {{prefix: string, n: number}} */ { prefix, n }) {
  const parts = await pool(
    Array.from({ length: n }, (_, i) => i),
    async (i) => {
      const { doc, p } = await openDoc(`${prefix}${i}`);
      const updates = await new Promise((resolve, reject) => {
        const req = p.db.transaction(["updates"], "readonly").objectStore("updates").getAll();
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const stored = /** @type {Uint8Array[]} */ (updates).reduce((s, u) => s + u.byteLength, 0);
      const state = Y.encodeStateAsUpdate(doc).length;
      const entries = /** @type {any[]} */ (updates).length;
      await p.destroy();
      doc.destroy();
      return { stored, state, entries };
    },
  );
  return {
    stored_update_bytes: parts.reduce((s, x) => s + x.stored, 0),
    state_bytes: parts.reduce((s, x) => s + x.state, 0),
    entries: parts.reduce((s, x) => s + x.entries, 0),
  };
}

// ------------------------------------------------------------------ raw OPFS floor

/** Append each update to one OPFS file through a sync access handle + flush(). */
async function rawOpfs(
  /** @type {{file: string, updates: number[][], rounds: number}} */ { file, updates, rounds },
) {
  const root = await navigator.storage.getDirectory();
  const fh = await root.getFileHandle(file, { create: true });
  // @ts-ignore - sync access handles exist in dedicated workers
  const h = await fh.createSyncAccessHandle();
  let at = h.getSize();
  const bufs = updates.map((u) => new Uint8Array(u));
  /** @type {number[]} */
  const perEditMs = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (const b of bufs) {
        at += h.write(b, { at });
        h.flush();
      }
      perEditMs.push((performance.now() - t0) / bufs.length);
    }
  } finally {
    h.close();
  }
  return { per_edit_ms: perEditMs };
}

// ------------------------------------------------------------------ cold start

/** Comparison 3, in a fresh page: from navigation start to the first query result. */
async function coldstart(
  /** @type {{mode: string, prefix: string, n: number, arg: string, storage?: string}} */ {
    mode,
    prefix,
    n,
    arg,
    storage,
  },
) {
  const origin = performance.timeOrigin;
  if (mode === "bare") {
    const t = await loadPython({ bare: true });
    pyodide.runPython("1 + 1");
    return { worker_origin: origin, done_at: performance.timeOrigin + performance.now(), ...t };
  }
  if (mode === "yidb") {
    const r = await yidbQuery({ prefix, n, kind: "filter", arg });
    return {
      worker_origin: origin,
      done_at: performance.timeOrigin + performance.now(),
      titles: r.titles,
    };
  }
  const t = await loadPython();
  const m = await mount({ name: "notes", path: "/yloft", force: storage });
  const r = py("open_store", ["/yloft/notes.db"], "/yloft");
  const q = py("filter_query", [arg]);
  return {
    worker_origin: origin,
    done_at: performance.timeOrigin + performance.now(),
    titles: q.titles,
    opened: r,
    storage: m.kind,
    fallback_reason: m.fallbackReason,
    ...t,
  };
}

const methods = /** @type {Record<string, (...a: any[]) => any>} */ ({
  loadPython,
  mount,
  py,
  opfsBytes,
  yidbCreate,
  yidbQuery,
  yidbWarmLoad,
  yidbWarmQuery,
  yidbEdits,
  yidbManyEdits,
  yidbSizes,
  rawOpfs,
  coldstart,
  durableEdits,
  timerStep,
  async unmount(/** @type {string} */ path) {
    await mounts.get(path)?.close();
    mounts.delete(path);
    return true;
  },
});

self.onmessage = async (event) => {
  const { id, method, args } = event.data;
  try {
    const value = await methods[method](...(args ?? []));
    postMessage({ id, ok: true, value });
  } catch (e) {
    const err = /** @type {Error} */ (e);
    postMessage({
      id,
      ok: false,
      error: { name: err.name, message: `${err.message}\n${err.stack ?? ""}` },
    });
  }
};
postMessage({ id: 0, ok: true, value: "started" });
