/** Tests of the table formatter. */
import { strictEqual } from "node:assert/strict";
import { formatKeyValues, formatTable } from "./text_table.ts";

Deno.test("formatTable aligns columns under upper-case headers", () => {
  strictEqual(
    formatTable(["name", "n"], [["orders", 3], ["a", null], ["b", [0, 1]]]),
    "NAME    N\norders  3\na       -\nb       [0 1]\n",
  );
});

Deno.test("formatTable escapes control characters so rows stay on one line", () => {
  strictEqual(formatTable(["v"], [["a\nb"]]), "V\na\\x0ab\n");
});

Deno.test("formatKeyValues aligns values", () => {
  strictEqual(formatKeyValues([["id", "x"], ["controller", 0]]), "ID          x\nCONTROLLER  0\n");
});
