// openRecording with real files, both kinds (JPEG stored as it arrives, and OpenCV's
// encoder in its process), read back with FFmpeg and OpenCV.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeJpeg } from "../codec/jpeg.js";
import { createFrame, type Frame } from "../frame.js";
import { renderPatternFrame } from "../source/pattern.js";
import { openVideoFile } from "../source/video-file.js";
import { inspectPatternFrame, readPatternFrameNumber } from "../testing/pattern-inspection.js";
import { psnr } from "../testing/psnr.js";
import { makeReadOnly } from "../testing/read-only-path.js";
import { streamRecordingPath } from "./file-names.js";
import { checkRecording, openRecording, recordingQueueFrames, type RecordInput } from "./recording.js";

const dir = mkdtempSync(join(tmpdir(), "udpcam-recording-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pixels(n: number, width = 320, height = 240): RecordInput {
  return { kind: "pixels", frame: renderPatternFrame(n, width, height) };
}

function jpeg(n: number, width = 320, height = 240): RecordInput & { kind: "jpeg" } {
  return { kind: "jpeg", bytes: encodeJpeg(renderPatternFrame(n, width, height), 80), width, height, sequence: n };
}

async function readAll(path: string): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const frame of await openVideoFile(path, { pace: "asap" })) frames.push(frame);
  return frames;
}

function codecOf(path: string): string {
  return execFileSync(
    "ffprobe",
    ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", path],
    { encoding: "utf8" },
  ).trim();
}

/** The frames' bytes as FFmpeg demuxes them, not decoded. */
function demuxed(path: string): Buffer {
  return execFileSync("ffmpeg", ["-v", "error", "-i", path, "-map", "0:v:0", "-c", "copy", "-f", "data", "-"], {
    maxBuffer: 1 << 26,
  });
}

describe("openRecording: MJPG into .avi stores JPEG as it arrives", () => {
  it("keeps every JPEG byte for byte, without decoding", async () => {
    const path = join(dir, "pass.avi");
    const recording = await openRecording({ path, fourcc: "MJPG", fps: 25 });
    expect(recording.storesJpeg).toBe(true);
    const inputs = Array.from({ length: 10 }, (_, n) => jpeg(n));
    for (const input of inputs) await recording.write(input);
    expect(await recording.close()).toEqual({ framesWritten: 10, framesDropped: 0, files: [path] });
    expect(Buffer.compare(demuxed(path), Buffer.concat(inputs.map((input) => input.bytes)))).toBe(0);
    expect(codecOf(path)).toBe("mjpeg,320,240");
  });

  it("encodes pixels to JPEG, and scales frames of another size to the first frame's", async () => {
    const path = join(dir, "pass-pixels.avi");
    const recording = await openRecording({ path, fourcc: "MJPG", fps: 25 });
    await recording.write(pixels(0));
    await recording.write(pixels(1, 640, 480));
    await recording.write(jpeg(2, 640, 480));
    await recording.write(jpeg(3));
    await recording.close();
    expect(codecOf(path)).toBe("mjpeg,320,240");
    const frames = await readAll(path);
    expect(frames.map((frame) => [frame.width, frame.height, readPatternFrameNumber(frame)])).toEqual(
      [0, 1, 2, 3].map((n) => [320, 240, n]),
    );
    // JPEG at quality 90 on the 320x240 pattern: 34.7 dB measured.
    expect(psnr(renderPatternFrame(0, 320, 240), frames[0] as Frame)).toBeGreaterThan(32);
  });
});

