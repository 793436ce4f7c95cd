// Bundled by build.py (esbuild) into web/dist/vendor/yjs.mjs for the engine worker.
export * from "yjs";
