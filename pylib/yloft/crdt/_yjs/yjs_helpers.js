// @ts-check
// The JavaScript side of yloft's Yjs engine (yloft.crdt in Pyodide), in one module.
//
// Hosts register it as the Pyodide JS module `yloft_js` next to `yjs`
// (`pyodide.registerJsModule("yloft_js", await import(<this file>))`); it ships in the
// yloft wheel at yloft/crdt/_yjs/yjs_helpers.js. Python calls `helpers(Y)` once
// (yloft.crdt._yjs._js) and `fastHelpers(Y)` once (yloft.crdt._fast): each returns plain
// functions, so no proxy is created per call.

/** @typedef {typeof import("yjs")} Yjs the `yjs` module */
/** @typedef {import("yjs").Doc} YDoc */
/** @typedef {import("yjs").AbstractType<any>} YType any shared type (a root may be untyped) */
/** @typedef {import("yjs").Text} YText */
/** @typedef {import("yjs").Map<any>} YMap a map of any Yjs-storable value */
/** @typedef {import("yjs").Array<any>} YArray an array of any Yjs-storable value */
/** @typedef {import("yjs").Transaction} YTransaction */
/** @typedef {import("yjs").Transaction["deleteSet"]} DeleteSet (yjs does not export the class) */
/** @typedef {{[key: string]: any}} TextAttributes formatting attributes (JSON values) */
/** @typedef {{insert?: string, delete?: number, retain?: number}} DeltaOp counts in UTF-8 bytes */
/** @typedef {{ascii: boolean}} TextState */
/** @typedef {"t" | "m" | "a"} RootLetter a root's type in fastHelpers' read spec */
/** @typedef {{copy: YDoc, listener: (update: Uint8Array, origin: unknown) => void}} Shadow */

/**
 * The Yjs engine's helpers: transactions across Python calls, value kinds, UTF-8 text
 * offsets, vetted updates and one-call hot paths.
 * @param {Yjs} Y the `yjs` module
 */
