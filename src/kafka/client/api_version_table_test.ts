/** Tests of version negotiation: the highest common version, or none. */
import { strictEqual } from "node:assert/strict";
import { ADVERTISED_API_KEYS } from "../protocol/mod.ts";
import { ApiVersionTable, CLIENT_VERSIONS } from "./api_version_table.ts";

Deno.test("ApiVersionTable picks the highest version both sides support", () => {
  const t = new ApiVersionTable([
    { apiKey: 3, minVersion: 0, maxVersion: 8 }, // Metadata: broker max below ours
    { apiKey: 1, minVersion: 0, maxVersion: 17 }, // Fetch: ours (12) below broker's
  ]);
  strictEqual(t.versionOf("Metadata"), 8);
  strictEqual(t.versionOf("Fetch"), CLIENT_VERSIONS.Fetch?.max);
});

Deno.test("ApiVersionTable has no version for an API missing or out of range", () => {
  const t = new ApiVersionTable([{ apiKey: 0, minVersion: 0, maxVersion: 2 }]); // Produce < 3
  strictEqual(t.versionOf("Produce"), undefined);
  strictEqual(t.versionOf("Metadata"), undefined);
  strictEqual(t.brokerRange("Produce")?.maxVersion, 2);
});

Deno.test("ApiVersionTable negotiates every client API with Pyralog's own ranges", () => {
  const t = new ApiVersionTable(ADVERTISED_API_KEYS);
  for (const [api, range] of Object.entries(CLIENT_VERSIONS)) {
    strictEqual(t.versionOf(api as keyof typeof CLIENT_VERSIONS), range?.max, api);
  }
});
