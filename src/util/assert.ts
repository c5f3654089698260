/**
 * Always-on assertions. A failed assertion is a bug in Pyralog, never an expected
 * outcome: expected outcomes are returned as tagged values (STYLE.md, principle 3).
 * Assertions stay enabled in production builds.
 */

/** Raised when an internal invariant does not hold. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/**
 * Checks an invariant.
 * @throws {AssertionError} when `condition` is false.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`Assertion failed: ${message}`);
}

/**
 * Marks a branch the type checker proves unreachable (exhaustive switches).
 * @throws {AssertionError} always.
 */
export function unreachable(value: never, message = "unreachable"): never {
  throw new AssertionError(`${message}: ${JSON.stringify(value)}`);
}
