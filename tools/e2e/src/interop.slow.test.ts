import { join } from "node:path";
import { LEGACY_CHUNK_COUNT, LEGACY_FRAME_HEIGHT, LEGACY_FRAME_WIDTH } from "@udpcam/protocol";
import {
  INTACT_MIN_PSNR,
  REPO_ROOT,
  SEED_CLIENT,
  SEED_SERVER,
  SYSTEM_PYTHON,
  freePort,
  inspectRecording,
  isIntact,
  isStrictlyIncreasing,
  loopbackTargetArgs,
  readReceiverStats,
  sourceArgs,
  spawnChild,
  startReceiver,
  startSender,
  tempDir,
  waitForFile,
  writePatternClip,
} from "@udpcam/testkit";
import { describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";

const cleanup = useCleanup();
const ARRIVAL_CLOCK = join(REPO_ROOT, "tools/e2e/peers/arrival_clock.py");
const ARRIVAL_FRAMES = 100;
const SEED_DEFAULT_FRAMES = 250;
/** Of 250 into the server with its default buffer: what a loaded 2-core machine still gives (see the test). */
const SEED_DEFAULT_MIN_INTACT = 150;

describe("udpcam sender -> the original server (legacy protocol)", () => {
  /** The seed's server fed `frames` frames at 25 fps by our sender; `rcvbuf` undefined = the system's default. */
  async function sendToSeedServer(frames: number, rcvbuf: number | undefined) {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const output = join(dir.path, "output.avi");
    const ready = join(dir.path, "ready");
    const server = spawnChild(
      SYSTEM_PYTHON,
      [
        SEED_SERVER,
        ...["--port", String(port), "--output", output, "--idle-exit", "1.5", "--ready-file", ready],
        ...(rcvbuf === undefined ? [] : ["--rcvbuf", String(rcvbuf)]),
      ],
      { name: "seed_server", env: { DISPLAY: undefined } },
    );
    cleanup.kill(server);
    await waitForFile(ready);
    const sender = startSender([
      ...sourceArgs({ source: "test", fps: 25, frames }),
      ...["--protocol", "legacy", ...loopbackTargetArgs(port)],
    ]);
    cleanup.kill(sender);
    expect(await sender.exited).toBe(0);
    expect(await server.exited).toBe(0);
    return { server: JSON.parse(server.stdout().trim()) as unknown, frames: await inspectRecording(output) };
  }

  it("the original server's output.avi holds our frames, none torn (given room: a 4 MiB receive buffer)", async () => {
    // The original server writes every frame between two reads: with the system's 208 KiB
    // buffer, a pause of a loaded test machine loses datagrams there and it records torn
    // frames whatever the sender does (the next test). The claim here is for nothing lost.
    const { server, frames } = await sendToSeedServer(50, 4 << 20);
    expect(server).toEqual({
      framesWritten: 50,
      datagramsReceived: 50 * LEGACY_CHUNK_COUNT,
    });

    expect(frames).toHaveLength(50);
    expect(frames.filter((f) => f.torn)).toEqual([]);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Math.min(...frames.map((f) => f.worstBandPsnr))).toBeGreaterThan(INTACT_MIN_PSNR);
  });

  it("as users run it (the system's default buffer, four datagrams): paced, most frames whole even on a busy machine", async () => {
    // Our sender sends a frame's 20 datagrams one per wake-up and never catches up in a burst,
    // so the server's buffer holds what arrives while it writes. The quiet-machine figure (the
    // aim: at most 1 torn frame in 250) is measured in pnpm bench (docs/benchmarks/seed-server.md,
    // beside the seed's own client), not here. A busy machine
    // stalls the server itself past what four datagrams cover, which no sender can prevent:
    // with other tests on both cores (load 12 to 25) we measured 190 to 240 frames intact. This
    // asserts what holds there. A sender that sends a frame in one burst, as the seed's client
    // does without its waitKey sleep, gets under 10 intact.
    const { frames } = await sendToSeedServer(SEED_DEFAULT_FRAMES, undefined);
    const intact = frames.filter(isIntact);
    expect(intact.length).toBeGreaterThanOrEqual(SEED_DEFAULT_MIN_INTACT);
    // Whatever it tore, every frame it wrote is one of ours, in order.
    expect(isStrictlyIncreasing(intact.map((f) => f.number))).toBe(true);
  });
});

