// The engine worker's two small links beyond its own requests: relay tokens asked of
// the page (connect({relay: {getToken}})) and presence (awareness) between this app's
// pages and the relay. Both are I/O only; the worker owns when they run.

import { awarenessChannel } from "../names.js";

/** Relay tokens asked of the page: `ask()` posts "get-token", `answer(msg)` settles it. */
export class TokenRequests {
  constructor() {
    /** @type {Map<number, {resolve: (token: string) => void, reject: (e: Error) => void}>} */
    this.waiters = new Map();
    this.count = 0;
  }

  /** @returns {Promise<string>} the page's `relay.getToken()` */
  ask() {
    return new Promise((resolve, reject) => {
      const id = ++this.count;
      this.waiters.set(id, { resolve, reject });
      postMessage({ type: "get-token", id });
    });
  }

  /** @param {{id: number, token?: string, error?: string}} msg the page's "token" message */
  answer(msg) {
    const waiter = this.waiters.get(msg.id);
    this.waiters.delete(msg.id);
    if (msg.error) waiter?.reject(new Error(msg.error));
    else waiter?.resolve(msg.token ?? "");
  }
}

/**
 * Presence: pages exchange it among themselves on a BroadcastChannel; every engine
 * worker listens too, and the one holding the relay socket carries it to other devices.
 * @param {string} name the database name (one channel per app database)
 * @param {() => {sendAwareness: (collection: string, docId: string, payload: Uint8Array) => void} | null} relay
 *   the relay sync while this worker holds it, else null
 */
export function openAwareness(name, relay) {
  const channel = new BroadcastChannel(awarenessChannel(name));
  channel.onmessage = (event) => {
    const m = event.data;
    const sync = relay();
    if (!sync || m?.from === "relay" || m?.kind !== "update") return;
    if (typeof m.collection === "string" && typeof m.docId === "string" && m.payload instanceof Uint8Array) {
      sync.sendAwareness(m.collection, m.docId, m.payload);
    }
  };
  return channel;
}
