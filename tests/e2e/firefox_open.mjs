// Opens a yloft app in headless Firefox (Debian's firefox-esr) with puppeteer-core over
// WebDriver BiDi, and prints one JSON line about how far it got (tests/e2e/test_firefox.py).
//
//   node tests/e2e/firefox_open.mjs URL --firefox PATH [--timeout-s 120] [--new-note TITLE]
//
// Waits until <html data-yloft> is "ready" or "error". With --new-note, then clicks
// "New note" and types TITLE with key events, as a person would, and waits for the note in
// the list. Prints {state, storage, status, shown_error, notes, error, console, elapsed_ms} and exits 0, or 1
// with the same line on timeout. A fresh temporary profile per run (puppeteer's default).
import { parseArgs } from "node:util";
import puppeteer from "puppeteer-core";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    firefox: { type: "string" },
    "timeout-s": { type: "string", default: "120" },
    "new-note": { type: "string" },
  },
});
const url = positionals[0];
if (!url || !values.firefox) {
  console.error("usage: firefox_open.mjs URL --firefox PATH [--timeout-s S] [--new-note TITLE]");
  process.exit(2);
}
const started = Date.now();
const deadline = started + Number(values["timeout-s"]) * 1000;
/** @type {string[]} */
const lines = [];
/** @type {Record<string, string | string[] | null>} */
const result = { state: "not loaded", storage: null, status: null, shown_error: null, notes: null };
/** @type {string | null} */
let failure = null;

/**
 * Evaluate `fn(arg)` in the page every 200 ms until it returns true.
 * @param {import("puppeteer-core").Page} page
 * @param {string} what
 * @param {(arg: any) => boolean} fn
 * @param {unknown} arg
 */
async function poll(page, what, fn, arg) {
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** @param {import("puppeteer-core").Page} page */
async function snapshot(page) {
  Object.assign(result, await page.evaluate(() => {
    const status = document.getElementById("status");
    return {
      state: document.documentElement.dataset.yloft ?? "no data-yloft",
      storage: status?.dataset.storage ?? null,
      status: status?.textContent ?? null,
      shown_error: document.getElementById("error")?.textContent || null,
      notes: [...document.querySelectorAll("#notes li .title")].map((e) => e.textContent ?? ""),
    };
  }));
}

const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: values.firefox,
  headless: true,
  timeout: 60_000,
});
try {
  const page = await browser.newPage();
  page.on("console", (msg) => lines.push(`[${msg.type()}] ${msg.text()}`));
  page.on("pageerror", (err) => lines.push(`[pageerror] ${err instanceof Error ? err.message : err}`));
  try {
    await page.goto(url, { timeout: 60_000 });
    await poll(page, 'data-yloft "ready" or "error"',
      (states) => states.includes(document.documentElement.dataset.yloft ?? ""), ["ready", "error"]);
    await snapshot(page);
    const title = values["new-note"];
    if (title !== undefined && result.state === "ready") {
      await page.click("#new-note");
      // The title field is focused once the new note's document is bound (app.js).
      await poll(page, "the new note's title field", (id) => document.activeElement?.id === id, "title");
      await page.keyboard.type(title, { delay: 20 });
      await poll(page, "the typed title in the list",
        (t) => [...document.querySelectorAll("#notes li .title")].some((e) => e.textContent === t), title);
    }
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
  }
  await snapshot(page).catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ...result, error: failure, console: lines.slice(-30),
  elapsed_ms: Date.now() - started }));
process.exit(failure ? 1 : 0);
