// The browser side of relay sync: one WebSocket to ws(s)://<origin>/relay per browser
// (the writer tab's engine worker). This file only moves bytes and runs timers: the
// protocol, the outbox, the store, what a close means (retry after a delay, renew the
// token, stop), when to renew a token, the backoff and the status are the Python
// session's (yloft.browser.relay over yloft.sync.session), asked through the JsRelaySync
// proxy. What stays here is what only a browser has: the socket, `getToken` (the page's),
// durability before sending (`beforeSend`) and the browser's own offline state.
//
// Tokens that expire (docs/auth.md): with `hooks.getToken` the session asks for a token
// before connecting when none was given, shortly before the relay's ACCESS frame says it
// expires (the socket is then reopened with the new one), after a 4401 (expired) and
// after a refusal (1008 before WELCOME). Without it a refusal stops syncing, as a wrong
// token does not fix itself. Local data is never touched.
//
//   const relay = await startRelaySync(pyodide, engine, {space: "demo", token: "demo"}, {
//     setStatus, run: (fn) => queue = queue.then(fn), beforeSend });
//   relay.stop();

import { CloseCode } from "./close-codes.js";

const ONLINE_POLL_MS = 500;

/**
 * @typedef {object} RelayHooks
 * @property {(changes: Record<string, any>) => void} setStatus  the worker's status (this
 *   file sets its `relay` field: the session's SyncStatus)
 * @property {(fn: () => any) => Promise<void>} run  run Python work in the worker's queue
 * @property {() => Promise<void>} [beforeSend]  resolves once local writes are durable
 * @property {(collection: string, docId: string, payload: Uint8Array) => void} [onAwareness]
 *   presence from other devices (a y-protocols awareness update for one document)
 * @property {() => void} [onOnline]  the relay welcomed us (caught up): presence can be
 *   announced again (the relay dropped this device's presence when the link went down)
 * @property {() => Promise<string>} [getToken]  a new token for this space (asks the page)
 */

/**
 * @typedef {object} Decision  what the session says to do after a close
 * @property {"retry" | "renew" | "stop"} action
 * @property {number} delay  seconds to wait first
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
  if (
    typeof space !== "string" ||
    !space ||
    typeof token !== "string" ||
    (!token && !hooks.getToken)
  ) {
    throw new TypeError("relay: pass {space, token} (strings) or {space, getToken} to connect()");
  }
  const origin = new URL(self.location.href);
  const scheme = origin.protocol === "https:" ? "wss:" : "ws:";
  const relay = new RelaySync(options.url ?? `${scheme}//${origin.host}/relay`, hooks);
  const mod = pyodide.pyimport("yloft.browser.relay");
  try {
    relay.py = mod.start_js(
      engine,
      space,
      token,
      Boolean(hooks.getToken),
      (/** @type {Uint8Array} */ frame) => relay.send(frame),
      () => relay.refresh(),
      (
        /** @type {string} */ collection,
        /** @type {string} */ docId,
        /** @type {Uint8Array} */ payload,
      ) => hooks.onAwareness?.(collection, docId, payload.slice()),
    );
  } finally {
    mod.destroy();
  }
  relay.refresh();
  relay.connect();
  return relay;
}

