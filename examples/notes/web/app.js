// The notes app's UI. All data work happens in Python (notes_app) in the engine worker;
// this file only renders rows and forwards what the person does. Everything the user
// typed is rendered with textContent, never as HTML.
import { connect, describeStartup, showErrorPanel, Y } from "./yloft.js";
// The editor (CodeMirror) loads when the first note opens, not before the list shows.
const editorModule = () => import("./note-body.js");
import { bindTextInput } from "./text-input.js";

/** @typedef {import("./rows.js").NoteRow} NoteRow  a row of notes (`yloft types` writes rows.d.ts) */
/**
 * A note in the list: the live query's columns, or a search hit (search_notes returns
 * Python's values: done is a boolean and tags a list there, not 0/1 and JSON text).
 * @typedef {Pick<NoteRow, "id" | "title" | "updated_at">
 *   & {done: NoteRow["done"] | boolean, tags: NoteRow["tags"] | string[]}} ListRow
 */

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

/**
 * The loading screen follows the start-up stages; one that stalls says what it waits for.
 * @param {import("./yloft.js").Startup} startup
 */
function showStartup(startup) {
  const label = startup.label[0].toUpperCase() + startup.label.slice(1);
  patch($("loading-label"), { textContent: label });
  patch($("stall"), {
    hidden: !startup.stalled,
    textContent: startup.stalled ? describeStartup(startup) : "",
  });
}

/**
 * The browser had deleted the notes stored here (db.status.evicted): say so, and how they
 * come back: from the relay, or from the last export (the button opens the import).
 * @param {import("./yloft.js").Evicted | null | undefined} evicted
 */
function showEvicted(evicted) {
  if (!evicted) {
    patch($("evicted"), { hidden: true });
    return;
  }
  const deleted = "This browser deleted the notes it had stored for this app";
  let text;
  let state;
  if (evicted.restored) {
    state = "restored";
    text = `This browser had deleted the notes it stored for this app; ${evicted.relay ? "the relay" : "the import"} brought them back.`;
  } else if (evicted.relay) {
    state = "restoring";
    text = `${deleted}. Bringing them back from the relay…`;
  } else {
    state = "gone";
    const count = evicted.documents
      ? ` (${evicted.documents} ${evicted.documents === 1 ? "note" : "notes"})`
      : "";
    text = `${deleted}${count}: they are gone from this browser.`;
    text += evicted.exportedAt
      ? ` You exported them on ${new Date(evicted.exportedAt).toLocaleString()}: import that file to get them back.`
      : " If you have an export of them, import it to get them back.";
    if (evicted.hadRelay)
      text +=
        " They were also synced to a relay: open the app with your sync link to get them from there.";
  }
  patch($("evicted-text"), { textContent: text });
  patch($("evicted-import"), {
    hidden: state !== "gone",
    textContent: evicted.exportedAt ? "Import the last export" : "Import an export",
  });
  patch($("evicted"), { hidden: false, "data-state": state });
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

/**
 * Notes written before titles were collaborative kept them as a plain value in
 * meta.title: move such a title into the shared text once, when the note is opened.
 * @param {Y.Doc} doc
 */
function upgradeTitle(doc) {
  const meta = doc.getMap("meta");
  const legacy = meta.get("title");
  const title = doc.getText("title");
  if (typeof legacy !== "string") return;
  doc.transact(() => {
    if (title.length === 0) title.insert(0, legacy);
    meta.delete("title");
  });
}

/**
 * This person's name and colour for presence: ?user=Name, else one kept in this browser.
 * @param {URLSearchParams} params
 */
function whoAmI(params) {
  const colors = ["#d9480f", "#2b8a3e", "#1971c2", "#9c36b5", "#c2255c", "#0c8599", "#e67700"];
  let name = params.get("user") ?? localStorage.getItem("yloft-notes-user");
  if (!name) {
    name = `Guest ${Math.floor(Math.random() * 900 + 100)}`;
    localStorage.setItem("yloft-notes-user", name);
  }
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const color = colors[hash % colors.length];
  return { name, color, colorLight: `${color}33` };
}

/**
 * Set an element's text, class or data only when it differs: the status changes with
 * every keystroke's save, and rewriting equal values still costs style and layout work.
 * @param {HTMLElement} el @param {Record<string, string | boolean>} props
 */
function patch(el, props) {
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith("data-")) {
      const name = key.slice(5);
      if (el.dataset[name] !== value) el.dataset[name] = String(value);
    } else if (/** @type {any} */ (el)[key] !== value) {
      /** @type {any} */ (el)[key] = value;
    }
  }
}

