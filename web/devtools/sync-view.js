// The Sync view: relay sync's state (link, cursor, outbox, access, token expiry, last
// error), the changes the relay has not acknowledged, and the change feed.

import { alertOf, bytes, facts, h, table } from "./dom.js";

/** @param {number} at unix seconds (0: never) */
function expiry(at) {
  if (!at) return "never (or unknown)";
  const left = Math.round(at - Date.now() / 1000);
  const when = new Date(at * 1000).toISOString();
  return left > 0 ? `${when} (in ${left} s)` : `${when} (expired)`;
}

/** @param {import("./panel.js").Context} ctx @returns {import("./panel.js").View} */
export function syncView(ctx) {
  const el = h("div");
  return {
    el,
    async refresh() {
      const relay = ctx.db.status.relay;
      const parts = [];
      if (!relay) {
        parts.push(h("p", { class: "empty", text: "No relay: this app syncs nothing." }));
      } else {
        parts.push(
          facts("Relay", [
            ["connection", relay.state],
            ["cursor (relay seq held)", String(relay.last_seq)],
            ["outbox (not acknowledged)", String(relay.outbox)],
            ["access", relay.access],
            ["token", relay.auth || "not answered yet"],
            ["token expires", expiry(relay.expires_at)],
            ["last error", relay.error || "none"],
          ]),
        );
      }
      try {
        for (const space of await ctx.ask("relay_outbox")) {
          const rows = space.changes.map((/** @type {any} */ c) => ({ ...c, size: bytes(c.size) }));
          parts.push(
            table(
              `Relay outbox of space ${space.space} (after acknowledged seq ${space.acked})`,
              ["seq", "collection", "id", "size"],
              rows,
            ),
          );
        }
        const feed = await ctx.ask("feed", 50);
        const rows = feed.changes.map((/** @type {any} */ c) => ({
          ...c,
          origin: c.origin ?? "local",
          size: bytes(c.size),
        }));
        parts.push(
          table(
            `Change feed (newest first; head ${feed.head}, trimmed up to ${feed.floor})`,
            ["seq", "collection", "id", "origin", "size"],
            rows,
          ),
        );
      } catch (e) {
        parts.push(alertOf(e));
      }
      el.replaceChildren(...parts);
    },
  };
}
