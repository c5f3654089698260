/**
 * Human-readable output in the manner of `rpk`: left-aligned columns separated by two
 * spaces, upper-case headers, and key/value sections. Pure string building; the caller
 * prints. Cells are single-line (control characters are escaped) so columns stay aligned.
 */

/** Formats rows under `headers` as aligned columns; every line ends with "\n". */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map(cellText))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) =>
    r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)).join("  ").trimEnd() +
    "\n"
  ).join("");
}

/** Formats `pairs` as "KEY  value" lines with aligned values. */
export function formatKeyValues(pairs: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.toUpperCase().padEnd(width)}  ${cellText(v)}\n`).join("");
}

/** A section title in the manner of rpk's `topic describe`: "NAME\n====\n". */
export function formatSection(title: string): string {
  return `${title.toUpperCase()}\n${"=".repeat(title.length)}\n`;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (Array.isArray(v)) return `[${v.join(" ")}]`;
  return String(v).replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
