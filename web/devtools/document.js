// The Document view: one document's Yjs content as a live tree (the panel's own db.doc()
// provider, so another tab's or device's edit shows as it arrives), its update log and
// size from the engine, the presence of the people on it, and compaction behind a
// confirmation.

import { alertOf, bytes, facts, h, table } from "./dom.js";
import { confirm } from "./confirm.js";
import { yjsTree } from "./yjs-tree.js";

/** @param {import("./panel.js").Context} ctx @returns {import("./panel.js").View} */
export function documentView(ctx) {
  const collection = /** @type {HTMLSelectElement} */ (h("select", { id: "yd-doc-collection" }));
  const id = /** @type {HTMLInputElement} */ (
    h("input", { id: "yd-doc-id", autocomplete: "off", spellcheck: "false" })
  );
  const tree = h("section", { "aria-label": "Content" });
  const storage = h("div");
  const presence = h("section", { "aria-label": "Presence" });
  const openDocs = h("section", { "aria-label": "Open documents" });
  let openShown = "";
  const message = h("div", { "aria-live": "polite" });
  const compact = /** @type {HTMLButtonElement} */ (
    h("button", { type: "button", text: "Compact this document", disabled: true })
  );
  /** @type {ReturnType<import("../yloft.js").Database["doc"]> | null} */
  let provider = null;
  let shown = { collection: "", id: "" };
  let pending = 0;

  /** The documents open in any tab (db.doc()), each a button that inspects it. */
  async function loadOpenDocs() {
    const docs = await ctx.ask("open_documents");
    const text = JSON.stringify(docs);
    if (text === openShown) return;
    openShown = text;
    openDocs.replaceChildren(
      docs.length
        ? table(
            "Documents open in some tab",
            ["collection", "id", "providers"],
            docs.map((/** @type {any} */ d) => ({
              collection: d.collection,
              id: d.id,
              providers: d.links,
            })),
            (column, row) =>
              column === "id"
                ? h("button", {
                    type: "button",
                    "aria-label": `Inspect open document ${row.id}`,
                    text: row.id,
                    onclick: () => {
                      collection.value = row.collection;
                      id.value = row.id;
                      void open(row.collection, row.id);
                    },
                  })
                : null,
          )
        : h("p", { class: "empty", text: "No tab has a document open." }),
    );
  }

  async function collections() {
    const names = (await ctx.ask("collections")).map((/** @type {any} */ c) => c.name);
    const had = collection.value;
    collection.replaceChildren(...names.map((/** @type {string} */ n) => h("option", { text: n })));
    if (names.includes(had)) collection.value = had;
  }

  /** @param {string} c @param {string} docId */
  async function open(c, docId) {
    close();
    shown = { collection: c, id: docId };
    message.replaceChildren();
    const p = ctx.db.doc(c, docId);
    provider = p;
    // The panel looks on: it shows no presence of its own.
    p.awareness.setLocalState(null);
    try {
      await p.whenSynced;
    } catch (e) {
      message.replaceChildren(alertOf(e));
      close();
      return;
    }
    if (provider !== p) return;
    p.doc.on("update", () => {
      renderTree();
      clearTimeout(pending);
      pending = window.setTimeout(() => void loadStorage(), 300);
    });
    p.awareness.on("change", renderPresence);
    compact.disabled = false;
    renderTree();
    renderPresence();
    await loadStorage();
  }

  function close() {
    clearTimeout(pending);
    provider?.destroy();
    provider = null;
    compact.disabled = true;
  }

  function renderTree() {
    if (!provider) return;
    tree.replaceChildren(
      h("h3", { text: `Yjs content of ${shown.collection}/${shown.id}` }),
      yjsTree(provider.doc),
    );
  }

  function renderPresence() {
    if (!provider) return;
    const others = [...provider.awareness.getStates()].filter(
      ([client]) => client !== provider?.doc.clientID,
    );
    const rows = others.map(([client, state]) => ({
      client,
      name: state?.user?.name ?? "",
      state: JSON.stringify(state),
    }));
    presence.replaceChildren(
      h("h3", { text: "Presence" }),
      rows.length
        ? table("People on this document", ["client", "name", "state"], rows)
        : h("p", { text: "Nobody else has this document open." }),
    );
  }

  async function loadStorage() {
    if (!provider) return;
    const { collection: c, id: docId } = shown;
    try {
      const info = await ctx.ask("document", c, docId);
      if (shown.collection !== c || shown.id !== docId) return;
      storage.replaceChildren(
        facts("Stored", [
          ["whole state", bytes(info.size)],
          ["snapshot", `${bytes(info.snapshot)} (up to seq ${info.snap_seq})`],
          ["updates in the log", String(info.log.length)],
          ["deleted", info.deleted ? "yes" : "no"],
        ]),
        table(
          "Update log",
          ["seq", "origin", "size", "in the snapshot"],
          info.log.map((/** @type {any} */ e) => ({
            seq: e.seq,
            origin: e.origin ?? "local",
            size: bytes(e.size),
            "in the snapshot": e.folded ? "yes" : "no",
          })),
        ),
      );
    } catch (e) {
      storage.replaceChildren(alertOf(e));
    }
  }

  compact.addEventListener("click", async () => {
    const { collection: c, id: docId } = shown;
    const ok = await confirm(ctx.root, {
      title: "Compact this document?",
      text: `Fold the update log of ${c}/${docId} into its snapshot now. Its content does not change.`,
      confirm: "Compact",
    });
    if (!ok) return;
    try {
      await ctx.ask("compact", c, docId);
      message.replaceChildren(h("p", { role: "status", text: `Compacted ${c}/${docId}.` }));
      await loadStorage();
    } catch (e) {
      message.replaceChildren(alertOf(e));
    }
  });

  const form = h(
    "form",
    {
      "aria-label": "Open a document",
      class: "toolbar",
      onsubmit: (/** @type {Event} */ event) => {
        event.preventDefault();
        if (id.value.trim()) void open(collection.value, id.value.trim());
      },
    },
    h("label", { for: "yd-doc-collection", text: "Collection" }),
    collection,
    h("label", { for: "yd-doc-id", text: "Document id" }),
    id,
    h("button", { type: "submit", text: "Open document" }),
    compact,
  );
  return {
    el: h("div", {}, form, openDocs, message, tree, storage, presence),
    async refresh(arg) {
      if (!collection.options.length) await collections();
      await loadOpenDocs();
      if (arg?.collection && arg?.id) {
        collection.value = arg.collection;
        id.value = arg.id;
        await open(arg.collection, arg.id);
      }
    },
    stop: close,
  };
}
