import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VideoError } from "../errors.js";
import type { Frame } from "../frame.js";
import { psnr } from "../testing/psnr.js";
import { renderPatternFrame } from "./pattern.js";
import { readPatternFrameNumber } from "../testing/pattern-inspection.js";
import { openCamera } from "./camera.js";
import { openSource, parseSourceSpec } from "./open-source.js";
import { openTestPattern } from "./test-pattern.js";
import { openVideoFile } from "./video-file.js";

const dir = mkdtempSync(join(tmpdir(), "udpcam-sources-"));
const clip = join(dir, "testsrc.avi");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  // Made by ffmpeg itself, not by our recorder: 45 frames of 320x240 at 30 fps.
  execFileSync("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=320x240:rate=30",
    "-frames:v",
    "45",
    "-c:v",
    "mpeg4",
    "-q:v",
    "2",
    clip,
  ]);
});

async function collect(source: AsyncIterable<Frame>): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const frame of source) frames.push(frame);
  return frames;
}

describe("openVideoFile", () => {
  it("reports the file's size, fps and frame count, and ends cleanly after the last frame", async () => {
    const source = await openVideoFile(clip, { pace: "asap" });
    expect(source).toMatchObject({ kind: "file", width: 320, height: 240, fps: 30, frameCount: 45 });
    expect(source.description).toBe(`file ${clip} (320x240 @ 30 fps, 45 frames)`);
    const frames = await collect(source);
    expect(frames).toHaveLength(45);
    expect(frames.map((f) => f.sequence)).toEqual([...Array(45).keys()]);
    expect(await source.read()).toBeUndefined(); // closed by the loop's end
    // testsrc moves: its frames are different pictures.
    expect(psnr(frames[0] as Frame, frames[30] as Frame)).toBeLessThan(30);
  });

  it("with reuseBuffers, copies each frame's pixels into its buffer in turn: the same pixels as fresh buffers", async () => {
    const fresh = await collect(await openVideoFile(clip, { pace: "asap" }));
    const source = await openVideoFile(clip, { pace: "asap", reuseBuffers: 2 });
    const buffers = new Set<ArrayBufferLike>();
    // As the sender's pump reads: done with a frame's bytes before it reads the frame after next.
    for (let n = 0; ; n++) {
      const frame = await source.read();
      if (frame === undefined) break;
      expect(Buffer.compare(frame.bytes, fresh[n]!.bytes), `frame ${n}`).toBe(0);
      buffers.add(frame.bytes.buffer);
    }
    expect(buffers.size).toBe(2);
    await expect(openVideoFile(clip, { reuseBuffers: 1 })).rejects.toThrow(/reuseBuffers/);
  });

  it("reads in real time at the file's fps by default", async () => {
    const source = await openVideoFile(clip);
    const start = performance.now();
    const frames: Frame[] = [];
    for await (const frame of source) {
      frames.push(frame);
      if (frames.length === 16) break;
    }
    const elapsed = performance.now() - start;
    // 16 frames at 30 fps: 15 intervals of 33.3 ms = 500 ms.
    expect(elapsed).toBeGreaterThan(450);
    expect(elapsed).toBeLessThan(1500); // generous: the machine may be busy
    expect(await source.read()).toBeUndefined(); // break closed it
  });

  it("plays at another rate when asked", async () => {
    const source = await openVideoFile(clip, { fps: 100 });
    expect(source.fps).toBe(100);
    const start = performance.now();
    for (let i = 0; i < 11; i++) await source.read();
    expect(performance.now() - start).toBeGreaterThan(90);
    expect(performance.now() - start).toBeLessThan(800);
    await source.close();
    await source.close();
  });

  it("reads back a recording of the test pattern frame for frame", async () => {
    const path = join(dir, "pattern.avi");
    execFileSync(
      "/usr/bin/python3",
      [
        "-c",
        // Written by Debian's python3-opencv, losslessly (FFV1), from frames regenerated in Node below.
        `import sys, numpy, cv2
w = cv2.VideoWriter(sys.argv[1], cv2.VideoWriter_fourcc(*'FFV1'), 25, (64, 48))
for n in range(3):
    w.write(numpy.frombuffer(sys.stdin.buffer.read(64*48*3), numpy.uint8).reshape(48, 64, 3))
w.release()`,
        path,
      ],
      { input: Buffer.concat([0, 1, 2].map((n) => renderPatternFrame(n, 64, 48).bytes)) },
    );
    const frames = await collect(await openVideoFile(path, { pace: "asap" }));
    expect(frames).toHaveLength(3);
    frames.forEach((frame, n) => {
      expect(Buffer.compare(frame.bytes, renderPatternFrame(n, 64, 48).bytes), `frame ${n} bit-exact`).toBe(0);
      expect(readPatternFrameNumber(frame)).toBe(n);
    });
  });

  it("says clearly that a missing file is missing, naming it", async () => {
    const missing = join(dir, "nope.avi");
    const error = await openVideoFile(missing).catch((e: unknown) => e);
    expect(VideoError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "FILE_NOT_FOUND", message: `video file not found: ${missing}` });
  });

  it("says clearly that a file that is not video cannot be read, naming it", async () => {
    const text = join(dir, "notes.avi");
    writeFileSync(text, "this is not a video\n".repeat(100));
    await expect(openVideoFile(text)).rejects.toThrow(expect.objectContaining({ code: "FILE_UNREADABLE" }));
    await expect(openVideoFile(text)).rejects.toThrow(`cannot read video file ${text}`);
    await expect(openVideoFile(dir)).rejects.toThrow(`not a video file (a folder or device): ${dir}`);
  });
});

