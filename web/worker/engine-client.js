// Each tab's side of the one engine per browser: the page's requests, kept until the
// engine answers them, and re-bound whenever the engine moves to another tab.
//
//   const client = new EngineClient({ tab, build, post: postMessage, outbox });
//   client.fromPage(msg);                        // the page's "call" / "doc-update"
//   client.bind(link, welcome);                  // the engine is here (link.local) or in
//                                                // the writer tab link.writer
//   client.fromEngine(msg);                      // the engine's reply / rows / doc / ...
//
// The page speaks the same protocol in every tab (see engine-worker.js); only the
// writer tab's worker runs Pyodide and the store (engine-host.js). Every other tab's
// worker forwards its page's requests to it. What the client keeps makes a change of
// writer invisible to the page: live queries and page documents are opened again on
// the new engine (under the ids the page already has), and every request not answered
// yet is sent again. Writes are numbered per tab (`seq`): the engine runs a resent call
// at most once (yloft.browser.once), and a resent document update changes nothing.
// Writes are also kept in IndexedDB (tab-outbox.js) until answered, so the next writer
// runs them even if this tab dies first.

const WRITES = new Set(["call", "import"]);
const STALL_MS = 3000;

/**
 * @typedef {object} EngineLink  where requests go now
 * @property {string} writer  the writer tab's id (this tab's when local)
 * @property {boolean} local  whether the engine runs in this worker
 * @property {(msg: any) => void} send
 */

/** @typedef {{method: string, args: any[], seq: number, internal?: (reply: any) => void}} Pending */
/** @typedef {{seq: number, pseq: number, update: Uint8Array}} DocWrite */
/** @typedef {{collection: string, docId: string, remote: number, unsaved: DocWrite[], closed: boolean}} LinkedDoc */

export class EngineClient {
  /**
   * @param {{tab: string, build: string, post: (msg: any, transfer?: Transferable[]) => void,
   *   outbox: import("./tab-outbox.js").TabOutbox | null, devtools?: boolean}} options
   */
  constructor({ tab, build, post, outbox, devtools = false }) {
    this.tab = tab;
    /** the app enabled the devtools panel: answer its "devtools_tab" request */
    this.devtools = devtools;
    this.build = build;
    this.post = post;
    this.outbox = outbox;
    /** @type {EngineLink | null} */
    this.link = null;
    /** @type {Map<number, Pending>} requests not answered, by request id (< 0: the client's own) */
    this.pending = new Map();
    this.nextInternal = -1;
    /** @type {Map<number, {sql: string, params: any[], remote: number}>} live queries by the page's id */
    this.subs = new Map();
    /** @type {Map<number, number>} */
    this.subByRemote = new Map();
    /** @type {Map<number, LinkedDoc>} page documents by the page's link */
    this.docs = new Map();
    /** @type {Map<number, number>} */
    this.docByRemote = new Map();
    this.nextSub = 1;
    this.nextLink = 1;
    /** the last write number given */
    this.seq = 0;
    /** @type {Set<number>} numbers of the writes not answered yet */
    this.writes = new Set();
    /** whether the outbox may hold writes of this tab (kept while the engine was elsewhere) */
    this.kept = false;
    /** @type {Record<string, any>} the writer's status (storage, relay sync, ...) */
    this.writerStatus = { storage: "starting", persisted: false, error: null };
    /** @type {string | null} an error of this tab (another build, ...) */
    this.error = null;
    this.lastProgress = Date.now();
    this.stalled = false;
    this.ready = false;
    this.published = "";
  }

  /** Every write up to this number was answered (what the engine may forget). */
  answered() {
    let low = this.seq + 1;
    for (const s of this.writes) low = Math.min(low, s);
    return low - 1;
  }

  /** @param {number} seq */
  doneWrite(seq) {
    if (!this.writes.delete(seq)) return;
    this.lastProgress = Date.now();
    if (!this.kept) return; // the engine's own tab keeps nothing: no IndexedDB work per write
    this.outbox
      ?.dropThrough(this.tab, this.answered())
      .catch((e) => console.error("yloft outbox:", e));
    if (this.writes.size === 0) this.kept = false; // that drop covers everything kept
  }

