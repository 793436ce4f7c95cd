// The page: shows real loading progress, then what the engine runs.
import { connect } from "./yloft.js";

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {number} n */
function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** @param {number} loaded @param {number} total */
function showProgress(loaded, total) {
  const bar = /** @type {HTMLProgressElement} */ ($("progress"));
  bar.max = total;
  bar.value = loaded;
  $("progress-text").textContent = `${formatBytes(loaded)} of ${formatBytes(total)}`;
}

try {
  const db = await connect({ name: "notes", onProgress: showProgress });
  $("yloft-version").textContent = db.versions.yloft;
  $("sqlite-version").textContent = db.versions.sqlite;
  $("python-version").textContent = db.versions.python;
  $("about").hidden = false;
  /** @type {any} */ (window).db = db;
  document.documentElement.dataset.yloft = "ready";
} catch (e) {
  const err = /** @type {Error} */ (e);
  $("error").textContent = `yloft could not start: ${err.name}: ${err.message}`;
  $("error").hidden = false;
  document.documentElement.dataset.yloft = "error";
}