/** @param {import("./yloft.js").Status} status */
function showStatus(status) {
  const labels = { opfs: "Saved in this browser (OPFS)", idb: "Saved in this browser (IndexedDB)" };
  let text = /** @type {any} */ (labels)[status.storage] ?? `Storage: ${status.storage}`;
  if (status.storage !== "memory" && !status.persisted) text += " · may be evicted";
  /** @type {Record<string, string | boolean>} */
  const props = {
    className: `status ${status.storage}`,
    "data-storage": status.storage,
    // Why not OPFS, when yloft fell back (WebKit: no OPFS sync access handles).
    title: status.storageFallback ? `Not OPFS: ${status.storageFallback}` : "",
    "data-persisted": String(status.persisted),
    "data-local": String(Boolean(status.onlyHere && !status.persisted)),
  };
  // relay sync (issue 7): shown only when the page opted in with ?space=…&token=…
  const relay = status.relay;
  if (relay) {
    const syncLabels = { online: "synced", syncing: "syncing…", offline: "offline" };
    props["data-sync"] = relay.error ? "error" : relay.state;
    props["data-outbox"] = String(relay.outbox);
    text += relay.error
      ? ` · sync stopped: ${relay.error}`
      : ` · ${/** @type {any} */ (syncLabels)[relay.state] ?? relay.state}` +
        (relay.outbox ? ` (${relay.outbox} to send)` : "");
  }
  // Access control (issue 18): a read-only token shows notes but takes no edits.
  const readOnly = relay?.access === "read-only";
  if (readOnly) text += " · read-only";
  props["data-access"] = relay?.access ?? "read-write";
  patch($("editor"), { inert: readOnly });
  patch($("new-note"), { disabled: readOnly });
  for (const box of $("notes").querySelectorAll("input[type=checkbox]"))
    patch(/** @type {HTMLElement} */ (box), { disabled: readOnly });
  patch($("status"), { ...props, textContent: text });
  if (status.storage === "memory") {
    patch($("warning"), {
      textContent:
        "This browser gave the app no persistent storage: notes live in " +
        "memory only and are lost when the tab closes.",
      hidden: false,
    });
  } else if (status.error) {
    patch($("warning"), { textContent: `Not saved: ${status.error}`, hidden: false });
  } else if (readOnly) {
    patch($("warning"), {
      textContent:
        "Read-only: the relay lets this link read these notes, not change them, " +
        "so editing is off. Nothing saved in this browser is lost.",
      hidden: false,
    });
  } else if (status.onlyHere && !status.persisted) {
    // Issue 16: storage the browser may evict, and no relay holds a copy.
    patch($("warning"), {
      textContent:
        "These notes exist only in this browser, which may delete them when it " +
        "needs space: Export a copy, or sync them with a relay.",
      hidden: false,
      className: "warning only-here",
    });
  } else {
    patch($("warning"), { hidden: true });
  }
}

const params = new URLSearchParams(location.search);
const storage = /** @type {any} */ (params.get("storage") ?? undefined);
// relay sync (issue 7): ?space=demo&token=demo syncs through this origin's /relay
const space = params.get("space");
// Access control (issue 18): ?tokenUrl=/path asks that endpoint (POST) for each token.
const tokenUrl = params.get("tokenUrl");
const getToken = async () => {
  const res = await fetch(/** @type {string} */ (tokenUrl), { method: "POST", cache: "no-store" });
  if (!res.ok) throw new Error(`the token endpoint answered ${res.status}`);
  return (await res.text()).trim();
};
const relay = space
  ? { space, token: params.get("token") ?? "", ...(tokenUrl ? { getToken } : {}) }
  : undefined;

