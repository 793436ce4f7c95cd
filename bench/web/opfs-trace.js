// The storage lab's I/O trace (tests replay it to model power loss): every write,
// truncate and flush the OPFS volume makes on its sync access handles, in order, with
// the bytes written. Recorded by wrapping the handles navigator.storage hands out, so
// the shipped volume (web/worker/storage/opfs-fs.js) records nothing itself.
//
//   traceOpfs(true);                    // before mountStorage(): its handles are traced
//   ... commits ...
//   takeTrace();  // [["w", name, at, bytes], ["t", name, size], ["f", name], ...]

/** @type {any[]} */
let events = [];
/** @type {(() => Promise<FileSystemDirectoryHandle>) | null} */
let untraced = null;

/**
 * Trace the handles of directories got from now on (`on`), or stop wrapping new ones.
 * @param {boolean} on
 */
export function traceOpfs(on) {
  const storage = navigator.storage;
  if (on && !untraced) {
    const original = storage.getDirectory.bind(storage);
    untraced = original;
    storage.getDirectory = async () => tracedDir(await original());
  } else if (!on && untraced) {
    storage.getDirectory = untraced;
    untraced = null;
  }
}

/** The events recorded since the last call. */
export function takeTrace() {
  const out = events;
  events = [];
  return out;
}

/**
 * @param {FileSystemDirectoryHandle} dir
 * @returns {FileSystemDirectoryHandle}
 */
function tracedDir(dir) {
  return wrap(dir, {
    /** @param {string} name @param {FileSystemGetDirectoryOptions} [options] */
    getDirectoryHandle: async (name, options) =>
      tracedDir(await dir.getDirectoryHandle(name, options)),
    /** @param {string} name @param {FileSystemGetFileOptions} [options] */
    getFileHandle: async (name, options) => {
      const handle = await dir.getFileHandle(name, options);
      return wrap(handle, {
        createSyncAccessHandle: async () =>
          tracedAccess(await /** @type {any} */ (handle).createSyncAccessHandle(), name),
      });
    },
  });
}

/**
 * `target` with some methods replaced; every other member is the target's own.
 * @template {object} T
 * @param {T} target @param {Record<string, Function>} methods
 * @returns {T}
 */
function wrap(target, methods) {
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === "string" && prop in methods) return methods[prop];
      const value = Reflect.get(t, prop, t);
      return typeof value === "function" ? value.bind(t) : value;
    },
  });
}

/**
 * A sync access handle that records its writes, truncates and flushes.
 * @param {any} handle @param {string} name
 */
function tracedAccess(handle, name) {
  return {
    getSize: () => handle.getSize(),
    /** @param {Uint8Array} dst @param {{at: number}} options */
    read: (dst, options) => handle.read(dst, options),
    /** @param {Uint8Array} src @param {{at: number}} options */
    write(src, options) {
      const n = handle.write(src, options);
      events.push(["w", name, options.at, src.slice(0, n)]);
      return n;
    },
    /** @param {number} size */
    truncate(size) {
      handle.truncate(size);
      events.push(["t", name, size]);
    },
    flush() {
      handle.flush();
      events.push(["f", name]);
    },
    close: () => handle.close(),
  };
}
