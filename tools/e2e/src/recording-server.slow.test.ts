/**
 * A recording server: one receiver, eight senders at once (`--streams separate`, JPEG
 * 640x480 at 25 fps, MJPG): every frame of every stream is in its own file, byte for byte
 * the sender's JPEG. Memory and CPU per frame are the benchmark's (tools/bench receiver.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  freePort,
  loopbackReceiveArgs,
  readReceiverStats,
  readSenderStats,
  startReceiver,
  startSender,
  tempDir,
} from "@udpcam/testkit";
import { encodeJpeg, renderPatternFrame } from "@udpcam/video";
import { describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";

const cleanup = useCleanup();
const SENDERS = 8;
const FRAMES = 50;
const QUALITY = 80;

/** The frames of an MJPG AVI, copied out as they are stored (no decode). */
function storedJpegs(avi: string, into: string): Buffer[] {
  mkdirSync(into);
  execFileSync("ffmpeg", ["-v", "error", "-i", avi, "-c", "copy", "-f", "image2", join(into, "%03d.jpg")]);
  return readdirSync(into)
    .sort()
    .map((name) => readFileSync(join(into, name)));
}

describe("recording server", () => {
  it(`${SENDERS} senders, --streams separate, MJPG: every frame of every stream stored byte for byte`, async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const statsFile = join(dir.path, "stats.json");
    const receiver = await startReceiver([
      ...loopbackReceiveArgs(port, { output: join(dir.path, "out.avi"), fourcc: "MJPG", stats: statsFile }),
      ...["--idle-exit", "1.5", "--streams", "separate"],
      // All eight come from 127.0.0.1: the per-address cap (half of --max-streams by default) must admit them.
      ...["--max-streams", String(SENDERS), "--max-streams-per-source", String(SENDERS)],
    ]);
    cleanup.kill(receiver);
    const senders = Array.from({ length: SENDERS }, (_, i) =>
      startSender([
        ...["--host", "127.0.0.1", "--port", String(port), "--stats", join(dir.path, `tx-${i}.json`)],
        ...["--source", "test", "--codec", "jpeg", "--quality", String(QUALITY), "--fps", "25"],
        ...["--frames", String(FRAMES)],
      ]),
    );
    for (const sender of senders) cleanup.kill(sender);
    expect(await Promise.all(senders.map((sender) => sender.exited))).toEqual(senders.map(() => 0));
    expect(await receiver.exited).toBe(0);

    const stats = readReceiverStats(statsFile);
    expect(stats.streamsSeen).toBe(SENDERS);
    expect(stats.framesRecorded).toBe(SENDERS * FRAMES);
    const source = Array.from({ length: FRAMES }, (_, n) => encodeJpeg(renderPatternFrame(n, 640, 480), QUALITY));
    for (let i = 0; i < SENDERS; i++) {
      const streamId = readSenderStats(join(dir.path, `tx-${i}.json`)).streamId;
      const file = join(dir.path, `out-${streamId.toString(16).padStart(8, "0")}.avi`);
      const stored = storedJpegs(file, join(dir.path, `frames-${i}`));
      expect(stored, `stream ${i}`).toHaveLength(FRAMES);
      stored.forEach((jpeg, n) =>
        expect(Buffer.compare(jpeg, source[n] ?? Buffer.alloc(0)), `stream ${i} frame ${n}`).toBe(0),
      );
    }
  }, 90_000);
});
