/**
 * Multicast over real kernel paths: one sender and several receivers, each a network
 * namespace on a bridge that this file creates and removes (packages/testkit netns.ts).
 * No group is ever routed over this machine's loopback or a real interface. Every frame
 * is judged from its pixels (the test pattern's frame numbers and PSNR), not from counts.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import {
  addIngressLoss,
  createLan,
  ingressLossCount,
  inspectRecording,
  judgeRecording,
  readReceiverStats,
  receiveArgs,
  sourceArgs,
  startReceiverIn,
  startSenderIn,
  tempDir,
  type Child,
  type Lan,
  type LanHost,
  v1Counters,
} from "@udpcam/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logLines, useCleanup } from "./harness.js";

const cleanup = useCleanup();
const GROUP = "239.255.42.1";
const PORT = 5004;
/** 1% of the lossy receiver's datagrams, dropped as they enter its namespace. */
const LOSS_PER_MILLE = 10;
const FRAMES = 150;

let lan: Lan | undefined;
let refused: string | undefined;

beforeAll(() => {
  const result = createLan(4);
  if (result.kind === "ok") lan = result.lan;
  else {
    refused = result.reason;
    console.warn(
      `multicast tests SKIPPED: the kernel refused the network namespaces (${refused}); they need root and veth/bridge support`,
    );
  }
});
afterAll(() => lan?.remove());

function hostsOrSkip(skip: (note?: string) => void): { sender: LanHost; receivers: LanHost[]; lan: Lan } {
  if (lan === undefined) {
    skip(`network namespaces refused: ${refused ?? "unknown"}`);
    throw new Error("unreachable");
  }
  const [sender, ...receivers] = lan.hosts;
  if (sender === undefined) throw new Error("no hosts");
  return { sender, receivers, lan };
}

async function receiverOf(
  host: LanHost,
  dir: string,
  extra: readonly string[] = [],
): Promise<{ child: Child; output: string; stats: string }> {
  const output = join(dir, `${host.address}.avi`);
  const stats = join(dir, `${host.address}.json`);
  const child = await startReceiverIn(host, [
    ...["--host", GROUP, "--multicast-interface", host.address],
    ...receiveArgs(PORT, { output, stats, idleExit: 2 }),
    ...extra,
  ]);
  cleanup.kill(child);
  return { child, output, stats };
}

/** Runs the sender in its namespace to the group until it has sent `frames`; expects exit 0. */
async function sendToGroup(sender: LanHost, frames: number, args: readonly string[]): Promise<Child> {
  const child = startSenderIn(sender, [
    ...args,
    "--frames",
    String(frames),
    "--host",
    GROUP,
    "--port",
    String(PORT),
    "--multicast-interface",
    sender.address,
  ]);
  cleanup.kill(child);
  expect(await child.exited).toBe(0);
  return child;
}

function joinedGroups(host: LanHost): string {
  return spawnSync("ip", ["-n", host.namespace, "maddr", "show", "dev", "eth0"], { encoding: "utf8" }).stdout;
}

