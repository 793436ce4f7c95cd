// Bundles the React app (src/app.jsx) into public/app.js with esbuild:
//   node build.mjs [RUNTIME_DIR]
// "yloft-runtime/..." imports resolve to the installed yloft package's runtime folder
// (RUNTIME_DIR, else the folder of the yloft that $PYTHON, default python3, imports), so
// the page API and the hooks come from the same yloft that `yloft build` bundles.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = (/** @type {string} */ name) => fileURLToPath(new URL(name, import.meta.url));
const python = process.env.PYTHON ?? "python3";
const ask = "from yloft.app.runtime import runtime_dir; print(runtime_dir())";
/** The runtime folder of the yloft that PYTHON imports (the one `yloft build` uses). */
function installedRuntime() {
  try {
    return execFileSync(python, ["-c", ask], { stdio: ["ignore", "pipe", "inherit"] })
      .toString()
      .trim();
  } catch {
    throw new Error(
      `${python} cannot import yloft: activate the environment yloft is installed in, ` +
        "set PYTHON=/path/to/its/python, or pass the runtime folder: node build.mjs DIR",
    );
  }
}
const runtime = process.argv[2] ?? installedRuntime();

await build({
  entryPoints: [here("src/app.jsx")],
  outfile: here("public/app.js"),
  bundle: true,
  format: "esm",
  minify: true,
  jsx: "automatic",
  alias: { "yloft-runtime": runtime },
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