describe("openCamera", () => {
  it("gives CAMERA_NOT_FOUND quickly when there is no camera (none on this machine)", async () => {
    const start = performance.now();
    const error = await openCamera(0).catch((e: unknown) => e);
    expect(performance.now() - start).toBeLessThan(5000);
    expect(VideoError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "CAMERA_NOT_FOUND" });
    expect((error as Error).message).toBe(
      "no camera at index 0 (/dev/video0 cannot be opened); use --source test for the test pattern, or give a video file path",
    );
  });

  it("via openSource('0') as well, and refuses a negative index", async () => {
    await expect(openSource("0")).rejects.toThrow(expect.objectContaining({ code: "CAMERA_NOT_FOUND" }));
    await expect(openCamera(-1)).rejects.toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
  });
});

describe("openTestPattern", () => {
  it("gives the rendered frames in order, up to the frame limit", async () => {
    const source = await openTestPattern({ width: 160, height: 120, fps: 50, frames: 5, firstFrame: 10, pace: "asap" });
    expect(source).toMatchObject({
      kind: "test",
      width: 160,
      height: 120,
      fps: 50,
      description: "test pattern (160x120 @ 50 fps)",
    });
    const frames = await collect(source);
    expect(frames.map((f) => f.sequence)).toEqual([10, 11, 12, 13, 14]);
    frames.forEach((frame) =>
      expect(Buffer.compare(frame.bytes, renderPatternFrame(frame.sequence, 160, 120).bytes)).toBe(0),
    );
  });

  it("with reuseBuffers, each frame read is the rendered one, in that many buffers taken in turn", async () => {
    const source = await openTestPattern({ width: 160, height: 120, frames: 6, pace: "asap", reuseBuffers: 2 });
    const seen: ArrayBufferLike[] = [];
    for (let n = 0; n < 6; n++) {
      const frame = (await source.read())!;
      // Checked before the next read: the reader's side of the contract.
      expect(Buffer.compare(frame.bytes, renderPatternFrame(n, 160, 120).bytes), `frame ${n}`).toBe(0);
      seen.push(frame.bytes.buffer);
    }
    expect(await source.read()).toBeUndefined();
    await source.close();
    expect(new Set(seen).size).toBeLessThanOrEqual(2);
    expect(seen[0]).not.toBe(seen[1]);
    await expect(openTestPattern({ reuseBuffers: 1 })).rejects.toThrow(/reuseBuffers must be an integer >= 2, got 1/);
  });

  it("paces frames in real time", async () => {
    const source = await openTestPattern({ fps: 50, frames: 11 });
    const start = performance.now();
    const frames = await collect(source);
    const elapsed = performance.now() - start;
    expect(frames).toHaveLength(11);
    expect(elapsed).toBeGreaterThan(180); // 10 intervals of 20 ms
    expect(elapsed).toBeLessThan(1000); // generous: the machine may be busy
    expect(frames.at(-1)!.captureTime - frames[0]!.captureTime).toBeGreaterThanOrEqual(180);
  });

  it("refuses bad options when opened, not at the first read", async () => {
    await expect(openTestPattern({ width: 10 })).rejects.toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
    await expect(openTestPattern({ fps: 0 })).rejects.toThrow(/fps must be/);
  });

  it("queued reads resolve in order", async () => {
    const source = await openTestPattern({ width: 64, height: 48, pace: "asap", frames: 3 });
    const reads = await Promise.all([source.read(), source.read(), source.read(), source.read()]);
    expect(reads.map((f) => f?.sequence)).toEqual([0, 1, 2, undefined]);
  });
});

describe("parseSourceSpec", () => {
  it.each([
    ["test", { kind: "test" }],
    ["0", { kind: "camera", index: 0 }],
    ["12", { kind: "camera", index: 12 }],
    ["movie.avi", { kind: "file", path: "movie.avi" }],
    ["./0", { kind: "file", path: "./0" }],
  ])("%s", (text, spec) => {
    expect(parseSourceSpec(text)).toEqual(spec);
  });

  it("refuses an empty source", () => {
    expect(() => parseSourceSpec(" ")).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
  });
});
