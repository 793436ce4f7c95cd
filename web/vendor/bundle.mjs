// Builds the vendored ES modules into OUT_DIR (build.py runs: node web/vendor/bundle.mjs OUT_DIR):
//   yjs.mjs     Yjs + y-protocols' awareness: the one copy of Yjs in a yloft app
//   editor.mjs  CodeMirror 6 + y-codemirror.next, importing Yjs from ./yjs.mjs
//   preact.mjs  Preact + its hooks + htm's `html` (bindings/preact.js), with the licence
//               texts of Preact and htm beside it (LICENSE-preact.txt, LICENSE-htm.txt)
import { build } from "esbuild";
import { copyFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const out = process.argv[2];
if (!out) throw new Error("usage: node web/vendor/bundle.mjs OUT_DIR");
const here = (/** @type {string} */ name) => fileURLToPath(new URL(name, import.meta.url));
const common = {
  bundle: true,
  format: /** @type {const} */ ("esm"),
  minify: true,
  logLevel: /** @type {const} */ ("warning"),
};

await build({ ...common, entryPoints: [here("yjs.js")], outfile: `${out}/yjs.mjs` });

/** Every import of Yjs or its awareness module resolves to the shared bundle. */
const sharedYjs = {
  name: "shared-yjs",
  setup(/** @type {import("esbuild").PluginBuild} */ b) {
    b.onResolve({ filter: /^(yjs|y-protocols\/awareness)$/ }, () => ({
      path: "./yjs.mjs",
      external: true,
    }));
  },
};
await build({
  ...common,
  entryPoints: [here("editor.js")],
  outfile: `${out}/editor.mjs`,
  plugins: [sharedYjs],
});

await build({ ...common, entryPoints: [here("preact.js")], outfile: `${out}/preact.mjs` });
for (const pkg of ["preact", "htm"]) {
  copyFileSync(here(`../../node_modules/${pkg}/LICENSE`), `${out}/LICENSE-${pkg}.txt`);
}
