/**
 * Captures golden Kafka request frames from real clients for the codec tests
 * (tests/fixtures/kafka/). It listens on 127.0.0.1 port 0, lets a client connect, saves
 * the first frame it sends (always ApiVersions), answers it with Pyralog's own encoder and
 * SUPPORTED_VERSIONS, and saves the next frame (Metadata) too; that the client goes on
 * after our answer is itself a check of the ApiVersions response encoding.
 *
 * Clients: kcat (librdkafka, `apt-get install kcat`), kafka-python 2.0.2 (`apt-get install
 * python3-kafka`), kafkajs 2.2.4 (npm, in-process) and @platformatic/kafka 2.12.1 (npm, in a
 * child `deno eval`).
 * Nothing leaves the loopback interface; each capture stops by itself after a few seconds.
 *
 * Usage: deno run --allow-net --allow-run --allow-read --allow-write --allow-env --allow-sys
 *          scripts/capture_kafka_golden.ts
 */
import { Kafka, logLevel } from "kafkajs";
import {
  ADVERTISED_API_KEYS,
  decodeRequestFrame,
  encodeApiVersionsFallback,
  encodeResponse,
} from "../src/kafka/protocol/mod.ts";

const OUT_DIR = new URL("../tests/fixtures/kafka/", import.meta.url);
/** Generous: the first @platformatic/kafka run downloads the package. */
const CAPTURE_TIMEOUT_MS = 60_000;
const FRAMES_WANTED = 2;
const RANGES = ADVERTISED_API_KEYS;

/** Reads whole size-prefixed frames from a connection. */
async function* frames(conn: Deno.Conn): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  while (true) {
    while (buf.length >= 4) {
      const size = new DataView(buf.buffer, buf.byteOffset).getInt32(0);
      if (buf.length < 4 + size) break;
      yield buf.slice(0, 4 + size);
      buf = buf.slice(4 + size);
    }
    const n = await conn.read(chunk);
    if (n === null) return;
    const next = new Uint8Array(buf.length + n);
    next.set(buf);
    next.set(chunk.subarray(0, n), buf.length);
    buf = next;
  }
}

/**
 * Serves one connection: saves up to FRAMES_WANTED frames, answering ApiVersions with our
 * ranges, or (mode "fallback") the first one with UNSUPPORTED_VERSION in v0 format so the
 * client's step-down request is captured.
 */
async function capture(
  listener: Deno.Listener,
  prefix: string,
  mode: "supported" | "fallback" = "supported",
): Promise<string[]> {
  const saved: string[] = [];
  const conn = await listener.accept();
  try {
    for await (const frame of frames(conn)) {
      const name = `${prefix}_${saved.length + 1}`;
      const req = decodeRequestFrame(frame.subarray(4));
      const label = req.type === "request"
        ? `${req.api}_v${req.header.apiVersion}`
        : `unsupported_${req.header.apiKey}_v${req.header.apiVersion}`;
      const file = `${name}_${label}.bin`;
      await Deno.writeFile(new URL(file, OUT_DIR), frame);
      saved.push(file);
      if (saved.length >= FRAMES_WANTED) break;
      if (req.type === "request" && req.api === "ApiVersions" && mode === "fallback") {
        await conn.write(encodeApiVersionsFallback(req.header.correlationId, RANGES));
        mode = "supported";
      } else if (req.type === "request" && req.api === "ApiVersions") {
        await conn.write(
          encodeResponse("ApiVersions", req.header.apiVersion, req.header.correlationId, {
            errorCode: 0,
            apiKeys: RANGES,
          }),
        );
      }
    }
  } finally {
    conn.close();
  }
  return saved;
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out capturing ${what}`)), CAPTURE_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function captureKcat(mode: "supported" | "fallback"): Promise<string[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const child = new Deno.Command("kcat", {
    args: [
      "-b",
      `127.0.0.1:${port}`,
      "-L",
      "-t",
      "golden",
      "-m",
      "5",
      "-X",
      "client.id=pyralog-golden",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const prefix = mode === "fallback" ? "kcat_fallback" : "kcat";
    return await withTimeout(capture(listener, prefix, mode), "kcat");
  } finally {
    listener.close();
    await stop(child);
  }
}

/** Debian's interpreter: python3-kafka installs into its dist-packages, not a pyenv's. */
const PYTHON_WITH_DEBIAN_PACKAGES = "/usr/bin/python3";

/** Stops a child we spawned; it may already have exited on its own, which is fine. */
async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch (err) {
    // Deno throws when the process has already exited; nothing is left to stop.
    if (!(err instanceof TypeError)) throw err;
  }
  await child.status;
}

/** kafka-python 2.0.2 (Debian's python3-kafka) probes with ApiVersions v0 first. */
async function captureKafkaPython(): Promise<string[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const code = [
    "from kafka import KafkaConsumer",
    `KafkaConsumer(bootstrap_servers="127.0.0.1:${port}", client_id="pyralog-golden",`,
    "  api_version_auto_timeout_ms=3000, request_timeout_ms=4000)",
  ].join("\n");
  const child = new Deno.Command(PYTHON_WITH_DEBIAN_PACKAGES, {
    args: ["-c", code],
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  try {
    return await withTimeout(capture(listener, "kafka_python"), "kafka-python");
  } finally {
    listener.close();
    await stop(child);
  }
}

/**
 * @platformatic/kafka (pure TypeScript, flexible versions throughout) in a child Deno
 * process, so the package stays out of the project's import map and lock file.
 */
const PLATFORMATIC_KAFKA = "npm:@platformatic/kafka@2.12.1";

async function capturePlatformatic(): Promise<string[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const code = [
    `import { Admin } from "${PLATFORMATIC_KAFKA}";`,
    `const admin = new Admin({ clientId: "pyralog-golden", bootstrapBrokers: ["127.0.0.1:${port}"], retries: 0 });`,
    `try { await admin.metadata({ topics: ["golden"] }); } catch { /* expected: we close */ }`,
    `await admin.close();`,
  ].join("\n");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-lock", code],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    return await withTimeout(capture(listener, "platformatic"), "@platformatic/kafka");
  } finally {
    listener.close();
    await stop(child);
  }
}

async function captureKafkajs(): Promise<string[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const kafka = new Kafka({
    clientId: "pyralog-golden",
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 2000,
  });
  const admin = kafka.admin();
  // The client fails once we close the connection; that failure is expected and only
  // logged, the frames are what we came for.
  const run = admin.connect().then(() => admin.fetchTopicMetadata({ topics: ["golden"] }))
    .catch((err: unknown) => console.error(`kafkajs stopped as expected: ${String(err)}`));
  try {
    return await withTimeout(capture(listener, "kafkajs"), "kafkajs");
  } finally {
    listener.close();
    await run;
    await admin.disconnect();
  }
}

await Deno.mkdir(OUT_DIR, { recursive: true });
console.log(JSON.stringify({ kcat: await captureKcat("supported") }));
console.log(JSON.stringify({ kcat: await captureKcat("fallback") }));
console.log(JSON.stringify({ kafkaPython: await captureKafkaPython() }));
console.log(JSON.stringify({ kafkajs: await captureKafkajs() }));
console.log(JSON.stringify({ platformatic: await capturePlatformatic() }));
