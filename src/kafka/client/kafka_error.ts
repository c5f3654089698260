/**
 * The error a broker's answer turns into on the client side: a Kafka error code with its
 * name (`UNKNOWN_TOPIC_OR_PARTITION`) and what was being done, as one clear line. Network
 * failures are `TransportError` (src/util) instead; callers tell the two apart by class.
 */
import { ERROR_CODES } from "../protocol/mod.ts";

const NAME_BY_CODE = new Map<number, string>(
  Object.entries(ERROR_CODES).map(([name, code]) => [code, name]),
);

/** Kafka's name of error `code` (e.g. "NOT_COORDINATOR"), or "ERROR_<code>" when unknown. */
export function errorName(code: number): string {
  return NAME_BY_CODE.get(code) ?? `ERROR_${code}`;
}

/** A non-zero error code a broker answered with. */
export class KafkaError extends Error {
  override name = "KafkaError";
  /** The Kafka error code. */
  readonly code: number;
  /** Kafka's name of the code. */
  readonly codeName: string;

  /** `action` says what failed, e.g. `Cannot describe topic "orders"`. */
  constructor(action: string, code: number, detail?: string | null) {
    const codeName = errorName(code);
    super(`${action}: ${codeName}${detail ? ` (${detail})` : ""}`);
    this.code = code;
    this.codeName = codeName;
  }
}

/** Throws a `KafkaError` when `code` is not 0. */
export function checkErrorCode(action: string, code: number, detail?: string | null): void {
  if (code !== 0) throw new KafkaError(action, code, detail);
}
