// Small DOM helpers of the devtools panel: elements, tables and sizes. Everything shown
// comes from the app's data, so it is always set as text, never as HTML.

/**
 * An element with properties (attributes, `text`, `on<event>` listeners) and children.
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = String(value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "value") /** @type {HTMLInputElement} */ (el).value = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/**
 * A table of rows under a caption (its accessible name); a cell may be a Node (a button).
 * @param {string} caption
 * @param {string[]} columns
 * @param {Record<string, any>[]} rows
 * @param {(column: string, row: Record<string, any>) => Node | null} [cell]  a custom cell
 * @returns {HTMLElement}
 */
export function table(caption, columns, rows, cell) {
  const head = h("tr", {}, ...columns.map((c) => h("th", { scope: "col", text: c })));
  const body = rows.map((row) =>
    h("tr", {}, ...columns.map((c) => h("td", {}, cell?.(c, row) ?? show(row[c])))),
  );
  return h(
    "table",
    {},
    h("caption", { text: caption }),
    h("thead", {}, head),
    h("tbody", {}, ...body),
  );
}

/** A value of a row as text (bytes as their size, JSON as JSON). @param {any} value */
export function show(value) {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "object" && "$bytes" in value) return `<${bytesOf(value)} bytes>`;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** @param {{$bytes: string}} value */
function bytesOf(value) {
  return Math.floor((value.$bytes.length * 3) / 4) - (value.$bytes.match(/=+$/)?.[0].length ?? 0);
}

/** @param {number | undefined | null} n a size in bytes */
export function bytes(n) {
  if (n === undefined || n === null) return "unknown";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

/**
 * A list of "term: value" pairs (a description list) under a heading.
 * @param {string} title
 * @param {[string, string][]} pairs
 */
export function facts(title, pairs) {
  const list = h("dl", { "aria-label": title });
  for (const [term, value] of pairs) list.append(h("dt", { text: term }), h("dd", { text: value }));
  return h("section", { "aria-label": title }, h("h3", { text: title }), list);
}

/** An error shown where the action was taken. @param {unknown} e */
export function alertOf(e) {
  const err = /** @type {Error} */ (e);
  return h("p", {
    role: "alert",
    class: "error",
    text: `${err?.name ?? "Error"}: ${err?.message ?? e}`,
  });
}
