import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_MAX_DATAGRAM_BYTES, LEGACY_FRAME_HEIGHT, LEGACY_FRAME_WIDTH } from "@udpcam/protocol";
import {
  INTACT_MIN_PSNR,
  ffprobeFrameCount,
  freePort,
  inspectRecording,
  isStrictlyIncreasing,
  readReceiverStats,
  readSenderStats,
  startReceiver,
  startSender,
  tempDir,
  writePatternClip,
  type RecordedFrame,
  loopbackReceiveArgs,
} from "@udpcam/testkit";
import { encodeJpeg, renderPatternFrame } from "@udpcam/video";
import { describe, expect, it } from "vitest";
import { useCleanup } from "./harness.js";

const cleanup = useCleanup();
/** The sender's --datagram-size for a path with a 1,500-byte MTU. */
const PATH_SAFE = String(DEFAULT_MAX_DATAGRAM_BYTES);

async function stream(senderArgs: string[], receiverArgs: string[] = []) {
  const dir = tempDir();
  cleanup.add(dir.remove);
  const port = await freePort();
  const output = join(dir.path, "out.avi");
  const statsFile = join(dir.path, "stats.json");
  const receiver = await startReceiver([
    ...loopbackReceiveArgs(port, { output, stats: statsFile, idleExit: 1 }),
    ...receiverArgs,
  ]);
  cleanup.kill(receiver);
  const sender = startSender(["--host", "127.0.0.1", "--port", String(port), ...senderArgs]);
  cleanup.kill(sender);
  const [senderExit, receiverExit] = await Promise.all([sender.exited, receiver.exited]);
  expect({ senderExit, senderErr: senderExit === 0 ? "" : sender.stderr() }).toEqual({ senderExit: 0, senderErr: "" });
  expect({ receiverExit, receiverErr: receiverExit === 0 ? "" : receiver.stderr() }).toEqual({
    receiverExit: 0,
    receiverErr: "",
  });
  const stats = readReceiverStats(statsFile);
  const frames = await inspectRecording(output);
  return { stats, frames, output, receiver, sender };
}

function expectIntact(frames: readonly RecordedFrame[], minPsnr: number): void {
  expect(frames.filter((f) => f.torn)).toEqual([]);
  expect(frames.every((f) => f.number !== undefined)).toBe(true);
  expect(isStrictlyIncreasing(frames.map((f) => f.number))).toBe(true);
  const worst = Math.min(...frames.map((f) => f.worstBandPsnr));
  expect(worst).toBeGreaterThan(minPsnr);
}

