/**
 * The sender's socket is connected, so the system reports a port with nothing listening (ICMP port
 * unreachable, which loopback always answers) as ECONNREFUSED. A sender started before its receiver must
 * count that, say it once in plain words, keep sending, and reach the receiver once it starts: in each wire
 * format, since they share the socket.
 */
import { join } from "node:path";
import {
  freePort,
  loopbackReceiveArgs,
  loopbackTargetArgs,
  readReceiverStats,
  readSenderStats,
  sourceArgs,
  startReceiver,
  startSender,
  tempDir,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { LOG_WARN, logLines, useCleanup } from "./harness.js";

const cleanup = useCleanup();
const FPS = 50;
/** Long enough (6 s) for the receiver to start while the sender still sends, on a busy machine. */
const FRAMES = 300;
const REFUSED = /nothing is listening at 127\.0\.0\.1:\d+ yet/;

describe("sender before its receiver (connected socket, ECONNREFUSED)", () => {
  it.each([
    { protocol: "v1", codec: "jpeg" },
    { protocol: "legacy", codec: "raw" },
    { protocol: "rtp", codec: "jpeg" },
  ] as const)(
    "$protocol: counts the refusals, says so once, keeps sending, and the receiver started later gets whole frames",
    async ({ protocol, codec }) => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const port = await freePort();
      const senderStats = join(dir.path, "sender.json");
      const receiverStats = join(dir.path, "receiver.json");
      const sender = startSender([
        ...sourceArgs({ source: "test", codec: protocol === "rtp" ? undefined : codec, fps: FPS, frames: FRAMES }),
        ...loopbackTargetArgs(port),
        ...["--protocol", protocol, "--stats", senderStats],
      ]);
      cleanup.kill(sender);
      // The refusal is reported (and logged) before anything listens.
      await sender.waitFor(REFUSED);

      const receiver = await startReceiver([
        ...loopbackReceiveArgs(port, { output: "none", stats: receiverStats, idleExit: 1 }),
        ...["--protocol", protocol],
      ]);
      cleanup.kill(receiver);
      expect(await sender.exited, sender.stderr()).toBe(0);
      expect(await receiver.exited, receiver.stderr()).toBe(0);

      const sent = readSenderStats(senderStats);
      expect(sent.framesSent).toBe(FRAMES);
      expect(sent.refusals).toBeGreaterThan(0);
      expect(sent.sendErrors).toBe(0);
      const warnings = logLines(sender.stderr()).filter((line) => line.level >= LOG_WARN);
      expect(warnings.map((line) => line.msg)).toEqual([expect.stringMatching(REFUSED)]);
      expect(warnings[0]?.msg).toMatch(/still sending/);

      // The frames sent after the receiver bound its port arrive whole (the refusals came before).
      const received = readReceiverStats(receiverStats);
      expect(received.framesComplete).toBeGreaterThanOrEqual(FPS / 2);
      expect(received.framesComplete).toBeLessThan(FRAMES);
    },
    60_000,
  );
});
