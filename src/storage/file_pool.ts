/**
 * A bounded pool of open file descriptors shared by every segment of every partition on a
 * node. Thousands of partitions must not exhaust the process's file-handle limit, so files are
 * opened lazily and the least recently used descriptor is closed when the pool is full.
 * Closing a descriptor loses nothing: written data stays in the page cache and `fdatasync` on
 * a reopened descriptor flushes the same inode.
 *
 * This is the only storage file that calls the operating system for segment data.
 */
import fs from "node:fs";
import { isNoSpaceError, StorageError } from "../util/mod.ts";

/** Default upper bound on descriptors held open by one pool. */
export const DEFAULT_MAX_OPEN_FILES = 512;

/** Wraps an OS error in a `StorageError` naming the action. */
export function wrapIoError(action: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new StorageError(
    isNoSpaceError(err) ? "no_space" : "io",
    `${action}: ${detail}`,
    { cause: err },
  );
}

/** An LRU set of open descriptors keyed by path. */
export class FilePool {
  readonly maxOpen: number;
  // Map iteration order is insertion order; re-inserting on use makes it an LRU.
  #open = new Map<string, number>();
  // Descriptors in use by an in-flight fdatasync must not be closed: the number could be
  // reused by another file and the sync would then cover the wrong one.
  #pinned = new Map<string, number>();

  constructor(maxOpen = DEFAULT_MAX_OPEN_FILES) {
    if (!Number.isInteger(maxOpen) || maxOpen < 2) {
      throw new RangeError(`Invalid file pool size: "${maxOpen}"`);
    }
    this.maxOpen = maxOpen;
  }

  /** Number of descriptors currently open. */
  get openCount(): number {
    return this.#open.size;
  }

  /**
   * Returns an open read-write descriptor for `path`, creating the file when `create` is set.
   * @throws {StorageError} when the file cannot be opened.
   */
  fd(path: string, create = false): number {
    const fd = this.#open.get(path);
    if (fd !== undefined) {
      this.#open.delete(path);
      this.#open.set(path, fd);
      return fd;
    }
    this.#evict();
    let opened: number;
    try {
      opened = fs.openSync(path, create ? fs.constants.O_RDWR | fs.constants.O_CREAT : "r+");
    } catch (err) {
      throw wrapIoError(`Cannot open "${path}"`, err);
    }
    this.#open.set(path, opened);
    return opened;
  }

  /** Opens (if needed) and pins `path` until `unpin`; a pinned descriptor is never evicted. */
  pin(path: string): number {
    const fd = this.fd(path);
    this.#pinned.set(path, (this.#pinned.get(path) ?? 0) + 1);
    return fd;
  }

  /** Releases one `pin` of `path`. */
  unpin(path: string): void {
    const n = this.#pinned.get(path) ?? 0;
    if (n <= 1) this.#pinned.delete(path);
    else this.#pinned.set(path, n - 1);
  }

  /** Closes the descriptor of `path` if it is open and not pinned. */
  close(path: string): void {
    const fd = this.#open.get(path);
    if (fd === undefined || this.#pinned.has(path)) return;
    this.#open.delete(path);
    fs.closeSync(fd);
  }

  /** Closes every descriptor. */
  closeAll(): void {
    for (const fd of this.#open.values()) fs.closeSync(fd);
    this.#open.clear();
  }

  /** Closes least recently used, unpinned descriptors until there is room for one more. */
  #evict(): void {
    if (this.#open.size < this.maxOpen) return;
    for (const path of [...this.#open.keys()]) {
      if (this.#open.size < this.maxOpen) return;
      this.close(path);
    }
  }
}

/** Reads exactly `length` bytes at `position` (fewer only at end of file). */
export function readAt(fd: number, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  // Bounded: each iteration reads at least one byte or stops.
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** Writes all of `bytes` at `position`. */
export function writeAt(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  // Bounded: a write that makes no progress throws inside writeSync (ENOSPC etc.).
  while (done < bytes.length) {
    done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

/** `fdatasync` without blocking the event loop. */
export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => err ? reject(err) : resolve()));
}

/** Makes a directory's entries (new or removed files) durable. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes a small file atomically and durably: temp file, fsync, rename, fsync the directory.
 * @throws {StorageError} when any step fails.
 */
export function writeFileAtomic(dir: string, name: string, data: Uint8Array): void {
  const tmp = `${dir}/${name}.tmp`;
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      writeAt(fd, data, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, `${dir}/${name}`);
    syncDir(dir);
  } catch (err) {
    try {
      // A leftover temp file keeps holding the space a full disk needs back before the
      // failed step can be retried; PartitionLog.open removes leftovers only on a restart.
      fs.rmSync(tmp, { force: true });
    } catch (rmErr) {
      // The write error is the one to report; the leftover is removed at the next open.
      console.error(`Cannot remove "${tmp}" after a failed write`, rmErr);
    }
    throw wrapIoError(`Cannot write "${dir}/${name}"`, err);
  }
}
