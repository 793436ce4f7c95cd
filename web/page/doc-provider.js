// A page-side Y.Doc kept in sync with one stored document: what `db.doc()` returns.
// It has the shape of the Yjs ecosystem's providers (y-indexeddb, y-websocket), so
// editor bindings (y-codemirror.next, y-prosemirror) work on `provider.doc` and
// `provider.awareness` as they do anywhere else.
//
//   const provider = db.doc("notes", id);
//   await provider.whenSynced;
//   provider.doc.getText("body").insert(0, "hi");   // committed by the engine
//   provider.on("saved", () => {});                   // once durable
//   provider.destroy();
//
// The page's edits go to the engine worker as Yjs updates (the worker commits the
// keystrokes that arrived meanwhile in one transaction: typing never waits for storage);
// changes from anywhere else (another tab, another device, the app's Python) come back
// as updates applied with the provider as the transaction origin. The page's own edits
// also go at once, page to page, to the same document's providers in the app's other
// tabs (a BroadcastChannel, as y-indexeddb apps do), without waiting for the engine;
// "saved" still means durable in the engine. Presence travels on a BroadcastChannel
// between the app's tabs; the engine worker that holds the relay socket carries it to
// other devices and y-websocket rooms.

import * as Y from "../vendor/yjs.mjs";
import { awarenessChannel, docsChannel } from "../names.js";

/**
 * @typedef {object} DocHost what a provider needs from the Database (yloft.js)
 * @property {string} name  the database name (presence is shared per database)
 * @property {(method: string, args: any[]) => Promise<any>} request
 * @property {(msg: any, transfer?: Transferable[]) => void} post  a message to the worker
 * @property {Map<number, DocProvider>} providers  open providers by link
 */

/** @typedef {"connecting" | "connected" | "disconnected"} ProviderStatus */

/** Raised (emitted as "error") when the engine refused or could not open the document. */
export class DocError extends Error {
  /** @param {{name: string, message: string}} info */
  constructor(info) {
    super(info.message);
    this.name = info.name;
  }
}

/** @extends {Y.ObservableV2<any>} */
export class DocProvider extends Y.ObservableV2 {
  /**
   * @param {DocHost} host
   * @param {string} collection
   * @param {string} id
   * @param {{doc?: Y.Doc}} [options]  an existing Y.Doc to sync (else a new one, owned
   *   and destroyed by the provider)
   */
  constructor(host, collection, id, options = {}) {
    super();
    this.host = host;
    this.collection = collection;
    this.id = id;
    this.ownsDoc = !options.doc;
    /** @type {Y.Doc} */
    this.doc = options.doc ?? new Y.Doc();
    /** @type {Y.Awareness} presence of the people on this document (cursors, names) */
    this.awareness = new Y.Awareness(this.doc);
    this.synced = false;
    /** @type {ProviderStatus} */
    this.status = "connecting";
    /** own edits the engine has not made durable yet (0: everything is saved) */
    this.unsaved = 0;
    /** @type {DocError | null} the last refusal or failure, if any */
    this.error = null;
    this.link = 0;
    this.destroyed = false;
    this.sentSeq = 0;
    this.savedSeq = 0;
    /** @type {Uint8Array[]} edits made before the engine linked the document */
    this.early = [];
    /** @type {(synced: boolean) => void} */
    let resolveSynced = () => {};
    /** @type {(error: Error) => void} */
    let rejectSynced = () => {};
    /** @type {Promise<DocProvider>} resolves once the page holds the stored state */
    this.whenSynced = new Promise((resolve, reject) => {
      resolveSynced = () => resolve(this);
      rejectSynced = reject;
    });
    this.whenSynced.catch(() => {}); // an unawaited failure is reported as "error" too
    this._resolveSynced = resolveSynced;
    this._rejectSynced = rejectSynced;

    /** @param {Uint8Array} update @param {any} origin */
    this._onUpdate = (update, origin) => {
      if (origin === this || this.destroyed) return;
      this.unsaved += 1;
      this.peers.postMessage({ collection, id, update });
      if (!this.link) this.early.push(update);
      else this._send(update);
    };
    this.doc.on("update", this._onUpdate);
    /** the same document's providers in other pages: edits go to them at once */
    this.peers = new BroadcastChannel(docsChannel(host.name));
    this.peers.onmessage = (event) => {
      const m = event.data;
      if (
        !this.destroyed &&
        m?.collection === collection &&
        m.id === id &&
        m.update instanceof Uint8Array
      ) {
        Y.applyUpdate(this.doc, m.update, this);
      }
    };

    this.channel = new BroadcastChannel(awarenessChannel(host.name));
    this.channel.onmessage = (event) => this._onPresence(event.data);
    /** @param {{added: number[], updated: number[], removed: number[]}} change @param {any} origin */
    this._onAwareness = ({ added, updated, removed }, origin) => {
      // Own changes only: not what we applied from others (origin this), nor others'
      // states that merely timed out here.
      if (origin === this || origin === "timeout") return;
      const changed = [...added, ...updated, ...removed];
      const payload = Y.encodeAwarenessUpdate(this.awareness, changed);
      this._postPresence({ kind: "update", payload });
    };
    this.awareness.on("update", this._onAwareness);
    /** @param {{added: number[]}} change @param {any} origin */
    this._onPeers = ({ added }, origin) => {
      // Someone new: tell them who is here (they cannot ask the relay for it).
      if (origin !== "local" && added.some((c) => c !== this.doc.clientID)) this._announce(1);
    };
    this.awareness.on("change", this._onPeers);
    this._onPageHide = () =>
      Y.removeAwarenessStates(this.awareness, [this.doc.clientID], "window unload");
    globalThis.addEventListener?.("pagehide", this._onPageHide);
    this._open();
  }

