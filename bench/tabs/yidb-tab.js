// Baseline for bench/bench_tabs.py: the same tab-to-tab path with plain Yjs —
// y-indexeddb persists each update, a BroadcastChannel carries it to the other tabs,
// which apply it and fire their observers. Bundled with esbuild by the bench.
import * as Y from "yjs";
import { IndexeddbPersistence } from "y-indexeddb";

const doc = new Y.Doc();
const persistence = new IndexeddbPersistence("bench-tabs", doc);
const channel = new BroadcastChannel("bench-tabs");
const REMOTE = "remote";
channel.onmessage = (e) => Y.applyUpdate(doc, new Uint8Array(e.data), REMOTE);
doc.on("update", (update, origin) => {
  if (origin !== REMOTE) channel.postMessage(update);
});
const notes = doc.getMap("notes");

/** @type {Map<string, number>} title -> time the observer saw it */
const seen = new Map();
notes.observeDeep(() => {
  const t = performance.timeOrigin + performance.now();
  for (const [, note] of notes) {
    const title = note.get("title");
    if (!seen.has(title)) seen.set(title, t);
  }
});

const at = () => performance.timeOrigin + performance.now();

window.bench = {
  ready: persistence.whenSynced,
  seen,
  at,
  /** Set note `id`'s title; resolves once y-indexeddb stored the update. */
  async edit(id, title) {
    let note = notes.get(id);
    const t0 = at();
    doc.transact(() => {
      if (!note) {
        note = new Y.Map();
        notes.set(id, note);
      }
      note.set("title", title);
      const body = note.get("body") ?? new Y.Text();
      if (!note.has("body")) note.set("body", body);
      body.insert(0, "x");
    });
    // y-indexeddb writes in its own IDB transaction; wait until it is committed.
    await new Promise((resolve) => {
      const db = persistence.db;
      const tx = db.transaction(["updates"], "readonly");
      tx.oncomplete = resolve;
      tx.onerror = resolve;
    });
    return t0;
  },
  count: () => notes.size,
};
document.documentElement.dataset.ready = "1";
