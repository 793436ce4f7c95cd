// The devtools panel: a view into the running engine of a yloft app (docs/devtools.md).
// It opens in the app's page (Ctrl+Shift+Y, `?devtools`, or db.openDevtools()) inside a
// shadow root, so the app's CSS and the panel's never mix, and it talks to the engine
// through the page's own Database: the engine answers only when the app enabled devtools.
//
//   const panel = await openPanel(db);   // shows it (once per page)
//   panel.show("Document", {collection: "notes", id});
//   panel.close();

import { h } from "./dom.js";
import { dataView } from "./data.js";
import { sqlView } from "./sql.js";
import { documentView } from "./document.js";
import { tabsView } from "./tabs-view.js";
import { syncView } from "./sync-view.js";
import { storageView } from "./storage-view.js";
import { actionsView } from "./actions.js";

/**
 * What a view gets: the database, the shadow root (dialogs live there), a way to ask the
 * engine's devtools (yloft.browser.devtools) and to switch to another view.
 * @typedef {object} Context
 * @property {import("../yloft.js").Database} db
 * @property {ShadowRoot} root
 * @property {(action: string, ...args: any[]) => Promise<any>} ask
 * @property {(name: string, arg?: any) => void} show
 */

/**
 * One view of the panel: its element, what to do while it shows (`refresh`, called when
 * shown and each second while no refresh runs) and when the panel closes (`stop`).
 * @typedef {object} View
 * @property {HTMLElement} el
 * @property {(arg?: any) => void | Promise<void>} [refresh]
 * @property {() => void} [stop]
 */

/** @type {[string, (ctx: Context) => View][]} */
const VIEWS = [
  ["Data", dataView],
  ["SQL", sqlView],
  ["Document", documentView],
  ["Tabs", tabsView],
  ["Sync", syncView],
  ["Storage", storageView],
  ["Actions", actionsView],
];

/** @type {Panel | null} */
let open = null;

/**
 * Open the panel on `db` (or bring the open one back).
 * @param {import("../yloft.js").Database} db
 * @param {{full?: boolean}} [options]  fill the page (devtools.html) instead of a side panel
 * @returns {Panel}
 */
export function openPanel(db, options = {}) {
  if (open && open.db === db) return open;
  open?.close();
  open = new Panel(db, options);
  return open;
}

/** Open the panel, or close it when it is open. @param {import("../yloft.js").Database} db */
export function togglePanel(db) {
  if (open) open.close();
  else openPanel(db);
}

export class Panel {
  /** @param {import("../yloft.js").Database} db @param {{full?: boolean}} [options] */
  constructor(db, options = {}) {
    this.db = db;
    this.host = h("div", { id: "yloft-devtools" });
    this.root = this.host.attachShadow({ mode: "open" });
    /** @type {Context} */
    this.ctx = {
      db,
      root: this.root,
      ask: (action, ...args) => db.request("devtools", [action, ...args]),
      show: (name, arg) => this.show(name, arg),
    };
    /** @type {Map<string, View>} */
    this.views = new Map();
    /** @type {Map<string, HTMLElement>} */
    this.tabs = new Map();
    this.current = "";
    const css = h("link", { rel: "stylesheet", href: new URL("./devtools.css", import.meta.url) });
    const tablist = h("div", { role: "tablist", "aria-label": "Devtools views" });
    this.body = h("div", { class: "body" });
    for (const [name] of VIEWS) {
      const tab = h("button", {
        type: "button",
        role: "tab",
        id: `yd-tab-${name}`,
        "aria-selected": "false",
        "aria-controls": "yd-view",
        text: name,
        onclick: () => this.show(name),
      });
      this.tabs.set(name, tab);
      tablist.append(tab);
    }
    const heading = h("h2", { id: "yd-title", text: `yloft devtools · ${db.name}` });
    const closeButton = h("button", {
      type: "button",
      "aria-label": "Close devtools",
      text: "×",
      onclick: () => this.close(),
    });
    this.view = h("div", { role: "tabpanel", id: "yd-view", class: "view" });
    this.body.append(this.view);
    const aside = h(
      "aside",
      {
        role: "complementary",
        "aria-labelledby": "yd-title",
        class: options.full ? "panel full" : "panel",
      },
      h("header", {}, heading, closeButton),
      tablist,
      this.body,
    );
    this.root.append(css, aside);
    document.body.append(this.host);
    /** a refresh is running: the next tick is skipped, never queued behind it */
    this.busy = false;
    this.timer = setInterval(() => {
      if (!this.busy) void this.refresh();
    }, 1000);
    // Clear local data (here or in another tab) closed the database: stop asking it.
    this.offCleared = db.on("cleared", () => {
      clearInterval(this.timer);
      const text = "This database was closed: its local data was cleared. Reload the page.";
      this.body.prepend(h("p", { role: "alert", class: "error", text }));
    });
    this.show("Data");
  }

  /** Show the view `name`, passing it `arg` (e.g. which document). @param {string} name @param {any} [arg] */
  show(name, arg) {
    const make = VIEWS.find(([n]) => n === name)?.[1];
    if (!make) throw new Error(`no devtools view ${name}`);
    let view = this.views.get(name);
    if (!view) {
      view = make(this.ctx);
      this.views.set(name, view);
    }
    for (const [n, tab] of this.tabs) tab.setAttribute("aria-selected", String(n === name));
    this.view.setAttribute("aria-labelledby", `yd-tab-${name}`);
    this.view.replaceChildren(view.el);
    this.current = name;
    void this.refresh(arg);
  }

  /** @param {any} [arg] */
  async refresh(arg) {
    const view = this.views.get(this.current);
    this.busy = true;
    try {
      await view?.refresh?.(arg);
    } catch (e) {
      console.error("yloft devtools:", e);
    } finally {
      this.busy = false;
    }
  }

  close() {
    clearInterval(this.timer);
    this.offCleared();
    for (const view of this.views.values()) view.stop?.();
    this.views.clear();
    this.host.remove();
    if (open === this) open = null;
  }
}
