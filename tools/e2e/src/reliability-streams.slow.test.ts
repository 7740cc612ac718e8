/**
 * Restarts and several senders: a sender killed and started again, a receiver
 * killed and started again, and two senders at once with each stream policy.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import {
  freePort,
  inspectRecording,
  isStrictlyIncreasing,
  judgeRecording,
  readReceiverStats,
  readSenderStats,
  runsOf,
  startReceiver,
  startSender,
  tempDir,
  loopbackReceiveArgs,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { LOG_WARN, logLines, useCleanup } from "./harness.js";

const cleanup = useCleanup();

function pattern(port: number, fps: number, extra: readonly string[] = []): string[] {
  return [
    "--source",
    "test",
    "--codec",
    "jpeg",
    "--fps",
    String(fps),
    "--datagram-size",
    String(DEFAULT_MAX_DATAGRAM_BYTES),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    ...extra,
  ];
}

describe("restarts", () => {
  it("a sender killed mid-stream and started again: the receiver keeps running and records both runs", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const output = join(dir.path, "out.avi");
    const statsFile = join(dir.path, "stats.json");
    const receiver = await startReceiver([
      ...loopbackReceiveArgs(port, { output, stats: statsFile, idleExit: 4 }),
      "--streams",
      "first",
    ]);
    cleanup.kill(receiver);
    const first = startSender(pattern(port, 25));
    cleanup.kill(first);
    await receiver.waitFor(/"msg":"recording to /);
    // Long enough that the first run ends above the frame number the second sender has reached when it takes
    // over (~2 s after the first went silent): the two runs are told apart by the numbers going down.
    await sleep(3_000);
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    await sleep(300);
    // 100 frames at 25 fps: 4 s, of which the first ~2 s wait for the old stream to count as gone.
    const second = startSender(pattern(port, 25, ["--frames", "100"]));
    cleanup.kill(second);
    expect(await second.exited).toBe(0);
    expect(await receiver.exited).toBe(0);

    const frames = await inspectRecording(output);
    const verdict = judgeRecording(frames);
    expect(verdict.torn).toBe(0);
    expect(verdict.intact).toBe(verdict.recorded);
    const runs = runsOf(frames.map((f) => f.number));
    expect(runs).toHaveLength(2);
    const [before, after] = runs as [number[], number[]];
    expect(before.length).toBeGreaterThan(20);
    expect(before[0]).toBe(0);
    // The new stream is recorded from when it took over to its last frame.
    expect(after.length).toBeGreaterThan(20);
    expect(after[after.length - 1]).toBe(99);
    expect(isStrictlyIncreasing(after)).toBe(true);
    const messages = logLines(receiver.stderr()).map((l) => l.msg);
    expect(messages.some((m) => /went silent; new stream/.test(m))).toBe(true);
  }, 60_000);

  it("a receiver killed and started again: the sender keeps sending and exits 0, the second receiver records", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const firstOutput = join(dir.path, "first.avi");
    const secondOutput = join(dir.path, "second.avi");
    const statsFile = join(dir.path, "stats.json");
    const first = await startReceiver(["--host", "127.0.0.1", "--port", String(port), "--output", firstOutput]);
    cleanup.kill(first);
    // 200 frames at 25 fps: 8 s, room for a second receiver that starts slowly on a busy machine.
    const sender = startSender(pattern(port, 25, ["--frames", "200"]));
    cleanup.kill(sender);
    await first.waitFor(/"msg":"recording to /);
    await sleep(1_000);
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    // Nobody listens for a while: the datagrams go nowhere (ICMP port unreachable), which must not stop the sender.
    await sleep(1_000);
    const second = await startReceiver([
      ...loopbackReceiveArgs(port, { output: secondOutput, stats: statsFile, idleExit: 1.5 }),
    ]);
    cleanup.kill(second);
    expect(await sender.exited).toBe(0);
    // The one warning: its connected socket heard that nothing listened for a while (ICMP port unreachable).
    expect(
      logLines(sender.stderr())
        .filter((l) => l.level >= LOG_WARN)
        .map((l) => l.msg),
    ).toEqual([expect.stringMatching(/nothing is listening at 127\.0\.0\.1:\d+ yet .*still sending/)]);
    expect(await second.exited).toBe(0);

    const frames = await inspectRecording(secondOutput);
    const verdict = judgeRecording(frames);
    expect(verdict.torn).toBe(0);
    expect(verdict.intact).toBe(verdict.recorded);
    expect(isStrictlyIncreasing(frames.map((f) => f.number))).toBe(true);
    expect(frames.length).toBeGreaterThan(10);
    expect(frames[0]?.number).toBeGreaterThan(0);
    expect(frames[frames.length - 1]?.number).toBe(199);
  }, 60_000);
});

describe("two senders to one receiver", () => {
  it("--streams separate: each stream to its own file, output-<stream id hex>.avi, never mixed", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const statsFile = join(dir.path, "stats.json");
    const receiver = await startReceiver([
      ...loopbackReceiveArgs(port, { output: join(dir.path, "out.avi") }),
      "--stats",
      statsFile,
      "--idle-exit",
      "1.5",
      "--streams",
      "separate",
    ]);
    cleanup.kill(receiver);
    // Different sizes and lengths, so a frame in the wrong file could not go unnoticed.
    const big = startSender(pattern(port, 25, ["--frames", "60", "--stats", join(dir.path, "big.json")]));
    const small = startSender(
      pattern(port, 25, [
        "--frames",
        "40",
        "--width",
        "320",
        "--height",
        "240",
        "--stats",
        join(dir.path, "small.json"),
      ]),
    );
    cleanup.kill(big);
    cleanup.kill(small);
    expect(await big.exited).toBe(0);
    expect(await small.exited).toBe(0);
    expect(await receiver.exited).toBe(0);

    const fileOf = (statsName: string) =>
      `out-${readSenderStats(join(dir.path, statsName)).streamId.toString(16).padStart(8, "0")}.avi`;
    const recordings = readdirSync(dir.path)
      .filter((name) => name.endsWith(".avi"))
      .sort();
    expect(recordings).toEqual([fileOf("big.json"), fileOf("small.json")].sort());
    for (const name of recordings) expect(name).toMatch(/^out-[0-9a-f]{8}\.avi$/);

    const bigFrames = await inspectRecording(join(dir.path, fileOf("big.json")));
    const smallFrames = await inspectRecording(join(dir.path, fileOf("small.json")));
    expect(bigFrames.map((f) => f.number)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(smallFrames.map((f) => f.number)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(judgeRecording(bigFrames).intact).toBe(60);
    expect(judgeRecording(smallFrames).intact).toBe(40);
    const stats = readReceiverStats(statsFile);
    expect(stats.streamsSeen).toBe(2);
    expect(stats.streamsRefused).toBe(0);
  }, 60_000);

  it("--streams first: the second sender is refused with one clear line and counted; the first is recorded alone", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const output = join(dir.path, "out.avi");
    const statsFile = join(dir.path, "stats.json");
    const receiver = await startReceiver([
      ...loopbackReceiveArgs(port, { output, stats: statsFile, idleExit: 1.5 }),
      "--streams",
      "first",
    ]);
    cleanup.kill(receiver);
    const firstSender = startSender(pattern(port, 25, ["--frames", "75"]));
    cleanup.kill(firstSender);
    await receiver.waitFor(/"msg":"recording to /);
    const second = startSender(pattern(port, 25, ["--frames", "40", "--width", "320", "--height", "240"]));
    cleanup.kill(second);
    expect(await firstSender.exited).toBe(0);
    expect(await second.exited).toBe(0);
    expect(await receiver.exited).toBe(0);

    const frames = await inspectRecording(output);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 75 }, (_, i) => i));
    expect(judgeRecording(frames).intact).toBe(75);
    const stats = readReceiverStats(statsFile);
    expect(stats.streamsRefused).toBe(1);
    const refusals = logLines(receiver.stderr()).filter(
      (l) => l.level >= LOG_WARN && /refusing a second stream/.test(l.msg),
    );
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.msg).toMatch(/use --streams separate/);
    expect(readdirSync(dir.path).filter((name) => name.endsWith(".avi"))).toEqual(["out.avi"]);
  }, 60_000);
});
