// The floor of any Python-in-the-browser app with a SQLite database: Pyodide loaded in a
// worker from this origin's pyodide/ folder (as the notes app's writer loads it, same
// URLs), then a first sqlite3 query. No micropip, no wheels, no storage, no store.
const base = new URL("./", self.location.href);
const t0 = performance.now();
try {
  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", base).href);
  const pyodide = await loadPyodide({ indexURL: new URL("pyodide/", base).href });
  const loaded = performance.now();
  const answer = pyodide.runPython(
    "import sqlite3\nsqlite3.connect(':memory:').execute('SELECT 1 + 1').fetchone()[0]",
  );
  postMessage({
    answer,
    pyodide_ms: loaded - t0,
    query_ms: performance.now() - loaded,
    done_at: performance.timeOrigin + performance.now(),
  });
} catch (e) {
  const err = /** @type {Error} */ (e);
  postMessage({ error: `${err.name}: ${err.message}` });
}
