// Presence (awareness) between this app's pages and the relay: pages exchange it among
// themselves on a BroadcastChannel; the engine worker that holds the relay socket carries
// it to other devices. I/O only.

import { awarenessChannel } from "../names.js";

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
    if (
      typeof m.collection === "string" &&
      typeof m.docId === "string" &&
      m.payload instanceof Uint8Array
    ) {
      sync.sendAwareness(m.collection, m.docId, m.payload);
    }
  };
  return channel;
}
