// A flat Emscripten file system over a "volume" of files kept somewhere else (OPFS sync
// access handles, or memory mirrored to IndexedDB). One directory, no subdirectories:
// exactly what SQLite needs for one database (the file and its journal or WAL).
//
// The volume decides where bytes go; this module only speaks Emscripten's FS protocol
// (node_ops / stream_ops) and turns every failure into an errno, so that Python sees an
// OSError (and SQLite an I/O error) instead of the runtime dying on a JS exception.

/**
 * One file of a volume. Sizes are cached by the volume: `size` is never a slow call.
 * @typedef {object} VolumeFile
 * @property {string} name
 * @property {number} size
 * @property {(dst: Uint8Array, position: number) => number} read   bytes read
 * @property {(src: Uint8Array, position: number) => number} write  bytes written
 * @property {(size: number) => void} truncate
 */

/**
 * What the file system needs from a volume.
 * @typedef {object} Volume
 * @property {() => string[]} list                 names of the files that exist
 * @property {(name: string) => VolumeFile | undefined} get  an existing file
 * @property {(name: string) => VolumeFile} create  make a file exist (empty), or throw
 * @property {(name: string) => void} remove       make a file not exist
 * @property {() => void} sync                     make everything written so far durable
 */

/** Thrown by volumes for failures that have a natural errno. */
export class VolumeError extends Error {
  /**
   * @param {string} code  an errno name such as "ENOSPC", "EPERM", "EIO"
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = "VolumeError";
    this.code = code;
  }
}

const DIR_MODE = 0o40777;

/**
 * Emscripten hands us HEAP8, an Int8Array: view the same bytes as a Uint8Array so that
 * copies are plain memcpy and no value is sign-converted.
 * @param {ArrayBufferView} buffer @param {number} offset @param {number} length
 */
const bytesOf = (buffer, offset, length) =>
  new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length);
const FILE_MODE = 0o100666;

/**
 * Build an Emscripten file-system type for one volume; mount it with
 * `FS.mount(type, {}, "/yloft")`.
 *
 * Example:
 *   const type = createVolumeFS(pyodide.FS, pyodide.ERRNO_CODES, volume, report);
 *   pyodide.FS.mkdirTree("/yloft");
 *   pyodide.FS.mount(type, {}, "/yloft");
 *
 * @param {any} FS  the Emscripten FS object (`pyodide.FS`)
 * @param {Record<string, number>} ERRNO  `pyodide.ERRNO_CODES`
 * @param {Volume} volume
 * @param {(error: unknown) => void} [onError]  sees every failure before it becomes an errno
 * @returns {object} the FS type
 */