// How long a start-up stage may go without progress before the page says what it waits
// for (tests lower it with ?stallMs=).
const stallMs = params.has("stallMs") ? Number(params.get("stallMs")) : undefined;

async function main() {
  const db = await connect({
    name: "notes",
    app: "notes_app",
    storage,
    relay,
    stallMs,
    onProgress: showProgress,
    onStartup: showStartup,
  });
  $("yloft-version").textContent = db.versions.yloft;
  $("sqlite-version").textContent = db.versions.sqlite;
  $("python-version").textContent = db.versions.python;
  // Only the page can ask for persistent storage (the worker cannot), so ask here, but
  // never wait for the answer: Firefox shows a permission prompt and the promise stays
  // pending until the person answers it (the app hung at start there, issue 26).
  let persisted = false;
  const show = () => {
    showStatus({ ...db.status, persisted: persisted || db.status.persisted });
    showEvicted(db.status.evicted);
  };
  navigator.storage?.persist?.().then(
    (granted) => {
      persisted = Boolean(granted);
      show();
    },
    () => {},
  );
  show();
  db.addEventListener("status", show);

  /** @type {string | null} */
  let selected = null;
  /** @type {(() => void) | null} */
  let stopList = null;
  /** @type {(() => void) | null} */
  let stopNote = null;
  /** @type {ListRow[]} */
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

  /** @type {Map<string, {sig: string, li: HTMLLIElement}>} list items by note id */
  let rendered = new Map();

  /** Update the list in place: only notes whose row changed get a new item. */
  function renderList() {
    const list = $("notes");
    /** @type {Map<string, {sig: string, li: HTMLLIElement}>} */
    const next = new Map();
    const items = listRows.map((row) => {
      const sig = JSON.stringify([
        row.title,
        row.done,
        row.tags,
        row.updated_at,
        row.id === selected,
      ]);
      const old = rendered.get(row.id);
      const item = old?.sig === sig ? old : { sig, li: listItem(row) };
      next.set(row.id, item);
      return item.li;
    });
    rendered = next;
    const same =
      items.length === list.children.length && items.every((li, i) => list.children[i] === li);
    if (!same) list.replaceChildren(...items);
    patch($("empty"), { hidden: listRows.length > 0 });
  }

  /** @param {ListRow} row */
  function listItem(row) {
    const li = document.createElement("li");
    li.dataset.id = row.id;
    li.classList.toggle("done", Boolean(row.done));
    li.classList.toggle("selected", row.id === selected);
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = Boolean(row.done);
    box.setAttribute("aria-label", "Done");
    box.disabled = $("new-note").disabled; // read-only (issue 18)
    box.addEventListener("click", (ev) => ev.stopPropagation());
    box.addEventListener("change", () =>
      save(db.call("update_note", row.id, null, null, box.checked)),
    );
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = row.title || "Untitled";
    const tags = document.createElement("span");
    tags.className = "tags";
    tags.textContent = parseTags(row.tags)
      .map((t) => `#${t}`)
      .join(" ");
    const time = document.createElement("time");
    const when = toDate(row.updated_at);
    time.dateTime = when.toISOString();
    time.textContent = when.toLocaleString();
    li.append(box, title, tags, time);
    li.addEventListener("click", () => select(row.id));
    return li;
  }

  // The list shows the newest notes a page at a time: with 10,000 notes, rendering (and
  // re-sending at every change) all of them cost a tab hundreds of MB and every edit
  // seconds. "Show more" adds a page.
  const PAGE = 200;
  let shown = PAGE;

  /** @param {number} total how many notes match */
  function showMore(total) {
    const more = $("more");
    patch(more, {
      hidden: total <= listRows.length,
      textContent: `Show more (${listRows.length} of ${total})`,
    });
  }

  async function refreshList() {
    stopList?.();
    const q = $("search").value.trim();
    const openOnly = $("open-only").checked;
    if (q) {
      // Live search: re-run the search whenever any note changes.
      stopList = db.subscribe(
        "SELECT max(updated_at) AS t, count(*) AS n FROM notes",
        [],
        async () => {
          const hits = (await db.call("search_notes", q)).filter(
            (/** @type {any} */ r) => !openOnly || !r.done,
          );
          listRows = hits.slice(0, shown);
          renderList();
          showMore(hits.length);
        },
      );
    } else {
      const where = openOnly ? "WHERE done = 0" : "";
      stopList = db.subscribe(
        `SELECT id, title, done, tags, updated_at, (SELECT count(*) FROM notes ${where}) AS total
         FROM notes ${where} ORDER BY updated_at DESC LIMIT ?`,
        [shown],
        (/** @type {(ListRow & {total: number})[]} */ rows) => {
          listRows = rows;
          renderList();
          showMore(rows[0]?.total ?? 0);
        },
      );
    }
  }

  // ------------------------------------------------------------ the open note
  // The note's fields are bound to a page-side Y.Doc (db.doc): every keystroke is a
  // Yjs change made against what this person sees, so concurrent typing merges.
  /** @type {{provider: import("./yloft.js").DocProvider, destroy: () => void} | null} */
  let open = null;
  const me = whoAmI(params);

  function closeNote() {
    stopNote?.();
    stopNote = null;
    open?.destroy();
    open = null;
    $("here").replaceChildren();
  }

  /** @param {string | null} id */
  async function select(id) {
    if (id !== null && id === selected && open) return;
    selected = id;
    closeNote();
    // Shown once the note's document is bound: nothing typed before that could be kept.
    $("editor").hidden = true;
    renderList();
    if (id === null) return;
    const provider = db.doc("notes", id);
    /** @type {(() => void)[]} */
    const cleanups = [];
    open = {
      provider,
      destroy: () => {
        for (const f of cleanups.splice(0)) f();
        provider.destroy();
      },
    };
    /** @type {typeof import("./note-body.js").mountBody} */
    let mountBody;
    try {
      [, { mountBody }] = await Promise.all([provider.whenSynced, editorModule()]);
    } catch (e) {
      const err = /** @type {Error} */ (e);
      $("saved").textContent = `Cannot open this note: ${err.name}: ${err.message}`;
      return;
    }
    if (open?.provider !== provider) return; // another note was chosen meanwhile
    cleanups.push(...mountNote(provider, mountBody));
    $("editor").hidden = false;
    stopNote = db.subscribe("SELECT id FROM notes WHERE id = ?", [id], (rows) => {
      if (rows.length === 0 && selected === id) select(null);
    });
  }

  /**
   * Bind the editor's fields to the note's document; returns what undoes it.
   * @param {import("./yloft.js").DocProvider} provider
   * @param {typeof import("./note-body.js").mountBody} mountBody
   */
  function mountNote(provider, mountBody) {
    const doc = provider.doc;
    const meta = doc.getMap("meta");
    upgradeTitle(doc);
    const titleBinding = bindTextInput($("title"), doc.getText("title"));
    const body = mountBody($("body"), doc.getText("body"), provider.awareness);
    // For tests and diagnostics, like window.db: the open note's provider and editors.
    /** @type {any} */ (window).openNote = {
      id: provider.id,
      provider,
      body: body.view,
      title: titleBinding,
    };

    const fieldsOrigin = { fields: "notes-app" };
    const showMeta = () => {
      $("done").checked = Boolean(meta.get("done"));
      if (document.activeElement !== $("tags"))
        $("tags").value = parseTags(meta.get("tags")).join(", ");
    };
    showMeta();
    meta.observe(showMeta);
    const onDone = () => doc.transact(() => meta.set("done", $("done").checked), fieldsOrigin);
    const onTags = () => {
      const tags = $("tags")
        .value.split(",")
        .map((/** @type {string} */ t) => t.trim())
        .filter(Boolean);
      if (JSON.stringify(tags) !== JSON.stringify(parseTags(meta.get("tags")))) {
        doc.transact(() => meta.set("tags", tags), fieldsOrigin);
      }
    };
    $("done").addEventListener("change", onDone);
    $("tags").addEventListener("input", onTags);

    provider.awareness.setLocalStateField("user", me);
    const showHere = () => renderPresence(provider.awareness);
    provider.awareness.on("change", showHere);
    showHere();

    /** @param {Uint8Array} _update @param {any} origin */
    const onLocalEdit = (_update, origin) => {
      if (origin !== provider) showSaved(provider);
    };
    doc.on("update", onLocalEdit);
    const onSaved = () => showSaved(provider);
    provider.on("saved", onSaved);
    provider.on("error", onSaved);
    showSaved(provider);
    return [
      () => {
        /** @type {any} */ (window).openNote = null;
      },
      () => titleBinding.destroy(),
      () => body.destroy(),
      () => meta.unobserve(showMeta),
      () => $("done").removeEventListener("change", onDone),
      () => $("tags").removeEventListener("input", onTags),
      () => provider.awareness.off("change", showHere),
      () => doc.off("update", onLocalEdit),
    ];
  }

  /** @param {import("./yloft.js").DocProvider} provider */
  function showSaved(provider) {
    const text = provider.error
      ? `Not saved: ${provider.error.name}: ${provider.error.message}`
      : provider.unsaved > 0
        ? "Saving…"
        : "Saved";
    patch($("saved"), { textContent: text, "data-unsaved": String(provider.unsaved) });
  }

  /** The "who is here" list of the open note. @param {any} awareness */
  function renderPresence(awareness) {
    const items = [];
    for (const [client, state] of awareness.getStates()) {
      if (!state?.user?.name) continue;
      const li = document.createElement("li");
      li.dataset.client = String(client);
      li.style.setProperty("--who", String(state.user.color ?? "#888"));
      li.textContent =
        client === awareness.clientID ? `${state.user.name} (you)` : String(state.user.name);
      items.push(li);
    }
    $("here").replaceChildren(...items);
  }

  $("delete").addEventListener("click", async () => {
    if (!selected) return;
    await save(db.call("delete_note", selected));
    select(null);
  });
  $("new-note").addEventListener("click", async () => {
    const id = await save(db.call("create_note", "", ""));
    await select(id);
    $("title").focus();
  });
  $("search").addEventListener("input", () => {
    shown = PAGE;
    refreshList();
  });
  $("open-only").addEventListener("change", () => {
    shown = PAGE;
    refreshList();
  });
  $("more").addEventListener("click", () => {
    shown += PAGE;
    refreshList();
  });

  // Export and import (issue 16): one file with every note, merged back in on import.
  $("export").addEventListener("click", async () => {
    const blob = await db.exportFile();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `notes-${new Date().toISOString().slice(0, 10)}.yloft`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    $("transfer").textContent = `Exported ${formatBytes(blob.size)}`;
  });
  $("import").addEventListener("click", () => $("import-file").click());
  $("evicted-import").addEventListener("click", () => $("import-file").click());
  $("import-file").addEventListener("change", async () => {
    const file = $("import-file").files?.[0];
    if (!file) return;
    $("import-file").value = "";
    try {
      const report = await db.importFile(file);
      $("transfer").textContent = report.changed
        ? `Imported ${file.name}: ${report.changed} of ${report.documents} notes changed`
        : `Imported ${file.name}: nothing new`;
    } catch (e) {
      const err = /** @type {Error} */ (e);
      $("transfer").textContent = `Import refused: ${err.message}`;
    }
  });

  refreshList();
  $("loading").hidden = true;
  $("stall").hidden = true;
  $("app").hidden = false;
  $("about").hidden = false;
  /** @type {any} */ (window).db = db;
  document.documentElement.dataset.yloft = "ready";
}

main().catch((e) => {
  const err = /** @type {Error} */ (e);
  $("loading").hidden = true;
  $("stall").hidden = true;
  $("error").textContent = `yloft could not start: ${err.name}: ${err.message}`;
  $("error").hidden = false;
  showErrorPanel(err); // the Python traceback, and data-yloft="error"
});
