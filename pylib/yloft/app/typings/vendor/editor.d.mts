// vendor/editor.mjs (CodeMirror 6 and y-codemirror.next, bundled) as an app's editor sees
// it: the runtime ships no CodeMirror types, so each name is `any` here (docs/types.md).

export declare const EditorView: any;
export type EditorView<_A = any, _B = any, _C = any> = any;
export declare const keymap: any;
export type keymap<_A = any, _B = any, _C = any> = any;
export declare const placeholder: any;
export type placeholder<_A = any, _B = any, _C = any> = any;
export declare const drawSelection: any;
export type drawSelection<_A = any, _B = any, _C = any> = any;
export declare const EditorState: any;
export type EditorState<_A = any, _B = any, _C = any> = any;
export declare const defaultKeymap: any;
export type defaultKeymap<_A = any, _B = any, _C = any> = any;
export declare const history: any;
export type history<_A = any, _B = any, _C = any> = any;
export declare const historyKeymap: any;
export type historyKeymap<_A = any, _B = any, _C = any> = any;
export declare const yCollab: any;
export type yCollab<_A = any, _B = any, _C = any> = any;
export declare const yUndoManagerKeymap: any;
export type yUndoManagerKeymap<_A = any, _B = any, _C = any> = any;
export type Transaction<_A = any, _B = any, _C = any> = any;
