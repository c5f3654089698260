/** Tests of the shared flag parsing: short usage errors, checked numbers, KEY=VALUE lists. */
import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { UsageError } from "./cli_error.ts";
import { intFlag, keyValueFlags, parseFlags } from "./cli_flags.ts";

Deno.test("parseFlags merges the common flags and keeps positionals", () => {
  const { values, positionals } = parseFlags(["t", "-b", "h:1", "--json", "-c", "5"], {
    count: { type: "string", short: "c" },
  });
  deepStrictEqual(positionals, ["t"]);
  strictEqual(values.brokers, "h:1");
  strictEqual(values.json, true);
  strictEqual(values.count, "5");
});

Deno.test("parseFlags turns Node's parse errors into one short line", () => {
  throws(
    () => parseFlags(["--nope"], {}),
    (e: unknown) => e instanceof UsageError && e.message === `unknown flag "--nope"`,
  );
  throws(
    () => parseFlags(["--brokers"], {}),
    (e: unknown) => e instanceof UsageError && e.message === `flag "--brokers" needs a value`,
  );
});

Deno.test("intFlag checks range and form", () => {
  strictEqual(intFlag("count", "10", 1, 100), 10);
  throws(
    () => intFlag("count", "0", 1, 100),
    /invalid --count "0": expected an integer from 1 to 100/,
  );
  throws(() => intFlag("count", "1.5", 1, 100), UsageError);
  throws(() => intFlag("count", "x", 1, 100), UsageError);
});

Deno.test("keyValueFlags splits at the first '=' and refuses entries without one", () => {
  deepStrictEqual(keyValueFlags("set", ["a=1", "b=x=y", "c="]), { a: "1", b: "x=y", c: "" });
  throws(() => keyValueFlags("set", ["novalue"]), /invalid --set "novalue": expected KEY=VALUE/);
});
