// The browser side of relay sync: one WebSocket to ws(s)://<origin>/relay per browser
// (the writer tab's engine worker), reconnected with exponential backoff and jitter,
// paused while the browser says it is offline. Everything about the protocol, the
// outbox and the store is Python (yloft.browser.relay); this file only moves bytes,
// keeps the cursor in IndexedDB and reports status.
//
// Tokens that expire (docs/auth.md): with `hooks.getToken` a token is fetched before
// connecting when none was given, shortly before the relay's ACCESS frame says it
// expires (the socket is then reopened with the new one), after a 4401 (expired) and
// after a refusal (1008 before WELCOME, retried with backoff). Without it a refusal
// stops syncing, as a wrong token does not fix itself. Local data is never touched.
//
//   const relay = await startRelaySync(pyodide, engine, {space: "demo", token: "demo"}, {
//     name: "notes", setStatus, run: (fn) => queue = queue.then(fn), beforeSend });
//   relay.stop();

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10000;

/**
 * @typedef {object} RelayHooks
 * @property {string} name  the database name (the cursor is kept per database and space)
 * @property {(changes: Record<string, any>) => void} setStatus  the worker's status
 * @property {(fn: () => any) => Promise<void>} run  run Python work in the worker's queue
 * @property {() => Promise<void>} [beforeSend]  resolves once local writes are durable
 * @property {boolean} [keepCursor]  false when the store does not survive a reload (memory):
 *   the cursor is then neither loaded nor saved, so a reload catches up from the start
 * @property {(collection: string, docId: string, payload: Uint8Array) => void} [onAwareness]
 *   presence from other devices (a y-protocols awareness update for one document)
 * @property {() => void} [onOnline]  the relay welcomed us (caught up): presence can be
 *   announced again (the relay dropped this device's presence when the link went down)
 * @property {() => Promise<string>} [getToken]  a new token for this space (asks the page)
 */

/**
 * Start syncing `engine.store` with a relay space.
 * @param {any} pyodide
 * @param {any} engine  the yloft.browser.Engine PyProxy
 * @param {{space: string, token?: string, url?: string}} options
 * @param {RelayHooks} hooks
 */
export async function startRelaySync(pyodide, engine, options, hooks) {
  const { space } = options;
  const token = options.token ?? "";
  if (typeof space !== "string" || !space || typeof token !== "string" || (!token && !hooks.getToken)) {
    throw new TypeError("relay: pass {space, token} (strings) or {space, getToken} to connect()");
  }
  const origin = new URL(self.location.href);
  const url = options.url ?? `${origin.protocol === "https:" ? "wss:" : "ws:"}//${origin.host}/relay`;
  const key = `${hooks.name}:${space}`;
  const keep = hooks.keepCursor !== false;
  const saved = keep ? await loadCursor(key) : "";
  const relay = new RelaySync(url, keep ? key : "", hooks);
  relay.needToken = !token;
  const mod = pyodide.pyimport("yloft.browser.relay");
  try {
    relay.py = mod.start_js(engine, space, token, saved,
      (/** @type {Uint8Array} */ frame) => relay.send(frame),
      () => relay.refresh(),
      (/** @type {string} */ collection, /** @type {string} */ docId, /** @type {Uint8Array} */ payload) =>
        hooks.onAwareness?.(collection, docId, payload.slice()));
  } finally {
    mod.destroy();
  }
  relay.refresh();
  relay.connect();
  return relay;
}