export function createVolumeFS(FS, ERRNO, volume, onError = () => {}) {
  /** @param {unknown} e @returns {never} */
  function fail(e) {
    if (e instanceof FS.ErrnoError) throw e;
    onError(e);
    const err = /** @type {any} */ (e);
    let code = "EIO";
    if (err instanceof VolumeError) code = err.code;
    else if (err?.name === "QuotaExceededError") code = "ENOSPC";
    throw new FS.ErrnoError(ERRNO[code] ?? ERRNO.EIO);
  }

  // SQLite's WAL index ("NAME.db-shm") is shared memory, never needed on disk (SQLite
  // rebuilds it from the WAL): it lives in MEMFS nodes, which support mmap. This lets WAL
  // work in NORMAL locking mode too, whatever order the PRAGMAs come in.
  /** @type {Map<string, any>} */
  const memoryNodes = new Map();

  /** @param {any} node */
  const fileOf = (node) => {
    const file = volume.get(node.name);
    if (!file) throw new FS.ErrnoError(ERRNO.ENOENT);
    return file;
  };

  /** @param {any} node @param {number} size */
  const attrs = (node, size) => ({
    dev: 7,
    ino: node.id,
    mode: node.mode,
    nlink: 1,
    uid: 0,
    gid: 0,
    rdev: 0,
    size,
    atime: new Date(node.atime),
    mtime: new Date(node.mtime),
    ctime: new Date(node.ctime),
    blksize: 4096,
    blocks: Math.ceil(size / 4096),
  });

  /** @param {any} node @param {any} attr */
  const setTimes = (node, attr) => {
    for (const key of ["mode", "atime", "mtime", "ctime"]) {
      if (attr[key] != null) node[key] = attr[key];
    }
  };

  const fileNodeOps = {
    /** @param {any} node */
    getattr(node) {
      return attrs(node, fileOf(node).size);
    },
    /** @param {any} node @param {any} attr */
    setattr(node, attr) {
      setTimes(node, attr);
      if (attr.size !== undefined) {
        try {
          fileOf(node).truncate(attr.size);
          node.mtime = node.ctime = Date.now();
        } catch (e) {
          fail(e);
        }
      }
    },
  };

  const fileStreamOps = {
    /**
     * @param {any} stream @param {Uint8Array} buffer
     * @param {number} offset @param {number} length @param {number} position
     */
    read(stream, buffer, offset, length, position) {
      try {
        return fileOf(stream.node).read(bytesOf(buffer, offset, length), position);
      } catch (e) {
        return fail(e);
      }
    },
    /**
     * @param {any} stream @param {Uint8Array} buffer
     * @param {number} offset @param {number} length @param {number} position
     */
    write(stream, buffer, offset, length, position) {
      if (!length) return 0;
      try {
        const n = fileOf(stream.node).write(bytesOf(buffer, offset, length), position);
        stream.node.mtime = stream.node.ctime = Date.now();
        return n;
      } catch (e) {
        return fail(e);
      }
    },
    /** @param {any} stream @param {number} offset @param {number} whence */
    llseek(stream, offset, whence) {
      let position = offset;
      if (whence === 1) position += stream.position;
      else if (whence === 2) position += fileOf(stream.node).size;
      if (position < 0) throw new FS.ErrnoError(ERRNO.EINVAL);
      return position;
    },
    /** fsync on any file of the mount makes the whole volume durable. */
    fsync() {
      try {
        volume.sync();
      } catch (e) {
        fail(e);
      }
      return 0;
    },
  };

  /** @param {any} parent @param {string} name */
  function fileNode(parent, name) {
    const node = FS.createNode(parent, name, FILE_MODE, 0);
    node.node_ops = fileNodeOps;
    node.stream_ops = fileStreamOps;
    return node;
  }

  const dirNodeOps = {
    /** @param {any} node */
    getattr(node) {
      return attrs(node, 4096);
    },
    /** @param {any} node @param {any} attr */
    setattr(node, attr) {
      setTimes(node, attr);
    },
    /** @param {any} parent @param {string} name */
    lookup(parent, name) {
      const mem = memoryNodes.get(name);
      if (mem) return mem;
      if (!volume.get(name)) throw new FS.ErrnoError(ERRNO.ENOENT);
      return fileNode(parent, name);
    },
    /** @param {any} parent @param {string} name @param {number} mode */
    mknod(parent, name, mode) {
      if (!FS.isFile(mode)) throw new FS.ErrnoError(ERRNO.EPERM);
      if (name.endsWith("-shm")) {
        const node = FS.filesystems.MEMFS.createNode(parent, name, mode, 0);
        memoryNodes.set(name, node);
        return node;
      }
      try {
        volume.create(name);
      } catch (e) {
        fail(e);
      }
      parent.mtime = parent.ctime = Date.now();
      return fileNode(parent, name);
    },
    /** @param {any} parent @param {string} name */
    unlink(parent, name) {
      if (memoryNodes.delete(name)) {
        delete parent.contents[name];
        return;
      }
      try {
        volume.remove(name);
      } catch (e) {
        fail(e);
      }
      parent.mtime = parent.ctime = Date.now();
    },
    rename() {
      throw new FS.ErrnoError(ERRNO.EXDEV);
    },
    rmdir() {
      throw new FS.ErrnoError(ERRNO.ENOTDIR);
    },
    symlink() {
      throw new FS.ErrnoError(ERRNO.EPERM);
    },
    /** @param {any} _node */
    readdir(_node) {
      return [".", "..", ...volume.list(), ...memoryNodes.keys()];
    },
  };

  return {
    /** @param {any} _mount */
    mount(_mount) {
      const root = FS.createNode(null, "/", DIR_MODE, 0);
      root.contents = {}; // where MEMFS.createNode files the in-memory -shm nodes
      root.node_ops = dirNodeOps;
      root.stream_ops = {
        /** @param {any} stream @param {number} offset @param {number} whence */
        llseek(stream, offset, whence) {
          const position = whence === 1 ? stream.position + offset : offset;
          if (position < 0) throw new FS.ErrnoError(ERRNO.EINVAL);
          return position;
        },
      };
      return root;
    },
  };
}

/** A storage failure the page can act on; `name` tells which one. */
export class StorageError extends Error {
  /**
   * @param {"StorageLockedError" | "StorageUnavailableError" | "StorageNameError" | "StorageQuotaError" | "StorageWriteError"} name
   * @param {string} message  says what happened and what to do
   * @param {{cause?: unknown}} [options]
   */
  constructor(name, message, options) {
    super(message, options);
    this.name = name;
  }
}
