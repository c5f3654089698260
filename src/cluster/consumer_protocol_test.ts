/** Consumer subscriptions: topics read back from encoded and malformed metadata. */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { encodeSubscription, parseSubscriptionTopics } from "./consumer_protocol.ts";

Deno.test("parseSubscriptionTopics reads what encodeSubscription wrote", () => {
  deepStrictEqual(parseSubscriptionTopics(encodeSubscription(["a", "bé"])), ["a", "bé"]);
  deepStrictEqual(parseSubscriptionTopics(encodeSubscription([])), []);
});

Deno.test("parseSubscriptionTopics reads a v1 subscription (owned partitions follow)", () => {
  const v0 = encodeSubscription(["orders"]);
  const v1 = new Uint8Array(v0.length + 4);
  v1.set(v0);
  v1[1] = 1; // version 1; an empty owned-partitions array (int32 0) follows the user data
  deepStrictEqual(parseSubscriptionTopics(v1), ["orders"]);
});

Deno.test("parseSubscriptionTopics answers null for bytes that are not a subscription", () => {
  strictEqual(parseSubscriptionTopics(new Uint8Array(0)), null);
  strictEqual(parseSubscriptionTopics(new Uint8Array([0, 0, 0x7f, 0xff, 0xff, 0xff])), null);
  strictEqual(parseSubscriptionTopics(new Uint8Array([0, 0, 0, 0, 0, 1, 0, 9, 0x61])), null);
  strictEqual(parseSubscriptionTopics(new Uint8Array([0, 0, 0, 0, 0, 1, 0, 1, 0xff])), null);
});
