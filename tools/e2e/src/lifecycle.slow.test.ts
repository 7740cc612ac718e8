import { createSocket } from "node:dgram";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import {
  ffprobeFrameCount,
  freePort,
  inspectRecording,
  isStrictlyIncreasing,
  readReceiverStats,
  startReceiver,
  startSender,
  tempDir,
  v1Counters,
  loopbackReceiveArgs,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";

const cleanup = useCleanup();

describe("receiver lifecycle", () => {
  it.each(["SIGINT", "SIGTERM"] as const)(
    "%s finalizes the recording: it plays and holds every frame counted",
    async (signal) => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const port = await freePort();
      const output = join(dir.path, "out.avi");
      const statsFile = join(dir.path, "stats.json");
      const receiver = await startReceiver([...loopbackReceiveArgs(port, { output, stats: statsFile })]);
      cleanup.kill(receiver);
      const sender = startSender([
        "--source",
        "test",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--fps",
        "25",
        "--codec",
        "jpeg",
      ]);
      cleanup.kill(sender);
      await sleep(2_500);
      receiver.child.kill(signal);
      expect(await receiver.exited).toBe(0);

      const stats = readReceiverStats(statsFile);
      expect(stats.framesRecorded).toBeGreaterThan(30);
      expect(ffprobeFrameCount(output)).toBe(stats.framesRecorded);
      const frames = await inspectRecording(output);
      expect(frames).toHaveLength(stats.framesRecorded);
      expect(frames.filter((f) => f.torn)).toEqual([]);
      expect(isStrictlyIncreasing(frames.map((f) => f.number))).toBe(true);
    },
  );

  it("keeps recording while garbage datagrams arrive between good ones, counting them", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const output = join(dir.path, "out.avi");
    const statsFile = join(dir.path, "stats.json");
    const receiver = await startReceiver([...loopbackReceiveArgs(port, { output, stats: statsFile, idleExit: 1 })]);
    cleanup.kill(receiver);
    const sender = startSender([
      "--source",
      "test",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--fps",
      "25",
      "--frames",
      "50",
      "--codec",
      "jpeg",
      "--datagram-size",
      String(DEFAULT_MAX_DATAGRAM_BYTES),
    ]);
    cleanup.kill(sender);

    const attacker = createSocket("udp4");
    let garbage = 0;
    const throwGarbage = setInterval(() => {
      for (let i = 0; i < 50; i++) {
        const datagram = randomBytes(1 + ((Math.random() * 2000) | 0));
        // Some start like a real header would, to get past the first checks.
        if (i % 2 === 0) datagram.write("UC", 0, "latin1");
        attacker.send(datagram, port, "127.0.0.1");
        garbage++;
      }
    }, 5);
    expect(await sender.exited).toBe(0);
    clearInterval(throwGarbage);
    attacker.close();
    expect(await receiver.exited).toBe(0);

    const stats = readReceiverStats(statsFile);
    expect(garbage).toBeGreaterThan(5_000);
    expect(stats.framesRecorded).toBe(50);
    expect(v1Counters(stats).datagramsMalformed).toBeGreaterThan(0);
    const frames = await inspectRecording(output);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
