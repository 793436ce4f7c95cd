// The note's body: a CodeMirror 6 editor bound to a Y.Text with y-codemirror.next, which
// shows the other people's cursors and selections (name and colour from their presence)
// and undoes only this person's own edits (Ctrl/Cmd+Z, Ctrl+Y / Ctrl+Shift+Z).

import {
  defaultKeymap,
  EditorState,
  EditorView,
  keymap,
  placeholder,
  yCollab,
  yUndoManagerKeymap,
} from "./vendor/editor.mjs";
import * as Y from "./vendor/yjs.mjs";

/** @typedef {import("./vendor/editor.mjs").Transaction} Transaction */

/**
 * CodeMirror 6.43 moves the page's selection back into the editor when the caret sits
 * at a soft line-wrap (a cursor with `assoc`) and it re-measures after the person has
 * clicked into another field (remote edits make it re-measure): the focus jumps back
 * into the body and the keystrokes meant for the title are lost. Dropping the caret's
 * `assoc` when the editor loses focus keeps the caret where it was and the focus where
 * the person put it (seen with four people typing at once, tests/e2e/test_collab.py).
 */
const keepFocusWhereItWent = EditorView.domEventHandlers({
  blur(/** @type {FocusEvent} */ _event, /** @type {EditorView} */ view) {
    const main = view.state.selection.main;
    if (main.empty && main.assoc !== 0) view.dispatch({ selection: { anchor: main.head } });
    return false;
  },
});

/**
 * WebKit puts the page's selection at the start of the editor when its window gets the
 * focus back, and applies it at the next change of the editor's DOM. CodeMirror 6.43 puts
 * the caret back only when no DOM change came in between (any flush clears its focus
 * time), so a remote edit that arrived just after the window came back moved the caret to
 * the start: the next words went there (WebKitGTK 2.50, two windows typing into one note,
 * tests/e2e/test_engines.py). From a focus until the person's next key or pointer press, a
 * caret the browser alone moved to the start of the text is put back where it was.
 */
function keepCaretOnRefocus() {
  let guard = false; // focused, and no key or pointer pressed since
  let pointer = false; // a pointer is down (its click may focus the editor)
  const off = () => {
    guard = false;
    return false;
  };
  return [
    EditorView.domEventHandlers({
      focus() {
        guard = !pointer;
        return false;
      },
      pointerdown() {
        pointer = true;
        return off();
      },
      pointerup() {
        pointer = false;
        return false;
      },
      blur: off,
      keydown: off,
      touchstart: off,
    }),
    EditorState.transactionFilter.of((/** @type {Transaction} */ tr) => {
      const sel = tr.selection?.main;
      const was = tr.startState.selection.main;
      // "select" alone: read from the page's selection (a pointer's is "select.pointer")
      const fromPage = tr.isUserEvent("select") && !tr.isUserEvent("select.pointer");
      if (!guard || tr.docChanged || !sel || !fromPage) return tr;
      if (!sel.empty || sel.head !== 0 || was.head === 0) return tr;
      return { selection: tr.startState.selection };
    }),
  ];
}

/**
 * @param {HTMLElement} parent  where the editor goes (emptied first)
 * @param {Y.Text} ytext
 * @param {Y.Awareness} awareness
 * @returns {{view: EditorView, undoManager: Y.UndoManager, destroy: () => void}}
 */
export function mountBody(parent, ytext, awareness) {
  parent.replaceChildren();
  const undoManager = new Y.UndoManager(ytext);
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: ytext.toString(),
      extensions: [
        keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
        yCollab(ytext, awareness, { undoManager }),
        EditorView.lineWrapping,
        placeholder("Write here"),
        // Assistive technology (and tests) find the editor by its label, as the textarea was.
        EditorView.contentAttributes.of({
          "aria-label": "Body",
          "aria-multiline": "true",
          role: "textbox",
        }),
        keepFocusWhereItWent,
        keepCaretOnRefocus(),
      ],
    }),
  });
  return {
    view,
    undoManager,
    destroy() {
      view.destroy();
      undoManager.destroy();
      parent.replaceChildren();
    },
  };
}
