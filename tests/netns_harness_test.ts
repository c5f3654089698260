/**
 * Tests of the multi-node harness itself (tests/helpers/cluster_process.ts and netns.ts),
 * with what `serve` offers today: N lone nodes (no `--peers`). In namespaces: every node is
 * reachable from the root namespace and from its neighbours, `isolate` and `cutOneWay` make
 * connections time out silently while other links keep working, `heal` restores them, and a
 * node killed by PID restarts on its data directory and ports; afterwards no namespace,
 * veth, bridge or root rule is left. On loopback: start, stop, kill and restart.
 *
 * Needs root, iproute2 and iptables (CI runs as root on Debian); without them the netns test
 * fails with a message naming the packages.
 */

import { deepStrictEqual, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type PyralogCluster, startCluster } from "./helpers/cluster_process.ts";
import { type NetnsLab, type ProbeResult, runTool } from "./helpers/netns.ts";

/** A cut link must not answer within this (DROP: no RST, no ICMP). */
const CUT_PROBE_MS = 1_000;
/** A working link answers well within this. */
const OK_PROBE_MS = 5_000;
const READY_MS = 60_000;

const OK: ProbeResult = { type: "status", status: 200 };
const TIMEOUT: ProbeResult = { type: "timeout" };

/** Runs `fn`; on failure prints every node's log tail before rethrowing. */
async function withLogs(cluster: PyralogCluster, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    console.error(cluster.dumpLogs());
    throw err;
  }
}

Deno.test("netns harness: lone nodes in namespaces are reachable, cut, healed and restarted", async () => {
  let lab: NetnsLab | null = null;
  {
    await using cluster = await startCluster({ nodes: 3, netns: true, peers: false });
    lab = cluster.netns;
    ok(lab, "a netns cluster exposes its lab");
    const net = lab;
    await withLogs(cluster, async () => {
      const url = (id: number) => `http://${cluster.node(id).http}/healthz`;
      for (const node of cluster.nodes) {
        strictEqual(node.host, net.address(node.id));
        await cluster.waitHealthy(node.id, READY_MS);
        // The PID we hold is the node's own process, inside its namespace.
        const ns = await runTool("ip", ["netns", "identify", String(node.pid)]);
        strictEqual(ns.stdout.trim(), net.namespace(node.id));
      }
      strictEqual(
        cluster.bootstrap,
        [1, 2, 3].map((id) => `${net.address(id)}:9092`).join(","),
      );
      deepStrictEqual(await net.probeFrom(1, url(2), OK_PROBE_MS), OK);

      await net.isolate(2);
      deepStrictEqual(await cluster.probe(2, "/healthz", CUT_PROBE_MS), TIMEOUT);
      deepStrictEqual(await net.probeFrom(1, url(2), CUT_PROBE_MS), TIMEOUT);
      deepStrictEqual(await net.probeFrom(2, url(3), CUT_PROBE_MS), TIMEOUT);
      deepStrictEqual(await net.probeFrom(1, url(3), OK_PROBE_MS), OK);
      deepStrictEqual(await cluster.probe(3, "/healthz", OK_PROBE_MS), OK);
      // Inside node 2 its own address still works: loopback is never cut.
      deepStrictEqual(await net.probeFrom(2, url(2), OK_PROBE_MS), OK);

      await net.heal();
      deepStrictEqual(await cluster.probe(2, "/healthz", OK_PROBE_MS), OK);
      deepStrictEqual(await net.probeFrom(1, url(2), OK_PROBE_MS), OK);

      // One-way cuts: node 1 → node 3 is lost, node 2 → node 3 is not; host → 2 is lost.
      await net.cutOneWay(1, 3);
      await net.cutOneWay("host", 2);
      deepStrictEqual(await net.probeFrom(1, url(3), CUT_PROBE_MS), TIMEOUT);
      deepStrictEqual(await net.probeFrom(2, url(3), OK_PROBE_MS), OK);
      deepStrictEqual(await cluster.probe(2, "/healthz", CUT_PROBE_MS), TIMEOUT);
      deepStrictEqual(await cluster.probe(1, "/healthz", OK_PROBE_MS), OK);
      await net.heal();
      deepStrictEqual(await net.probeFrom(1, url(3), OK_PROBE_MS), OK);
      deepStrictEqual(await cluster.probe(2, "/healthz", OK_PROBE_MS), OK);

      // kill -9 by PID, then restart on the same data directory and ports.
      const before = cluster.node(1);
      const oldPid = before.pid;
      const status = await cluster.kill(1);
      strictEqual(status.signal, "SIGKILL");
      strictEqual(cluster.node(1).running, false);
      strictEqual((await cluster.probe(1, "/healthz", OK_PROBE_MS)).type, "error");
      await cluster.restart(1);
      await cluster.waitHealthy(1, READY_MS);
      notStrictEqual(cluster.node(1).pid, oldPid);
      strictEqual(cluster.node(1).http, `${net.address(1)}:8080`);
      strictEqual(cluster.node(1).dataDir, before.dataDir);
      deepStrictEqual(await net.probeFrom(3, url(1), OK_PROBE_MS), OK);
      ok(cluster.logs(1).some((l) => l.includes("restarting node 1")), cluster.logs(1).join("\n"));
    });
    await cluster.close();
  }
  ok(lab);
  // Nothing of the lab is left: namespaces, bridge, veths, the root FORWARD rule.
  const names = (await runTool("ip", ["netns", "list"])).stdout;
  for (const ns of lab.namespaces()) ok(!names.includes(ns), `namespace ${ns} left: ${names}`);
  const links = (await runTool("ip", ["-o", "link", "show"])).stdout;
  ok(!links.includes(`pyv${lab.id}`) && !links.includes(lab.bridge), `links left: ${links}`);
  const forward = (await runTool("iptables", ["-w", "5", "-S", "FORWARD"])).stdout;
  ok(!forward.includes(lab.bridge), `FORWARD rule left: ${forward}`);
});

Deno.test("cluster harness on loopback: lone nodes start, stop, kill and restart by PID", async () => {
  await using cluster = await startCluster({ nodes: 3, peers: false, fsync: "never" });
  await withLogs(cluster, async () => {
    strictEqual(cluster.netns, null);
    await cluster.waitReady("all", READY_MS);
    const ports = new Set(cluster.nodes.flatMap((n) => [n.kafkaPort, n.httpPort, n.rpcPort]));
    strictEqual(ports.size, 9, "every listener has its own port");
    strictEqual(cluster.bootstrap, cluster.nodes.map((n) => `127.0.0.1:${n.kafkaPort}`).join(","));

    const stopped = await cluster.stop(2);
    strictEqual(stopped.code, 0, cluster.logs(2).join("\n"));
    strictEqual(cluster.node(2).pid, null);
    strictEqual((await cluster.probe(2, "/healthz")).type, "error");
    deepStrictEqual(await cluster.probe(3, "/healthz"), OK);
    await cluster.restart(2);
    await cluster.waitReady(2, READY_MS);

    const killed = await cluster.kill(3);
    strictEqual(killed.signal, "SIGKILL");
    await cluster.restart(3);
    await cluster.waitReady("all", READY_MS);
    // restart of a running node stops it first.
    const pid = cluster.node(1).pid;
    await cluster.restart(1);
    notStrictEqual(cluster.node(1).pid, pid);
    await cluster.waitReady(1, READY_MS);
  });
  const dirs = cluster.nodes.map((n) => n.dataDir);
  await cluster.close();
  for (const dir of dirs) {
    strictEqual(await Deno.stat(dir).then(() => true, () => false), false, `${dir} left`);
  }
});
