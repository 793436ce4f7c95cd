// The notes app's UI. All data work happens in Python (notes_app) in the engine worker;
// this file only renders rows and forwards what the person does. Everything the user
// typed is rendered with textContent, never as HTML.
import { connect } from "./yloft.js";

/** @param {string} id */
const $ = (id) => /** @type {any} */ (document.getElementById(id));

/** @param {number} n */
function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** @param {number} loaded @param {number} total */
function showProgress(loaded, total) {
  const bar = $("progress");
  bar.max = total;
  bar.value = loaded;
  $("progress-text").textContent = `${formatBytes(loaded)} of ${formatBytes(total)}`;
}

/** @param {any} value a time from the store (seconds, milliseconds or ISO text) */
function toDate(value) {
  if (typeof value === "number") return new Date(value < 1e12 ? value * 1000 : value);
  return new Date(value);
}

/** @param {any} tags JSON text or a list */
function parseTags(tags) {
  if (Array.isArray(tags)) return tags;
  try {
    const parsed = JSON.parse(tags ?? "[]");
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/** @param {import("./yloft.js").Status} status */
function showStatus(status) {
  const labels = { opfs: "Saved in this browser (OPFS)", idb: "Saved in this browser (IndexedDB)" };
  const el = $("status");
  el.className = `status ${status.storage}`;
  el.textContent = /** @type {any} */ (labels)[status.storage] ?? `Storage: ${status.storage}`;
  if (status.storage !== "memory" && !status.persisted) el.textContent += " · may be evicted";
  el.dataset.storage = status.storage;
  el.dataset.persisted = String(status.persisted);
  const warning = $("warning");
  if (status.storage === "memory") {
    warning.textContent = "This browser gave the app no persistent storage: notes live in "
      + "memory only and are lost when the tab closes.";
    warning.hidden = false;
  } else if (status.error) {
    warning.textContent = `Not saved: ${status.error}`;
    warning.hidden = false;
  } else {
    warning.hidden = true;
  }
  // relay sync (issue 7): shown only when the page opted in with ?space=…&token=…
  if (status.sync) {
    const labels = { online: "synced", syncing: "syncing…", offline: "offline" };
    const state = status.syncError ? "error" : status.sync;
    el.dataset.sync = state;
    el.dataset.outbox = String(status.outbox ?? 0);
    el.textContent += status.syncError
      ? ` · sync stopped: ${status.syncError}`
      : ` · ${/** @type {any} */ (labels)[status.sync] ?? status.sync}`
        + (status.outbox ? ` (${status.outbox} to send)` : "");
  }
}

// Precache this build for offline use (web/sw.js); the app works without it too.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").catch((e) => console.warn("no offline cache:", e));
}

const params = new URLSearchParams(location.search);
const storage = /** @type {any} */ (params.get("storage") ?? undefined);
// relay sync (issue 7): ?space=demo&token=demo syncs through this origin's /relay
const space = params.get("space");
const relay = space ? { space, token: params.get("token") ?? "" } : undefined;

async function main() {
  const db = await connect({ name: "notes", app: "notes_app", storage, relay, onProgress: showProgress });
  $("yloft-version").textContent = db.versions.yloft;
  $("sqlite-version").textContent = db.versions.sqlite;
  $("python-version").textContent = db.versions.python;
  // Only the page can ask for persistent storage (the worker cannot), so ask here.
  const persisted = await navigator.storage?.persist?.().catch(() => false) ?? false;
  const show = () => showStatus({ ...db.status, persisted: persisted || db.status.persisted });
  show();
  db.addEventListener("status", show);

  /** @type {string | null} */
  let selected = null;
  /** @type {(() => void) | null} */
  let stopList = null;
  /** @type {(() => void) | null} */
  let stopNote = null;
  /** @type {any[]} */
  let listRows = [];

  /** @param {Promise<any>} promise */
  async function save(promise) {
    $("saved").textContent = "Saving…";
    try {
      const value = await promise;
      $("saved").textContent = "Saved";
      return value;
    } catch (e) {
      const err = /** @type {Error} */ (e);
      $("saved").textContent = `Not saved: ${err.name}: ${err.message}`;
      throw err;
    }
  }

  function renderList() {
    const list = $("notes");
    list.replaceChildren();
    for (const row of listRows) {
      const li = document.createElement("li");
      li.dataset.id = row.id;
      li.classList.toggle("done", Boolean(row.done));
      li.classList.toggle("selected", row.id === selected);
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = Boolean(row.done);
      box.setAttribute("aria-label", "Done");
      box.addEventListener("click", (ev) => ev.stopPropagation());
      box.addEventListener("change", () => save(db.call("update_note", row.id, null, null, box.checked)));
      const title = document.createElement("span");
      title.className = "title";
      title.textContent = row.title || "Untitled";
      const tags = document.createElement("span");
      tags.className = "tags";
      tags.textContent = parseTags(row.tags).map((t) => `#${t}`).join(" ");
      const time = document.createElement("time");
      const when = toDate(row.updated_at);
      time.dateTime = when.toISOString();
      time.textContent = when.toLocaleString();
      li.append(box, title, tags, time);
      li.addEventListener("click", () => select(row.id));
      list.append(li);
    }
    $("empty").hidden = listRows.length > 0;
  }

  async function refreshList() {
    stopList?.();
    const q = $("search").value.trim();
    const openOnly = $("open-only").checked;
    if (q) {
      // Live search: re-run the search whenever any note changes.
      stopList = db.subscribe("SELECT max(updated_at) AS t, count(*) AS n FROM notes", [], async () => {
        const hits = await db.call("search_notes", q);
        listRows = hits.filter((/** @type {any} */ r) => !openOnly || !r.done);
        renderList();
      });
    } else {
      const where = openOnly ? "WHERE done = 0" : "";
      stopList = db.subscribe(
        `SELECT id, title, done, tags, updated_at FROM notes ${where} ORDER BY updated_at DESC`, [],
        (rows) => { listRows = rows; renderList(); });
    }
  }

  /** @param {string | null} id */
  function select(id) {
    selected = id;
    stopNote?.();
    stopNote = null;
    $("editor").hidden = id === null;
    renderList();
    if (id === null) return;
    stopNote = db.subscribe("SELECT title, body, done, tags FROM notes WHERE id = ?", [id], (rows) => {
      if (rows.length === 0) { select(null); return; }
      const note = rows[0];
      // Don't overwrite what the person is typing; their edit is on its way.
      if (document.activeElement !== $("title")) $("title").value = note.title ?? "";
      if (document.activeElement !== $("tags")) $("tags").value = parseTags(note.tags).join(", ");
      if (document.activeElement !== $("body") || !bodyDirty) $("body").value = note.body ?? "";
      $("done").checked = Boolean(note.done);
    });
  }

  let bodyDirty = false;
  /** @type {number | undefined} */
  let bodyTimer;
  $("body").addEventListener("input", () => {
    bodyDirty = true;
    clearTimeout(bodyTimer);
    bodyTimer = setTimeout(async () => {
      const id = selected;
      if (!id) return;
      await save(db.call("update_note", id, null, $("body").value));
      bodyDirty = false;
    }, 250);
  });
  $("title").addEventListener("change", () => selected && save(db.call("update_note", selected, $("title").value)));
  $("done").addEventListener("change", () => selected && save(db.call("update_note", selected, null, null, $("done").checked)));
  $("tags").addEventListener("change", () => {
    const tags = $("tags").value.split(",").map((/** @type {string} */ t) => t.trim()).filter(Boolean);
    if (selected) save(db.call("update_note", selected, null, null, null, tags));
  });
  $("delete").addEventListener("click", async () => {
    if (!selected) return;
    await save(db.call("delete_note", selected));
    select(null);
  });
  $("new-note").addEventListener("click", async () => {
    const id = await save(db.call("create_note", "", ""));
    select(id);
    $("title").focus();
  });
  $("search").addEventListener("input", refreshList);
  $("open-only").addEventListener("change", refreshList);

  refreshList();
  $("loading").hidden = true;
  $("app").hidden = false;
  $("about").hidden = false;
  /** @type {any} */ (window).db = db;
  document.documentElement.dataset.yloft = "ready";
}

main().catch((e) => {
  const err = /** @type {Error} */ (e);
  $("error").textContent = `yloft could not start: ${err.name}: ${err.message}`;
  $("error").hidden = false;
  document.documentElement.dataset.yloft = "error";
});