describe("openRecording: encoding with OpenCV's VideoWriter", () => {
  it("records pixels to DIVX that decode back to the pattern", async () => {
    const path = join(dir, "divx.avi");
    const recording = await openRecording({ path, fourcc: "DIVX", fps: 25 });
    expect(recording.storesJpeg).toBe(false);
    for (let n = 0; n < 12; n++) await recording.write(pixels(n, 640, 480));
    expect(await recording.close()).toEqual({ framesWritten: 12, framesDropped: 0, files: [path] });
    expect(codecOf(path)).toBe("mpeg4,640,480");
    const frames = await readAll(path);
    expect(frames).toHaveLength(12);
    frames.forEach((frame, n) => {
      expect(inspectPatternFrame(frame)).toEqual({ top: n, bottom: n, torn: false });
      expect(psnr(renderPatternFrame(n, 640, 480), frame)).toBeGreaterThan(30);
    });
  });

  it.each(["DIVX", "MJPG"])(
    "%s: release comes once the pixels are no longer needed: one buffer refilled at each release never tears a frame",
    async (fourcc) => {
      const path = join(dir, `reused-${fourcc}.avi`);
      const recording = await openRecording({ path, fourcc, fps: 25 });
      const buffer = new Uint8Array(640 * 480 * 3);
      let releases = 0;
      for (let n = 0; n < 12; n++) {
        buffer.set(renderPatternFrame(n, 640, 480).bytes);
        const released = new Promise<void>((resolve) => {
          const frame = createFrame(buffer, 640, 480, { sequence: n });
          void recording.write({ kind: "pixels", frame, release: () => (releases++, resolve()) });
        });
        await released; // then the next frame overwrites the same bytes
      }
      expect(await recording.close()).toMatchObject({ framesWritten: 12, framesDropped: 0 });
      expect(releases).toBe(12);
      const frames = await readAll(path);
      expect(frames.map((frame) => inspectPatternFrame(frame))).toEqual(
        Array.from({ length: 12 }, (_, n) => ({ top: n, bottom: n, torn: false })),
      );
    },
  );

  it("decodes JPEG input, scaling another size, into DIVX", async () => {
    const path = join(dir, "jpeg-divx.mkv");
    const recording = await openRecording({ path, fourcc: "DIVX", fps: 25 });
    for (let n = 0; n < 6; n++) await recording.write(jpeg(n));
    await recording.write(jpeg(6, 640, 480));
    await recording.close();
    expect(codecOf(path)).toBe("mpeg4,320,240");
    expect((await readAll(path)).map(readPatternFrameNumber)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe("openRecording: segments and names", () => {
  it.each([
    ["MJPG", "jpeg"],
    ["MJPG", "pixels"],
    ["DIVX", "pixels"],
    ["DIVX", "jpeg"],
  ] as const)("%s from %s: segments of segmentSeconds, numbered from -000, frames in order", async (fourcc, kind) => {
    const folder = join(dir, `seg-${fourcc}-${kind}`);
    mkdirSync(folder);
    const path = streamRecordingPath(join(folder, "out.avi"), 0xabcd);
    const recording = await openRecording({ path, fourcc, fps: 5, segmentSeconds: 1 });
    for (let n = 0; n < 12; n++) await recording.write(kind === "jpeg" ? jpeg(n) : pixels(n));
    const files = ["000", "001", "002"].map((segment) => join(folder, `out-0000abcd-${segment}.avi`));
    expect(await recording.close()).toEqual({ framesWritten: 12, framesDropped: 0, files });
    expect(readdirSync(folder).sort()).toEqual(files.map((file) => file.slice(folder.length + 1)));
    const numbers = await Promise.all(files.map(async (file) => (await readAll(file)).map(readPatternFrameNumber)));
    expect(numbers).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
      [10, 11],
    ]);
  });

  it("segmentSeconds 0 is one file; below 0 is refused", async () => {
    const path = join(dir, "zero.avi");
    const recording = await openRecording({ path, fourcc: "MJPG", fps: 5, segmentSeconds: 0 });
    for (let n = 0; n < 7; n++) await recording.write(jpeg(n));
    expect((await recording.close()).files).toEqual([path]);
    await expect(openRecording({ path, fourcc: "DIVX", fps: 5, segmentSeconds: -1 })).rejects.toMatchObject({
      code: "INVALID_OPTION",
    });
    await expect(openRecording({ path, fourcc: "DIVX", fps: 0 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });
});

describe("openRecording: queue and errors", () => {
  it.each([
    ["MJPG", "jpeg"],
    ["DIVX", "pixels"],
  ] as const)(
    "%s: writes not awaited beyond the queue are dropped and counted; the rest are written",
    async (fourcc, kind) => {
      const path = join(dir, `burst-${fourcc}.avi`);
      const recording = await openRecording({ path, fourcc, fps: 25 });
      let releases = 0;
      const release = (): void => void releases++;
      const inputs = Array.from({ length: 100 }, (_, n) => (kind === "jpeg" ? jpeg(n) : { ...pixels(n), release }));
      // All at once: none is stored before the last call, so exactly the queue's worth is kept.
      await Promise.all(inputs.map((input) => recording.write(input)));
      const queue = recordingQueueFrames(25);
      expect(queue).toBe(50);
      expect(recording.framesDropped).toBe(100 - queue);
      expect(await recording.close()).toEqual({ framesWritten: queue, framesDropped: 100 - queue, files: [path] });
      // Every pixel frame released once: the dropped ones at once, the others once the encoder had them.
      expect(releases).toBe(kind === "jpeg" ? 0 : 100);
      expect((await readAll(path)).map(readPatternFrameNumber)).toEqual(Array.from({ length: queue }, (_, n) => n));
    },
  );

  it.each(["MJPG", "DIVX"])(
    "%s: bytes that are not a JPEG are refused with JPEG_INVALID, and the recording goes on",
    async (fourcc) => {
      const path = join(dir, `invalid-${fourcc}.avi`);
      const recording = await openRecording({ path, fourcc, fps: 25 });
      await recording.write(jpeg(0));
      await expect(
        recording.write({ kind: "jpeg", bytes: new Uint8Array([1, 2, 3, 4, 5]), width: 320, height: 240 }),
      ).rejects.toMatchObject({ code: "JPEG_INVALID" });
      await expect(
        recording.write({ kind: "jpeg", bytes: new Uint8Array(0), width: 320, height: 240 }),
      ).rejects.toMatchObject({ code: "JPEG_INVALID" });
      await recording.write(jpeg(1));
      expect(await recording.close()).toMatchObject({ framesWritten: 2, framesDropped: 0 });
      expect((await readAll(path)).map(readPatternFrameNumber)).toEqual([0, 1]);
      await expect(recording.write(jpeg(2))).rejects.toMatchObject({ code: "CLOSED" });
      expect(await recording.close()).toMatchObject({ framesWritten: 2 });
    },
  );

  it("a recording that got no frame writes no file", async () => {
    const folder = join(dir, "empty");
    mkdirSync(folder);
    for (const fourcc of ["MJPG", "DIVX"])
      expect(await (await openRecording({ path: join(folder, `e-${fourcc}.avi`), fourcc, fps: 25 })).close()).toEqual({
        framesWritten: 0,
        framesDropped: 0,
        files: [],
      });
    expect(readdirSync(folder)).toEqual([]);
  });
});

describe("checkRecording", () => {
  it.each([
    ["x.mp4", "MJPG", "CODEC_UNSUPPORTED", /MJPG.*\.mp4.*mp4v/],
    ["x.txt", "DIVX", "CODEC_UNSUPPORTED", /use a file ending in \.avi/],
    ["x.avi", "ZZZZ", "CODEC_UNSUPPORTED", /'ZZZZ'/],
  ])("%s with %s: %s", async (file, fourcc, code, message) => {
    await expect(checkRecording({ path: join(dir, file), fourcc })).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message) as unknown,
    });
  });

  it.each(["MJPG", "DIVX"])("%s: passes for a writable folder, leaving no probe file", async (fourcc) => {
    const folder = join(dir, `check-${fourcc}`);
    mkdirSync(folder);
    await checkRecording({ path: join(folder, "out.avi"), fourcc });
    expect(readdirSync(folder)).toEqual([]);
  });

  // These run as root too (CI): a file where the folder should be, and a folder even root cannot write.
  it.each(["MJPG", "DIVX"])(
    "%s: a file where the folder should be is OUTPUT_NOT_WRITABLE, naming the folder",
    async (fourcc) => {
      const file = join(dir, `not-a-folder-${fourcc}`);
      writeFileSync(file, "x");
      const path = join(file, "out.avi");
      // One at a time: a second call started early would reject while the first is awaited (unhandled).
      for (const attempt of [() => checkRecording({ path, fourcc }), () => openRecording({ path, fourcc, fps: 25 })]) {
        await expect(attempt()).rejects.toMatchObject({
          code: "OUTPUT_NOT_WRITABLE",
          message: expect.stringContaining(`folder ${file} does not exist or is not writable`) as unknown,
        });
      }
    },
  );

  it.each(["MJPG", "DIVX"])("%s: a read-only folder is OUTPUT_NOT_WRITABLE, also for root", async (fourcc) => {
    const folder = join(dir, `read-only-${fourcc}`);
    mkdirSync(folder);
    const undo = makeReadOnly(folder);
    try {
      const path = join(folder, "out.avi");
      // One at a time: a second call started early would reject while the first is awaited (unhandled).
      for (const attempt of [() => checkRecording({ path, fourcc }), () => openRecording({ path, fourcc, fps: 25 })]) {
        await expect(attempt()).rejects.toMatchObject({
          code: "OUTPUT_NOT_WRITABLE",
          message: expect.stringContaining(`folder ${folder}`) as unknown,
        });
      }
    } finally {
      undo();
    }
    expect(readdirSync(folder)).toEqual([]);
  });
});
