// Types of web/dist/vendor/yjs.mjs, which build.py bundles from ./yjs.js (the npm yjs
// package and y-protocols' awareness): only for type-checking the front end (tsconfig.json).
export * from "yjs";
export {
  Awareness,
  applyAwarenessUpdate,
  encodeAwarenessUpdate,
  removeAwarenessStates,
  outdatedTimeout,
} from "y-protocols/awareness";
export { ObservableV2 } from "lib0/observable";
