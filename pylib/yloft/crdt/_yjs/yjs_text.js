// @ts-check
// Text offsets for yloft's Yjs engine: pycrdt (yrs) counts Text positions in UTF-8
// bytes, Yjs in UTF-16 code units. Hosts register this module's exports together with
// yjs_helpers.js' as the Pyodide JS module `yloft_js`; Python calls `textHelpers(Y)`
// once (yloft.crdt._yjs._js).

/** @typedef {typeof import("yjs")} Yjs the `yjs` module */
/** @typedef {import("yjs").Doc} YDoc */
/** @typedef {import("yjs").AbstractType<any>} YType any shared type (a root may be untyped) */
/** @typedef {import("yjs").Text} YText */
/** @typedef {import("yjs").Transaction} YTransaction */
/** @typedef {{[key: string]: any}} TextAttributes formatting attributes (JSON values) */
/** @typedef {{insert?: string, delete?: number, retain?: number}} DeltaOp counts in UTF-8 bytes */
/** @typedef {{ascii: boolean}} TextState */

/**
 * The text helpers: UTF-8 offsets, inserts, deletes, formats and deltas in bytes.
 * @param {Yjs} Y the `yjs` module
 */
export function textHelpers(Y) {
  // pycrdt (yrs) indexes Text by UTF-8 bytes; Yjs by UTF-16 code units. These helpers
  // translate. A per-text flag remembers "all ASCII" (offsets then agree, no scan);
  // it is dropped (rechecked on next use) when a remote update changes that text.
  /** @type {WeakMap<YText, TextState>} */
  const textState = new WeakMap();
  /**
   * @param {string} s
   * @returns {boolean}
   */
  const isAscii = (s) => {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
    return true;
  };
  /**
   * @param {string} s
   * @returns {number} its length in UTF-8 bytes
   */
  const utf8Len = (s) => {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c < 0xdc00) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  };
  /**
   * @param {YText} ytext
   * @returns {TextState}
   */
  const ascii = (ytext) => {
    let st = textState.get(ytext);
    if (st === undefined) {
      st = { ascii: isAscii(ytext.toString()) };
      textState.set(ytext, st);
    }
    return st;
  };
  // Local edits go through the helpers below, which keep the flag right; a remote
  // update (a non-local transaction) drops the flag of every text it changed.
  /**
   * @param {YDoc} doc
   * @returns {void}
   */
  const trackTexts = (doc) => {
    doc.on("afterTransaction", (tr) => {
      if (tr.local) return;
      tr.changed.forEach((_, type) => {
        if (type instanceof Y.Text) textState.delete(type);
      });
    });
  };
  // UTF-16 offset of a UTF-8 byte offset (a byte inside a character counts as after it).
  /**
   * @param {string} s
   * @param {number} bytes
   * @returns {number}
   */
  const toUnits = (s, bytes) => {
    let b = 0,
      i = 0;
    while (i < s.length && b < bytes) {
      const c = s.charCodeAt(i);
      if (c < 0x80) b += 1;
      else if (c < 0x800) b += 2;
      else if (c >= 0xd800 && c < 0xdc00) {
        b += 4;
        i++;
      } else b += 3;
      i++;
    }
    return i;
  };
  /**
   * @param {YText} ytext
   * @returns {number} its length in UTF-8 bytes
   */
  const textLength = (ytext) => (ascii(ytext).ascii ? ytext.length : utf8Len(ytext.toString()));
  /**
   * @param {YText} ytext
   * @param {number} index in UTF-8 bytes
   * @param {string} str
   * @param {TextAttributes} [attrs] undefined (Python None) for none
   * @returns {void}
   */
  const textInsert = (ytext, index, str, attrs) => {
    const st = ascii(ytext);
    const at = st.ascii ? index : toUnits(ytext.toString(), index);
    if (attrs === undefined) ytext.insert(at, str);
    else ytext.insert(at, str, attrs);
    if (st.ascii && !isAscii(str)) st.ascii = false;
  };
  // Delete `length` bytes at byte `index`; returns how many bytes could not be deleted.
  /**
   * @param {YText} ytext
   * @param {number} index in UTF-8 bytes
   * @param {number} length in UTF-8 bytes
   * @returns {number}
   */
  const textDelete = (ytext, index, length) => {
    const st = ascii(ytext);
    if (st.ascii) {
      const missing = Math.max(0, index + length - ytext.length);
      if (missing === 0) ytext.delete(index, length);
      return missing;
    }
    const s = ytext.toString();
    const total = utf8Len(s);
    const missing = Math.max(0, index + length - total);
    if (missing === 0) {
      const from = toUnits(s, index);
      ytext.delete(from, toUnits(s, index + length) - from);
    }
    return missing;
  };
  /**
   * @param {YText} ytext
   * @param {number} index in UTF-8 bytes
   * @param {number} length in UTF-8 bytes
   * @param {TextAttributes} attrs
   * @returns {void}
   */
  const textFormat = (ytext, index, length, attrs) => {
    if (ascii(ytext).ascii) {
      ytext.format(index, length, attrs);
      return;
    }
    const s = ytext.toString();
    const from = toUnits(s, index);
    ytext.format(from, toUnits(s, index + length) - from, attrs);
  };
  // A text event's delta with UTF-8 byte counts, or undefined to use Yjs's own delta
  // (formatted text, where attributes matter, or nothing but ASCII involved).
  /**
   * @param {import("yjs").YTextEvent} event
   * @returns {DeltaOp[] | undefined}
   */
  const textDelta = (event) => {
    /** @type {DeltaOp[]} */
    const out = [];
    let ascii = true;
    /**
     * @param {keyof DeltaOp} op
     * @param {string | number} n a string for "insert", a number otherwise
     */
    const push = (op, n) => {
      const last = out[out.length - 1];
      // Strings add to the insert op's string and numbers to a count; TS cannot tie the
      // type of `n` to `op`, hence the cast.
      if (last !== undefined && op in last) /** @type {any} */ (last)[op] += n;
      else out.push({ [op]: n });
    };
    for (let item = event.target._start; item !== null; item = item.right) {
      const c = item.content;
      if (c instanceof Y.ContentFormat || c instanceof Y.ContentEmbed) return undefined;
      if (c instanceof Y.ContentType) return undefined;
      const str = c instanceof Y.ContentString ? c.str : "";
      if (!isAscii(str)) ascii = false;
      if (event.adds(item)) {
        if (!event.deletes(item) && str) push("insert", str);
      } else if (event.deletes(item)) {
        push("delete", utf8Len(str));
      } else if (!item.deleted) {
        push("retain", utf8Len(str));
      }
    }
    if (ascii) return undefined;
    if (out.length && "retain" in out[out.length - 1]) out.pop();
    return out;
  };

  return { textLength, textInsert, textDelete, textDelta, textFormat, trackTexts };
}
