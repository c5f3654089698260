/** Tests of the broker-error class and broker-list parsing. */
import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { ERROR_CODES } from "../protocol/mod.ts";
import { parseBrokerList } from "./kafka_client.ts";
import { errorName, KafkaError } from "./kafka_error.ts";

Deno.test("KafkaError is one line: action, code name, detail", () => {
  const e = new KafkaError(
    `Cannot describe topic "x"`,
    ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION,
    "gone",
  );
  strictEqual(e.message, `Cannot describe topic "x": UNKNOWN_TOPIC_OR_PARTITION (gone)`);
  strictEqual(e.code, 3);
  strictEqual(errorName(9999), "ERROR_9999");
});

Deno.test("parseBrokerList accepts lists and IPv6, refuses bad entries", () => {
  deepStrictEqual(parseBrokerList("a:1, b:2"), [{ host: "a", port: 1 }, { host: "b", port: 2 }]);
  deepStrictEqual(parseBrokerList("[::1]:9092"), [{ host: "::1", port: 9092 }]);
  throws(
    () => parseBrokerList("localhost"),
    /Invalid broker address "localhost": expected HOST:PORT/,
  );
  throws(() => parseBrokerList("a:0"), RangeError);
  throws(() => parseBrokerList(","), /no address/);
});
