// Relay tokens asked of the page (connect({relay: {getToken}})): the engine's worker
// posts "get-token" and the page answers with "token". I/O only; the relay sync decides
// when to ask (yloft.sync.policy).

/** Relay tokens asked of the page: `ask()` posts "get-token", `answer(msg)` settles it. */
export class TokenRequests {
  constructor() {
    /** @type {Map<number, {resolve: (token: string) => void, reject: (e: Error) => void}>} */
    this.waiters = new Map();
    this.count = 0;
  }

  /** @returns {Promise<string>} the page's `relay.getToken()` */
  ask() {
    return new Promise((resolve, reject) => {
      const id = ++this.count;
      this.waiters.set(id, { resolve, reject });
      postMessage({ type: "get-token", id });
    });
  }

  /** @param {{id: number, token?: string, error?: string}} msg the page's "token" message */
  answer(msg) {
    const waiter = this.waiters.get(msg.id);
    this.waiters.delete(msg.id);
    if (msg.error) waiter?.reject(new Error(msg.error));
    else waiter?.resolve(msg.token ?? "");
  }
}
