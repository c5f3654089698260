/**
 * The CLI's error for wrong usage (unknown flag, missing argument): printed as one line with
 * the command's name, exit code 2. Failures at run time (a broker refusing, nothing
 * listening) keep their own classes and exit with 1; `main.ts` maps both.
 */

/** Wrong usage of a command; exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