  /** @param {import("./tab-outbox.js").KeptEntry} entry */
  newWrite(entry) {
    const seq = ++this.seq;
    if (this.writes.size === 0) this.lastProgress = Date.now();
    this.writes.add(seq);
    // Only a tab whose engine is elsewhere can die with writes the engine never got.
    if (!this.link?.local && this.outbox) {
      this.kept = true;
      this.outbox.keep(this.tab, seq, entry).catch((e) => console.error("yloft outbox:", e));
    }
    return seq;
  }

  // ---------------------------------------------------------------- from the page

  /** @param {any} msg the page's message (yloft.js) */
  fromPage(msg) {
    if (msg.type === "call") this.request(msg.id, msg.method, msg.args ?? []);
    else if (msg.type === "doc-update") this.docUpdate(msg.link, msg.seq, msg.update);
    this.publish();
  }

  /** @param {number} id @param {string} method @param {any[]} args */
  request(id, method, args) {
    if (method === "devtools_tab") {
      this.post(this.devtoolsTab(id));
      return;
    }
    if (method === "unsubscribe") {
      const sub = this.subs.get(args[0]);
      this.subs.delete(args[0]);
      if (sub?.remote) {
        this.subByRemote.delete(sub.remote);
        this.releaseRemote(method, sub.remote);
      }
      this.post({ type: "reply", id, ok: true, value: Boolean(sub) });
      return;
    }
    if (method === "doc_close") {
      const doc = this.docs.get(args[0]);
      if (doc?.remote) {
        this.docByRemote.delete(doc.remote);
        this.releaseRemote(method, doc.remote);
      }
      if (doc) {
        doc.closed = true;
        doc.remote = 0;
        if (!doc.unsaved.length) this.docs.delete(args[0]);
      }
      this.post({ type: "reply", id, ok: true, value: Boolean(doc) });
      return;
    }
    const seq = WRITES.has(method) ? this.newWrite({ kind: "call", method, args }) : 0;
    this.pending.set(id, { method, args, seq });
    this.sendRequest(id);
  }

  /**
   * Tell the engine to drop what it holds for this tab (a subscription, a document link);
   * nobody waits for its reply.
   * @param {string} method @param {any} remote
   */
  releaseRemote(method, remote) {
    this.send({ kind: "call", id: this.internalId(() => {}), method, args: [remote], seq: 0 });
  }

  /** @param {(reply: any) => void} handler @returns {number} */
  internalId(handler) {
    const id = this.nextInternal--;
    this.pending.set(id, { method: "", args: [], seq: 0, internal: handler });
    return id;
  }

  /** @param {number} id */
  sendRequest(id) {
    const p = this.pending.get(id);
    if (!p || p.internal) return;
    this.send({
      kind: "call",
      id,
      method: p.method,
      args: p.args,
      seq: p.seq,
      ack: this.answered(),
    });
  }

  /** @param {number} plink @param {number} pseq @param {Uint8Array} update */
  docUpdate(plink, pseq, update) {
    const doc = this.docs.get(plink);
    if (!doc || doc.closed) {
      const error = {
        name: "UnknownLinkError",
        message: `no open document link ${plink}; open it with db.doc() again`,
      };
      this.post({ type: "doc-saved", link: plink, seq: pseq, ok: false, error });
      return;
    }
    const seq = this.newWrite({
      kind: "doc",
      collection: doc.collection,
      docId: doc.docId,
      update,
    });
    const write = { seq, pseq, update };
    doc.unsaved.push(write);
    this.sendDoc(plink, doc, write);
  }

  /** @param {number} plink @param {LinkedDoc} doc @param {DocWrite} w */
  sendDoc(plink, doc, w) {
    this.send({
      kind: "doc-update",
      plink,
      link: doc.remote,
      collection: doc.collection,
      docId: doc.docId,
      seq: w.seq,
      update: w.update,
    });
  }

  /** @param {any} msg */
  send(msg) {
    this.link?.send({ ...msg, from: this.tab });
  }

  // -------------------------------------------------------------- from the engine

