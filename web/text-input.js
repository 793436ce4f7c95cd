// Binds an <input> or <textarea> to a Y.Text, both ways, keystroke by keystroke.
//
//   const unbind = bindTextInput(input, doc.getText("title"));
//
// A local edit is turned into a Y.Text change against the text the field showed, which
// is always the Y.Text's own content: remote changes are written into the field in the
// same task they arrive in (the caret moves with them), so no edit can be expressed
// against a base that misses someone else's text. Ctrl/Cmd+Z and Ctrl+Y / Ctrl+Shift+Z
// undo and redo only this field's own edits (a Y.UndoManager tracking this binding).

import * as Y from "./vendor/yjs.mjs";

/**
 * @param {HTMLInputElement | HTMLTextAreaElement} field
 * @param {Y.Text} ytext
 * @returns {{undoManager: Y.UndoManager, destroy: () => void}}
 */
export function bindTextInput(field, ytext, { captureTimeout = 500 } = {}) {
  const origin = { binding: "text-input" };
  const undoManager = new Y.UndoManager(ytext, {
    trackedOrigins: new Set([origin]),
    captureTimeout,
  });
  field.value = ytext.toString();

  // The edit is found by comparing the field with the Y.Text, anchored at the caret: a
  // keystroke or paste ends where the caret now is, so the unchanged tail is matched
  // first and never reaches left of the caret. Matching the head first instead is
  // ambiguous when the typed character equals its neighbour ("t" typed before someone's
  // "ta00"): the insertion then lands inside the other person's word and later
  // keystrokes follow it there, which rearranges both people's text.
  const onInput = () => {
    const before = ytext.toString();
    const after = field.value;
    if (before === after) return;
    const caret = field.selectionEnd ?? after.length;
    let endBefore = before.length;
    let endAfter = after.length;
    while (endBefore > 0 && endAfter > caret && before[endBefore - 1] === after[endAfter - 1]) {
      endBefore--;
      endAfter--;
    }
    let start = 0;
    const limit = Math.min(endBefore, endAfter);
    while (start < limit && before[start] === after[start]) start++;
    ytext.doc?.transact(() => {
      if (endBefore > start) ytext.delete(start, endBefore - start);
      if (endAfter > start) ytext.insert(start, after.slice(start, endAfter));
    }, origin);
  };

  /** @param {Y.YTextEvent} event @param {Y.Transaction} tr */
  const onChange = (event, tr) => {
    if (tr.origin === origin) return;
    let selStart = field.selectionStart ?? 0;
    let selEnd = field.selectionEnd ?? 0;
    let index = 0;
    for (const op of event.delta) {
      if (op.retain) {
        index += op.retain;
      } else if (typeof op.insert === "string") {
        const n = op.insert.length;
        if (index < selStart) selStart += n;
        if (index < selEnd) selEnd += n;
        index += n;
      } else if (op.delete) {
        const n = op.delete;
        selStart -= Math.max(0, Math.min(n, selStart - index));
        selEnd -= Math.max(0, Math.min(n, selEnd - index));
      }
    }
    field.value = ytext.toString();
    if (document.activeElement === field) field.setSelectionRange(selStart, selEnd);
  };

  /** @param {Event} e */
  const onKey = (e) => {
    const event = /** @type {KeyboardEvent} */ (e);
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) {
      event.preventDefault();
      undoManager.undo();
    } else if (key === "y" || (key === "z" && event.shiftKey)) {
      event.preventDefault();
      undoManager.redo();
    }
  };

  field.addEventListener("input", onInput);
  field.addEventListener("keydown", onKey);
  ytext.observe(onChange);
  return {
    undoManager,
    destroy() {
      field.removeEventListener("input", onInput);
      field.removeEventListener("keydown", onKey);
      ytext.unobserve(onChange);
      undoManager.destroy();
    },
  };
}
