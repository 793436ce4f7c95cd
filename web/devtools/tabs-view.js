// The Tabs view: this tab's role (the writer runs the engine; a follower forwards to it),
// the other open tabs of the app, and this tab's outbox (its writes not answered yet,
// kept in IndexedDB while the engine runs in another tab: docs/tabs.md).

import { tabLockPrefix } from "../names.js";
import { alertOf, facts, h, table } from "./dom.js";

/** @param {import("./panel.js").Context} ctx @returns {import("./panel.js").View} */
export function tabsView(ctx) {
  const el = h("div");
  return {
    el,
    async refresh() {
      let info;
      try {
        info = await ctx.db.request("devtools_tab", []);
      } catch (e) {
        el.replaceChildren(alertOf(e));
        return;
      }
      const prefix = tabLockPrefix(ctx.db.name);
      const held = (await navigator.locks.query()).held ?? [];
      const tabs = held
        .map((lock) => lock.name ?? "")
        .filter((name) => name.startsWith(prefix))
        .map((name) => name.slice(prefix.length));
      const rows = tabs.sort().map((tab) => ({
        tab,
        role: tab === info.writer ? "writer (runs the engine)" : "follower",
        this: tab === info.tab ? "this tab" : "",
      }));
      const status = ctx.db.status;
      el.replaceChildren(
        facts("This tab", [
          ["role", info.local ? "writer (runs the engine)" : "follower (forwards to the writer)"],
          ["tab id", info.tab],
          ["writer tab", info.writer ?? "none yet"],
          ["unsaved", String(status.unsaved)],
          ["writer stalled", status.writerStalled ? "yes: it has not answered for 3 s" : "no"],
        ]),
        table("Open tabs", ["tab", "role", "this"], rows),
        info.outbox.length
          ? table("Tab outbox", ["seq", "kind", "what", "size"], info.outbox)
          : h("p", { class: "empty", text: "Tab outbox: empty (every write was answered)." }),
      );
    },
  };
}
