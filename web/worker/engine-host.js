// The one engine of a database in this browser: runs in the writer tab's worker only.
// It owns Pyodide's yloft.browser.Engine, the mounted storage and the relay socket, and
// answers the requests of every tab of the app (its own tab's client included).
//
//   const host = new EngineHost({ name, tab, build, python, outbox, deliverLocal, relay });
//   await host.open();             // mount storage, open the store, listen to the tabs
//   host.receive(tab, msg);        // a request of a tab (engine-client.js)
//
// To one tab (its BroadcastChannel, or its own client directly):
//   {kind: "welcome", writer, since, build, versions, status}   reply to "hello"
//   {kind: "reply", id, ok, value | error}    once what the request wrote is durable
//   {kind: "rows", sub, rows}                 a live query's new result
//   {kind: "doc", link, update}               a page document changed elsewhere
//   {kind: "doc-saved", plink, seq, ok, error?}   page updates up to seq are durable
// To every tab: the welcome when this engine is ready, {kind: "status", status} and
// {kind: "fatal", error}.
//
// Requests run one at a time (`queue`): Python is single-threaded, and each tab's writes
// run in the order they were sent, which the once-records rely on (yloft.browser.once).

import * as Y from "../vendor/yjs.mjs";
import { mountStorage } from "./storage/storage.js";
import { liveTabs } from "./tab-outbox.js";
import { engineChannel, tabChannel, tabsChannel } from "../names.js";
import { TokenRequests, openAwareness } from "./worker-links.js";

const WRITES = new Set(["call", "import"]); // numbered requests that run once (yloft.browser.once)
const SWEEP_MS = 2000; // how often closed tabs' live queries, documents and kept writes are handled

export class EngineHost {
  /**
   * @param {object} o
   * @param {string} o.name  the database name
   * @param {string} o.tab  this tab's id
   * @param {string} o.build  this build's id (manifest.json)
   * @param {{pyodide: any, glue: any, versions: any}} o.python  from boot.js
   * @param {"opfs" | "idb" | "memory" | undefined} o.force  a storage kind asked for
   * @param {string} o.app  the app's Python module
   * @param {import("./tab-outbox.js").TabOutbox | null} o.outbox  every tab's kept writes
   * @param {(msg: any) => void} o.deliverLocal  a message to this tab's own client
   * @param {any} o.relay  connect()'s relay options, or null
   */
  constructor(o) {
    this.o = o;
    this.since = Date.now();
    /** @type {any} the yloft.browser.Engine (PyProxy) */
    this.engine = null;
    /** @type {import("./storage/storage.js").Storage | null} */
    this.storage = null;
    /** @type {Promise<void>} */
    this.queue = Promise.resolve();
    /** @type {Record<string, any>} the writer's part of db.status */
    this.status = { storage: "starting", persisted: false, error: null };
    /** @type {Map<number, string>} live query id -> the tab that made it */
    this.subOwner = new Map();
    /** @type {Map<number, string>} document link -> the tab that opened it */
    this.linkOwner = new Map();
    /** @type {[string, any][]} requests that arrived while the engine was busy */
    this.inbox = [];
    /** @type {Map<string, BroadcastChannel>} */
    this.toTab = new Map();
    this.broadcast = new BroadcastChannel(tabsChannel(o.name));
    /** @type {any} the RelaySync of relay-sync.js */
    this.relay = null;
    this.relayHoldsAll = false;
    this.estimatedAt = 0;
    this.tokens = new TokenRequests();
    this.awareness = openAwareness(o.name, () => this.relay);
  }

  /** Mount storage, open the store with the app, listen to the tabs, start the relay. */
  async open() {
    const { pyodide, glue } = this.o.python;
    // A closed or crashed writer's OPFS handles are released a little after its lock.
    for (let attempt = 1; ; attempt++) {
      try {
        this.storage = await mountStorage(pyodide, { name: this.o.name, force: this.o.force, lockTimeoutMs: 20000 });
        break;
      } catch (e) {
        console.error(`yloft: opening the database, attempt ${attempt} failed`, e);
        if (attempt >= 5) throw e;
      }
    }
    const storage = this.storage;
    performance.mark("yloft:mounted");
    this.setStatus({ storage: storage.kind, persisted: storage.persisted });
    const pragmas = JSON.stringify(storage.pragmas ?? { journal_mode: "truncate" });
    this.engine = glue.open_engine(storage.dbPath, this.o.app,
      (/** @type {number} */ sub, /** @type {string} */ rows) => this.deliver(this.subOwner.get(sub), { kind: "rows", sub, rows: JSON.parse(rows) }),
      (/** @type {number} */ link, /** @type {Uint8Array} */ update) => {
        const copy = update.slice(); // never hand on a buffer Pyodide may own
        this.deliver(this.linkOwner.get(link), { kind: "doc", link, update: copy });
      },
      storage.flush, pragmas);
    performance.mark("yloft:opened");
    const requests = new BroadcastChannel(engineChannel(this.o.name));
    requests.onmessage = (event) => {
      const msg = event.data;
      if (msg && typeof msg.from === "string") this.receive(msg.from, msg);
    };
    this.broadcast.postMessage(this.welcome());
    void this.refreshEstimate();
    setInterval(() => this.run(() => this.sweep()), SWEEP_MS);
    this.run(() => this.sweep());
    await this.startRelay();
  }

