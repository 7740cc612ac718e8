/**
 * What the receiver loads and starts for the sinks it has: a receiver that stores JPEG
 * frames as they arrive (MJPG into .avi, no window, no viewer) loads no OpenCV and starts
 * no encoder process, with the default `--fourcc auto` too (whose startup check of DIVX
 * runs in a process of its own, which ends once it answered). Memory and CPU figures are
 * the benchmark's (tools/bench, receiver.ts), not asserted here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  freePort,
  loopbackReceiveArgs,
  readReceiverStats,
  startReceiver,
  startSender,
  tempDir,
  type Child,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";

const cleanup = useCleanup();
const FRAMES = 50;

/** What a running process has mapped from OpenCV's libraries, and the processes it started. */
function lookAt(pid: number): { opencvLibraries: string[]; children: number[] } {
  const maps = readFileSync(`/proc/${pid}/maps`, "utf8");
  const opencvLibraries = [...new Set(maps.match(/\S*libopencv\S*/g) ?? [])];
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
    .trim()
    .split(/\s+/)
    .filter((field) => field !== "")
    .map(Number);
  return { opencvLibraries, children };
}

/** Resolves with what `lookAt` saw once the receiver has recorded its first frames (its log says so). */
async function lookWhileRecording(receiver: Child): Promise<ReturnType<typeof lookAt>> {
  await receiver.waitFor(/"msg":"recording to /);
  // The recording was opened at the stream's first frame; a few frames later everything it needs is loaded.
  await new Promise((resolve) => setTimeout(resolve, 400));
  return lookAt(receiver.child.pid ?? 0);
}

async function recordJpegStream(fourcc: string) {
  const dir = tempDir();
  cleanup.add(dir.remove);
  const port = await freePort();
  const statsFile = join(dir.path, "stats.json");
  const receiver = await startReceiver(
    loopbackReceiveArgs(port, { output: join(dir.path, "out.avi"), fourcc, stats: statsFile, idleExit: 1 }),
  );
  cleanup.kill(receiver);
  const sender = startSender([
    ...["--host", "127.0.0.1", "--port", String(port)],
    ...["--source", "test", "--codec", "jpeg", "--fps", "25", "--frames", String(FRAMES)],
  ]);
  cleanup.kill(sender);
  const seen = await lookWhileRecording(receiver);
  expect(await sender.exited).toBe(0);
  expect(await receiver.exited).toBe(0);
  return { seen, stats: readReceiverStats(statsFile) };
}

describe("receiver: what a JPEG recording loads", () => {
  it.each(["auto", "MJPG"])(
    "--fourcc %s, JPEG stream stored as it arrives: no OpenCV in the receiver, no encoder process",
    async (fourcc) => {
      const { seen, stats } = await recordJpegStream(fourcc);
      expect(stats.framesRecorded).toBe(FRAMES);
      expect(seen).toEqual({ opencvLibraries: [], children: [] });
      expect(stats.resources.opencvLoaded).toBe(false);
    },
  );

  it("--fourcc DIVX, the same JPEG stream decoded and encoded: OpenCV is loaded (the check above can see it)", async () => {
    const { seen, stats } = await recordJpegStream("DIVX");
    expect(stats.framesRecorded).toBe(FRAMES);
    expect(seen.opencvLibraries.length).toBeGreaterThan(0);
    expect(seen.children).toHaveLength(1); // the encoder process
    expect(stats.resources.opencvLoaded).toBe(true);
  });
});
