// Volumes broken on purpose, one fault each: tests/e2e/test_storage_volumes.py runs the
// volume suite (volume-suite.js) with each and checks that the suite reports it. A bug
// patches the shipped volume classes until its restore function is called.

import { IdbVolume } from "../../web/worker/storage/idb-fs.js";
import { OpfsVolume } from "../../web/worker/storage/opfs-fs.js";

/**
 * Replace `obj[key]` with `make(original)`; return the function that puts it back.
 * @param {any} obj @param {string} key @param {(original: any) => Function} make
 */
function patch(obj, key, make) {
  const original = obj[key];
  obj[key] = make(original);
  return () => {
    obj[key] = original;
  };
}

/**
 * A method made of a function of the object it is called on (`self`) and its arguments.
 * @param {(self: any, ...args: any[]) => any} fn
 */
const method = (fn) =>
  /** @this {any} @param {any[]} args */
  function (...args) {
    return fn(this, ...args);
  };

/**
 * Give every file an IdbVolume hands out its own `name` method, made from the original.
 * @param {string} name @param {(original: Function) => Function} make
 */
function patchFiles(name, make) {
  /** @param {any} file */
  const broken = (file) => {
    if (file && !Object.hasOwn(file, name)) file[name] = make(file[name]);
    return file;
  };
  const undo = [
    patch(IdbVolume.prototype, "get", (get) => method((self, n) => broken(get.call(self, n)))),
    patch(IdbVolume.prototype, "create", (create) =>
      method((self, n) => broken(create.call(self, n))),
    ),
  ];
  return () => undo.forEach((f) => f());
}

/** @type {Record<string, () => () => void>} bug name: apply it, get its undo */
export const BUGS = {
  "get-creates-missing-files": () =>
    patch(IdbVolume.prototype, "get", () =>
      method((self, name) => self.files.get(name) ?? self.create(name)),
    ),
  "write-drops-last-byte": () =>
    patchFiles("write", (write) =>
      method((self, src, at) => {
        write.call(self, src.subarray(0, src.length - 1), at);
        return src.length;
      }),
    ),
  "write-appends": () =>
    patchFiles("write", (write) =>
      method((self, src, at) => write.call(self, src, Math.max(at, self.size))),
    ),
  "gap-not-zeroed": () =>
    patchFiles("write", (write) =>
      method((self, src, at) => {
        if (at > self.size) write.call(self, new Uint8Array(at - self.size).fill(0xee), self.size);
        return write.call(self, src, at);
      }),
    ),
  "read-ignores-end": () =>
    patchFiles("read", (read) =>
      method((self, dst, at) => {
        read.call(self, dst, at);
        return dst.length;
      }),
    ),
  "shrink-keeps-bytes": () =>
    patchFiles("truncate", (truncate) =>
      method((self, size) => {
        if (size >= self.size) return truncate.call(self, size);
        self.size = size; // the bytes past it stay in the buffer, to come back on growth
        self.metaDirty = true;
      }),
    ),
  "remove-is-ignored": () => patch(IdbVolume.prototype, "remove", () => () => {}),
  "suffixes-share-a-file": () =>
    patch(IdbVolume.prototype, "get", (get) =>
      method(
        (self, name) => get.call(self, name.replace(/-(wal|journal)$/, "")) ?? get.call(self, name),
      ),
    ),
  "sync-stores-nothing": () => patch(IdbVolume.prototype, "sync", () => () => {}),
  "sync-forgets-removals": () =>
    patch(IdbVolume.prototype, "sync", (sync) =>
      method((self) => {
        self.removed.clear();
        return sync.call(self);
      }),
    ),
  "opfs-remove-keeps-bytes": () =>
    patch(OpfsVolume.prototype, "remove", () =>
      method((self, name) => {
        const file = self.files.get(name);
        if (file) file.exists = false; // not truncated: a reopen finds its bytes again
      }),
    ),
};