  welcome() {
    const { o } = this;
    return { kind: "welcome", writer: o.tab, since: this.since, build: o.build, versions: o.python.versions, status: { ...this.status } };
  }

  /** @param {() => any} fn  Python work, after everything queued before it */
  run(fn) {
    this.queue = this.queue.then(fn).catch((e) => this.reportError(e));
    return this.queue;
  }

  /** @param {string | undefined} tab @param {any} msg */
  deliver(tab, msg) {
    if (tab === undefined) return;
    if (tab === this.o.tab) {
      this.o.deliverLocal(msg);
      return;
    }
    let channel = this.toTab.get(tab);
    if (!channel) {
      channel = new BroadcastChannel(tabChannel(this.o.name, tab));
      this.toTab.set(tab, channel);
    }
    channel.postMessage(msg);
  }

  /** A request of a tab. @param {string} from @param {any} msg */
  receive(from, msg) {
    if (msg.kind === "hello") {
      this.deliver(from, this.welcome());
      return;
    }
    if (msg.kind !== "call" && msg.kind !== "doc-update") return;
    this.inbox.push([from, msg]);
    if (this.inbox.length === 1) this.run(() => this.drain());
  }

  /**
   * Everything that arrived while the engine was busy, in arrival order (each tab's
   * writes run in the order it sent them, which the once-records rely on), in runs:
   * consecutive numbered write calls share one transaction and one flush (group commit,
   * `Engine.handle_writes`), consecutive page-document updates one commit per document.
   */
  async drain() {
    const items = this.inbox;
    this.inbox = [];
    /** @type {[string, any][]} what to deliver once durable */
    const out = [];
    for (let i = 0; i < items.length;) {
      const kind = items[i][1].kind;
      const write = (/** @type {any} */ m) => m.kind === "call" && m.seq > 0 && WRITES.has(m.method);
      let j = i + 1;
      if (kind === "doc-update") while (j < items.length && items[j][1].kind === "doc-update") j++;
      else if (write(items[i][1])) while (j < items.length && write(items[j][1])) j++;
      const run = items.slice(i, j);
      if (kind === "doc-update") this.applyDocs(run, out);
      else if (run.length > 1) this.handleWrites(run, out);
      else this.handle(run[0][0], run[0][1], out);
      i = j;
    }
    await this.durable();
    for (const [tab, msg] of out) this.deliver(tab, msg);
  }

  /** @param {string} from @param {{id: number, method: string, args: any[], seq?: number, ack?: number}} msg @param {[string, any][]} out */
  handle(from, msg, out) {
    const request = JSON.stringify({ method: msg.method, args: msg.args });
    const reply = JSON.parse(this.o.python.glue.handle(this.engine, request, from, msg.seq ?? 0, msg.ack ?? 0));
    if (reply.ok && msg.method === "subscribe") this.subOwner.set(reply.value.id, from);
    else if (reply.ok && msg.method === "doc_open") this.linkOwner.set(reply.value.link, from);
    else if (msg.method === "unsubscribe") this.subOwner.delete(msg.args[0]);
    else if (msg.method === "doc_close") this.linkOwner.delete(msg.args[0]);
    out.push([from, { kind: "reply", id: msg.id, ...reply }]);
  }

  /** @param {[string, any][]} run numbered write calls @param {[string, any][]} out */
  handleWrites(run, out) {
    const batch = run.map(([tab, m]) => ({ request: JSON.stringify({ method: m.method, args: m.args }), tab, seq: m.seq, ack: m.ack ?? 0 }));
    const replies = JSON.parse(this.o.python.glue.handle_writes(this.engine, JSON.stringify(batch)));
    run.forEach(([tab, m], k) => out.push([tab, { kind: "reply", id: m.id, ...replies[k] }]));
  }

  /**
   * Page documents' updates: the keystrokes of one document merged into one commit
   * (typing never waits for storage).
   * @param {[string, any][]} run @param {[string, any][]} out
   */
  applyDocs(run, out) {
    /** @type {Map<string, {from: string, plink: number, link: number, collection: string, docId: string, updates: Uint8Array[], seq: number}>} */
    const docs = new Map();
    for (const [from, msg] of run) {
      const key = `${from}\n${msg.plink}`;
      const b = docs.get(key)
        ?? { from, plink: msg.plink, link: msg.link, collection: msg.collection, docId: msg.docId, updates: /** @type {Uint8Array[]} */ ([]), seq: 0 };
      b.updates.push(msg.update);
      b.seq = Math.max(b.seq, msg.seq);
      b.link = msg.link || b.link;
      docs.set(key, b);
    }
    for (const b of docs.values()) {
      try {
        const update = b.updates.length === 1 ? b.updates[0] : Y.mergeUpdates(b.updates);
        const link = this.linkOwner.get(b.link) === b.from ? b.link : 0;
        const reply = JSON.parse(this.o.python.glue.doc_apply(this.engine, b.collection, b.docId, update, link));
        out.push([b.from, { kind: "doc-saved", plink: b.plink, seq: b.seq, ok: reply.ok, error: reply.error }]);
      } catch (e) {
        const err = /** @type {Error} */ (e);
        out.push([b.from, { kind: "doc-saved", plink: b.plink, seq: b.seq, ok: false, error: { name: err.name, message: err.message } }]);
      }
    }
  }