  async _open() {
    try {
      const reply = await this.host.request("doc_open", [this.collection, this.id]);
      if (this.destroyed) {
        this.host.request("doc_close", [reply.link]).catch(() => {});
        return;
      }
      this.link = reply.link;
      this.host.providers.set(this.link, this);
      Y.applyUpdate(this.doc, decodeBytes(reply.state), this);
      for (const update of this.early) this._send(update);
      this.early = [];
      this.synced = true;
      this._setStatus("connected");
      this._resolveSynced(true);
      this.emit("synced", [true]);
      this._postPresence({ kind: "announce" });
      this._announce(1);
    } catch (e) {
      const err = new DocError(/** @type {any} */ (e));
      this.error = err;
      this._setStatus("disconnected");
      this._rejectSynced(err);
      this.emit("error", [err]);
    }
  }

  /** @param {Uint8Array} update */
  _send(update) {
    this.sentSeq += 1;
    this.host.post({ type: "doc-update", link: this.link, seq: this.sentSeq, update });
  }

  /**
   * Send raw bytes as if this page had made them (tests and tools: a refused update).
   * @param {Uint8Array} update
   */
  sendRawUpdate(update) {
    if (!this.link) throw new Error("the provider is not synced yet");
    this.unsaved += 1;
    this._send(update);
  }

  /** From the engine: a change made elsewhere. @param {Uint8Array} update */
  _receive(update) {
    if (!this.destroyed) Y.applyUpdate(this.doc, update, this);
  }

  /** From the engine: own edits up to `seq` are durable, or were refused. @param {any} msg */
  _saved(msg) {
    if (msg.seq <= this.savedSeq) return;
    const done = msg.seq - this.savedSeq;
    this.savedSeq = msg.seq;
    this.unsaved = Math.max(0, this.unsaved - done);
    if (!msg.ok) {
      this.error = new DocError(
        msg.error ?? { name: "Error", message: "the engine refused the edit" },
      );
      this.emit("error", [this.error]);
    } else if (this.unsaved === 0) {
      this.error = null;
      this.emit("saved", []);
    }
  }

  /** @param {any} msg a presence message from another tab or (via a worker) the relay */
  _onPresence(msg) {
    if (this.destroyed || !this.synced || !msg) return;
    const mine = msg.collection === this.collection && msg.docId === this.id;
    if (msg.kind === "announce" && (mine || msg.collection === "")) {
      // After a relay reconnect our presence was dropped there with clock + 1: outbid it.
      this._announce(msg.from === "relay" ? 2 : 1);
    } else if (msg.kind === "update" && mine && msg.payload instanceof Uint8Array) {
      Y.applyAwarenessUpdate(this.awareness, msg.payload, this);
    }
  }

  /** Re-send this client's presence (`bump` times, so it wins over a removal). @param {number} bump */
  _announce(bump) {
    const state = this.awareness.getLocalState();
    if (state === null) return;
    for (let i = 0; i < bump; i++) this.awareness.setLocalState(state);
  }

  /** @param {{kind: string, payload?: Uint8Array}} msg */
  _postPresence(msg) {
    if (this.destroyed && msg.kind !== "update") return;
    this.channel.postMessage({ ...msg, collection: this.collection, docId: this.id, from: "page" });
  }

  /** @param {ProviderStatus} status */
  _setStatus(status) {
    this.status = status;
    this.emit("status", [{ status }]);
  }

  /** Stop syncing: unlink on both sides, drop presence, free everything it holds. */
  destroy() {
    if (this.destroyed) return;
    Y.removeAwarenessStates(this.awareness, [this.doc.clientID], "destroy");
    this.destroyed = true;
    this.doc.off("update", this._onUpdate);
    this.awareness.off("update", this._onAwareness);
    this.awareness.off("change", this._onPeers);
    this.awareness.destroy();
    globalThis.removeEventListener?.("pagehide", this._onPageHide);
    this.channel.close();
    this.peers.close();
    if (this.link) {
      this.host.providers.delete(this.link);
      this.host.request("doc_close", [this.link]).catch(() => {});
    }
    this._setStatus("disconnected");
    this.emit("destroy", [this]);
    super.destroy(); // drops every listener
    if (this.ownsDoc) this.doc.destroy();
  }
}

/** @param {any} value bytes from the engine's JSON ({$bytes: base64}) */
function decodeBytes(value) {
  const text = atob(value.$bytes);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
