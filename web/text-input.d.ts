// Types of text-input.js (docs/types.md); tests/types/yloft-api.ts holds them to its JSDoc.
import type * as Y from "./vendor/yjs.mjs";

/**
 * Bind an <input> or <textarea> to a Y.Text, both ways, keystroke by keystroke; Ctrl/Cmd+Z
 * and Ctrl+Y / Ctrl+Shift+Z undo and redo only this field's own edits.
 */
export declare function bindTextInput(
  field: HTMLInputElement | HTMLTextAreaElement,
  ytext: Y.Text,
  options?: { captureTimeout?: number },
): { undoManager: Y.UndoManager; destroy: () => void };
