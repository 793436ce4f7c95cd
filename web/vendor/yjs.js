// Bundled by build.py (esbuild) into web/dist/vendor/yjs.mjs: the one copy of Yjs that
// the engine worker, yloft.js (re-exported as `Y`) and the editor bundle share, with
// y-protocols' awareness (presence) beside it.
export * from "yjs";
export {
  Awareness,
  applyAwarenessUpdate,
  encodeAwarenessUpdate,
  removeAwarenessStates,
  outdatedTimeout,
} from "y-protocols/awareness";
export { ObservableV2 } from "lib0/observable";