export function helpers(Y) {
  // Open a transaction that stays open until end(doc) is called. Yjs's transact()
  // pushes a new Transaction and emits beforeAllTransactions/beforeTransaction; by
  // swapping doc._transaction inside the callback we keep it from cleaning up.
  /**
   * @param {YDoc} doc
   * @param {unknown} origin the transaction's origin (a Python-side token)
   * @returns {void}
   */
  const begin = (doc, origin) => {
    /** @type {YTransaction | null} */
    let opened = null;
    // The `{}` put in its place is no Transaction: it only has to differ from the one
    // transact() opened, so that transact() does not clean that one up on return.
    Y.transact(
      doc,
      (t) => {
        opened = t;
        doc._transaction = /** @type {YTransaction} */ (/** @type {unknown} */ ({}));
      },
      origin,
      true,
    );
    doc._transaction = opened;
  };
  // Close it: let a fresh transact() run its cleanup (observers, 'update' events)
  // on our transaction by putting it back as the current one inside the callback.
  /**
   * @param {YDoc} doc
   * @returns {void}
   */
  const end = (doc) => {
    const ours = doc._transaction;
    if (ours === null) return;
    doc._transaction = null;
    Y.transact(doc, () => {
      doc._transactionCleanups.pop();
      doc._transaction = ours;
    });
  };
  /**
   * @param {YType} v a root whose class is still AbstractType
   * @returns {number} the kind its content shows
   */
  const inferRoot = (v) => {
    // A root type created by a remote update and never typed locally.
    if (v._start !== null) {
      const c = v._start.content;
      return c instanceof Y.ContentString || c instanceof Y.ContentFormat ? 12 : 11;
    }
    return v._map.size > 0 ? 10 : 14;
  };
  /**
   * @param {unknown} v any value read from Yjs
   * @returns {number} its kind (K_* in _js.py)
   */
  const kind = (v) => {
    if (v === null || v === undefined) return 0;
    switch (typeof v) {
      case "number":
        return 1;
      case "bigint":
        return 2;
      case "string":
        return 3;
      case "boolean":
        return 4;
    }
    if (v instanceof Uint8Array) return 5;
    if (Array.isArray(v)) return 6;
    if (v instanceof Y.Map) return 10;
    if (v instanceof Y.Array) return 11;
    if (v instanceof Y.Text) return 12;
    if (v instanceof Y.Doc) return 13;
    if (v instanceof Y.AbstractType) {
      return v.constructor === Y.AbstractType ? inferRoot(v) : 14;
    }
    return 7;
  };
  /**
   * @param {YMap} ymap
   * @returns {string[]}
   */
  const keys = (ymap) => Array.from(ymap.keys());
  /**
   * @param {YDoc} doc
   * @returns {string[]}
   */
  const rootNames = (doc) => Array.from(doc.share.keys());
  // A root, typed: an untyped root (from a remote update) becomes the type its
  // content shows, as Yjs does when doc.getMap/getArray/getText is called.
  /**
   * @param {YDoc} doc
   * @param {string} name
   * @returns {YType | undefined}
   */
  const root = (doc, name) => {
    const v = doc.share.get(name);
    if (v === undefined || v.constructor !== Y.AbstractType) return v;
    switch (inferRoot(v)) {
      case 10:
        return doc.getMap(name);
      case 11:
        return doc.getArray(name);
      case 12:
        return doc.getText(name);
    }
    return v;
  };
  // Copy a JS Map<number, number> (a state vector) into [client, clock, ...].
  /**
   * @param {Map<number, number>} m
   * @returns {number[]}
   */
  const flatMap = (m) => {
    /** @type {number[]} */
    const out = [];
    m.forEach((v, k) => out.push(k, v));
    return out;
  };
  // A transaction's delete set as [client, n, clock, len, clock, len, ..., client, ...].
  /**
   * @param {DeleteSet} ds
   * @returns {number[]}
   */
  const flatDeleteSet = (ds) => {
    /** @type {number[]} */
    const out = [];
    ds.clients.forEach((items, client) => {
      out.push(client, items.length);
      for (const it of items) out.push(it.clock, it.len);
    });
    return out;
  };
  // Why `update` cannot be applied to `doc`, or undefined if it can. Decoding alone
  // does not catch everything: Yjs can throw half-way through integrating a decodable
  // but inconsistent update, leaving it half-applied. So the update is first applied
  // to a copy: a throw-away empty one when the document is empty, otherwise a shadow
  // copy kept in step with the document through its 'update' events. That costs one
  // extra apply of the update (not of the document) and the shadow's memory.
  /** @type {WeakMap<YDoc, Shadow>} */
  const shadows = new WeakMap();
  // The origin of applyChecked's own Yjs transaction: its 'update' event carries only
  // what the shadow was just given, so the listener skips it (re-applying it cost
  // ~4x a bare apply). Python sees this origin as None (only int tokens map back).
  const VETTED = Object.freeze({ vetted: true });
  /**
   * @param {any} e anything thrown
   * @returns {string}
   */
  const message = (e) => String(e && e.message !== undefined ? e.message : e);
  /**
   * @param {YDoc} doc
   * @returns {void}
   */
  const dropShadow = (doc) => {
    const sh = shadows.get(doc);
    if (sh === undefined) return;
    shadows.delete(doc);
    doc.off("update", sh.listener);
    sh.copy.destroy();
  };
  /**
   * @param {YDoc} doc
   * @returns {Shadow}
   */
  const shadowOf = (doc) => {
    let sh = shadows.get(doc);
    if (sh === undefined) {
      const copy = new Y.Doc({ gc: doc.gc });
      Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
      /**
       * @param {Uint8Array} u
       * @param {unknown} origin
       */
      const listener = (u, origin) => {
        // Every committed change is mirrored, except applyChecked's own transaction:
        // the copy already holds it. (A transaction an observer opens during it has
        // another origin and is mirrored.)
        if (origin === VETTED) return;
        try {
          Y.applyUpdate(copy, u);
        } catch (e) {
          dropShadow(doc); // rebuilt from the document on the next apply
        }
      };
      doc.on("update", listener);
      sh = { copy, listener };
      shadows.set(doc, sh);
    }
    return sh;
  };
  // For tests: the shadow's state vector (undefined when there is no shadow).
  /**
   * @param {YDoc} doc
   * @returns {Uint8Array | undefined}
   */
  const shadowState = (doc) => {
    const sh = shadows.get(doc);
    return sh === undefined ? undefined : Y.encodeStateVector(sh.copy);
  };
  /**
   * @param {YDoc} doc
   * @returns {boolean}
   */
  const isEmpty = (doc) =>
    doc.store.clients.size === 0 &&
    doc.store.pendingStructs === null &&
    doc.store.pendingDs === null;
  /**
   * @param {YDoc} doc
   * @param {Uint8Array} update
   * @returns {string | undefined}
   */
  const updateError = (doc, update) => {
    try {
      Y.decodeUpdate(update);
    } catch (e) {
      return message(e);
    }
    if (!shadows.has(doc) && isEmpty(doc)) {
      const scratch = new Y.Doc({ gc: doc.gc });
      try {
        Y.applyUpdate(scratch, update);
      } catch (e) {
        return message(e);
      } finally {
        scratch.destroy();
      }
      return undefined;
    }
    try {
      Y.applyUpdate(shadowOf(doc).copy, update);
    } catch (e) {
      dropShadow(doc);
      return message(e);
    }
    return undefined;
  };
  // Vet then apply `update`; keep the client id (Yjs changes it when an update carries
  // changes under it, pycrdt does not). Returns why it was refused, or undefined.
  /**
   * @param {YDoc} doc
   * @param {Uint8Array} update
   * @returns {string | undefined}
   */
  const applyChecked = (doc, update) => {
    const error = updateError(doc, update);
    if (error !== undefined) return error;
    const clientID = doc.clientID;
    Y.applyUpdate(doc, update, VETTED); // inside an open transaction, its origin stays
    if (doc._transaction === null) doc.clientID = clientID;
    return undefined;
  };
  // Calling a module-level helper costs one FFI call; looking a method up on a JsProxy
  // (ymap.set) costs about as much again, so the hot paths go through these.
  /**
   * @param {YMap} m
   * @param {string} k
   * @param {unknown} v
   * @returns {void}
   */
  const mapSet = (m, k, v) => {
    m.set(k, v);
  };
  /**
   * @param {YMap} m
   * @param {string} k
   * @returns {unknown}
   */
  const mapGet = (m, k) => m.get(k);
  /**
   * @param {YMap} m
   * @param {string} k
   * @returns {boolean}
   */
  const mapHas = (m, k) => m.has(k);
  /**
   * @param {YMap} m
   * @param {string} k
   * @returns {void}
   */
  const mapDelete = (m, k) => {
    m.delete(k);
  };
  /**
   * @param {YMap} m
   * @returns {number}
   */
  const mapSize = (m) => m.size;
  /**
   * @param {YMap} m
   * @param {string[]} keys
   * @param {unknown[]} values as many as keys
   * @returns {void}
   */
  const mapSetMany = (m, keys, values) => {
    for (let i = 0; i < keys.length; i++) m.set(keys[i], values[i]);
  };
  /**
   * @param {YArray} a
   * @param {number} i
   * @param {unknown[]} values
   * @returns {void}
   */
  const arrayInsert = (a, i, values) => {
    a.insert(i, values);
  };
  /**
   * @param {YArray} a
   * @param {number} i
   * @param {number} n
   * @returns {void}
   */
  const arrayDelete = (a, i, n) => {
    a.delete(i, n);
  };
  /**
   * @param {YArray} a
   * @returns {number}
   */
  const arrayLength = (a) => a.length;
  /**
   * @param {YArray} a
   * @returns {unknown[]}
   */
  const arrayItems = (a) => a.toArray();
  /**
   * @param {YText} t
   * @returns {string}
   */
  const textString = (t) => t.toString();
  /**
   * @param {YType} t a Y.Map or Y.Array
   * @returns {unknown} its JSON value
   */
  const toJSON = (t) => t.toJSON();
  /**
   * @param {unknown} x
   * @returns {unknown[]}
   */
  const list1 = (x) => [x];
  // Pyodide treats a JsProxy's .get() as Mapping.get, so array reads go through here.
  /**
   * @param {YArray} yarray
   * @param {number} i
   * @returns {unknown}
   */
  const at = (yarray, i) => yarray.get(i);
  return {
    begin,
    end,
    kind,
    keys,
    rootNames,
    root,
    flatMap,
    flatDeleteSet,
    list1,
    at,
    updateError,
    applyChecked,
    shadowState,
    mapSet,
    mapGet,
    mapHas,
    mapDelete,
    mapSize,
    mapSetMany,
    arrayInsert,
    arrayDelete,
    arrayLength,
    arrayItems,
    textString,
    toJSON,
  };
}