  /**
   * The engine is there now (a welcome from the writer tab, or this tab took over).
   * A new writer gets everything again: live queries, page documents, and every
   * request it may never have seen.
   * @param {EngineLink} link
   * @param {{build: string, versions: any, status: any}} welcome
   */
  bind(link, welcome) {
    if (welcome.build !== this.build) {
      this.fail({
        name: "BuildMismatchError",
        message: `this tab runs build ${this.build} of the app but the tab that holds the database runs build ${welcome.build}: reload this tab (and the other tabs of this app)`,
      });
      return;
    }
    this.error = null;
    this.writerStatus = welcome.status ?? this.writerStatus;
    if (this.link?.writer === link.writer && this.link.local === link.local) {
      this.publish();
      return;
    }
    this.link = link;
    this.versions = welcome.versions;
    this.rebind();
    if (!this.ready) {
      this.ready = true;
      performance.mark("yloft:ready");
      this.post({ type: "ready", versions: welcome.versions, status: this.status() });
    }
    this.publish();
  }

  rebind() {
    this.subByRemote.clear();
    this.docByRemote.clear();
    for (const [id, p] of this.pending) if (p.internal) this.pending.delete(id);
    for (const [psub, sub] of this.subs) {
      sub.remote = 0;
      this.send({
        kind: "call",
        method: "subscribe",
        args: [sub.sql, sub.params],
        seq: 0,
        id: this.internalId((reply) => {
          if (!reply.ok || !this.subs.has(psub)) return;
          sub.remote = reply.value.id;
          this.subByRemote.set(sub.remote, psub);
          this.post({ type: "rows", sub: psub, rows: reply.value.rows });
        }),
      });
    }
    for (const [plink, doc] of this.docs) {
      doc.remote = 0;
      if (doc.closed) continue;
      this.send({
        kind: "call",
        method: "doc_open",
        args: [doc.collection, doc.docId],
        seq: 0,
        id: this.internalId((reply) => {
          if (!reply.ok || doc.closed) return;
          doc.remote = reply.value.link;
          this.docByRemote.set(doc.remote, plink);
          this.post({ type: "doc", link: plink, update: decodeBytes(reply.value.state) });
        }),
      });
    }
    // Everything not answered, in the order it was made (writes by their number).
    /** @type {[number, () => void][]} */
    const again = [];
    for (const [id, p] of this.pending)
      if (!p.internal) again.push([p.seq || 0, () => this.sendRequest(id)]);
    for (const [plink, doc] of this.docs)
      for (const w of doc.unsaved) again.push([w.seq, () => this.sendDoc(plink, doc, w)]);
    again.sort((a, b) => a[0] - b[0]);
    for (const [, resend] of again) resend();
  }

  /** @param {any} msg a message of the engine to this tab */
  fromEngine(msg) {
    if (msg.kind === "reply") this.reply(msg);
    else if (msg.kind === "rows") {
      const psub = this.subByRemote.get(msg.sub);
      if (psub !== undefined) this.post({ type: "rows", sub: psub, rows: msg.rows });
    } else if (msg.kind === "doc") {
      const plink = this.docByRemote.get(msg.link);
      if (plink !== undefined) this.post({ type: "doc", link: plink, update: msg.update });
    } else if (msg.kind === "doc-saved") this.docSaved(msg);
    else if (msg.kind === "status") this.writerStatus = msg.status;
    else if (msg.kind === "fatal") this.fail(msg.error);
    this.publish();
  }

  /** @param {any} msg */
  reply(msg) {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (p.internal) return p.internal(msg);
    if (p.seq) this.doneWrite(p.seq);
    let value = msg.value;
    if (msg.ok && p.method === "subscribe") {
      const psub = this.nextSub++;
      this.subs.set(psub, { sql: p.args[0], params: p.args[1] ?? [], remote: value.id });
      this.subByRemote.set(value.id, psub);
      value = { id: psub, rows: value.rows };
    } else if (msg.ok && p.method === "doc_open") {
      const plink = this.nextLink++;
      this.docs.set(plink, {
        collection: p.args[0],
        docId: p.args[1],
        remote: value.link,
        unsaved: [],
        closed: false,
      });
      this.docByRemote.set(value.link, plink);
      value = { link: plink, state: value.state };
    }
    this.post({ type: "reply", id: msg.id, ok: msg.ok, value, error: msg.error });
  }

  /** @param {{plink: number, seq: number, ok: boolean, error?: any}} msg */
  docSaved(msg) {
    const doc = this.docs.get(msg.plink);
    if (!doc) return;
    let pseq = 0;
    while (doc.unsaved.length && doc.unsaved[0].seq <= msg.seq) {
      const w = /** @type {DocWrite} */ (doc.unsaved.shift());
      pseq = w.pseq;
      this.doneWrite(w.seq);
    }
    if (doc.closed && !doc.unsaved.length) this.docs.delete(msg.plink);
    if (pseq)
      this.post({ type: "doc-saved", link: msg.plink, seq: pseq, ok: msg.ok, error: msg.error });
  }

