// The engine's side of every tab's page documents (db.doc()): the keystrokes that arrived
// while the engine was busy, merged into one commit per document (typing never waits
// for storage), answered with "doc-saved" once durable (by the caller).
//
//   applyDocs(glue, engine, linkOwner, run, out);   // run: [tab, doc-update message][]

import * as Y from "../vendor/yjs.mjs";

/**
 * @param {any} glue  the yloft.browser.worker module (PyProxy)
 * @param {any} engine  the yloft.browser.Engine (PyProxy)
 * @param {Map<number, string>} linkOwner  which tab opened each document link
 * @param {[string, any][]} run  consecutive doc-update messages, in arrival order
 * @param {[string, any][]} out  where the answers go: [tab, {kind: "doc-saved", ...}]
 */
export function applyDocs(glue, engine, linkOwner, run, out) {
  /** @type {Map<string, {from: string, plink: number, link: number, collection: string, docId: string, updates: Uint8Array[], seq: number}>} */
  const docs = new Map();
  for (const [from, msg] of run) {
    const key = `${from}\n${msg.plink}`;
    const b = docs.get(key) ?? {
      from,
      plink: msg.plink,
      link: msg.link,
      collection: msg.collection,
      docId: msg.docId,
      updates: /** @type {Uint8Array[]} */ ([]),
      seq: 0,
    };
    b.updates.push(msg.update);
    b.seq = Math.max(b.seq, msg.seq);
    b.link = msg.link || b.link;
    docs.set(key, b);
  }
  for (const b of docs.values()) {
    try {
      const update = b.updates.length === 1 ? b.updates[0] : Y.mergeUpdates(b.updates);
      // The link the edit came from is not echoed (if it is still that tab's).
      const link = linkOwner.get(b.link) === b.from ? b.link : 0;
      const reply = JSON.parse(glue.doc_apply(engine, b.collection, b.docId, update, link));
      out.push([
        b.from,
        { kind: "doc-saved", plink: b.plink, seq: b.seq, ok: reply.ok, error: reply.error },
      ]);
    } catch (e) {
      const err = /** @type {Error} */ (e);
      out.push([
        b.from,
        {
          kind: "doc-saved",
          plink: b.plink,
          seq: b.seq,
          ok: false,
          error: { name: err.name, message: err.message },
        },
      ]);
    }
  }
}
