/**
 * What the sender loads for the source and codec it has: the test pattern sent as JPEG (or raw) needs no OpenCV,
 * some 85 MB of libraries (its JPEG comes from the video package's libjpeg addon, byte for byte what OpenCV's
 * imencode makes), nor does an MJPG AVI sent as it is (its chunks are read in JavaScript); an MJPG file in another
 * container still does (OpenCV's FFmpeg backend reads it), which the check sees. Memory figures are measured by hand
 * (docs/benchmarks/efficiency.md), not asserted here.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  freePort,
  loopbackReceiveArgs,
  patternJpeg,
  readReceiverStats,
  startReceiver,
  startSender,
  tempDir,
  type Child,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { recordedJpegs, useCleanup } from "./harness.js";

const cleanup = useCleanup();
const FRAMES = 40;

function opencvLibraries(pid: number): string[] {
  return [...new Set(readFileSync(`/proc/${pid}/maps`, "utf8").match(/\S*libopencv\S*/g) ?? [])];
}

/** What the sender has mapped from OpenCV once frames are arriving at the receiver (half-way through). */
async function lookWhileSending(receiver: Child, sender: Child): Promise<string[]> {
  await receiver.waitFor(/"msg":"recording to /);
  await new Promise((resolve) => setTimeout(resolve, 400));
  return opencvLibraries(sender.child.pid ?? 0);
}

async function send(source: string) {
  const dir = tempDir();
  cleanup.add(dir.remove);
  const port = await freePort();
  const output = join(dir.path, "out.avi");
  const statsFile = join(dir.path, "stats.json");
  const receiver = await startReceiver(
    loopbackReceiveArgs(port, { output, fourcc: "MJPG", stats: statsFile, idleExit: 1 }),
  );
  cleanup.kill(receiver);
  const sender = startSender([
    ...["--host", "127.0.0.1", "--port", String(port)],
    ...["--source", source, "--codec", "jpeg", "--fps", "25", "--frames", String(FRAMES)],
  ]);
  cleanup.kill(sender);
  const seen = await lookWhileSending(receiver, sender);
  expect(await sender.exited, sender.stderr()).toBe(0);
  expect(await receiver.exited).toBe(0);
  expect(readReceiverStats(statsFile).framesRecorded).toBe(FRAMES);
  return { seen, output, dir: dir.path, jpegs: recordedJpegs(output, dir.path) };
}

describe("sender: what the test pattern loads", () => {
  it("as JPEG: no OpenCV in the sender, and every frame's JPEG is byte for byte OpenCV's", async () => {
    const { seen, jpegs } = await send("test");
    expect(seen).toEqual([]);
    expect(jpegs).toHaveLength(FRAMES);
    jpegs.forEach((jpeg, n) => expect(Buffer.compare(jpeg, patternJpeg(n, 640, 480, 80)), `frame ${n}`).toBe(0));
  });

  it("an MJPG AVI sent as it is: no OpenCV either (its chunks are read in JavaScript), the same JPEG bytes", async () => {
    const recorded = await send("test");
    const { seen, jpegs } = await send(recorded.output);
    expect(seen).toEqual([]);
    expect(jpegs).toEqual(recorded.jpegs);
  });

  it("an MJPG file in another container is read by FFmpeg: OpenCV is loaded (the check above can see it)", async () => {
    const recorded = await send("test");
    const mkv = join(recorded.dir, "copy.mkv");
    execFileSync("ffmpeg", ["-v", "error", "-y", "-i", recorded.output, "-c:v", "copy", mkv]);
    const { seen, jpegs } = await send(mkv);
    expect(seen.length).toBeGreaterThan(0);
    expect(jpegs).toEqual(recorded.jpegs);
  });
});
