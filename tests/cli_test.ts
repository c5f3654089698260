/**
 * The `pyralog` client commands as a user runs them (issue #4): `deno run -A main.ts ...`
 * subprocesses against a real node started on free ports. Covers topic administration in
 * tables and JSON, produce from stdin with keys and headers read back by `consume` with a
 * template and by kcat, group consumption resuming from committed offsets, group lag, a
 * consumer stopped by PID, a group shared with a kcat (librdkafka) member, cluster info and
 * health, and one-line errors with their exit codes.
 *
 * Each invocation costs a Deno start, so steps make few, rich calls. Every process is
 * stopped by PID; every run is bounded by the runner's time limit; ports come from the OS.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { partitionForKey } from "../src/util/mod.ts";
import {
  type CliResult,
  runCli,
  type RunningCli,
  spawnCli,
  spawnProgram,
} from "./clients/cli_runner.ts";
import { startPyralog } from "./helpers/pyralog_process.ts";

/** Fails with the command's output, which is what one needs to see when it breaks. */
function expectCode(r: CliResult, code: number, what: string): void {
  strictEqual(r.code, code, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/** A port nothing listens on: bound by us, then closed. */
function refusedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

Deno.test("pyralog CLI against a running node", async (t) => {
  const node = await startPyralog();
  const b = ["--brokers", node.bootstrap];
  try {
    await t.step("topic create, list, describe, alter-config and delete", async () => {
      const created = await runCli([
        "topic",
        "create",
        "orders",
        "scratch",
        "-p",
        "3",
        "-r",
        "1",
        ...b,
      ]);
      expectCode(created, 0, "create");
      ok(/^TOPIC\s+STATUS\norders\s+OK\nscratch\s+OK\n$/.test(created.stdout), created.stdout);

      const again = await runCli(["topic", "create", "orders", "--json", ...b]);
      expectCode(again, 1, "create again");
      strictEqual(JSON.parse(again.stdout)[0].error, "TOPIC_ALREADY_EXISTS");

      const list = await runCli(["topic", "list", ...b]);
      expectCode(list, 0, "list");
      ok(/^NAME\s+PARTITIONS\s+REPLICAS\n/.test(list.stdout), list.stdout);
      ok(/\norders\s+3\s+1\n/.test(list.stdout), list.stdout);

      const altered = await runCli([
        "topic",
        "alter-config",
        "orders",
        "--set",
        "retention.ms=3600000",
        "--set",
        "segment.bytes=1048576",
        ...b,
      ]);
      expectCode(altered, 0, "alter-config");

      const described = await runCli(["topic", "describe", "orders", "--json", ...b]);
      expectCode(described, 0, "describe --json");
      const d = JSON.parse(described.stdout);
      strictEqual(d.name, "orders");
      strictEqual(d.configs["retention.ms"], "3600000");
      strictEqual(d.configs["segment.bytes"], "1048576");
      deepStrictEqual(d.partitions.map((p: { partition: number }) => p.partition), [0, 1, 2]);
      ok(
        d.partitions.every((p: { leader: number; highWatermark: number }) =>
          p.leader === 0 && p.highWatermark === 0
        ),
      );

      const reset = await runCli([
        "topic",
        "alter-config",
        "orders",
        "--delete",
        "segment.bytes",
        ...b,
      ]);
      expectCode(reset, 0, "alter-config --delete");
      const table = await runCli(["topic", "describe", "orders", ...b]);
      expectCode(table, 0, "describe");
      for (const section of ["SUMMARY", "CONFIGS", "PARTITIONS"]) {
        ok(table.stdout.includes(`${section}\n`), table.stdout);
      }
      ok(/retention\.ms\s+3600000\s+DYNAMIC_TOPIC_CONFIG/.test(table.stdout), table.stdout);
      ok(/segment\.bytes\s+\d+\s+DEFAULT_CONFIG/.test(table.stdout), table.stdout);
      ok(/\n2\s+0\s+\d+\s+\[0\]\s+\[0\]\s+0\s+0\n/.test(table.stdout), table.stdout);

      const grown = await runCli(["topic", "add-partitions", "orders", "--num", "1", ...b]);
      expectCode(grown, 0, "add-partitions");
      const deleted = await runCli(["topic", "delete", "scratch", ...b]);
      expectCode(deleted, 0, "delete");
      const after = await runCli(["topic", "list", "--json", ...b]);
      deepStrictEqual(
        JSON.parse(after.stdout).map((x: { name: string; partitions: number }) => [
          x.name,
          x.partitions,
        ]),
        [["orders", 4]],
      );
    });

    await t.step(
      "produce keys and headers from stdin; consume and kcat read them back",
      async () => {
        expectCode(await runCli(["topic", "create", "events", "-p", "2", ...b]), 0, "create");
        const keys = ["k1", "k2", "k3", "k4", "k5", "k6"];
        const input = keys.map((k) => `${k}:value of ${k}`).join("\n") + "\nno key here\n";
        const produced = await runCli(
          [
            "produce",
            "events",
            "-K",
            ":",
            "-H",
            "source=test",
            "-H",
            "n=1",
            "--acks",
            "all",
            "--json",
            ...b,
          ],
          { stdin: input },
        );
        expectCode(produced, 0, "produce");
        strictEqual(JSON.parse(produced.stdout).records, 7);

        const consumed = await runCli([
          "consume",
          "events",
          "--from-beginning",
          "--count",
          "7",
          "-f",
          "%p|%o|%k|%s|%h\\n",
          ...b,
        ]);
        expectCode(consumed, 0, "consume --count");
        const lines = consumed.stdout.trimEnd().split("\n");
        strictEqual(lines.length, 7, consumed.stdout);
        const enc = new TextEncoder();
        for (const k of keys) {
          const line = lines.find((l) => l.split("|")[2] === k);
          ok(line !== undefined, `no record with key ${k}: ${consumed.stdout}`);
          const [p, , , value, headers] = line.split("|");
          // Kafka's default partitioner: murmur2 of the key.
          strictEqual(Number(p), partitionForKey(enc.encode(k), 2), line);
          strictEqual(value, `value of ${k}`);
          strictEqual(headers, "source=test,n=1");
        }
        ok(lines.some((l) => /^\d\|\d\|\|no key here\|/.test(l)), consumed.stdout);

        const kcat = await new Deno.Command("kcat", {
          args: ["-b", node.bootstrap, "-C", "-t", "events", "-e", "-q", "-f", "%k=%s\\n"],
          stdout: "piped",
          stderr: "piped",
          signal: AbortSignal.timeout(30_000),
        }).output();
        strictEqual(kcat.code, 0, new TextDecoder().decode(kcat.stderr));
        deepStrictEqual(
          new TextDecoder().decode(kcat.stdout).trimEnd().split("\n").sort(),
          [...keys.map((k) => `${k}=value of ${k}`), "=no key here"].sort(),
        );

        // --offset on one partition, --exit-at-end, --json lines.
        const p0 = lines.filter((l) => l.startsWith("0|")).length;
        const tail = await runCli(
          [
            "consume",
            "events",
            "--partition",
            "0",
            "--offset",
            "1",
            "--exit-at-end",
            "--json",
            ...b,
          ],
        );
        expectCode(tail, 0, "consume --offset --exit-at-end");
        const records = tail.stdout.trimEnd().split("\n").filter((l) => l !== "").map((l) =>
          JSON.parse(l)
        );
        strictEqual(records.length, p0 - 1, tail.stdout);
        ok(
          records.every((r: { partition: number; offset: number }) =>
            r.partition === 0 && r.offset >= 1
          ),
        );
      },
    );

    await t.step("produce prints a progress line with the rate for large inputs", async () => {
      const lines = Array.from({ length: 30_000 }, (_, i) => `record-${i}`).join("\n");
      const r = await runCli(["produce", "bulk", "--progress", "--acks", "1", ...b], {
        stdin: lines,
      });
      expectCode(r, 0, "produce --progress");
      ok(/30,000 records, [\d.]+ MB, [\d,]+ records\/s/.test(r.stderr), r.stderr);
      const end = await runCli(["consume", "bulk", "--from-beginning", "-e", "-f", "%o\\n", ...b]);
      strictEqual(end.stdout.trimEnd().split("\n").length, 30_000);
    });

    await t.step("consume --group resumes from the committed offset; group shows lag", async () => {
      expectCode(await runCli(["topic", "create", "jobs", "-p", "1", ...b]), 0, "create");
      const input = Array.from({ length: 10 }, (_, i) => `job-${i + 1}`).join("\n");
      expectCode(await runCli(["produce", "jobs", ...b], { stdin: input }), 0, "produce");

      const first = await runCli([
        "consume",
        "jobs",
        "-g",
        "workers",
        "--from-beginning",
        "-c",
        "4",
        ...b,
      ]);
      expectCode(first, 0, "first group consume");
      strictEqual(first.stdout, "job-1\njob-2\njob-3\njob-4\n");
      const second = await runCli(["consume", "jobs", "-g", "workers", "-c", "3", ...b]);
      expectCode(second, 0, "second group consume");
      strictEqual(second.stdout, "job-5\njob-6\njob-7\n");

      const described = await runCli(["group", "describe", "workers", "--json", ...b]);
      expectCode(described, 0, "group describe --json");
      const g = JSON.parse(described.stdout);
      strictEqual(g.state, "Empty");
      deepStrictEqual(g.offsets, [{
        topic: "jobs",
        partition: 0,
        committedOffset: 7,
        logEndOffset: 10,
        lag: 3,
        memberId: null,
      }]);
      const table = await runCli(["group", "describe", "workers", ...b]);
      ok(/TOTAL-LAG\s+3\n/.test(table.stdout), table.stdout);
      ok(/\njobs\s+0\s+7\s+10\s+3\s+-/.test(table.stdout), table.stdout);

      // A consumer without --count runs until stopped by its PID; while it runs the group
      // shows it as a member owning the partition.
      const live = spawnCli(["consume", "jobs", "-g", "live", "--from-beginning", ...b]);
      try {
        ok(await live.waitFor((s) => s.includes("job-10\n")), live.stdout());
        const busy = await runCli(["group", "describe", "live", "--json", ...b]);
        const lg = JSON.parse(busy.stdout);
        strictEqual(lg.state, "Stable");
        strictEqual(lg.members.length, 1);
        deepStrictEqual(lg.members[0].assignment, { jobs: [0] });
        strictEqual(lg.members[0].clientId, "pyralog-cli");
      } finally {
        const stopped = await live.stop("SIGTERM");
        expectCode(stopped, 0, "consumer stopped by SIGTERM");
      }
      const list = await runCli(["group", "list", "--json", ...b]);
      const groups = JSON.parse(list.stdout);
      deepStrictEqual(groups.map((x: { groupId: string }) => x.groupId), ["live", "workers"]);
      const done = JSON.parse((await runCli(["group", "describe", "live", "--json", ...b])).stdout);
      strictEqual(done.totalLag, 0, "the stopped consumer committed what it printed");
      strictEqual(done.members.length, 0, "the stopped consumer left the group");

      const deleted = await runCli(["group", "delete", "workers", ...b]);
      expectCode(deleted, 0, "group delete");
      const gone = await runCli(["group", "describe", "workers", ...b]);
      expectCode(gone, 1, "describe a deleted group");
      strictEqual(
        gone.stderr,
        `pyralog: Cannot describe group "workers": GROUP_ID_NOT_FOUND (no such group)\n`,
      );
    });

    await t.step("a pyralog and a kcat (librdkafka) consumer share a group", async () => {
      expectCode(await runCli(["topic", "create", "mixed", "-p", "2", ...b]), 0, "create");
      const kcat = spawnProgram("kcat", [
        "-b",
        node.bootstrap,
        "-G",
        "mixed-group",
        "mixed",
        "-X",
        "auto.offset.reset=earliest",
        "-u", // unbuffered: a pipe would otherwise hold kcat's output until it exits
        "-q",
        "-f",
        "%p %s\\n",
      ]);
      let ours: RunningCli | null = null;
      try {
        // Bounded: describe until kcat is a member, then join; until both hold a partition.
        const members = async (n: number) => {
          for (let i = 0; i < 100; i++) {
            const g = JSON.parse(
              (await runCli(["group", "describe", "mixed-group", "--json", ...b])).stdout ||
                "null",
            );
            const assigned = g?.members?.filter((m: { assignment: Record<string, number[]> }) =>
              (m.assignment.mixed ?? []).length > 0
            );
            if (g?.state === "Stable" && assigned?.length === n) return g;
            await new Promise((r) => setTimeout(r, 200));
          }
          throw new Error(`the group never had ${n} members with partitions`);
        };
        await members(1);
        ours = spawnCli([
          "consume",
          "mixed",
          "-g",
          "mixed-group",
          "--from-beginning",
          "-f",
          "%p %s\\n",
          ...b,
        ]);
        const g = await members(2);
        const mine = g.members.find((m: { clientId: string }) => m.clientId === "pyralog-cli");
        const theirs = g.members.find((m: { clientId: string }) => m.clientId === "rdkafka");
        const [p] = mine.assignment.mixed;
        deepStrictEqual([...mine.assignment.mixed, ...theirs.assignment.mixed].sort(), [0, 1]);
        const input = ["a", "b", "c", "d", "e", "f"].map((k) => `${k}:${k}-value`).join("\n");
        expectCode(
          await runCli(["produce", "mixed", "-K", ":", ...b], { stdin: input }),
          0,
          "produce",
        );
        const lines = (s: string) => s.split("\n").filter((l) => l !== "");
        const all = () => lines(ours?.stdout() ?? "").length + lines(kcat.stdout()).length;
        ok(await ours.waitFor(() => all() === 6), `${ours.stdout()} / ${kcat.stdout()}`);
        ok(lines(ours.stdout()).every((l) => l.startsWith(`${p} `)), ours.stdout());
        ok(lines(kcat.stdout()).every((l) => !l.startsWith(`${p} `)), kcat.stdout());
      } finally {
        if (ours !== null) expectCode(await ours.stop(), 0, "our consumer");
        await kcat.stop();
      }
    });

    await t.step("cluster info and health", async () => {
      const info = await runCli(["cluster", "info", "--json", ...b]);
      expectCode(info, 0, "cluster info");
      const i = JSON.parse(info.stdout);
      deepStrictEqual(i.brokers.map((x: { nodeId: number; port: number }) => [x.nodeId, x.port]), [[
        0,
        node.kafkaPort,
      ]]);
      strictEqual(i.controllerId, 0);
      ok(typeof i.clusterId === "string" && i.clusterId.length > 0);
      const table = await runCli(["cluster", "info", ...b]);
      ok(
        /BROKERS\n=+\nID\s+HOST\s+PORT\s+RACK\n0\*\s+127\.0\.0\.1/.test(table.stdout),
        table.stdout,
      );
      const health = await runCli(["cluster", "health", ...b]);
      expectCode(health, 0, "cluster health");
      ok(health.stdout.startsWith(`Healthy: ${node.bootstrap} answers`), health.stdout);
    });

    await t.step("errors are one line with a non-zero exit code", async () => {
      const port = refusedPort();
      for (const args of [["cluster", "health"], ["consume", "x", "--count", "1"]]) {
        const r = await runCli([...args, "--brokers", `127.0.0.1:${port}`]);
        expectCode(r, 1, `${args[0]} against a refused port`);
        strictEqual(
          r.stderr,
          `pyralog: Cannot connect to "127.0.0.1:${port}": connection refused\n`,
        );
        strictEqual(r.stdout, "");
      }
      const unknown = await runCli(["topic", "describe", "no-such-topic", ...b]);
      expectCode(unknown, 1, "describe an unknown topic");
      strictEqual(
        unknown.stderr,
        `pyralog: Cannot describe topic "no-such-topic": UNKNOWN_TOPIC_OR_PARTITION (no such topic)\n`,
      );
      const usage = await runCli(["consume", "--count", "x", ...b]);
      expectCode(usage, 2, "usage error");
      strictEqual(usage.stderr.split("\n").length, 2, usage.stderr);
    });
  } finally {
    await node.stop();
  }
});