  /** @param {{name: string, message: string, traceback?: string}} error */
  fail(error) {
    if (!this.ready) {
      this.post({ type: "fatal", ...error });
      return;
    }
    this.error = `${error.name}: ${error.message}`;
    for (const [id, p] of this.pending) {
      if (!p.internal) this.post({ type: "reply", id, ok: false, error });
    }
    this.pending.clear();
    this.publish();
  }

  /**
   * The devtools panel's view of this tab (web/devtools/): its role, the writer tab, and
   * its outbox (writes not answered yet; kept in IndexedDB while the engine is elsewhere).
   * Refused, as the engine refuses its requests, unless the app enabled devtools.
   * @param {number} id  the page's request id
   */
  devtoolsTab(id) {
    if (!this.devtools) {
      const error = {
        name: "DevtoolsDisabledError",
        message:
          "devtools are not enabled for this app: pass connect({devtools: true}) in the app's page, or run it with `yloft serve`",
      };
      return { type: "reply", id, ok: false, error };
    }
    /** @type {{seq: number, kind: string, what: string, size: number}[]} */
    const outbox = [];
    for (const p of this.pending.values()) {
      if (!p.seq) continue;
      const what = p.method === "call" ? String(p.args[0]) : p.method;
      outbox.push({ seq: p.seq, kind: p.method, what, size: JSON.stringify(p.args).length });
    }
    for (const doc of this.docs.values()) {
      for (const w of doc.unsaved) {
        const what = `${doc.collection}/${doc.docId}`;
        outbox.push({ seq: w.seq, kind: "doc-update", what, size: w.update.byteLength });
      }
    }
    outbox.sort((a, b) => a.seq - b.seq);
    const value = {
      tab: this.tab,
      writer: this.link?.writer ?? null,
      local: Boolean(this.link?.local),
      kept: this.kept,
      outbox,
    };
    return { type: "reply", id, ok: true, value };
  }

  // ----------------------------------------------------------------------- status

  /** Unsaved: this tab's requests not answered plus page-document edits not stored. */
  unsaved() {
    let n = 0;
    for (const p of this.pending.values()) if (!p.internal) n += 1;
    for (const doc of this.docs.values()) n += doc.unsaved.length;
    return n;
  }

  /** @returns {Record<string, any>} what the page sees as db.status */
  status() {
    const local = Boolean(this.link?.local);
    return {
      ...this.writerStatus,
      error: this.error ?? this.writerStatus.error ?? null,
      // How tabs share the database: one engine per browser, every other tab its client
      // (Web Locks + BroadcastChannel, docs/tabs.md). The only mode: a browser without
      // them cannot start (engine-worker.js says which is missing).
      tabMode: "one-engine",
      writer: local,
      tab: this.tab,
      unsaved: this.unsaved(),
      writerStalled: this.stalled,
    };
  }

  /** Tell the page when its status changed (and whether the writer stopped answering). */
  publish() {
    this.stalled =
      !this.link?.local && this.writes.size > 0 && Date.now() - this.lastProgress > STALL_MS;
    if (!this.ready) return;
    const status = this.status();
    const text = JSON.stringify(status);
    if (text === this.published) return;
    this.published = text;
    this.post({ type: "status", status });
  }
}

/** @param {any} value bytes from the engine's JSON ({$bytes: base64}) */
function decodeBytes(value) {
  const text = atob(value.$bytes);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * A start-up failure for the page: a Python error (Pyodide's PythonError, whose message
 * is the traceback) becomes the Python exception's name, its last line and the traceback.
 * @param {Error & {type?: string}} err
 * @returns {{name: string, message: string, traceback?: string}}
 */
export function describeFatal(err) {
  const text = String(err?.message ?? err);
  if (err?.name !== "PythonError" || !err.type)
    return { name: err?.name ?? "Error", message: text };
  const lines = text.trim().split("\n");
  const last = lines[lines.length - 1] ?? "";
  const message = last.startsWith(`${err.type}:`) ? last.slice(err.type.length + 1).trim() : last;
  return { name: err.type, message, traceback: text };
}