/**
 * One-call reads and writes of whole roots for the store (yloft.crdt._fast).
 * @param {Yjs} Y the `yjs` module
 */
export function fastHelpers(Y) {
  // Byte strings as lists of ints and big ints as numbers, as yrs's JSON has them.
  /**
   * A JSON.stringify replacer.
   * @param {string} k
   * @param {unknown} v
   * @returns {unknown}
   */
  const plain = (k, v) =>
    v instanceof Uint8Array ? Array.from(v) : typeof v === "bigint" ? Number(v) : v;
  /** @type {Record<RootLetter, [new () => YType, unknown]>} */
  const KINDS = { t: [Y.Text, ""], m: [Y.Map, {}], a: [Y.Array, []] };
  // spec: [[name, "t"|"m"|"a"], ...]. A root of another type reads as empty (pycrdt
  // reads a map root as the empty string too) instead of throwing.
  /**
   * @param {YDoc} doc
   * @param {string} spec JSON, [[name, "t"|"m"|"a"], ...]
   * @returns {string} JSON, the roots' values in spec's order
   */
  const read = (doc, spec) => {
    /** @type {unknown[]} */
    const out = [];
    for (const [name, kind] of /** @type {[string, RootLetter][]} */ (JSON.parse(spec))) {
      const [type, empty] = KINDS[kind];
      let value;
      try {
        const root = doc.get(name, type);
        value = kind === "t" ? root.toString() : root.toJSON();
      } catch (e) {
        value = empty;
      }
      out.push(value);
    }
    return JSON.stringify(out, plain);
  };
  /**
   * @param {YDoc} doc
   * @param {string} name
   * @param {string} items JSON, an object: its entries are set in the map root `name`
   * @returns {void}
   */
  const write = (doc, name, items) => {
    const map = doc.getMap(name);
    for (const [k, v] of Object.entries(JSON.parse(items))) map.set(k, v);
  };
  /**
   * Whether a document with state vector `state` holds every struct of each update:
   * the diff of each against the state has no struct groups (its first varuint is 0).
   * @param {Uint8Array} state
   * @param {Uint8Array} packed the updates, one after the other
   * @param {number[]} ends where each update ends in `packed`
   * @returns {boolean}
   */
  const covered = (state, packed, ends) => {
    let start = 0;
    for (const end of ends) {
      if (Y.diffUpdate(packed.subarray(start, end), state)[0] !== 0) return false;
      start = end;
    }
    return true;
  };
  return { read, write, covered };
}
