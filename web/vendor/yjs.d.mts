// Types of web/dist/vendor/yjs.mjs, which build.py bundles from ./yjs.js (the npm yjs
// package): only for type-checking the front end (tsconfig.json).
export * from "yjs";
