// The Storage view: where the database lives (OPFS or IndexedDB, and why not OPFS),
// whether the browser granted persistent storage, and the origin's usage against quota.

import { bytes, facts, h } from "./dom.js";

/** @param {import("./panel.js").Context} ctx @returns {import("./panel.js").View} */
export function storageView(ctx) {
  const el = h("div");
  return {
    el,
    async refresh() {
      const s = ctx.db.status;
      const estimate = await navigator.storage?.estimate?.().catch(() => null);
      const usage = estimate?.usage ?? s.usage;
      const quota = estimate?.quota ?? s.quota;
      const share =
        usage !== undefined && quota ? ` (${((usage / quota) * 100).toFixed(2)} %)` : "";
      const kinds = {
        opfs: "OPFS",
        idb: "IndexedDB",
        memory: "memory (nothing survives a reload)",
      };
      el.replaceChildren(
        facts("Storage", [
          ["kind", /** @type {any} */ (kinds)[s.storage] ?? s.storage],
          ["why not OPFS", s.storageFallback ?? "—"],
          ["persisted", s.persisted ? "yes" : "no: the browser may evict it"],
          ["usage", `${bytes(usage)} of ${bytes(quota)}${share}`],
          ["evicted before", s.evicted ? new Date(s.evicted.at).toISOString() : "no"],
          ["last error", s.error ?? "none"],
        ]),
      );
    },
  };
}
