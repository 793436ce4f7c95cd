// The relay role: only the engine's tab holds the relay socket (relay-sync.js). It also
// carries presence between this app's pages and the relay, and asks its page for
// tokens (token-requests.js, awareness-link.js).
//
//   const role = new RelayRole("notes");
//   await role.start(pyodide, engine, options, { setStatus, run, storage });
//   role.tokens.answer(msg);          // the page's "token" message

import { openAwareness } from "./awareness-link.js";
import { TokenRequests } from "./token-requests.js";

export class RelayRole {
  /** @param {string} name the database name */
  constructor(name) {
    this.name = name;
    /** @type {any} the RelaySync of relay-sync.js, once started */
    this.relay = null;
    this.tokens = new TokenRequests();
    this.awareness = openAwareness(name, () => this.relay);
  }

  /**
   * Sync the store with the relay space of `options` (connect()'s relay options).
   * @param {any} pyodide @param {any} engine the yloft.browser.Engine (PyProxy)
   * @param {{space: string, token?: string, url?: string, renew?: boolean}} options
   * @param {{setStatus: (changes: Record<string, any>) => void, run: (fn: () => any) => Promise<void>,
   *   storage: import("./storage/storage.js").Storage | null}} host
   */
  async start(pyodide, engine, options, host) {
    if (this.relay) return;
    const { startRelaySync } = await import("./relay-sync.js");
    const { storage } = host;
    this.relay = await startRelaySync(pyodide, engine, options, {
      setStatus: host.setStatus,
      run: host.run,
      beforeSend: () => storage?.settled() ?? Promise.resolve(),
      onAwareness: (
        /** @type {string} */ collection,
        /** @type {string} */ docId,
        /** @type {Uint8Array} */ payload,
      ) =>
        this.awareness.postMessage({ kind: "update", collection, docId, payload, from: "relay" }),
      onOnline: () =>
        this.awareness.postMessage({ kind: "announce", collection: "", docId: "", from: "relay" }),
      getToken: options.renew ? () => this.tokens.ask() : undefined,
    });
  }
}
