// The Actions view: export, import and "clear local data", each behind a confirmation.
// They are the page API's own (db.exportFile, db.importFile, db.clearLocalData:
// docs/export.md); compaction is on the Document view.

import { alertOf, bytes, h } from "./dom.js";
import { confirm } from "./confirm.js";

/** @param {import("./panel.js").Context} ctx @returns {import("./panel.js").View} */
export function actionsView(ctx) {
  const { db, root } = ctx;
  const out = h("div", { "aria-live": "polite", class: "result" });
  const say = (/** @type {string} */ text) => out.replaceChildren(h("p", { role: "status", text }));

  const exportButton = h("button", {
    type: "button",
    text: "Export the database",
    onclick: async () => {
      const ok = await confirm(root, {
        title: "Export the database?",
        text: "Write every document of this database into one export file you can download (a backup, or to import elsewhere).",
        confirm: "Export",
      });
      if (!ok) return;
      try {
        const blob = await db.exportFile();
        const link = h("a", {
          href: URL.createObjectURL(blob),
          download: `${db.name}.yloft`,
          text: `Download the export (${bytes(blob.size)})`,
        });
        out.replaceChildren(h("p", { role: "status" }, link));
      } catch (e) {
        out.replaceChildren(alertOf(e));
      }
    },
  });

  const file = /** @type {HTMLInputElement} */ (h("input", { type: "file", id: "yd-import" }));
  const importButton = h("button", {
    type: "button",
    text: "Import the file",
    onclick: async () => {
      const chosen = file.files?.[0];
      if (!chosen) return say("Choose an export file first.");
      const ok = await confirm(root, {
        title: "Import this file?",
        text: `Merge ${chosen.name} (${bytes(chosen.size)}) into this database: all or nothing, and importing it twice changes nothing.`,
        confirm: "Import",
      });
      if (!ok) return;
      try {
        const r = await db.importFile(chosen);
        say(`Imported ${r.documents} document(s), ${r.changed} changed, ${r.held} held.`);
      } catch (e) {
        out.replaceChildren(alertOf(e));
      }
    },
  });

  const discard = /** @type {HTMLInputElement} */ (
    h("input", { type: "checkbox", id: "yd-discard" })
  );
  const clearButton = h("button", {
    type: "button",
    class: "danger",
    text: "Clear local data",
    onclick: async () => {
      const ok = await confirm(root, {
        title: "Clear local data?",
        text:
          "Close this database in every tab and delete everything it stores in this browser." +
          (discard.checked
            ? " Changes that exist only here will be lost."
            : " If some changes exist only here, nothing is cleared."),
        confirm: "Clear local data",
      });
      if (!ok) return;
      try {
        const r = await db.clearLocalData({ discardUnsynced: discard.checked });
        say(
          `Cleared (${r.discarded} unsynced change(s) discarded). Reload the page to start again.`,
        );
      } catch (e) {
        out.replaceChildren(alertOf(e));
      }
    },
  });

  const el = h(
    "div",
    {},
    h("section", { "aria-label": "Export" }, h("h3", { text: "Export" }), exportButton),
    h(
      "section",
      { "aria-label": "Import" },
      h("h3", { text: "Import" }),
      h("label", { for: "yd-import", text: "Export file to import" }),
      file,
      importButton,
    ),
    h(
      "section",
      { "aria-label": "Clear local data" },
      h("h3", { text: "Clear local data" }),
      h("label", {}, discard, " Also discard changes that exist only here"),
      clearButton,
    ),
    out,
  );
  return { el };
}