  /**
   * Wait until the commits so far are stored. The commit hook (storage.flush, called by
   * the store after each COMMIT) is the one durability point; this only waits for it to
   * settle (IndexedDB completes asynchronously) and rethrows its failure.
   */
  async durable() {
    await this.storage?.settled();
    void this.refreshEstimate();
  }

  /**
   * Closed tabs: drop their live queries and document links, run the writes they kept
   * unanswered (tab-outbox.js), then forget their once-records.
   */
  async sweep() {
    const live = await liveTabs(this.o.name);
    live.add(this.o.tab);
    const glue = this.o.python.glue;
    for (const [owners, method] of /** @type {const} */ ([[this.subOwner, "unsubscribe"], [this.linkOwner, "doc_close"]])) {
      for (const [id, tab] of owners) {
        if (live.has(tab)) continue;
        owners.delete(id);
        this.engine.handle(JSON.stringify({ method, args: [id] }));
      }
    }
    const outbox = this.o.outbox;
    if (outbox) {
      const apply = (/** @type {string} */ tab, /** @type {number} */ seq, /** @type {any} */ e) => {
        const reply = e.kind === "call"
          ? JSON.parse(glue.handle(this.engine, JSON.stringify({ method: e.method, args: e.args }), tab, seq, 0))
          : JSON.parse(glue.doc_apply(this.engine, e.collection, e.docId, e.update, 0));
        if (!reply.ok) console.error(`yloft: a kept write of closed tab ${tab} was refused`, reply.error);
      };
      const saved = await outbox.recover(this.o.name, apply, () => this.durable());
      if (saved) console.info(`yloft: saved ${saved} write(s) that closed tabs had kept unanswered`);
    }
    if (this.engine.forget_tabs_except(JSON.stringify([...live]))) await this.durable();
  }

  /** @param {Record<string, any>} changes */
  setStatus(changes) {
    const status = this.status;
    Object.assign(status, changes);
    // Where copies of the data live: a relay holds everything once it acknowledged the
    // whole outbox; until then (or with no relay) unpersisted storage is the only copy.
    if (status.sync === "online" && (status.outbox ?? 0) === 0) this.relayHoldsAll = true;
    else if ((status.outbox ?? 0) > 0 || status.sync === undefined) this.relayHoldsAll = false;
    status.onlyHere = status.storage !== "memory" && !status.persisted && !this.relayHoldsAll;
    const msg = { kind: "status", status: { ...status } };
    this.o.deliverLocal(msg);
    this.broadcast.postMessage(msg);
  }

  /** Storage usage and quota in the status (navigator.storage.estimate), at most every 5 s. */
  async refreshEstimate() {
    const now = Date.now();
    if (now - this.estimatedAt < 5000 || !navigator.storage?.estimate) return;
    this.estimatedAt = now;
    try {
      const { usage, quota } = await navigator.storage.estimate();
      if (usage !== this.status.usage || quota !== this.status.quota) this.setStatus({ usage, quota });
    } catch {
      // an estimate is informative only
    }
  }

  /** @param {unknown} e */
  reportError(e) {
    const err = /** @type {Error} */ (e);
    console.error("yloft engine:", err);
    this.setStatus({ error: String(err?.message ?? err) });
  }

  /** Sync the store with the relay space (only the engine's tab holds the socket). */
  async startRelay() {
    const options = this.o.relay;
    if (!options || this.relay) return;
    const { startRelaySync } = await import("./relay-sync.js");
    this.relay = await startRelaySync(this.o.python.pyodide, this.engine, options, {
      name: this.o.name,
      setStatus: (/** @type {Record<string, any>} */ changes) => this.setStatus(changes),
      run: (/** @type {() => any} */ fn) => this.run(fn),
      beforeSend: () => this.storage?.settled() ?? Promise.resolve(),
      keepCursor: this.storage?.kind !== "memory",
      onAwareness: (/** @type {string} */ collection, /** @type {string} */ docId, /** @type {Uint8Array} */ payload) =>
        this.awareness.postMessage({ kind: "update", collection, docId, payload, from: "relay" }),
      onOnline: () => this.awareness.postMessage({ kind: "announce", collection: "", docId: "", from: "relay" }),
      getToken: options.renew ? () => this.tokens.ask() : undefined,
    });
  }
}
