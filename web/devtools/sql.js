// The SQL console: one read-only statement over the app's tables. The engine refuses a
// statement that would write (SQLite's authorizer, yloft.browser.devtools: sql), whatever
// the panel sends; the refusal is shown as it came.

import { alertOf, h, table } from "./dom.js";

/** @param {import("./panel.js").Context} ctx @returns {import("./panel.js").View} */
export function sqlView(ctx) {
  const input = /** @type {HTMLTextAreaElement} */ (
    h("textarea", { id: "yd-sql", rows: 4, spellcheck: "false" })
  );
  input.value = "SELECT * FROM sqlite_schema WHERE name NOT LIKE '\\_yloft%' ESCAPE '\\'";
  const result = h("div", { class: "result", "aria-live": "polite" });
  const run = async () => {
    result.replaceChildren(h("p", { text: "Running…" }));
    try {
      const out = await ctx.ask("sql", input.value);
      const more = out.truncated > out.rows.length ? ` (first ${out.rows.length} shown)` : "";
      result.replaceChildren(
        h("p", { role: "status", text: `${out.truncated} row(s)${more}` }),
        table("Query result", out.columns, out.rows),
      );
    } catch (e) {
      result.replaceChildren(alertOf(e));
    }
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void run();
    }
  });
  const el = h(
    "form",
    {
      "aria-label": "SQL console",
      onsubmit: (/** @type {Event} */ event) => {
        event.preventDefault();
        void run();
      },
    },
    h("label", { for: "yd-sql", text: "SQL (read-only; Ctrl+Enter runs it)" }),
    input,
    h("div", { class: "toolbar" }, h("button", { type: "submit", text: "Run query" })),
    result,
  );
  return { el };
}
