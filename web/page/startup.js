// The page's side of start-up: which stage the engine worker is in, a notice when one
// stalls ("Still waiting for: opening the database (45 s)"), and the error panel when
// the app cannot start. connect() (yloft.js) drives watchStartup; apps may use the
// others directly (they are re-exported by yloft.js).

/** @typedef {import("../yloft.js").Startup} Startup */
/** @typedef {import("../yloft.js").ConnectOptions} ConnectOptions */

/**
 * Show why the app could not start, in the page: an error panel with the error's name,
 * message and Python traceback (a syntax error in the app module, a `setup()` that
 * raised, a missing file), and `<html data-yloft="error">` for tests. Apps call it from
 * their start-up's catch: `main().catch(showErrorPanel)`.
 * @param {unknown} error
 */
export function showErrorPanel(error) {
  const err = /** @type {{name?: string, message?: string, traceback?: string}} */ (error ?? {});
  console.error("yloft could not start:", error);
  const panel = topElement(
    "yloft-error",
    "section",
    "alert",
    "margin:1rem;padding:1rem;border:2px solid #c92a2a;background:#fff5f5;color:#2b0000",
  );
  const title = document.createElement("h2");
  title.textContent = "This app could not start";
  const what = document.createElement("p");
  what.textContent = `${err.name ?? "Error"}: ${err.message ?? String(error)}`; // text, never HTML
  const trace = document.createElement("pre");
  trace.style.cssText = "white-space:pre-wrap;overflow:auto";
  trace.textContent = err.traceback ?? "";
  panel.replaceChildren(title, what, ...(err.traceback ? [trace] : []));
  panel.hidden = false;
  document.documentElement.dataset.yloft = "error";
}

/** The start-up stages, in the order a tab meets them, and what each waits for. */
export const STARTUP_STAGES = Object.freeze({
  worker: "starting the engine worker (worker/engine-worker.js)",
  prepare: "the app's file list (manifest.json) and this tab's outbox (IndexedDB)",
  role: "the lock that picks the tab that runs the engine (a Web Lock)",
  "engine-tab": "the tab of this app that runs the engine (another tab holds the database)",
  python: "loading the Python runtime",
  storage: "opening the database",
  store: "opening the store and starting the app's Python",
  relay: "starting relay sync",
});

/** "Still waiting for: opening the database (45 s)". @param {Startup} startup */
export function describeStartup(startup) {
  return `Still waiting for: ${startup.label} (${Math.round(startup.waitedMs / 1000)} s)`;
}

/**
 * connect()'s notice when the app passed no onStartup: a line at the top of the page
 * while a stage is stalled (`#yloft-startup`, role status), gone once it moves on.
 * @param {Startup | null} startup  null removes it
 */
export function showStartupNotice(startup) {
  if (!startup?.stalled) {
    document.getElementById("yloft-startup")?.remove();
    return;
  }
  const notice = topElement(
    "yloft-startup",
    "p",
    "status",
    "margin:1rem;padding:.5rem 1rem;border:1px solid #e67700;background:#fff9db;color:#2b1d00",
  );
  notice.textContent = describeStartup(startup);
}

/**
 * The element with this id, made first in the page's body if it is not there yet.
 * @param {string} id @param {string} tag @param {string} role @param {string} css
 * @returns {HTMLElement}
 */
function topElement(id, tag, role, css) {
  let el = document.getElementById(id);
  if (!el) {
    el = document.createElement(tag);
    el.id = id;
    el.setAttribute("role", role);
    el.style.cssText = css;
    document.body.prepend(el);
  }
  return el;
}

/**
 * Follow the worker's start-up stages; report each, and a stage that makes no progress
 * for `stallMs`, every second, until stopped.
 * @param {ConnectOptions} options
 */
export function watchStartup(options) {
  const stallMs = options.stallMs ?? 15000;
  const report = options.onStartup ?? showStartupNotice;
  let stage = "worker";
  let since = Date.now();
  let active = since;
  let stalled = false;
  const tell = () => {
    const label = /** @type {Record<string, string>} */ (STARTUP_STAGES)[stage] ?? stage;
    report({ stage, label, waitedMs: Date.now() - since, stalled });
  };
  const timer = setInterval(
    () => {
      const was = stalled;
      stalled = Date.now() - active >= stallMs;
      if (stalled || was) tell();
    },
    Math.max(50, Math.min(1000, stallMs / 4)),
  );
  tell();
  return {
    /** @param {string} name */
    stage(name) {
      stage = name;
      since = active = Date.now();
      stalled = false;
      tell();
    },
    progress() {
      active = Date.now();
      if (stalled) {
        stalled = false;
        tell();
      }
    },
    stop() {
      clearInterval(timer);
      if (!options.onStartup) showStartupNotice(null);
    },
  };
}