describe("sender -> receiver over UDP on 127.0.0.1", () => {
  it.each([
    { name: "v1 raw, loopback-sized datagrams", fps: 50, args: ["--codec", "raw"] },
    // 25 fps, the camera rate: at 50 fps this is 36,000 datagrams a second, and with sender, receiver and
    // encoder sharing this 2-core machine the receiver's socket overflows about one run in five
    // (frames lost whole, never torn; docs/benchmarks.md).
    { name: "v1 raw, 1472-byte datagrams", fps: 25, args: ["--codec", "raw", "--datagram-size", PATH_SAFE] },
    { name: "v1 jpeg", fps: 50, args: ["--codec", "jpeg", "--quality", "85", "--datagram-size", PATH_SAFE] },
  ])("records every test-pattern frame intact: $name", async ({ fps, args }) => {
    const { stats, frames, output } = await stream([
      "--source",
      "test",
      "--fps",
      String(fps),
      "--frames",
      "60",
      ...args,
    ]);
    expect(stats.framesRecorded).toBe(60);
    expect(frames).toHaveLength(60);
    expect(ffprobeFrameCount(output)).toBe(60);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expectIntact(frames, INTACT_MIN_PSNR);
  });

  it.each([
    { readerArgs: [], says: /"msg":"listening on [^"]*, read by native \(recvmmsg, 32 x 64 KiB\)"/ },
    { readerArgs: ["--socket-reader", "dgram"], says: /"msg":"listening on [^"]*, read by dgram \(asked for\)"/ },
  ])(
    "the receiver says who reads its socket, and records every frame intact: $readerArgs",
    async ({ readerArgs, says }) => {
      const { stats, frames, receiver } = await stream(
        ["--source", "test", "--fps", "50", "--frames", "30", "--codec", "raw"],
        readerArgs,
      );
      expect(receiver.stdout() + receiver.stderr()).toMatch(says);
      expect(stats.framesRecorded).toBe(30);
      expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expectIntact(frames, INTACT_MIN_PSNR);
    },
  );

  it("--fourcc MJPG stores a JPEG stream as it arrived: the file's frames are the sender's JPEG bytes", async () => {
    const { stats, frames, output } = await stream(
      ["--source", "test", "--fps", "50", "--frames", "40", "--codec", "jpeg", "--quality", "85"],
      ["--fourcc", "MJPG"],
    );
    expect(stats.framesRecorded).toBe(40);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expectIntact(frames, 30);
    // Frame n of the file, copied out without decoding, is the sender's encoding of pattern frame n.
    const copies = join(output, "..", "copies");
    execFileSync("mkdir", ["-p", copies]);
    execFileSync("ffmpeg", ["-v", "error", "-i", output, "-c", "copy", "-f", "image2", join(copies, "%03d.jpg")]);
    const names = readdirSync(copies).sort();
    expect(names).toHaveLength(40);
    names.forEach((name, n) => {
      expect(
        Buffer.compare(
          readFileSync(join(copies, name)),
          encodeJpeg(renderPatternFrame(n, LEGACY_FRAME_WIDTH, LEGACY_FRAME_HEIGHT), 85),
        ),
        `frame ${n}`,
      ).toBe(0);
    });
  });

  it("--fourcc MJPG records a raw stream too (encoded to JPEG on the way in)", async () => {
    const { stats, frames } = await stream(
      ["--source", "test", "--fps", "50", "--frames", "30", "--codec", "raw"],
      ["--fourcc", "MJPG"],
    );
    expect(stats.framesRecorded).toBe(30);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expectIntact(frames, 30);
  });

  it("carries a size other than 640x480 in-band, and records at the stream's rate", async () => {
    const { stats, frames } = await stream([
      "--source",
      "test",
      "--width",
      "320",
      "--height",
      "240",
      "--fps",
      "30",
      "--frames",
      "30",
    ]);
    expect(stats.framesRecorded).toBe(30);
    expect(frames).toHaveLength(30);
    expectIntact(frames, INTACT_MIN_PSNR);
  });

  it("legacy protocol: the original 20 x 46,081-byte datagrams, strict reassembly", async () => {
    const { stats, frames } = await stream(
      ["--source", "test", "--protocol", "legacy", "--fps", "25", "--frames", "40"],
      ["--protocol", "legacy"],
    );
    expect(stats.framesRecorded).toBe(40);
    expect(frames).toHaveLength(40);
    expectIntact(frames, INTACT_MIN_PSNR);
  });

  it.each([
    { codec: "raw", protocol: "v1" },
    { codec: "jpeg", protocol: "v1" },
    { codec: "raw", protocol: "legacy" },
  ])("sends a video file ($codec, $protocol) frame for frame", async ({ codec, protocol }) => {
    const dir = tempDir();
    cleanup.add(dir.remove);
    const clip = join(dir.path, "clip.avi");
    await writePatternClip(clip, { width: LEGACY_FRAME_WIDTH, height: LEGACY_FRAME_HEIGHT, frames: 30, fps: 30 });

    const { stats, frames } = await stream(
      ["--source", clip, "--codec", codec, "--protocol", protocol, "--fps", "30"],
      ["--protocol", protocol],
    );
    expect(stats.framesRecorded).toBe(30);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expectIntact(frames, INTACT_MIN_PSNR);
  });

  it.each(["v1", "rtp"] as const)(
    "--jpeg-passthrough off re-encodes an MJPG file's frames at --quality (%s): every frame intact, larger at 100",
    async (protocol) => {
      const dir = tempDir();
      cleanup.add(dir.remove);
      const clip = join(dir.path, "clip.avi");
      await writePatternClip(clip, { width: 640, height: 480, frames: 30, fps: 30 });
      const senderStats = join(dir.path, "sender.json");
      const { stats, frames, output } = await stream(
        [
          ...["--source", clip, "--codec", "jpeg", "--protocol", protocol, "--fps", "30"],
          ...["--jpeg-passthrough", "off", "--quality", "100", "--stats", senderStats],
        ],
        ["--protocol", protocol, "--fourcc", "MJPG"],
      );
      expect(stats.framesRecorded).toBe(30);
      expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expectIntact(frames, INTACT_MIN_PSNR);
      expect(readSenderStats(senderStats).framesPassedThrough).toBe(0);
      // Stored as it arrived (MJPG): quality 100 takes far more bytes than the clip's own JPEG (about 18 KB a frame).
      expect(statSync(output).size).toBeGreaterThan(1.5 * statSync(clip).size);
    },
  );

  it("receiver --frames N stops after exactly N recorded frames", async () => {
    const { stats, frames, receiver } = await stream(
      ["--source", "test", "--fps", "50", "--frames", "60"],
      ["--frames", "20"],
    );
    expect(stats.framesRecorded).toBe(20);
    expect(frames.map((f) => f.number)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(receiver.stderr()).toMatch(/stopping: 20 frames recorded/);
  });
});
