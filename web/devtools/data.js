// The Data view: every collection with its row count, and one collection's extracted
// columns, a page at a time, or its full-text matches (yloft.browser.devtools: rows).

import { alertOf, h, table } from "./dom.js";

const PAGE = 25;

/** @param {import("./panel.js").Context} ctx @returns {import("./panel.js").View} */
export function dataView(ctx) {
  const state = { collection: "", offset: 0, search: "" };
  const list = h("div", { class: "collections" });
  const search = /** @type {HTMLInputElement} */ (
    h("input", { type: "search", id: "yd-search", placeholder: "words, as prefixes" })
  );
  const position = h("p", { role: "status", class: "position" });
  const rows = h("div", { class: "rows" });
  const previous = /** @type {HTMLButtonElement} */ (
    h("button", { type: "button", text: "Previous page", onclick: () => page(-PAGE) })
  );
  const next = /** @type {HTMLButtonElement} */ (
    h("button", { type: "button", text: "Next page", onclick: () => page(PAGE) })
  );
  const browser = h(
    "section",
    { "aria-label": "Rows", hidden: true },
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: "yd-search", text: "Full-text search" }),
      search,
      previous,
      next,
    ),
    position,
    rows,
  );
  let typing = 0;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = window.setTimeout(() => {
      state.search = search.value.trim();
      state.offset = 0;
      void loadRows();
    }, 250);
  });

  /** @param {number} by */
  function page(by) {
    state.offset = Math.max(0, state.offset + by);
    void loadRows();
  }

  let shownCollections = "";
  let shownRows = "";

  async function loadCollections() {
    const collections = await ctx.ask("collections");
    const text = JSON.stringify(collections);
    if (text === shownCollections) return; // unchanged: keep what the person looks at
    shownCollections = text;
    const columns = ["collection", "rows", "columns", "full-text"];
    const shown = collections.map((/** @type {any} */ c) => ({
      collection: c.name,
      rows: c.rows,
      columns: c.columns.join(", "),
      "full-text": c.fts ? "yes" : "no",
    }));
    list.replaceChildren(
      table("Collections", columns, shown, (column, row) =>
        column === "collection"
          ? h("button", {
              type: "button",
              "aria-label": `Browse ${row.collection}`,
              text: row.collection,
              onclick: () => {
                state.collection = row.collection;
                state.offset = 0;
                void loadRows();
              },
            })
          : null,
      ),
    );
    if (!state.collection && collections.length) state.collection = collections[0].name;
  }

  async function loadRows() {
    if (!state.collection) return;
    browser.hidden = false;
    const { collection, offset, search: words } = state;
    let result;
    try {
      result = await ctx.ask("rows", collection, offset, PAGE, words);
    } catch (e) {
      shownRows = "";
      rows.replaceChildren(alertOf(e));
      return;
    }
    const text = JSON.stringify([collection, offset, words, result]);
    if (text === shownRows) return;
    shownRows = text;
    const last = offset + result.rows.length;
    const what = words ? `matches of “${words}” in ${collection}` : `rows of ${collection}`;
    position.textContent = result.total
      ? `${offset + 1}–${last} of ${result.total} ${what}`
      : `no ${what}`;
    previous.disabled = offset === 0;
    next.disabled = last >= result.total;
    rows.replaceChildren(
      table(`${collection} rows`, result.columns, result.rows, (column, row) =>
        column === "id"
          ? h("button", {
              type: "button",
              "aria-label": `Inspect document ${row.id}`,
              text: row.id,
              onclick: () => ctx.show("Document", { collection, id: row.id }),
            })
          : null,
      ),
    );
  }

  const el = h("div", {}, list, browser);
  return {
    el,
    async refresh() {
      await loadCollections();
      await loadRows();
    },
  };
}
