// MJPEG AVIs of test-pattern JPEGs played back by FFmpeg (ffprobe, ffmpeg) and OpenCV:
// what the header says, the packets FFmpeg demuxes, the pixels OpenCV decodes, files
// cut off as a SIGKILL leaves them, rollover, and the write rate.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeJpeg, encodeJpeg } from "../codec/jpeg.js";
import { createFrame, type Frame } from "../frame.js";
import { psnr } from "../testing/psnr.js";
import { openMjpegAviWriter } from "./mjpeg-avi.js";
import { cv } from "../opencv.js";
import { renderPatternFrame } from "../source/pattern.js";
import { inspectPatternFrame, readPatternFrameNumber } from "../testing/pattern-inspection.js";
import { openVideoFile } from "../source/video-file.js";

const dir = mkdtempSync(join(tmpdir(), "udpcam-mjpeg-avi-slow-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** OpenCV's own AVI reader (`cv::CAP_OPENCV_MJPEG`, not exported by the binding): it needs idx1 and decodes with imdecode. */
const CAP_OPENCV_MJPEG = 2200;

const patternJpegs = (count: number, width: number, height: number, first = 0): Uint8Array[] =>
  Array.from({ length: count }, (_, i) => encodeJpeg(renderPatternFrame(first + i, width, height), 80));

/** Writes `jpegs` (all of the first one's size) and closes; returns the files written. */
async function record(
  path: string,
  jpegs: readonly Uint8Array[],
  fps = 25,
  maxFileBytes?: number,
): Promise<readonly string[]> {
  const { width, height } = decodeJpeg(jpegs[0] as Uint8Array);
  const writer = await openMjpegAviWriter(path, {
    width,
    height,
    fps,
    ...(maxFileBytes === undefined ? {} : { maxFileBytes }),
  });
  for (const jpeg of jpegs) await writer.writeJpeg(jpeg);
  return (await writer.close()).files;
}

interface Probe {
  readonly codec_name: string;
  readonly codec_tag_string: string;
  readonly width: number;
  readonly height: number;
  readonly r_frame_rate: string;
  readonly avg_frame_rate: string;
  /** The header's count (strh dwLength). */
  readonly nb_frames: string;
  /** Frames FFmpeg read and decoded, one by one. */
  readonly nb_read_frames: string;
}

function ffprobe(path: string): Probe {
  const out = execFileSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-count_frames",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=codec_name,codec_tag_string,width,height,r_frame_rate,avg_frame_rate,nb_frames,nb_read_frames",
      "-of",
      "json",
      path,
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  return (JSON.parse(out) as { streams: Probe[] }).streams[0] as Probe;
}

/** Every frame OpenCV reads from `path` with the given backend, as bgr24 frames. */
function readWithOpenCv(path: string, api: number): Frame[] {
  const capture = new cv.VideoCapture(path, api);
  const frames: Frame[] = [];
  try {
    for (let mat = capture.read(); !mat.empty; mat = capture.read())
      frames.push(createFrame(mat.getData(), mat.cols, mat.rows));
  } finally {
    capture.release();
  }
  return frames;
}

/** Frame numbers read by openVideoFile (OpenCV's FFmpeg backend), `undefined` for a damaged frame. */
async function patternNumbers(path: string): Promise<(number | undefined)[]> {
  const numbers: (number | undefined)[] = [];
  for await (const frame of await openVideoFile(path, { pace: "asap" })) numbers.push(readPatternFrameNumber(frame));
  return numbers;
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe("MJPEG AVI played back", () => {
  const count = 50;
  const jpegs = patternJpegs(count, 640, 480);
  const path = join(dir, "pattern.avi");

  it("ffprobe reads mjpeg (MJPG) at the size, frame count and rate written", async () => {
    await record(path, jpegs, 25);
    expect(ffprobe(path)).toEqual({
      codec_name: "mjpeg",
      codec_tag_string: "MJPG",
      width: 640,
      height: 480,
      r_frame_rate: "25/1",
      avg_frame_rate: "25/1",
      nb_frames: String(count),
      nb_read_frames: String(count),
    });
  });

  it.each([
    [29.97, "2997/100"],
    [30000 / 1001, "30000/1001"],
    [12.5, "25/2"],
  ])("keeps a fractional rate (%d fps) as %s", async (fps, rate) => {
    const file = join(dir, `rate-${rate.replace("/", "-")}.avi`);
    await record(file, patternJpegs(5, 320, 240), fps);
    expect(ffprobe(file)).toMatchObject({ r_frame_rate: rate, avg_frame_rate: rate, nb_read_frames: "5" });
  });

  it("FFmpeg demuxes the very JPEG bytes written, one packet a frame", () => {
    const packets = execFileSync(
      "ffprobe",
      ["-v", "error", "-show_entries", "packet=size,flags", "-of", "csv=p=0", path],
      { encoding: "utf8" },
    );
    expect(packets.trim().split("\n")).toEqual(jpegs.map((jpeg) => `${jpeg.byteLength},K_`));
    const copied = execFileSync(
      "ffmpeg",
      ["-v", "error", "-i", path, "-map", "0:v:0", "-c", "copy", "-f", "data", "-"],
      { maxBuffer: 1 << 26 },
    );
    expect(Buffer.compare(copied, Buffer.concat(jpegs))).toBe(0);
  });

  it("OpenCV's own AVI reader decodes every frame to exactly the pixels of the JPEG decoded directly", () => {
    const frames = readWithOpenCv(path, CAP_OPENCV_MJPEG);
    expect(frames).toHaveLength(count);
    frames.forEach((frame, n) => {
      const direct = decodeJpeg(jpegs[n] as Uint8Array);
      expect(Buffer.compare(frame.bytes, direct.bytes), `frame ${n}`).toBe(0);
      expect(inspectPatternFrame(frame)).toEqual({ top: n, bottom: n, torn: false });
    });
  });

  // FFmpeg's MJPEG decoder is not libjpeg: it upsamples the 4:2:0 chroma and converts to
  // BGR its own way, so its pixels differ from imdecode's, by up to 88 levels at colour
  // edges. Measured on these 50 frames: worst 40.3 dB against the direct decode.
  const FFMPEG_VS_LIBJPEG_PSNR_AT_LEAST = 38;

  it("OpenCV's FFmpeg backend (openVideoFile) reads every frame, numbered, close to the direct decode", async () => {
    const source = await openVideoFile(path, { pace: "asap" });
    expect(source.frameCount).toBe(count);
    let n = 0;
    let worst = Infinity;
    for await (const frame of source) {
      expect(inspectPatternFrame(frame)).toEqual({ top: n, bottom: n, torn: false });
      const db = psnr(decodeJpeg(jpegs[n] as Uint8Array), frame);
      worst = Math.min(worst, db);
      expect(db, `frame ${n}`).toBeGreaterThan(FFMPEG_VS_LIBJPEG_PSNR_AT_LEAST);
      n++;
    }
    expect(n).toBe(count);
    console.log(
      `MJPEG AVI via OpenCV's FFmpeg: worst PSNR ${worst.toFixed(1)} dB against imdecode over ${count} frames`,
    );
  });
});

describe("MJPEG AVI cut off before close (the states a SIGKILL can leave)", () => {
  // A killed writer leaves the header's totals as they were after chunk c (claiming at least c
  // frames, up to a second more) and then either nothing more, part of chunk c+1 (killed
  // inside the write), or all of it. No idx1 in any case.
  const jpegs = patternJpegs(21, 320, 240);
  const c = 20;

  async function states(): Promise<{ header: Buffer; atC: number; full: Buffer }> {
    const path = join(dir, "cut-source.avi");
    const writer = await openMjpegAviWriter(path, { width: 320, height: 240, fps: 25 });
    for (const jpeg of jpegs.slice(0, c)) await writer.writeJpeg(jpeg);
    const atC = readFileSync(path);
    await writer.writeJpeg(jpegs[c] as Uint8Array);
    const full = readFileSync(path);
    await writer.close();
    return { header: atC.subarray(0, 224), atC: atC.byteLength, full };
  }

  it.each([
    ["after chunk c", 0, [c], c],
    ["inside chunk c+1's header", 4, [c], c],
    ["inside chunk c+1's JPEG", 8 + 3000, [c, c + 1], c],
    ["after chunk c+1", Infinity, [c + 1], c + 1],
  ])("cut %s: FFmpeg and OpenCV read every complete chunk", async (_name, past, ffmpegFrames, clean) => {
    const { header, atC, full } = await states();
    const file = join(dir, `cut-${String(past)}.avi`);
    const bytes = Buffer.from(full.subarray(0, Math.min(full.byteLength, atC + past)));
    header.copy(bytes, 0); // totals as they were after chunk c
    writeFileSync(file, bytes);
    const probe = ffprobe(file);
    // The header's claim: chunk c+1 and more, within a second of video (25 fps).
    expect(Number(probe.nb_frames)).toBe(header.readUInt32LE(140));
    expect(Number(probe.nb_frames)).toBeGreaterThanOrEqual(c + 1);
    expect(Number(probe.nb_frames)).toBeLessThanOrEqual(c + 25);
    // A cut-off last chunk goes to the decoder as it is: a damaged frame, or a decode error.
    expect(ffmpegFrames).toContain(Number(probe.nb_read_frames));
    const numbers = await patternNumbers(file);
    expect(numbers.slice(0, clean)).toEqual(range(0, clean));
    // OpenCV stops at the end of the file (the header claims more); a damaged frame reads no number.
    expect(numbers.slice(clean).every((n) => n === undefined)).toBe(true);
    expect(numbers.length).toBeLessThanOrEqual(c + 1);
    console.log(`cut ${_name}: ffprobe read ${probe.nb_read_frames} frames, OpenCV ${numbers.length} (${clean} clean)`);
  });
});

describe("MJPEG AVI rollover", () => {
  it("small maxFileBytes: several files, each playable on its own, whose frames add up in order", async () => {
    mkdirSync(join(dir, "roll"));
    const jpegs = patternJpegs(40, 320, 240);
    const maxFileBytes = 96 * 1024;
    const files = await record(join(dir, "roll", "rec.avi"), jpegs, 25, maxFileBytes);
    expect(files.length).toBeGreaterThanOrEqual(4);
    const numbers: (number | undefined)[] = [];
    for (const file of files) {
      expect(statSync(file).size).toBeLessThanOrEqual(maxFileBytes);
      const probe = ffprobe(file);
      expect(probe).toMatchObject({ codec_name: "mjpeg", width: 320, height: 240, r_frame_rate: "25/1" });
      expect(probe.nb_read_frames).toBe(probe.nb_frames);
      const inFile = await patternNumbers(file);
      expect(inFile).toHaveLength(Number(probe.nb_frames));
      expect(readWithOpenCv(file, CAP_OPENCV_MJPEG)).toHaveLength(inFile.length);
      numbers.push(...inFile);
    }
    console.log(
      `rollover at ${maxFileBytes} bytes: ${jpegs.length} frames of ~${jpegs[0]?.byteLength} bytes in ${files.length} files`,
    );
    expect(numbers).toEqual(range(0, jpegs.length));
  });
});

describe("MJPEG AVI write rate", () => {
  it("appends well over 1,000 JPEGs of 1280x720 (~57 KB) a second, each awaited", async () => {
    const jpeg = encodeJpeg(renderPatternFrame(7, 1280, 720), 80);
    const path = join(dir, "rate.avi");
    const writer = await openMjpegAviWriter(path, { width: 1280, height: 720, fps: 60 });
    const frames = 2000;
    const start = performance.now();
    for (let i = 0; i < frames; i++) await writer.writeJpeg(jpeg);
    await writer.close();
    const seconds = (performance.now() - start) / 1000;
    const rate = frames / seconds;
    console.log(
      `MJPEG AVI: ${frames} JPEGs of ${jpeg.byteLength} bytes in ${(seconds * 1000).toFixed(0)} ms: ${rate.toFixed(0)} frames/s`,
    );
    expect(ffprobe(path)).toMatchObject({ nb_frames: String(frames) });
    rmSync(path);
    expect(rate).toBeGreaterThan(1000);
  }, 60_000);
});
