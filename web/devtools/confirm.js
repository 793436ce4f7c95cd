// The devtools panel never changes data without asking: every action that writes (import,
// compaction, clearing local data) or hands data out (export) goes through confirm().

import { h } from "./dom.js";

/**
 * Ask in a modal dialog; resolves true only when the person pressed the confirm button.
 * @param {Node} root  where the dialog lives (the panel's shadow root)
 * @param {{title: string, text: string, confirm: string}} ask
 * @returns {Promise<boolean>}
 */
export function confirm(root, { title, text, confirm: label }) {
  return new Promise((resolve) => {
    const titleId = `yd-confirm-${Math.random().toString(36).slice(2)}`;
    const dialog = /** @type {HTMLDialogElement} */ (
      h("dialog", { "aria-labelledby": titleId, class: "confirm" })
    );
    const close = (/** @type {boolean} */ ok) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    dialog.append(
      h("h2", { id: titleId, text: title }),
      h("p", { text }),
      h(
        "div",
        { class: "buttons" },
        h("button", { type: "button", text: "Cancel", onclick: () => close(false) }),
        h("button", { type: "button", class: "danger", text: label, onclick: () => close(true) }),
      ),
    );
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(false);
    });
    root.appendChild(dialog);
    dialog.showModal();
  });
}
