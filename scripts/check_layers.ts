/**
 * Fails when a folder imports one it must not (STYLE.md "Layout and dependency direction"):
 * util imports nothing of ours; records, storage, raft, metrics and kafka/protocol import
 * only util (and records), and so does the pure cluster/placement; http and kafka/broker never
 * import each other; nothing but tests and benchmarks imports src/testing. Run by
 * `deno task check`.
 */
import { walk } from "./_walk.ts";

/** Which folders each folder may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  "src/util": [],
  "src/records": ["src/util"],
  "src/metrics": ["src/util"],
  "src/raft": ["src/util"],
  "src/storage": ["src/util", "src/records"],
  "src/kafka/protocol": ["src/util", "src/records"],
  "src/cluster/placement": ["src/util"],
  "src/cluster": [
    "src/util",
    "src/records",
    "src/storage",
    "src/raft",
    "src/metrics",
    "src/cluster/placement",
  ],
  "src/kafka/broker": [
    "src/util",
    "src/records",
    "src/storage",
    "src/raft",
    "src/metrics",
    "src/cluster",
    "src/kafka/protocol",
  ],
  "src/kafka/client": ["src/util", "src/records", "src/kafka/protocol"],
  "src/http": ["src/util", "src/records", "src/storage", "src/metrics", "src/cluster"],
  "src/testing": ["src/util", "src/records", "src/storage", "src/raft", "src/cluster"],
};

const LAYERS = Object.keys(ALLOWED).sort((a, b) => b.length - a.length);

function layerOf(path: string): string | null {
  for (const l of LAYERS) if (path === l || path.startsWith(`${l}/`)) return l;
  return null;
}

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const problems: string[] = [];
for (const file of walk(`${root}/src`)) {
  if (!file.endsWith(".ts")) continue;
  const rel = file.slice(root.length + 1);
  const from = layerOf(rel);
  if (from === null) continue; // src/cli is the composition root
  // Tests and their private fixtures (`_test_*.ts`) may use src/testing.
  const isTest = rel.endsWith("_test.ts") || /\/_test_[^/]*\.ts$/.test(rel);
  const text = Deno.readTextFileSync(file);
  for (const m of text.matchAll(/(?:import|export)[^"']*?from\s*["']([^"']+)["']/g)) {
    const spec = m[1] as string;
    if (!spec.startsWith(".")) continue;
    const target = new URL(spec, `file://${file}`).pathname.slice(root.length + 1);
    const to = layerOf(target);
    if (to === null || to === from) continue;
    if (isTest && to === "src/testing") continue;
    if (!(ALLOWED[from] ?? []).includes(to)) {
      problems.push(`${rel} imports ${target} (${from} -> ${to})`);
    }
  }
}
if (problems.length > 0) {
  console.error(`Layer check failed:\n  ${problems.join("\n  ")}`);
  Deno.exit(1);
}
console.log("Layer check passed");
