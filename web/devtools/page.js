// devtools.html: the devtools panel as a page of its own, beside the app (a bundle of
// `yloft serve` only: its manifest enables devtools). It connects to the same engine as a
// tab of the app, so it finds the databases the app's tabs hold open (their writer locks)
// and opens the panel on one: `devtools/devtools.html`, or `?name=notes` to pick it. If it
// becomes the writer (the app's tabs closed), it runs the engine with the app's module
// but without the app's relay options.

import { connect } from "../yloft.js";
import { writerLock } from "../names.js";
import { h } from "./dom.js";
import { openPanel } from "./panel.js";

const state = /** @type {HTMLElement} */ (document.getElementById("state"));
const choices = /** @type {HTMLElement} */ (document.getElementById("choices"));
const appRoot = new URL("../", import.meta.url);

/**
 * The names the app's pages passed to connect() for the databases open on this origin
 * under this app's path (the worker scopes a name by the path: engine-worker.js).
 * @returns {Promise<string[]>}
 */
async function openDatabases() {
  const prefix = writerLock("");
  const held = (await navigator.locks.query()).held ?? [];
  const scoped = held.map((l) => l.name ?? "").filter((n) => n.startsWith(prefix));
  const atRoot = appRoot.pathname === "/";
  const suffix = atRoot ? "" : `-${await pathHash(appRoot.pathname)}`;
  return scoped
    .map((n) => n.slice(prefix.length))
    .filter((n) => n.endsWith(suffix))
    .map((n) => (suffix ? n.slice(0, -suffix.length) : n));
}

/** The 8 hex digits engine-worker.js's scopedName appends. @param {string} path */
async function pathHash(path) {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(path)),
  );
  return Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** @param {string} name @param {string} app */
async function inspect(name, app) {
  choices.replaceChildren();
  state.textContent = `Connecting to ${name}…`;
  const db = await connect({ name, app });
  if (!db.devtools) {
    db.close();
    state.textContent =
      "Devtools are not enabled for this bundle: serve the app with `yloft serve`, or open the panel inside an app that passes connect({devtools: true}) (Ctrl+Shift+Y).";
    return;
  }
  state.textContent = `Connected to ${name} (${db.status.writer ? "this page runs the engine" : "a tab of the app runs the engine"}).`;
  document.title = `yloft devtools · ${name}`;
  openPanel(db, { full: true });
}

async function main() {
  const manifest = await (await fetch(new URL("manifest.json", appRoot))).json();
  if (!manifest.devtools) {
    state.textContent =
      "Devtools are not enabled for this bundle: serve the app with `yloft serve`, or open the panel inside an app that passes connect({devtools: true}) (Ctrl+Shift+Y).";
    return;
  }
  const app = manifest.app?.module ?? "";
  const asked = new URLSearchParams(location.search).get("name");
  if (asked) return inspect(asked, app);
  const names = await openDatabases();
  if (names.length === 1) return inspect(names[0], app);
  state.textContent = names.length
    ? "Which database of the app?"
    : "No tab of the app is open: open the app first, then reload this page (or add ?name=DATABASE).";
  for (const name of names) {
    choices.append(
      h("button", { type: "button", text: `Inspect ${name}`, onclick: () => inspect(name, app) }),
    );
  }
}

main().catch((e) => {
  state.textContent = `The devtools page could not start: ${e?.name ?? "Error"}: ${e?.message ?? e}`;
  console.error(e);
});
