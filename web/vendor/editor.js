// Bundled by build.py into web/dist/vendor/editor.mjs: CodeMirror 6 and its Yjs binding
// (y-codemirror.next) for collaborative text fields. Yjs itself is not in this bundle:
// it is imported from ./yjs.mjs, the one copy the page shares with yloft.js.
export { EditorView, keymap, placeholder, drawSelection } from "@codemirror/view";
export { EditorState } from "@codemirror/state";
export { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
export { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
