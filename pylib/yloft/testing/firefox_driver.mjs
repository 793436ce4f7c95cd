// Drives Debian's firefox-esr for yloft.testing (pylib/yloft/testing/firefox.py): npm's
// puppeteer-core over WebDriver BiDi, in one long-lived Node process that several browsers
// (each on its own on-disk profile) share. Playwright cannot open a Firefox context here
// (docs/testing.md).
//
//   node firefox_driver.mjs [--check] [DIR...]
//
// puppeteer-core is loaded from the first DIR that resolves it (an app's folder: its
// node_modules or a parent's), else NODE_PATH, else this file's own folder (a checkout of
// yloft). --check prints the module's path and exits 0, or says what is missing and exits 1.
//
// One JSON command per line on stdin, one JSON answer per line on stdout:
//   {"id": 1, "cmd": "launch", "firefox": PATH, "profile": DIR, "prefs": {}}  -> {"id": 1, "ok": true, "value": {browser, version}}
//   {"id": 2, "cmd": "evaluate", "page": 3, "fn": "(x) => x + 1", "arg": 1}  -> {"id": 2, "ok": true, "value": 2}
//   ... -> {"id": n, "ok": false, "error": "message"}
// Commands: launch, newPage, goto, reload, evaluate, click, type, press, setFiles,
// closePage, kill (SIGKILL the browser process; its profile stays), close, logs. Commands
// run one at a time, in order. Each page's console lines and page errors are kept for `logs`.
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const checkOnly = args[0] === "--check";
const folders = [
  ...args.filter((a) => a !== "--check"),
  fileURLToPath(new URL(".", import.meta.url)),
];

/** Where Node's require() finds puppeteer-core from the first folder that has it. */
function findPuppeteer() {
  const tried = [];
  for (const folder of folders) {
    try {
      return createRequire(join(folder, "noop.js")).resolve("puppeteer-core");
    } catch {
      tried.push(folder);
    }
  }
  throw new Error(`puppeteer-core is not installed in or above ${tried.join(", ")}`);
}

/** @type {string} */
let where;
try {
  where = findPuppeteer();
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
}
if (checkOnly) {
  process.stdout.write(`${where}\n`);
  process.exit(0);
}
const loaded = await import(pathToFileURL(where).href);
/** @type {import("puppeteer-core").PuppeteerNode} */
const puppeteer = loaded.default?.default ?? loaded.default ?? loaded;

/** @type {Map<number, import("puppeteer-core").Browser>} */
const browsers = new Map();
/** @type {Map<number, {page: import("puppeteer-core").Page, lines: string[]}>} */
const pages = new Map();
let nextId = 1;

/** @param {number} id */
function pageOf(id) {
  const entry = pages.get(id);
  if (!entry) throw new Error(`no page ${id} (closed, or its browser was killed)`);
  return entry.page;
}

/** @param {number} id */
function browserOf(id) {
  const browser = browsers.get(id);
  if (!browser) throw new Error(`no browser ${id}`);
  return browser;
}

/** Forget the pages of a browser that is gone. @param {import("puppeteer-core").Browser} browser */
function dropPages(browser) {
  for (const [id, entry] of pages) if (entry.page.browser() === browser) pages.delete(id);
}

/** @type {Record<string, (msg: any) => Promise<any>>} */
const commands = {
  async launch({ firefox, profile, prefs }) {
    const browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: firefox,
      headless: true,
      userDataDir: profile,
      extraPrefsFirefox: prefs ?? {},
      timeout: 60_000,
    });
    const id = nextId++;
    browsers.set(id, browser);
    return { browser: id, version: await browser.version() };
  },
  async newPage({ browser }) {
    const page = await browserOf(browser).newPage();
    page.setDefaultTimeout(60_000);
    const id = nextId++;
    /** @type {string[]} */
    const lines = [];
    page.on("console", (m) => lines.push(`[${m.type()}] ${m.text()}`));
    page.on("pageerror", (e) => lines.push(`[pageerror] ${e instanceof Error ? e.message : e}`));
    pages.set(id, { page, lines });
    return id;
  },
  async goto({ page, url }) {
    await pageOf(page).goto(url, { timeout: 60_000 });
  },
  async reload({ page }) {
    await pageOf(page).reload({ timeout: 60_000 });
  },
  async evaluate({ page, fn, arg }) {
    // A string is evaluated as an expression (BiDi script.evaluate, promises awaited):
    // no eval() in the page, so the page's own CSP does not matter.
    const value = await pageOf(page).evaluate(`(${fn})(${JSON.stringify(arg ?? null)})`);
    return value === undefined ? null : value;
  },
  async click({ page, selector }) {
    await pageOf(page).click(selector);
  },
  async type({ page, text }) {
    await pageOf(page).keyboard.type(text);
  },
  async press({ page, key }) {
    // "Control+End": modifiers held down around the last key, as Playwright's press does.
    const keys = String(key).split("+");
    const main = /** @type {any} */ (keys.pop());
    const keyboard = pageOf(page).keyboard;
    for (const k of keys) await keyboard.down(/** @type {any} */ (k));
    await keyboard.press(main);
    for (const k of keys.reverse()) await keyboard.up(/** @type {any} */ (k));
  },
  async setFiles({ page, selector, paths }) {
    const input = await pageOf(page).$(selector);
    if (!input) throw new Error(`no element matches ${selector}`);
    await /** @type {any} */ (input).uploadFile(...paths);
  },
  async closePage({ page }) {
    const p = pageOf(page);
    pages.delete(page);
    await p.close();
  },
  async logs({ page }) {
    return pages.get(page)?.lines.splice(0) ?? [];
  },
  async kill({ browser }) {
    const b = browserOf(browser);
    browsers.delete(browser);
    dropPages(b);
    const proc = b.process();
    if (!proc) throw new Error("no process to kill");
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGKILL");
    await exited;
    b.disconnect().catch(() => {});
  },
  async close({ browser }) {
    const b = browserOf(browser);
    browsers.delete(browser);
    dropPages(b);
    await b.close();
  },
};

const input = createInterface({ input: process.stdin });
// One command at a time: a test's steps are sequential, and so are the answers.
let queue = Promise.resolve();
input.on("line", (line) => {
  queue = queue.then(async () => {
    /** @type {any} */
    let msg = {};
    try {
      msg = JSON.parse(line);
      const run = commands[msg.cmd];
      if (!run) throw new Error(`unknown command ${msg.cmd}`);
      const value = await run(msg);
      process.stdout.write(`${JSON.stringify({ id: msg.id, ok: true, value: value ?? null })}\n`);
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      process.stdout.write(`${JSON.stringify({ id: msg.id, ok: false, error })}\n`);
    }
  });
});
input.on("close", async () => {
  await queue;
  for (const browser of browsers.values()) await browser.close().catch(() => {});
  process.exit(0);
});
