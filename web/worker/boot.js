// Loading the Python side of the engine: the self-hosted Pyodide, then yloft, the app's
// module and its locked dependencies (their wheels unpacked into site-packages), all
// from this origin. Only the tab that runs the engine (the writer) ever calls it.
//
//   const manifest = await (await fetch(new URL("manifest.json", base))).json();
//   const { pyodide, glue, versions } = await bootPython(manifest, base, "notes_app", onProgress);

import * as Y from "../vendor/yjs.mjs";
import { countFetchedBytes } from "./fetch-progress.js";

/**
 * @param {any} manifest
 * @param {URL} base
 * @param {string} app  the app's Python module ("" for none)
 * @param {(loaded: number, total: number) => void} onProgress  runtime bytes fetched
 * @returns {Promise<{pyodide: any, glue: any, versions: {yloft: string, sqlite: string, python: string}}>}
 */
export async function bootPython(manifest, base, app, onProgress) {
  const appWheel = app ? manifest.apps[app] : null;
  if (app && !appWheel) throw new Error(`no app module ${app} in this build`);
  // yloft, the app and the dependencies locked at build time: all from this origin.
  const wheels = [
    manifest.yloft_wheel,
    ...(appWheel ? [appWheel] : []),
    ...(manifest.dependencies ?? []),
  ];
  const counted = [...manifest.runtime, ...wheels];
  const total = counted.reduce((sum, f) => sum + manifest.files[f].size, 0);
  countFetchedBytes((loaded) => onProgress(Math.min(loaded, total), total));
  onProgress(0, total);

  performance.mark("yloft:boot");
  // The wheels download while Pyodide loads.
  const fetched = wheels.map(async (w) => {
    const res = await fetch(new URL(w, base));
    if (!res.ok) throw new Error(`${w}: the server answered ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  });
  fetched.forEach((p) => p.catch(() => {})); // awaited below; no unhandled rejection meanwhile
  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", base).href);
  const pyodide = await loadPyodide({ indexURL: new URL("pyodide/", base).href });
  performance.mark("yloft:pyodide");
  pyodide.registerJsModule("yjs", Y);
  // Every dependency was resolved at build time and every wheel is pure Python, so a
  // wheel is installed by unpacking it into site-packages: no micropip, no packaging
  // (loading and running them took 0.5 s of every start here).
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  for (const bytes of await Promise.all(fetched)) {
    pyodide.unpackArchive(bytes, "wheel", { extractDir: sitePackages });
  }
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
  performance.mark("yloft:wheels");
  await registerYloftJs(pyodide);
  const glue = pyodide.pyimport("yloft.browser.worker");
  performance.mark("yloft:imported");
  return { pyodide, glue, versions: JSON.parse(glue.versions()) };
}

/**
 * yloft.crdt's JS side ships in the wheel (yloft/crdt/_yjs/yjs_helpers.js and
 * yjs_text.js): import both from the installed package and register them as `yloft_js`.
 * @param {any} pyodide
 */
async function registerYloftJs(pyodide) {
  const dir =
    pyodide.runPython(
      "import importlib.util as u; u.find_spec('yloft').submodule_search_locations[0]",
    ) + "/crdt/_yjs/";
  const modules = await Promise.all(
    ["yjs_helpers.js", "yjs_text.js"].map((file) => {
      const source = pyodide.FS.readFile(dir + file, { encoding: "utf8" });
      return import(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
    }),
  );
  pyodide.registerJsModule("yloft_js", Object.assign({}, ...modules));
}
