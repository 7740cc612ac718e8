// The native MPEG-4 writer against OpenCV's own VideoWriter, both writing the same frames in this process:
// the same stream (codec, tag, pixel format, rate, key frames, bit rate) and pictures at least as close to
// the frames that went in, read back by ffmpeg.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createFrame, type Frame } from "../frame.js";
import { cv } from "../opencv.js";
import { renderPatternFrame } from "../source/pattern.js";
import { psnr } from "../testing/psnr.js";
import { openNativeWriter } from "./native-writer.js";

const dir = mkdtempSync(join(tmpdir(), "udpcam-native-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WIDTH = 640;
const HEIGHT = 480;
const COUNT = 50;
const frames = Array.from({ length: COUNT }, (_, n) => renderPatternFrame(n, WIDTH, HEIGHT, 0));

function writeNative(path: string, fourcc: string, input: readonly Frame[], width: number, height: number): void {
  const writer = openNativeWriter(path, fourcc, 25, width, height);
  if (writer === undefined) throw new Error(`no native writer for ${fourcc} in ${path}`);
  for (const frame of input) writer.write(frame.bytes);
  writer.release();
  writer.release();
}

function writeOpenCv(path: string, fourcc: string, input: readonly Frame[]): void {
  const writer = new cv.VideoWriter(path, cv.VideoWriter.fourcc(fourcc), 25, new cv.Size(WIDTH, HEIGHT), true);
  for (const frame of input) writer.write(new cv.Mat(HEIGHT, WIDTH, cv.CV_8UC3, Buffer.from(frame.bytes)));
  writer.release();
}

/** The file's frames as ffmpeg decodes them, bgr24. */
function decode(path: string, width = WIDTH, height = HEIGHT): Frame[] {
  const raw = execFileSync("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "bgr24", "-"], {
    maxBuffer: 1 << 30,
  });
  const size = width * height * 3;
  return Array.from({ length: raw.byteLength / size }, (_, i) =>
    createFrame(raw.subarray(i * size, (i + 1) * size), width, height),
  );
}

function probe(path: string): Record<string, string> {
  const out = execFileSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=codec_name,codec_tag_string,pix_fmt,width,height,r_frame_rate",
      "-of",
      "default=noprint_wrappers=1",
      path,
    ],
    { encoding: "utf8" },
  );
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((line) => line.split("=") as [string, string]),
  );
}

/** Which frames are key frames, by ffprobe. */
function keyFrames(path: string): number[] {
  const out = execFileSync(
    "ffprobe",
    ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=key_frame", "-of", "csv=p=0", path],
    { encoding: "utf8" },
  );
  return out
    .trim()
    .split("\n")
    .flatMap((flag, i) => (flag.trim() === "1" ? [i] : []));
}

const worstPsnr = (decoded: readonly Frame[]): number =>
  Math.min(...decoded.map((frame, i) => psnr(frames[i] as Frame, frame)));

describe("the native MPEG-4 writer", () => {
  it("writes DIVX into AVI as OpenCV's VideoWriter does, pictures at least as close to the input", () => {
    const native = join(dir, "native.avi");
    const opencv = join(dir, "opencv.avi");
    writeNative(native, "DIVX", frames, WIDTH, HEIGHT);
    writeOpenCv(opencv, "DIVX", frames);

    const stream = probe(native);
    expect(stream).toEqual(probe(opencv));
    expect(stream).toMatchObject({ codec_name: "mpeg4", codec_tag_string: "DIVX", pix_fmt: "yuv420p" });
    expect(stream.r_frame_rate).toBe("25/1");
    expect(keyFrames(native)).toEqual([0, 12, 24, 36, 48]);
    expect(keyFrames(native)).toEqual(keyFrames(opencv));

    const ours = decode(native);
    const theirs = decode(opencv);
    expect(ours).toHaveLength(COUNT);
    expect(theirs).toHaveLength(COUNT);
    const [mine, reference] = [worstPsnr(ours), worstPsnr(theirs)];
    const sizes = [statSync(native).size, statSync(opencv).size];
    console.log(
      `DIVX 640x480, ${COUNT} frames: native worst PSNR ${mine.toFixed(2)} dB, ${sizes[0]} bytes; OpenCV ${reference.toFixed(2)} dB, ${sizes[1]} bytes`,
    );
    expect(mine).toBeGreaterThan(30);
    expect(mine).toBeGreaterThan(reference - 0.5);
    // The same rate control: the files are within 5% of each other.
    expect(Math.abs(sizes[0]! - sizes[1]!) / sizes[1]!).toBeLessThan(0.05);
  });

  it("drops an odd size's last column and row, as OpenCV does", () => {
    const path = join(dir, "odd.avi");
    const odd = Array.from({ length: 3 }, (_, n) => renderPatternFrame(n, WIDTH + 1, HEIGHT + 1, 0));
    writeNative(path, "XVID", odd, WIDTH + 1, HEIGHT + 1);
    expect(probe(path)).toMatchObject({ codec_tag_string: "XVID", width: String(WIDTH), height: String(HEIGHT) });
    const decoded = decode(path);
    expect(decoded).toHaveLength(3);
    for (const [i, frame] of decoded.entries()) {
      const source = odd[i]!;
      const cropped = new Uint8Array(WIDTH * HEIGHT * 3);
      for (let y = 0; y < HEIGHT; y++)
        cropped.set(source.bytes.subarray(y * (WIDTH + 1) * 3, y * (WIDTH + 1) * 3 + WIDTH * 3), y * WIDTH * 3);
      expect(psnr(createFrame(cropped, WIDTH, HEIGHT), frame)).toBeGreaterThan(30);
    }
  });

  it("leaves codecs other than MPEG-4 Part 2, and containers that do not take the tag, to OpenCV", () => {
    expect(openNativeWriter(join(dir, "m.avi"), "MJPG", 25, WIDTH, HEIGHT)).toBeUndefined();
    expect(openNativeWriter(join(dir, "h.avi"), "H264", 25, WIDTH, HEIGHT)).toBeUndefined();
    expect(openNativeWriter(join(dir, "d.mp4"), "DIVX", 25, WIDTH, HEIGHT)).toBeUndefined();
  });

  it("says why it cannot open a file, and refuses frames once closed", () => {
    expect(() => openNativeWriter(join(dir, "missing", "x.avi"), "DIVX", 25, WIDTH, HEIGHT)).toThrow(
      expect.objectContaining({
        code: "CODEC_UNAVAILABLE",
        message: "cannot create the file: No such file or directory",
      }),
    );
    const writer = openNativeWriter(join(dir, "closed.avi"), "DIVX", 25, WIDTH, HEIGHT)!;
    writer.release();
    expect(() => writer.write(frames[0]!.bytes)).toThrow(
      expect.objectContaining({ code: "WRITE_FAILED", message: "the recording is closed" }),
    );
    expect(() => writer.write(new Uint8Array(10))).toThrow(/holding the frame/);
  });
});