class RelaySync {
  /** @param {string} url @param {RelayHooks} hooks */
  constructor(url, hooks) {
    this.url = url;
    this.hooks = hooks;
    /** @type {any} the JsRelaySync PyProxy, destroyed in stop() */
    this.py = null;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {Uint8Array[]} frames Python sent, written once local writes are durable */
    this.pending = [];
    this.flushing = false;
    this.stopped = false;
    this.connects = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} the next connection attempt */
    this.timer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} the token's renewal */
    this.renewTimer = undefined;
    /** whether the relay has welcomed the current socket and it is caught up */
    this.online = false;
    this.fetching = false;
    this.wasOnline = self.navigator.onLine !== false;
    // Platform only: the browser's own offline state. No connection is tried while it
    // is offline, and coming back online connects at once with the shortest backoff.
    this.onOnline = () => {
      this.hooks.run(() => {
        this.py?.reset_backoff();
        this.connect();
      });
    };
    this.onOffline = () => {
      // Offline (also as emulated by DevTools) leaves an open socket silently stalled,
      // and close() would wait for a closing handshake that cannot happen: drop it now.
      if (this.ws) this.drop(this.ws, CloseCode.ABNORMAL_CLOSURE, "the browser went offline");
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
    }, ONLINE_POLL_MS);
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped || this.ws || this.fetching || !this.py) return;
    if (self.navigator.onLine === false) {
      this.refresh(); // offline: wait for the "online" event
      return;
    }
    if (this.py.needs_token()) {
      this.fetchToken().then(
        () => this.connect(),
        (e) => {
          console.warn("yloft relay: getToken failed", e);
          this.hooks.run(() => this.follow(JSON.parse(this.py.token_failed())));
        },
      );
      return;
    }
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.connects += 1;
      this.hooks.run(() => {
        if (this.ws === ws) this.py.opened();
        this.refresh();
      });
    };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") {
        this.drop(ws, CloseCode.UNSUPPORTED_DATA, "the relay sent a text frame");
        return;
      }
      const data = new Uint8Array(event.data);
      this.hooks.run(() => {
        if (this.ws !== ws) return;
        try {
          const status = JSON.parse(this.py.receive(data));
          const online = status.state === "online";
          if (online && !this.online) {
            this.hooks.onOnline?.();
            this.scheduleRenewal(ws);
          }
          this.online = online;
        } catch (e) {
          console.error("yloft relay: bad frame from the relay, reconnecting", e);
          this.drop(
            ws,
            CloseCode.PROTOCOL_ERROR,
            `protocol error: ${/** @type {Error} */ (e).message}`,
          );
        }
        this.refresh();
      });
    };
    ws.onclose = (event) => {
      if (this.ws === ws) this.drop(ws, event.code, event.reason);
    };
  }

  /**
   * The link is gone (closed, or dropped by us with `code`): tell the session and do
   * what it decides. A page may only send 1000 or 3000-4999, so any other reason of
   * ours goes to the relay as CLIENT_DROPPED; the session hears our own code.
   * @param {WebSocket} ws @param {number} code @param {string} reason
   */
  drop(ws, code, reason) {
    this.ws = null;
    this.online = false;
    this.pending = [];
    clearTimeout(this.renewTimer);
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
      const sent = code === CloseCode.NORMAL_CLOSURE ? code : CloseCode.CLIENT_DROPPED;
      ws.close(sent, reason.slice(0, 100));
    }
    this.hooks.run(() => {
      if (!this.py) return;
      this.follow(JSON.parse(this.py.closed(code, reason)));
      this.refresh();
    });
  }

  /** Run the session's decision: connect after its delay (asking for a token first when
   * it said renew: `needs_token()`), or stay down. @param {Decision} decision */
  follow(decision) {
    clearTimeout(this.timer);
    if (decision.action === "stop" || this.stopped) return;
    this.timer = setTimeout(() => this.connect(), decision.delay * 1000);
  }

  /** Ask the page for a new token and hand it to the session (for the next HELLO).
   * @returns {Promise<boolean>} true when the open link must be reopened to use it */
  async fetchToken() {
    if (!this.hooks.getToken) throw new Error("the relay needs a token and no getToken was given");
    this.fetching = true;
    try {
      const token = await this.hooks.getToken();
      if (typeof token !== "string" || !token) {
        throw new TypeError("getToken() must resolve to a token (a string)");
      }
      let reopen = false;
      await this.hooks.run(() => {
        reopen = Boolean(this.py?.set_token(token));
      });
      return reopen;
    } finally {
      this.fetching = false;
    }
  }

  /** Renew the token when the session says (ahead of its expiry), then reopen the link
   * with it. @param {WebSocket} ws */
  scheduleRenewal(ws) {
    clearTimeout(this.renewTimer);
    const delay = this.py.renew_in(Date.now() / 1000);
    if (delay == null) return;
    this.renewTimer = setTimeout(() => {
      this.fetchToken().then(
        (reopen) => {
          if (reopen && this.ws === ws)
            this.drop(ws, CloseCode.NORMAL_CLOSURE, "renewing the token");
        },
        (e) =>
          console.warn("yloft relay: renewing the token failed; the relay will close the link", e),
      );
    }, delay * 1000);
  }

  /** Python hands a frame to send; written after the writes behind it are durable. */
  send(/** @type {Uint8Array} */ frame) {
    if (!this.ws) return; // offline: the outbox keeps it, resent after WELCOME
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
    this.hooks.run(() => {
      if (this.py && this.ws) this.py.awareness(collection, docId, payload);
    });
  }

  /** Publish the session's status as `relay` in the worker's status. */
  refresh() {
    if (!this.py) return;
    this.hooks.setStatus({ relay: JSON.parse(this.py.status_json()) });
  }

  /** Close the socket and stop reconnecting. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.renewTimer);
    clearInterval(this.watch);
    self.removeEventListener("online", this.onOnline);
    self.removeEventListener("offline", this.onOffline);
    this.ws?.close(CloseCode.NORMAL_CLOSURE, "stopped");
    this.ws = null;
    if (this.py) {
      this.py.close();
      this.py.destroy();
      this.py = null;
    }
  }

  /** For tests and diagnostics. */
  info() {
    return {
      url: this.url,
      connects: this.connects,
      open: this.ws?.readyState === WebSocket.OPEN,
    };
  }
}
