/**
 * The few error classes that wrap environment failures (STYLE.md "Errors"). Adapters catch
 * what Deno or the OS throws and rethrow one of these with the original as `cause`, so
 * callers can tell a storage failure from a bug without parsing messages.
 */

/** A failure of the disk or file system, or data found corrupt on disk. */
export class StorageError extends Error {
  override name = "StorageError";
  /** A short machine-readable reason, e.g. "corrupt", "no_space", "closed". */
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Why a storage operation failed. */
export type StorageErrorCode =
  | "corrupt"
  | "no_space"
  | "closed"
  | "io"
  | "invalid_argument"
  | "offset_out_of_range"
  | "record_too_large"
  | "truncated"
  | "failed";

/** A failure to reach or talk to a peer. */
export class TransportError extends Error {
  override name = "TransportError";
}

/** Bytes that cannot be decoded as what they claim to be. */
export class FrameDecodeError extends Error {
  override name = "FrameDecodeError";
}

/** True when a Deno/Node file-system error means the disk is full (ENOSPC) or over quota. */
export function isNoSpaceError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return code === "ENOSPC" || code === "EDQUOT" || /No space left on device/i.test(err.message);
}
