// A Y.Doc's content as a tree (maps, arrays, texts), for the Document view. The panel's
// Y.Doc learns its root types' names from the updates but not their kinds (an app
// declares those with doc.getMap/getText/...), so a root's kind is read from its content:
// keys make a map; strings, formats and embeds a text; anything else an array.

import * as Y from "../vendor/yjs.mjs";
import { h } from "./dom.js";

/**
 * The root type named `name` as what it holds, or null while it holds nothing visible.
 * @param {Y.Doc} doc @param {string} name
 * @returns {Y.Map<any> | Y.Text | Y.Array<any> | Y.XmlFragment | null}
 */
function root(doc, name) {
  const type = /** @type {any} */ (doc.share.get(name));
  if (type instanceof Y.Map || type instanceof Y.Text || type instanceof Y.Array) return type;
  if (type instanceof Y.XmlFragment) return type;
  if (type?._map?.size) return doc.getMap(name);
  for (let item = type?._start; item; item = item.right) {
    if (item.deleted) continue;
    const c = item.content;
    const text =
      c instanceof Y.ContentString || c instanceof Y.ContentFormat || c instanceof Y.ContentEmbed;
    return text ? doc.getText(name) : doc.getArray(name);
  }
  return null;
}

/**
 * One node: its label and its children.
 * @param {string} key @param {any} value
 * @returns {HTMLElement}
 */
function node(key, value) {
  /** @type {[string, any][]} */
  let children = [];
  let label;
  if (value instanceof Y.Map) {
    children = [...value.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    label = `${key}: Y.Map (${value.size} ${value.size === 1 ? "key" : "keys"})`;
  } else if (value instanceof Y.Array) {
    children = value.toArray().map((v, i) => [String(i), v]);
    label = `${key}: Y.Array (${value.length} ${value.length === 1 ? "item" : "items"})`;
  } else if (value instanceof Y.Text) {
    label = `${key}: Y.Text (${value.length}) ${JSON.stringify(value.toString())}`;
  } else if (value instanceof Y.XmlFragment) {
    label = `${key}: Y.XmlFragment ${value.toString()}`;
  } else if (value instanceof Uint8Array) {
    label = `${key}: <${value.byteLength} bytes>`;
  } else {
    label = `${key}: ${JSON.stringify(value)}`;
  }
  const item = h("li", { role: "treeitem", "aria-label": label }, h("span", { text: label }));
  if (children.length) {
    item.setAttribute("aria-expanded", "true");
    item.append(h("ul", { role: "group" }, ...children.map(([k, v]) => node(k, v))));
  }
  return item;
}

/**
 * The whole document as a tree (role "tree", one "treeitem" per value).
 * @param {Y.Doc} doc
 * @returns {HTMLElement}
 */
export function yjsTree(doc) {
  const names = [...doc.share.keys()].sort();
  const items = [];
  for (const name of names) {
    const type = root(doc, name);
    if (type) items.push(node(name, type));
  }
  if (!items.length) items.push(h("li", { role: "treeitem", text: "(empty document)" }));
  return h("ul", { role: "tree", "aria-label": "Yjs content" }, ...items);
}
