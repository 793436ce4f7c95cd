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

import { mountStorage } from "./storage/storage.js";
import { Manifest, databaseFound } from "./storage/manifest.js";
import { liveTabs } from "./tab-outbox.js";
import { engineChannel, tabChannel, tabsChannel } from "../names.js";
import { applyDocs } from "./page-docs.js";
import { RelayRole } from "./relay-role.js";
import { WriterStatus } from "./writer-status.js";

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
   * @param {(stage: string) => void} [o.onStage]  a start-up stage begins (yloft.js names them)
   * @param {boolean} [o.devtools]  answer the devtools panel (yloft.browser.devtools)
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
    /** the writer's part of db.status, announced to every tab at each change */
    this.status = new WriterStatus((status) => {
      this.manifest?.relaySeq(status.relay?.last_seq);
      const msg = { kind: "status", status };
      this.o.deliverLocal(msg);
      this.broadcast.postMessage(msg);
    });
    /** @type {Map<number, string>} live query id -> the tab that made it */
    this.subOwner = new Map();
    /** @type {Map<number, string>} document link -> the tab that opened it */
    this.linkOwner = new Map();
    /** @type {[string, any][]} requests that arrived while the engine was busy */
    this.inbox = [];
    /** @type {Map<string, BroadcastChannel>} */
    this.toTab = new Map();
    this.broadcast = new BroadcastChannel(tabsChannel(o.name));
    this.relay = new RelayRole(o.name);
    /** @type {Manifest | null} the record outside the database that shows eviction */
    this.manifest = null;
  }

  /** Mount storage, open the store with the app, listen to the tabs, start the relay. */
  async open() {
    const { pyodide, glue } = this.o.python;
    this.o.onStage?.("storage");
    const manifests = Manifest.read(this.o.name); // beside the mount: one IndexedDB read
    // A closed or crashed writer's OPFS handles are released a little after its lock.
    for (let attempt = 1; ; attempt++) {
      try {
        this.storage = await mountStorage(pyodide, {
          name: this.o.name,
          force: this.o.force,
          lockTimeoutMs: 20000,
        });
        break;
      } catch (e) {
        console.error(`yloft: opening the database, attempt ${attempt} failed`, e);
        if (attempt >= 5) throw e;
      }
    }
    const storage = this.storage;
    performance.mark("yloft:mounted");
    this.o.onStage?.("store");
    const found = databaseFound(pyodide.FS, storage.dbPath); // before SQLite creates it
    this.status.set({
      storage: storage.kind,
      storageFallback: storage.fallbackReason,
      persisted: storage.persisted,
      evicted: null,
    });
    const pragmas = JSON.stringify(storage.pragmas ?? { journal_mode: "truncate" });
    this.engine = glue.open_engine(
      storage.dbPath,
      this.o.app,
      (/** @type {number} */ sub, /** @type {string} */ rows) =>
        this.deliver(this.subOwner.get(sub), { kind: "rows", sub, rows: JSON.parse(rows) }),
      (/** @type {number} */ link, /** @type {Uint8Array} */ update) => {
        const copy = update.slice(); // never hand on a buffer Pyodide may own
        this.deliver(this.linkOwner.get(link), { kind: "doc", link, update: copy });
      },
      storage.flush,
      pragmas,
      Boolean(this.o.devtools),
    );
    performance.mark("yloft:opened");
    if (storage.kind !== "memory") this.checkEviction(storage.kind, await manifests, found);
    const requests = new BroadcastChannel(engineChannel(this.o.name));
    requests.onmessage = (event) => {
      const msg = event.data;
      if (msg && typeof msg.from === "string") this.receive(msg.from, msg);
    };
    this.broadcast.postMessage(this.welcome());
    void this.status.refreshEstimate();
    setInterval(() => this.run(() => this.sweep()), SWEEP_MS);
    this.run(() => this.sweep());
    if (this.o.relay) {
      this.o.onStage?.("relay");
      const setStatus = (/** @type {Record<string, any>} */ c) => {
        this.status.set(c);
        if (c.relay?.state === "online") this.restored(); // caught up: the relay's copy is here
      };
      const host = {
        setStatus,
        run: (/** @type {() => any} */ fn) => this.run(fn),
        storage: this.storage,
      };
      await this.relay.start(this.o.python.pyodide, this.engine, this.o.relay, host);
    }
  }

  /**
   * Eviction (docs/storage.md): did the browser delete this database while its manifest
   * remained? Says so in status.evicted, and keeps the manifest from now on. Never fails
   * the start: without a manifest, nothing is noticed.
   * @param {"opfs" | "idb"} kind @param {Record<string, any>} records @param {boolean} found
   */
  checkEviction(kind, records, found) {
    const manifest = new Manifest(this.o.name, kind, records, {
      count: () => this.documentCount(),
      run: (fn) => this.run(fn),
      onHeld: () => this.restored(),
    });
    try {
      const lost = manifest.start(found);
      this.manifest = manifest;
      if (!lost) return;
      console.warn("yloft: the browser deleted this database; its manifest says", lost);
      this.status.set({ evicted: { ...lost, relay: Boolean(this.o.relay), restored: false } });
    } catch (e) {
      console.error("yloft: could not check whether the browser deleted the database", e);
    }
  }

  /** How many documents the store holds (deleted ones too). */
  documentCount() {
    const request = JSON.stringify({
      method: "query",
      args: ["SELECT count(*) AS n FROM _yloft_docs", []],
    });
    const reply = JSON.parse(this.engine.handle(request));
    if (!reply.ok) throw new Error(`counting documents failed: ${reply.error?.message}`);
    return Number(reply.value[0].n);
  }

  /** After an eviction, the database holds data again (the relay caught up, or an import). */
  restored() {
    const evicted = this.status.value.evicted;
    if (evicted && !evicted.restored) this.status.set({ evicted: { ...evicted, restored: true } });
  }

  welcome() {
    const { o } = this;
    return {
      kind: "welcome",
      writer: o.tab,
      since: this.since,
      build: o.build,
      versions: o.python.versions,
      status: { ...this.status.value },
    };
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
    const write = (/** @type {any} */ m) => m.kind === "call" && m.seq > 0 && WRITES.has(m.method);
    for (let i = 0; i < items.length; ) {
      const kind = items[i][1].kind;
      let j = i + 1;
      if (kind === "doc-update") while (j < items.length && items[j][1].kind === "doc-update") j++;
      else if (write(items[i][1])) while (j < items.length && write(items[j][1])) j++;
      const run = items.slice(i, j);
      if (kind === "doc-update")
        applyDocs(this.o.python.glue, this.engine, this.linkOwner, run, out);
      else if (run.length > 1) this.handleWrites(run, out);
      else this.handle(run[0][0], run[0][1], out);
      i = j;
    }
    await this.durable();
    for (const [tab, msg] of out) this.deliver(tab, msg);
    if (items.some(([, m]) => m.kind === "doc-update" || write(m))) this.manifest?.wrote();
  }

  /** @param {string} from @param {{id: number, method: string, args: any[], seq?: number, ack?: number}} msg @param {[string, any][]} out */
  handle(from, msg, out) {
    const request = JSON.stringify({ method: msg.method, args: msg.args });
    const reply = JSON.parse(
      this.o.python.glue.handle(this.engine, request, from, msg.seq ?? 0, msg.ack ?? 0),
    );
    if (reply.ok && msg.method === "subscribe") this.subOwner.set(reply.value.id, from);
    else if (reply.ok && msg.method === "doc_open") this.linkOwner.set(reply.value.link, from);
    else if (msg.method === "unsubscribe") this.subOwner.delete(msg.args[0]);
    else if (msg.method === "doc_close") this.linkOwner.delete(msg.args[0]);
    else if (reply.ok && msg.method === "export") this.manifest?.exported();
    out.push([from, { kind: "reply", id: msg.id, ...reply }]);
  }

  /** @param {[string, any][]} run numbered write calls @param {[string, any][]} out */
  handleWrites(run, out) {
    const batch = run.map(([tab, m]) => ({
      request: JSON.stringify({ method: m.method, args: m.args }),
      tab,
      seq: m.seq,
      ack: m.ack ?? 0,
    }));
    const replies = JSON.parse(
      this.o.python.glue.handle_writes(this.engine, JSON.stringify(batch)),
    );
    run.forEach(([tab, m], k) => out.push([tab, { kind: "reply", id: m.id, ...replies[k] }]));
  }

  /**
   * Wait until the commits so far are stored. The commit hook (storage.flush, called by
   * the store after each COMMIT) is the one durability point; this only waits for it to
   * settle (IndexedDB completes asynchronously) and rethrows its failure.
   */
  async durable() {
    await this.storage?.settled();
    void this.status.refreshEstimate();
  }

  /**
   * Closed tabs: drop their live queries and document links, run the writes they kept
   * unanswered (tab-outbox.js), then forget their once-records.
   */
  async sweep() {
    const live = await liveTabs(this.o.name);
    live.add(this.o.tab);
    const glue = this.o.python.glue;
    for (const [owners, method] of /** @type {const} */ ([
      [this.subOwner, "unsubscribe"],
      [this.linkOwner, "doc_close"],
    ])) {
      for (const [id, tab] of owners) {
        if (live.has(tab)) continue;
        owners.delete(id);
        this.engine.handle(JSON.stringify({ method, args: [id] }));
      }
    }
    const outbox = this.o.outbox;
    if (outbox) {
      const apply = (
        /** @type {string} */ tab,
        /** @type {number} */ seq,
        /** @type {any} */ e,
      ) => {
        const reply =
          e.kind === "call"
            ? JSON.parse(
                glue.handle(
                  this.engine,
                  JSON.stringify({ method: e.method, args: e.args }),
                  tab,
                  seq,
                  0,
                ),
              )
            : JSON.parse(glue.doc_apply(this.engine, e.collection, e.docId, e.update, 0));
        if (!reply.ok)
          console.error(`yloft: a kept write of closed tab ${tab} was refused`, reply.error);
      };
      const saved = await outbox.recover(this.o.name, apply, () => this.durable());
      if (saved)
        console.info(`yloft: saved ${saved} write(s) that closed tabs had kept unanswered`);
    }
    if (this.engine.forget_tabs_except(JSON.stringify([...live]))) await this.durable();
  }

  /** @param {unknown} e */
  reportError(e) {
    const err = /** @type {Error} */ (e);
    console.error("yloft engine:", err);
    this.status.set({ error: String(err?.message ?? err) });
  }
}
