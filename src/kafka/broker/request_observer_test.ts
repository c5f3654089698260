import { strictEqual } from "node:assert/strict";
import { countErrorCodes } from "./kafka_server.ts";

Deno.test("countErrorCodes counts non-zero error codes at any depth and skips record bytes", () => {
  strictEqual(countErrorCodes({ errorCode: 0, topics: [] }), 0);
  strictEqual(
    countErrorCodes({
      errorCode: 0,
      responses: [
        { partitionResponses: [{ errorCode: 3 }, { errorCode: 0 }, { errorCode: 6 }] },
        { partitionResponses: [{ errorCode: 0, records: new Uint8Array(8) }] },
      ],
    }),
    2,
  );
  strictEqual(countErrorCodes({ errorCode: 35 }), 1);
  strictEqual(countErrorCodes(null), 0);
});