describe("multicast inside network namespaces", () => {
  it("one sender, three receivers: two record every frame intact, FEC repairs the third's 1% loss", async ({
    skip,
  }) => {
    const { sender, receivers, lan } = hostsOrSkip(skip);
    const [clean1, clean2, lossy] = receivers;
    if (clean1 === undefined || clean2 === undefined || lossy === undefined)
      throw new Error("three receivers expected");
    addIngressLoss(lan, lossy, PORT, LOSS_PER_MILLE);
    const dir = tempDir();
    cleanup.add(dir.remove);
    const peers = [
      await receiverOf(clean1, dir.path),
      await receiverOf(clean2, dir.path),
      await receiverOf(lossy, dir.path),
    ];
    for (const host of receivers) expect(joinedGroups(host)).toContain(GROUP);

    const send = await sendToGroup(sender, FRAMES, [
      ...sourceArgs({ source: "test", codec: "jpeg", width: 640, height: 480, fps: 25 }),
      ...["--ttl", "1"],
    ]);
    // A group is not loopback: one-packet datagrams and, for JPEG, 12% FEC across frames by default.
    const sending = logLines(send.stderr()).find((line) => line.msg.startsWith("sending to"));
    expect(sending).toMatchObject({
      datagramSize: 1_472,
      fec: 0.12,
      fecScheme: "window",
      multicast: `multicast, TTL 1 via ${sender.address}`,
    });
    for (const peer of peers) expect(await peer.child.exited).toBe(0);
    // Stopped receivers left the group.
    for (const host of receivers) expect(joinedGroups(host)).not.toContain(GROUP);

    const dropped = ingressLossCount(lossy);
    const every = Array.from({ length: FRAMES }, (_, i) => i);
    const results = [];
    for (const peer of peers) {
      const frames = await inspectRecording(peer.output);
      results.push({
        numbers: frames.map((f) => f.number),
        verdict: judgeRecording(frames),
        stats: readReceiverStats(peer.stats),
      });
    }
    for (const [i, r] of results.entries()) {
      console.log(
        `receiver ${receivers[i]?.address}${i === 2 ? ` (behind ${LOSS_PER_MILLE / 10}% loss, ${dropped} datagrams dropped)` : ""}: ` +
          `${r.verdict.intact}/${FRAMES} intact, ${r.verdict.torn} torn, ${v1Counters(r.stats).sourcesRecovered} datagrams rebuilt by FEC, ${r.stats.framesDropped} dropped`,
      );
    }
    const [a, b, c] = results;
    if (a === undefined || b === undefined || c === undefined) throw new Error("three results expected");
    for (const clean of [a, b]) {
      expect(clean.numbers).toEqual(every);
      expect(clean.verdict.intact).toBe(FRAMES);
      expect(clean.stats.framesRecovered).toBe(0);
      expect(clean.stats.framesDropped).toBe(0);
    }
    expect(dropped).toBeGreaterThan(0);
    // JPEG goes with window FEC by default: it rebuilds the lost datagrams themselves.
    expect(v1Counters(c.stats).sourcesRecovered).toBeGreaterThan(0);
    expect(c.verdict.torn).toBe(0);
    expect(c.verdict.outOfOrder).toBe(0);
    expect(c.verdict.intact).toBe(c.verdict.recorded);
    expect(c.verdict.intact).toBeGreaterThanOrEqual(Math.ceil(0.95 * FRAMES));
  }, 120_000);

  it("two receivers on one host share the group's port: both record every frame", async ({ skip }) => {
    const { sender, receivers } = hostsOrSkip(skip);
    const [host] = receivers;
    if (host === undefined) throw new Error("a receiver host expected");
    const frames = 25;
    const peers = [];
    for (let i = 0; i < 2; i++) {
      // Each in its own folder: the file names come from the host's address.
      const dir = tempDir();
      cleanup.add(dir.remove);
      peers.push(await receiverOf(host, dir.path));
    }
    await sendToGroup(sender, frames, ["--source", "test", "--codec", "jpeg", "--fps", "25"]);
    for (const peer of peers) {
      expect(await peer.child.exited).toBe(0);
      expect(judgeRecording(await inspectRecording(peer.output)).intact).toBe(frames);
    }
  }, 60_000);

  it("a source-specific join takes the named sender's stream and nothing from another source", async ({ skip }) => {
    const { sender, receivers } = hostsOrSkip(skip);
    const [right, wrong] = receivers;
    if (right === undefined || wrong === undefined) throw new Error("two receivers expected");
    const dir = tempDir();
    cleanup.add(dir.remove);
    const frames = 25;
    const good = await receiverOf(right, dir.path, ["--source-address", sender.address]);
    const other = await receiverOf(wrong, dir.path, ["--source-address", "10.231.0.250"]);
    await sendToGroup(sender, frames, ["--source", "test", "--codec", "jpeg", "--fps", "25"]);
    expect(await good.child.exited).toBe(0);
    // The other never receives a datagram, so --idle-exit never starts counting: stop it.
    other.child.signal("SIGINT");
    expect(await other.child.exited).toBe(0);
    const recorded = judgeRecording(await inspectRecording(good.output));
    expect(recorded.intact).toBe(frames);
    expect(readReceiverStats(other.stats).datagramsReceived).toBe(0);
  }, 60_000);

  it.for([
    { protocol: "legacy", senderArgs: ["--fps", "10"] },
    { protocol: "rtp", senderArgs: ["--fps", "25"] },
  ])(
    "the $protocol format goes to a group too: two receivers record every frame",
    { timeout: 60_000 },
    async ({ protocol, senderArgs }, { skip }) => {
      const { sender, receivers } = hostsOrSkip(skip);
      const dir = tempDir();
      cleanup.add(dir.remove);
      const frames = 25;
      const peers = [];
      for (const host of receivers.slice(0, 2)) peers.push(await receiverOf(host, dir.path, ["--protocol", protocol]));
      await sendToGroup(sender, frames, ["--source", "test", "--protocol", protocol, ...senderArgs]);
      for (const peer of peers) {
        expect(await peer.child.exited).toBe(0);
        const recorded = await inspectRecording(peer.output);
        expect(recorded.map((f) => f.number)).toEqual(Array.from({ length: frames }, (_, i) => i));
        expect(judgeRecording(recorded).intact).toBe(frames);
      }
    },
  );
});
