/**
 * NACK on a multicast group, inside network namespaces (packages/testkit netns.ts): receivers ask
 * the sender's unicast address for what they lack, and the sender (whose socket stays unconnected
 * with --nack on to a group, so that it reads every receiver's NACK) resends to the group. Every
 * frame is judged from its pixels.
 */
import { join } from "node:path";
import {
  addIngressLoss,
  createLan,
  ingressLossCount,
  inspectRecording,
  judgeRecording,
  readReceiverStats,
  readSenderStats,
  receiveArgs,
  sourceArgs,
  startReceiverIn,
  startSenderIn,
  tempDir,
  v1Counters,
  type Lan,
} from "@udpcam/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";

const cleanup = useCleanup();
const GROUP = "239.255.42.2";
const PORT = 5006;
const FRAMES = 150;

let lan: Lan | undefined;
let refused: string | undefined;

beforeAll(() => {
  const result = createLan(3);
  if (result.kind === "ok") lan = result.lan;
  else {
    refused = result.reason;
    console.warn(`multicast NACK test SKIPPED: the kernel refused the network namespaces (${refused})`);
  }
});
afterAll(() => lan?.remove());

describe("NACK on a multicast group inside network namespaces", () => {
  it("a receiver behind 2% loss asks the sender's unicast address and records every frame; the other records every frame too", async ({
    skip,
  }) => {
    if (lan === undefined) return skip(`network namespaces refused: ${refused ?? "unknown"}`);
    const [sender, clean, lossy] = lan.hosts;
    if (sender === undefined || clean === undefined || lossy === undefined) throw new Error("three hosts expected");
    addIngressLoss(lan, lossy, PORT, 20);
    const dir = tempDir();
    cleanup.add(dir.remove);
    const peers = [];
    for (const host of [clean, lossy]) {
      const output = join(dir.path, `${host.address}.avi`);
      const stats = join(dir.path, `${host.address}.json`);
      const child = await startReceiverIn(host, [
        ...["--host", GROUP, "--multicast-interface", host.address, "--nack", "on"],
        ...receiveArgs(PORT, { output, stats, idleExit: 2 }),
      ]);
      cleanup.kill(child);
      peers.push({ child, output, stats });
    }
    const senderStats = join(dir.path, "tx.json");
    const send = startSenderIn(sender, [
      ...sourceArgs({ source: "test", codec: "jpeg", width: 640, height: 480, fps: 25, frames: FRAMES }),
      ...["--host", GROUP, "--port", String(PORT), "--multicast-interface", sender.address, "--ttl", "1"],
      ...["--nack", "on", "--fec", "0", "--stats", senderStats],
    ]);
    cleanup.kill(send);
    expect(await send.exited, send.stderr()).toBe(0);
    for (const peer of peers) expect(await peer.child.exited).toBe(0);
    const dropped = ingressLossCount(lossy);
    const tx = readSenderStats(senderStats);
    const every = Array.from({ length: FRAMES }, (_, i) => i);
    for (const [i, peer] of peers.entries()) {
      const frames = await inspectRecording(peer.output);
      const verdict = judgeRecording(frames);
      const nack = v1Counters(readReceiverStats(peer.stats)).nack;
      console.log(
        `receiver ${i === 0 ? "clean" : `lossy (${dropped} dropped)`}: ${verdict.intact}/${FRAMES} intact, ${verdict.torn} torn; ` +
          `asked ${nack.datagramsRequested} in ${nack.nacksSent} NACKs, ${nack.datagramsRecoveredByNack} recovered; sender resent ${tx.nack.datagramsRetransmitted}`,
      );
      expect(verdict.torn).toBe(0);
      expect(frames.map((f) => f.number)).toEqual(every);
      expect(verdict.intact).toBe(FRAMES);
      if (i === 1) expect(nack.datagramsRecoveredByNack).toBeGreaterThan(0);
    }
    expect(dropped).toBeGreaterThan(0);
    expect(tx.nack.nacksReceived).toBeGreaterThan(0);
    expect(tx.nack.nacksUnauthenticated).toBe(0);
  }, 120_000);
});
