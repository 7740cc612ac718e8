/**
 * A receiver killed with SIGKILL cannot finalize anything. With
 * --segment-seconds 1, every segment finished before the kill plays and holds
 * consecutive frames; a single file keeps every frame written before the kill.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_MAX_DATAGRAM_BYTES } from "@udpcam/protocol";
import {
  ffprobeFrameCount,
  ffprobeFrameRate,
  freePort,
  inspectRecording,
  startReceiver,
  startSender,
  tempDir,
  loopbackReceiveArgs,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";

const cleanup = useCleanup();
const FPS = 25;
const FRAMES = 125;

/** `rtp`: both ends --protocol rtp, at `fps`. */
async function killedAfterStream(
  receiverArgs: readonly string[],
  { rtp = false, fps = FPS }: { rtp?: boolean; fps?: number } = {},
): Promise<string> {
  const dir = tempDir();
  cleanup.add(dir.remove);
  const port = await freePort();
  const receiver = await startReceiver([
    ...loopbackReceiveArgs(port, { output: join(dir.path, "out.avi") }),
    ...(rtp ? ["--protocol", "rtp"] : []),
    ...receiverArgs,
  ]);
  cleanup.kill(receiver);
  const sender = startSender([
    "--source",
    "test",
    "--codec",
    "jpeg",
    "--fps",
    String(fps),
    "--frames",
    String(FRAMES),
    "--datagram-size",
    String(DEFAULT_MAX_DATAGRAM_BYTES),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    ...(rtp ? ["--protocol", "rtp"] : []),
  ]);
  cleanup.kill(sender);
  expect(await sender.exited).toBe(0);
  // Every frame has been sent (and, on loopback, received): now the receiver dies without a word.
  receiver.child.kill("SIGKILL");
  expect(await receiver.exited).toBe("SIGKILL");
  return dir.path;
}

describe("receiver killed with SIGKILL", () => {
  it("--segment-seconds 1: every finished segment plays, 25 consecutive frames each; at most ~2 s are lost", async () => {
    const dir = await killedAfterStream(["--segment-seconds", "1"]);
    const segments = readdirSync(dir)
      .filter((name) => /^out-\d{3}\.avi$/.test(name))
      .sort();
    expect(segments.length).toBeGreaterThanOrEqual(4);
    // The last one was open when the process died: it may be unreadable. All the others were finalized.
    const finished = segments.slice(0, -1);
    const numbers: (number | undefined)[] = [];
    for (const name of finished) {
      const path = join(dir, name);
      expect(ffprobeFrameCount(path)).toBe(FPS);
      const frames = await inspectRecording(path);
      expect(frames.filter((f) => f.torn)).toEqual([]);
      numbers.push(...frames.map((f) => f.number));
    }
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i));
    // Lost: the open segment (1 s) plus what waited to be written.
    expect(numbers.length).toBeGreaterThanOrEqual(FRAMES - 2 * FPS);
    console.log(
      `SIGKILL, 1 s segments: ${finished.length} finished segments play, frames 0-${numbers.length - 1} of 0-${FRAMES - 1}; open segment ${segments[segments.length - 1]} is ${statSync(join(dir, segments[segments.length - 1]!)).size} bytes`,
    );
  }, 60_000);

  it("one file, JPEG stored as it arrives (the default): every frame written before the kill plays", async () => {
    const dir = await killedAfterStream([]);
    const path = join(dir, "out.avi");
    const frames = await inspectRecording(path);
    expect(ffprobeFrameCount(path)).toBe(frames.length);
    expect(frames.filter((f) => f.torn)).toEqual([]);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: frames.length }, (_, i) => i));
    // The sender had finished: at most the frames still in the receiver's hands are lost.
    expect(frames.length).toBeGreaterThanOrEqual(FRAMES - 5);
  }, 60_000);

  it("one file of an RTP stream (its rate from its timestamps, its first frames held until then): the same, at 30 fps", async () => {
    const dir = await killedAfterStream([], { rtp: true, fps: 30 });
    const path = join(dir, "out.avi");
    const frames = await inspectRecording(path);
    expect(ffprobeFrameRate(path)).toBe("30/1");
    expect(ffprobeFrameCount(path)).toBe(frames.length);
    expect(frames.filter((f) => f.torn)).toEqual([]);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: frames.length }, (_, i) => i));
    // Holding lasted the first 4 frames (100 ms): written long before the kill.
    expect(frames.length).toBeGreaterThanOrEqual(FRAMES - 5);
  }, 60_000);

  it("one file encoded as DIVX (--fourcc DIVX): every frame written before the kill plays, frames from 0 in order", async () => {
    const dir = await killedAfterStream(["--fourcc", "DIVX"]);
    const path = join(dir, "out.avi");
    const bytes = statSync(path).size;
    const readable = ffprobeFrameCount(path);
    const frames = await inspectRecording(path);
    console.log(`SIGKILL, one DIVX file: ${bytes} bytes, ffprobe reads ${readable} frames, of ${FRAMES} sent`);
    // The encoder flushes each frame to the file as it writes it: only the index is missing.
    expect(readable).toBe(frames.length);
    expect(frames.filter((f) => f.torn)).toEqual([]);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: frames.length }, (_, i) => i));
    // The sender had finished: at most the frames still in the receiver's hands are lost.
    expect(frames.length).toBeGreaterThanOrEqual(FRAMES - 5);
  }, 60_000);
});
