import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VideoError } from "./errors.js";
import type { Frame } from "./frame.js";
import { psnr } from "./metrics.js";
import { inspectPatternFrame, readPatternFrameNumber, renderPatternFrame } from "./pattern.js";
import { openRecorder } from "./recorder.js";
import { openVideoFile } from "./sources.js";

const dir = mkdtempSync(join(tmpdir(), "udpcam-recorder-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Frames ffprobe decodes, counted one by one (not the header's claim). */
export function ffprobeFrameCount(path: string): number {
  const out = execFileSync(
    "ffprobe",
    ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames,codec_name", "-of", "json", path],
    { encoding: "utf8" },
  );
  const stream = (JSON.parse(out) as { streams: { nb_read_frames: string; codec_name: string }[] }).streams[0];
  return Number(stream?.nb_read_frames);
}

async function readAll(path: string): Promise<Frame[]> {
  const source = await openVideoFile(path, { pace: "asap" });
  const frames: Frame[] = [];
  for await (const frame of source) frames.push(frame);
  return frames;
}

// DIVX at OpenCV's default quality on the 640x480 pattern: worst frame measured 38.1 dB.
const DIVX_PSNR_AT_LEAST = 35;

describe("openRecorder", () => {
  it("records the test pattern to DIVX AVI that reads back frame for frame", async () => {
    const path = join(dir, "pattern.avi");
    const recorder = await openRecorder(path, { fps: 25 });
    const count = 60;
    for (let n = 0; n < count; n++) await recorder.write(renderPatternFrame(n, 640, 480));
    const stats = await recorder.close();
    expect(stats).toEqual({ framesWritten: count, framesDropped: 0, framesScaled: 0, files: [path] });

    expect(ffprobeFrameCount(path)).toBe(count);
    const codec = execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,codec_tag_string,avg_frame_rate", "-of", "csv=p=0", path], {
      encoding: "utf8",
    });
    expect(codec.trim()).toBe("mpeg4,DIVX,25/1");

    const frames = await readAll(path);
    expect(frames).toHaveLength(count);
    let worst = Infinity;
    frames.forEach((frame, n) => {
      expect(frame.sequence).toBe(n);
      expect(inspectPatternFrame(frame)).toEqual({ top: n, bottom: n, torn: false });
      const db = psnr(renderPatternFrame(n, 640, 480), frame);
      worst = Math.min(worst, db);
      expect(db, `frame ${n}`).toBeGreaterThan(DIVX_PSNR_AT_LEAST);
    });
    console.log(`DIVX 640x480: worst PSNR ${worst.toFixed(1)} dB over ${count} frames, ${statSync(path).size} bytes`);
    // Pixels, not just counts: frame 10 read back is not frame 11.
    expect(psnr(renderPatternFrame(11, 640, 480), frames[10] as Frame)).toBeLessThan(DIVX_PSNR_AT_LEAST);
  });

  it("scales frames of another size to the first frame's size", async () => {
    const path = join(dir, "scaled.avi");
    const recorder = await openRecorder(path);
    await recorder.write(renderPatternFrame(0, 640, 480));
    await recorder.write(renderPatternFrame(1, 1280, 720));
    await recorder.write(renderPatternFrame(2, 320, 240));
    expect(await recorder.close()).toMatchObject({ framesWritten: 3, framesScaled: 2 });
    const frames = await readAll(path);
    expect(frames.map((f) => [f.width, f.height, readPatternFrameNumber(f)])).toEqual([
      [640, 480, 0],
      [640, 480, 1],
      [640, 480, 2],
    ]);
  });

  it("refuses frames of another size when asked to, and the file stays valid", async () => {
    const path = join(dir, "strict.avi");
    const recorder = await openRecorder(path, { onSizeMismatch: "error" });
    await recorder.write(renderPatternFrame(0, 320, 240));
    await expect(recorder.write(renderPatternFrame(1, 640, 480))).rejects.toThrow(
      /recording .*strict\.avi is 320x240; refused a 640x480 frame/,
    );
    await recorder.write(renderPatternFrame(2, 320, 240));
    expect((await recorder.close()).framesWritten).toBe(2);
    expect(ffprobeFrameCount(path)).toBe(2);
  });

  it("writes segments out-000.avi, out-001.avi, ... of segmentSeconds each", async () => {
    const path = join(dir, "seg", "out.avi");
    execFileSync("mkdir", ["-p", join(dir, "seg")]);
    const recorder = await openRecorder(path, { fps: 10, segmentSeconds: 1 });
    for (let n = 0; n < 25; n++) await recorder.write(renderPatternFrame(n, 320, 240));
    const stats = await recorder.close();
    const names = ["out-000.avi", "out-001.avi", "out-002.avi"];
    expect(stats.files).toEqual(names.map((name) => join(dir, "seg", name)));
    expect(readdirSync(join(dir, "seg")).sort()).toEqual(names);
    expect(stats.files.map(ffprobeFrameCount)).toEqual([10, 10, 5]);
    const second = await readAll(stats.files[1] ?? "");
    expect(second.map(readPatternFrameNumber)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it("drops frames when the queue is full and whenFull is drop, counting them", async () => {
    const recorder = await openRecorder(join(dir, "drop.avi"), { queueLimit: 1, whenFull: "drop" });
    const writes = [];
    for (let n = 0; n < 20; n++) writes.push(recorder.write(renderPatternFrame(n, 640, 480)));
    await Promise.all(writes);
    const stats = await recorder.close();
    expect(stats.framesDropped).toBeGreaterThan(0);
    expect(stats.framesWritten + stats.framesDropped).toBe(20);
    expect(ffprobeFrameCount(join(dir, "drop.avi"))).toBe(stats.framesWritten);
  });

  it("with whenFull wait, un-awaited writes all land, in order", async () => {
    const path = join(dir, "wait.avi");
    const recorder = await openRecorder(path, { queueLimit: 2 });
    const writes = [];
    for (let n = 0; n < 12; n++) writes.push(recorder.write(renderPatternFrame(n, 320, 240)));
    await Promise.all(writes);
    expect((await recorder.close()).framesWritten).toBe(12);
    expect((await readAll(path)).map(readPatternFrameNumber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it("close() finalizes a file after a refused write, and is safe twice; writes after close fail", async () => {
    const path = join(dir, "closed.avi");
    const recorder = await openRecorder(path);
    await recorder.write(renderPatternFrame(0, 320, 240));
    await expect(recorder.write({ ...renderPatternFrame(1, 320, 240), width: 321 })).rejects.toThrow(/INVALID|bytes/);
    const first = await recorder.close();
    expect(await recorder.close()).toEqual(first);
    await expect(recorder.write(renderPatternFrame(2, 320, 240))).rejects.toThrow(expect.objectContaining({ code: "CLOSED" }));
    expect(ffprobeFrameCount(path)).toBe(1);
  });

  it.each([
    ["an unknown fourcc", "x.avi", { fourcc: "ZZZZ" }, "CODEC_UNSUPPORTED", /fourcc 'ZZZZ' is not supported in \.avi files; use one of DIVX/],
    ["a fourcc the container does not take", "x.mp4", { fourcc: "DIVX" }, "CODEC_UNSUPPORTED", /use one of mp4v, avc1/],
    ["an unknown container", "x.xyz", {}, "CODEC_UNSUPPORTED", /use a file ending in \.avi/],
    ["a missing folder", "missing/x.avi", {}, "OUTPUT_NOT_WRITABLE", /folder .*missing does not exist or is not writable/],
    ["a folder as the path", "seg.avi", {}, "OUTPUT_NOT_WRITABLE", /is a folder/],
    ["bad fps", "x.avi", { fps: 0 }, "INVALID_OPTION", /fps/],
    ["bad segmentSeconds", "x.avi", { segmentSeconds: -1 }, "INVALID_OPTION", /segmentSeconds/],
  ])("refuses %s at open time", async (_name, file, options, code, message) => {
    execFileSync("mkdir", ["-p", join(dir, "seg.avi")]);
    const error = await openRecorder(join(dir, file), options).catch((e: unknown) => e);
    expect(VideoError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
    expect(readdirSync(dir).filter((name) => name.includes("probe"))).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)("refuses a read-only folder at open time", async () => {
    const ro = join(dir, "ro");
    execFileSync("mkdir", ["-p", ro]);
    chmodSync(ro, 0o500);
    await expect(openRecorder(join(ro, "x.avi"))).rejects.toThrow(expect.objectContaining({ code: "OUTPUT_NOT_WRITABLE" }));
  });

  it("records MJPG and mp4v as well, leaving no probe file behind", async () => {
    for (const [file, fourcc] of [
      ["m.avi", "MJPG"],
      ["m.mp4", "mp4v"],
    ] as const) {
      const path = join(dir, file);
      const recorder = await openRecorder(path, { fourcc });
      for (let n = 0; n < 5; n++) await recorder.write(renderPatternFrame(n, 320, 240));
      await recorder.close();
      expect(ffprobeFrameCount(path)).toBe(5);
      expect((await readAll(path)).map(readPatternFrameNumber)).toEqual([0, 1, 2, 3, 4]);
    }
    expect(readdirSync(dir).filter((name) => name.includes("probe"))).toEqual([]);
    expect(existsSync(join(dir, "m.mp4"))).toBe(true);
  });
});