describe("udpcam sender -> the original server's socket (legacy protocol)", () => {
  it("never sends more at once than the server's default buffer takes: at most 3 datagrams in any millisecond", async () => {
    // The kernel's receive timestamps on loopback are the sender's send times, whatever the
    // load: this holds on a busy machine too. The seed's buffer holds four datagrams; the
    // sender used to catch up after a late wake-up with runs of 5 to 19.
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const ready = join(dir.path, "ready");
    const clock = spawnChild(SYSTEM_PYTHON, [ARRIVAL_CLOCK, "--port", String(port), "--ready-file", ready], {
      name: "arrival_clock",
    });
    cleanup.kill(clock);
    await waitForFile(ready);
    const sender = startSender([
      ...sourceArgs({ source: "test", fps: 25, frames: ARRIVAL_FRAMES }),
      ...["--protocol", "legacy", ...loopbackTargetArgs(port)],
    ]);
    cleanup.kill(sender);
    expect(await sender.exited).toBe(0);
    expect(await clock.exited).toBe(0);
    const { datagrams, nanoseconds } = JSON.parse(clock.stdout()) as { datagrams: number; nanoseconds: number[] };
    expect(datagrams).toBe(ARRIVAL_FRAMES * LEGACY_CHUNK_COUNT);
    let most = 0;
    for (let first = 0, last = 0; last < nanoseconds.length; last++) {
      while ((nanoseconds[last] ?? 0) - (nanoseconds[first] ?? 0) >= 1_000_000) first++;
      most = Math.max(most, last - first + 1);
    }
    expect(most).toBeLessThanOrEqual(3);
  });
});

describe("the original client -> udpcam receiver (legacy protocol)", () => {
  async function receiveFromSeedClient(clientArgs: string[], frames: number) {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const clip = join(dir.path, "clip.avi");
    await writePatternClip(clip, { width: LEGACY_FRAME_WIDTH, height: LEGACY_FRAME_HEIGHT, frames });
    const port = await freePort();
    const output = join(dir.path, "out.avi");
    const statsFile = join(dir.path, "stats.json");
    const receiver = await startReceiver([
      "--protocol",
      "legacy",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--output",
      output,
      "--stats",
      statsFile,
      "--idle-exit",
      "1",
    ]);
    cleanup.kill(receiver);
    const client = spawnChild(SYSTEM_PYTHON, [SEED_CLIENT, "--source", clip, "--port", String(port), ...clientArgs], {
      name: "seed_client",
    });
    cleanup.kill(client);
    expect(await client.exited).toBe(0);
    expect(await receiver.exited).toBe(0);
    return { stats: readReceiverStats(statsFile), recorded: await inspectRecording(output) };
  }

  it("paced like a camera: records every frame, none torn", async () => {
    const { stats, recorded } = await receiveFromSeedClient(["--fps", "25"], 50);
    expect(stats.framesRecorded).toBe(50);
    expect(recorded.map((f) => f.number)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Math.min(...recorded.map((f) => f.worstBandPsnr))).toBeGreaterThan(INTACT_MIN_PSNR);
  });

  it("flooding (no pacing at all): strict mode still never records a torn frame", async () => {
    const { stats, recorded } = await receiveFromSeedClient([], 200);
    expect(recorded).toHaveLength(stats.framesRecorded);
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded.filter((f) => f.torn)).toEqual([]);
    expect(isStrictlyIncreasing(recorded.map((f) => f.number))).toBe(true);
    expect(Math.min(...recorded.map((f) => f.worstBandPsnr))).toBeGreaterThan(INTACT_MIN_PSNR);
  });
});