class RelaySync {
  /** @param {string} url @param {string} key @param {RelayHooks} hooks */
  constructor(url, key, hooks) {
    this.url = url;
    this.key = key;
    this.hooks = hooks;
    /** @type {any} the JsRelaySync PyProxy, destroyed in stop() */
    this.py = null;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {Uint8Array[]} frames Python sent, written once local writes are durable */
    this.pending = [];
    this.flushing = false;
    this.attempt = 0;
    this.stopped = false;
    this.connects = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.saveScheduled = false;
    /** whether the relay has welcomed the current socket and it is caught up */
    this.online = false;
    /** ask hooks.getToken before the next connection */
    this.needToken = false;
    this.fetching = false;
    /** the socket is being reopened with a renewed token: reconnect at once */
    this.renewing = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.renewTimer = undefined;
    this.wasOnline = self.navigator.onLine !== false;
    this.onOnline = () => { this.attempt = 0; this.connect(); };
    this.onOffline = () => {
      // Offline (also as emulated by DevTools) leaves an open socket silently stalled,
      // and close() would wait for a closing handshake that cannot happen: drop it now.
      if (this.ws) this.drop(this.ws, 1006, "the browser went offline");
    };
    self.addEventListener("online", this.onOnline);
    self.addEventListener("offline", this.onOffline);
    // Workers do not always get the online/offline events: watch navigator.onLine too.
    this.watch = setInterval(() => {
      const online = self.navigator.onLine !== false;
      if (online === this.wasOnline) return;
      this.wasOnline = online;
      if (online) this.onOnline();
      else this.onOffline();
    }, 500);
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped || this.ws || this.fetching) return;
    if (self.navigator.onLine === false) {
      this.refresh();  // offline: wait for the "online" event
      return;
    }
    if (this.needToken && this.hooks.getToken) {
      this.fetchToken().then(() => this.connect(), (e) => {
        console.warn("yloft relay: getToken failed, retrying", e);
        this.retry();
      });
      return;
    }
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.connects += 1;
      this.hooks.run(() => { if (this.ws === ws) this.py.opened(); this.refresh(); });
    };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") {
        this.drop(ws, 1003, "the relay sent a text frame");
        return;
      }
      const data = new Uint8Array(event.data);
      this.hooks.run(() => {
        if (this.ws !== ws) return;
        try {
          if (this.py.receive(data)) this.scheduleSave();
          const status = JSON.parse(this.py.status_json());
          const online = status.sync === "online";
          if (online) this.attempt = 0;
          if (online && !this.online) {
            this.hooks.onOnline?.();
            this.scheduleRenewal(ws, status.expiresAt);
          }
          this.online = online;
        } catch (e) {
          console.error("yloft relay: bad frame from the relay, reconnecting", e);
          this.drop(ws, 1002, `protocol error: ${/** @type {Error} */ (e).message}`);
        }
        this.refresh();
      });
    };
    ws.onclose = (event) => {
      if (this.ws === ws) this.drop(ws, event.code, event.reason);
    };
  }

  /** The link is gone (closed, or dropped by us): tell Python, then retry unless refused. */
  drop(/** @type {WebSocket} */ ws, /** @type {number} */ code, /** @type {string} */ reason) {
    this.ws = null;
    this.online = false;
    this.pending = [];
    clearTimeout(this.renewTimer);
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close(4000, reason.slice(0, 100));
    this.hooks.run(() => {
      this.py?.closed(code, reason);
      this.refresh();
      this.scheduleSave();
      if (this.renewing) {  // reopened with a fresh token
        this.renewing = false;
        this.connect();
        return;
      }
      const expired = code === 4401;
      if ((expired || this.py?.refused()) && this.hooks.getToken) {
        this.needToken = true;  // a new token may fix it: ask, then retry
        if (expired) this.attempt = 0;
      } else if (this.py?.refused()) {
        return;  // a wrong token does not fix itself: stay down
      }
      this.retry();
    });
  }

  /** Ask the page for a new token and hand it to Python for the next HELLO. */
  async fetchToken() {
    if (!this.hooks.getToken) return;
    this.fetching = true;
    try {
      const token = await this.hooks.getToken();
      if (typeof token !== "string" || !token) throw new TypeError("getToken() must resolve to a token (a string)");
      await this.hooks.run(() => this.py?.set_token(token));
      this.needToken = false;
    } finally {
      this.fetching = false;
    }
  }

  /**
   * Renew the token shortly before the relay closes the link for its expiry: at most a
   * minute, at most a fifth of the time left. The link is then reopened with the new one.
   * @param {WebSocket} ws @param {number} expiresAt  unix seconds, 0 = never
   */
  scheduleRenewal(ws, expiresAt) {
    clearTimeout(this.renewTimer);
    if (!this.hooks.getToken || !expiresAt) return;
    const left = expiresAt * 1000 - Date.now();
    const delay = Math.max(0, left - Math.min(60000, left / 5));
    this.renewTimer = setTimeout(() => {
      this.fetchToken().then(() => {
        if (this.ws !== ws) return;
        this.renewing = true;
        this.drop(ws, 1000, "renewing the token");
      }, (e) => console.warn("yloft relay: renewing the token failed; the relay will close the link", e));
    }, delay);
  }

  retry() {
    if (this.stopped || self.navigator.onLine === false) return;  // "online" reconnects
    const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), delay * (0.5 + Math.random()));
  }

  /** Python hands a frame to send; written after the writes behind it are durable. */
  send(/** @type {Uint8Array} */ frame) {
    if (!this.ws) return;  // offline: the outbox keeps it, resent after WELCOME
    this.pending.push(frame.slice());
    if (!this.flushing) {
      this.flushing = true;
      queueMicrotask(() => this.flush());
    }
  }

  async flush() {
    try {
      if (this.hooks.beforeSend) await this.hooks.beforeSend();
    } finally {
      this.flushing = false;
      const frames = this.pending;
      this.pending = [];
      for (const f of frames) {
        if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(f);
      }
    }
  }

  /**
   * Send a presence update for one document (dropped while not connected: presence is
   * announced again when the link is back, see RelayHooks.onOnline).
   * @param {string} collection @param {string} docId @param {Uint8Array} payload
   */
  sendAwareness(collection, docId, payload) {
    if (!this.py || !this.ws) return;
    this.hooks.run(() => { if (this.py && this.ws) this.py.awareness(collection, docId, payload); });
  }

  refresh() {
    if (!this.py) return;
    this.hooks.setStatus(JSON.parse(this.py.status_json()));
  }

  scheduleSave() {
    if (this.saveScheduled || !this.py || !this.key) return;
    this.saveScheduled = true;
    // After the store's writes are durable, so the cursor never runs ahead of the data.
    this.hooks.run(async () => {
      if (this.hooks.beforeSend) await this.hooks.beforeSend();
      this.saveScheduled = false;
      if (this.py) await saveCursor(this.key, this.py.state_json());
    });
  }

  /** Close the socket and stop reconnecting. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.renewTimer);
    clearInterval(this.watch);
    self.removeEventListener("online", this.onOnline);
    self.removeEventListener("offline", this.onOffline);
    this.ws?.close(1000, "stopped");
    this.ws = null;
    if (this.py) {
      this.py.close();
      this.py.destroy();
      this.py = null;
    }
  }

  /** For tests and diagnostics. */
  info() {
    return { url: this.url, connects: this.connects, open: this.ws?.readyState === WebSocket.OPEN, attempt: this.attempt };
  }
}

// ------------------------------------------------------------------ cursor storage

/** @returns {Promise<IDBDatabase>} */
function openCursorDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("yloft-relay", 1);
    req.onupgradeneeded = () => req.result.createObjectStore("cursors");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** @param {string} key @returns {Promise<string>} the saved cursor JSON, "" if none */
async function loadCursor(key) {
  const db = await openCursorDb();
  try {
    return await new Promise((resolve, reject) => {
      const req = db.transaction("cursors").objectStore("cursors").get(key);
      req.onsuccess = () => resolve(typeof req.result === "string" ? req.result : "");
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

/** @param {string} key @param {string} value */
async function saveCursor(key, value) {
  const db = await openCursorDb();
  try {
    await new Promise((resolve, reject) => {
      const tx = db.transaction("cursors", "readwrite", { durability: "strict" });
      tx.objectStore("cursors").put(value, key);
      tx.oncomplete = () => resolve(undefined);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}
