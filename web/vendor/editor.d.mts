// Types of web/dist/vendor/editor.mjs (bundled from ./editor.js): only for tsc.
export { EditorView, keymap, placeholder, drawSelection } from "@codemirror/view";
export { EditorState } from "@codemirror/state";
export type { Transaction } from "@codemirror/state";
export { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
export { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
