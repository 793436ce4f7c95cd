// The yloft client for UIs: starts the engine worker and talks to it over postMessage.
// The UI thread never runs Python; every call returns a promise.

/**
 * @typedef {object} ConnectOptions
 * @property {string} [name]      database name (one per app)
 * @property {string} [app]       the app's Python module
 * @property {(loaded: number, total: number) => void} [onProgress]  bytes of the runtime fetched
 */

/**
 * A connection to the engine worker.
 */
export class Database {
  /** @param {Worker} worker @param {any} info */
  constructor(worker, info) {
    this.worker = worker;
    /** @type {{yloft: string, sqlite: string, python: string}} */
    this.versions = info.versions;
    /** @type {Map<number, {resolve: (v: any) => void, reject: (e: Error) => void}>} */
    this.pending = new Map();
    this.nextId = 1;
    worker.addEventListener("message", (event) => this.onMessage(event.data));
  }

  /** @param {any} msg */
  onMessage(msg) {
    if (msg.type !== "reply") return;
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    if (msg.ok) {
      waiter.resolve(msg.value);
    } else {
      const err = new Error(msg.error.message);
      err.name = msg.error.name;
      waiter.reject(err);
    }
  }

  /**
   * Call a method of the engine.
   * @param {string} method
   * @param {...any} args
   * @returns {Promise<any>}
   */
  request(method, ...args) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: "call", id, method, args });
    });
  }

  /** Stop the engine worker. */
  close() {
    this.worker.terminate();
    for (const waiter of this.pending.values()) waiter.reject(new Error("database closed"));
    this.pending.clear();
  }
}

/**
 * Start an engine worker and resolve once Python and yloft are loaded.
 * @param {ConnectOptions} [options]
 * @returns {Promise<Database>}
 */
export function connect(options = {}) {
  const url = new URL("./engine-worker.js", import.meta.url);
  const worker = new Worker(url, { type: "module", name: `yloft:${options.name ?? "default"}` });
  return new Promise((resolve, reject) => {
    /** @param {MessageEvent} event */
    const onMessage = (event) => {
      const msg = event.data;
      if (msg.type === "progress") {
        options.onProgress?.(msg.loaded, msg.total);
      } else if (msg.type === "ready") {
        worker.removeEventListener("message", onMessage);
        resolve(new Database(worker, msg));
      } else if (msg.type === "fatal") {
        worker.removeEventListener("message", onMessage);
        worker.terminate();
        const err = new Error(msg.message);
        err.name = msg.name;
        reject(err);
      }
    };
    worker.addEventListener("message", onMessage);
    worker.addEventListener("error", (event) => reject(new Error(`engine worker failed: ${event.message}`)));
    const { onProgress, ...plain } = options;
    worker.postMessage({ type: "init", options: plain });
  });
}
