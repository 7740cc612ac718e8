/**
 * What the receiver loads and starts for the sinks it has: a receiver that stores JPEG
 * frames as they arrive (MJPG into .avi, no window, no viewer) loads no OpenCV and starts
 * no encoder process, with the default `--fourcc auto` too, which checks the codec for raw
 * streams (DIVX) only when the first raw stream arrives. And a receiver with nothing to do
 * sleeps: its timers run while there is work. Memory and CPU figures are the benchmark's
 * (tools/bench, receiver.ts), not asserted here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  freePort,
  loopbackReceiveArgs,
  readReceiverStats,
  receiverArgv,
  spawnChild,
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

/** A receiver recording to out.avi with `fourcc`, and a sender of the test pattern as `codec` to it. */
async function streamTo(fourcc: string, codec: "jpeg" | "raw", env: Record<string, string> = {}) {
  const dir = tempDir();
  cleanup.add(dir.remove);
  const port = await freePort();
  const statsFile = join(dir.path, "stats.json");
  const receiver = await startReceiver(
    loopbackReceiveArgs(port, { output: join(dir.path, "out.avi"), fourcc, stats: statsFile, idleExit: 1 }),
    { env },
  );
  cleanup.kill(receiver);
  const sender = startSender([
    ...["--host", "127.0.0.1", "--port", String(port)],
    ...["--source", "test", "--codec", codec, "--fps", "25", "--frames", String(FRAMES)],
  ]);
  cleanup.kill(sender);
  return { receiver, sender, statsFile };
}

async function recordJpegStream(fourcc: string) {
  const { receiver, sender, statsFile } = await streamTo(fourcc, "jpeg");
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

/**
 * OpenCV without its FFmpeg backend (OpenCV's own switch, which the native MPEG-4 writer obeys too): DIVX cannot be
 * written, MJPG into .avi (our own writer) still can. A receiver that checked DIVX at start would refuse
 * to start here.
 */
const NO_FFMPEG = { OPENCV_VIDEOIO_PRIORITY_FFMPEG: "0" };

describe("receiver: --fourcc auto checks the codec for raw streams at the first raw stream", () => {
  async function receiverWithoutFfmpeg(fourcc: string, codec: "jpeg" | "raw") {
    const { receiver, sender, statsFile } = await streamTo(fourcc, codec, NO_FFMPEG);
    expect(await sender.exited).toBe(0);
    return { receiver, code: await receiver.exited, statsFile };
  }

  it("a named DIVX that cannot be written: refused at start, one line naming --fourcc, exit 2", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const receiver = spawnChild(
      process.execPath,
      receiverArgv(loopbackReceiveArgs(port, { output: join(dir.path, "out.avi"), fourcc: "DIVX" })),
      { name: "receiver", env: NO_FFMPEG },
    );
    cleanup.kill(receiver);
    expect(await receiver.exited).toBe(2);
    expect(receiver.stderr().trim().split("\n").at(-1)).toMatch(/^udpcam receiver: --fourcc: cannot record DIVX to /);
  });

  it("auto, JPEG stream: starts and records every frame without FFmpeg (no DIVX check at start)", async () => {
    const { code, statsFile } = await receiverWithoutFfmpeg("auto", "jpeg");
    expect(code).toBe(0);
    expect(readReceiverStats(statsFile).framesRecorded).toBe(FRAMES);
  });

  it("auto, raw stream: DIVX cannot be written, said in one line naming --fourcc and the fix, exit 2", async () => {
    const { receiver, code } = await receiverWithoutFfmpeg("auto", "raw");
    expect(code).toBe(2);
    const last = receiver.stderr().trim().split("\n").at(-1);
    expect(last).toMatch(/^udpcam receiver: --fourcc auto: .*DIVX.*; name a codec this system can write with --fourcc/);
  });
});

/**
 * How often the threads of a process were woken from sleep so far (voluntary context switches), per thread id.
 * A thread waiting in epoll or on a futex counts one each time it wakes; a busy machine preempting it does not
 * (that is involuntary), so the figure does not depend on load.
 */
function wakeupsByThread(pid: number): Map<string, number> {
  const byThread = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, "utf8");
      byThread.set(task, Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1] ?? 0));
    } catch {
      // the thread ended meanwhile
    }
  }
  return byThread;
}

/**
 * Wakeups of every thread of `pid` in each of `seconds` one-second windows, the fewest. A timer that runs whether or
 * not there is work wakes the threads in every window; V8's own one-off tasks (its memory reducer's collections some
 * seconds after start and after allocation stops, on its helper threads too) fill two or three windows in a row,
 * which the fewest leaves out.
 */
async function fewestWakeupsPerSecond(pid: number, seconds: number): Promise<number> {
  const windows: number[] = [];
  let before = wakeupsByThread(pid);
  for (let i = 0; i < seconds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = wakeupsByThread(pid);
    let total = 0;
    for (const [thread, count] of after) total += count - (before.get(thread) ?? 0);
    windows.push(total);
    before = after;
  }
  return Math.min(...windows);
}

/** An idle receiver's status line ticks once a second, and it forgets a silent stream 10 s after its last datagram. */
const IDLE_WAKEUPS_PER_SECOND = 5;
const WINDOWS = 5;

describe("receiver: idle, it sleeps", () => {
  // --nack on: the loss tracker is polled every 2 ms only while a frame is unfinished or a gap open.
  it.each([
    ["--nack off", []],
    ["--nack on (both ends)", ["--nack", "on"]],
  ] as const)(
    `%s: its threads wake at most ${IDLE_WAKEUPS_PER_SECOND} times a second before any stream and after one ended`,
    async (_name, nackArgs) => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const port = await freePort();
      const statsFile = join(dir.path, "stats.json");
      const receiver = await startReceiver([
        ...loopbackReceiveArgs(port, { output: join(dir.path, "out.avi"), fourcc: "MJPG", stats: statsFile }),
        ...nackArgs,
      ]);
      cleanup.kill(receiver);
      const pid = receiver.child.pid ?? 0;
      const beforeStream = await fewestWakeupsPerSecond(pid, WINDOWS);

      const sender = startSender([
        ...["--host", "127.0.0.1", "--port", String(port)],
        ...["--source", "test", "--codec", "jpeg", "--fps", "25", "--frames", "25"],
        ...nackArgs,
      ]);
      cleanup.kill(sender);
      expect(await sender.exited).toBe(0);
      // The stream is still tracked here (it is forgotten after 10 s of silence).
      const afterStream = await fewestWakeupsPerSecond(pid, WINDOWS);

      receiver.signal("SIGINT");
      expect(await receiver.exited).toBe(0);
      expect(readReceiverStats(statsFile).framesRecorded).toBe(25);
      expect(beforeStream, "wakeups a second before any stream (fewest of 5 s)").toBeLessThanOrEqual(
        IDLE_WAKEUPS_PER_SECOND,
      );
      expect(afterStream, "wakeups a second after the stream (fewest of 5 s)").toBeLessThanOrEqual(
        IDLE_WAKEUPS_PER_SECOND,
      );
    },
  );
});
