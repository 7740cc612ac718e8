import { join } from "node:path";
import { LEGACY_CHUNK_COUNT, LEGACY_FRAME_HEIGHT, LEGACY_FRAME_WIDTH } from "@udpcam/protocol";
import {
  INTACT_MIN_PSNR,
  SEED_CLIENT,
  SEED_SERVER,
  SYSTEM_PYTHON,
  freePort,
  inspectRecording,
  isStrictlyIncreasing,
  readReceiverStats,
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

describe("udpcam sender -> the original server (legacy protocol)", () => {
  it("the original server's output.avi holds our frames, none torn", async () => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const port = await freePort();
    const output = join(dir.path, "output.avi");
    const ready = join(dir.path, "ready");
    // The original server writes every frame between two reads: with the system's 208 KiB
    // buffer, any pause of a loaded test machine loses datagrams there and it records torn
    // frames whatever the sender does. The claim is for nothing lost: give it room.
    const server = spawnChild(
      SYSTEM_PYTHON,
      [
        SEED_SERVER,
        "--port",
        String(port),
        "--output",
        output,
        "--idle-exit",
        "1.5",
        "--rcvbuf",
        String(4 << 20),
        "--ready-file",
        ready,
      ],
      {
        name: "seed_server",
        env: { DISPLAY: undefined },
      },
    );
    cleanup.kill(server);
    await waitForFile(ready);
    const sender = startSender([
      "--source",
      "test",
      "--protocol",
      "legacy",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--fps",
      "25",
      "--frames",
      "50",
    ]);
    cleanup.kill(sender);
    expect(await sender.exited).toBe(0);
    expect(await server.exited).toBe(0);
    expect(JSON.parse(server.stdout().trim())).toEqual({
      framesWritten: 50,
      datagramsReceived: 50 * LEGACY_CHUNK_COUNT,
    });

    const frames = await inspectRecording(output);
    expect(frames).toHaveLength(50);
    expect(frames.filter((f) => f.torn)).toEqual([]);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Math.min(...frames.map((f) => f.worstBandPsnr))).toBeGreaterThan(INTACT_MIN_PSNR);
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
