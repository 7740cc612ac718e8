/**
 * The MJPG AVI reader against FFmpeg's raw mode (what it replaces): the same JPEG bytes, frame for frame, for
 * the files the writers a user has make (OpenCV, ffmpeg, GStreamer, udpcam's own recorder), a recording cut short
 * by a crash, and an OpenDML file's second RIFF part; anything else is left to FFmpeg.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { encodeJpeg } from "../codec/jpeg.js";
import { cv } from "../opencv.js";
import { openMjpegAviWriter } from "../record/mjpeg-avi.js";
import { AviJpegReader } from "./avi-jpeg.js";
import { firstRawJpeg } from "./ffmpeg-capture.js";
import { openJpegSource } from "./open-source.js";
import { renderPatternFrame } from "./pattern.js";

const dir = mkdtempSync(join(tmpdir(), "udpcam-avi-jpeg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FRAMES = 12;

/** Every JPEG FFmpeg's raw mode reads from `path`, and its fps. */
function ffmpegPackets(path: string): { jpegs: Buffer[]; fps: number } {
  const capture = new cv.VideoCapture(path, cv.CAP_FFMPEG);
  const fps = capture.get(cv.CAP_PROP_FPS);
  const first = firstRawJpeg(capture);
  if (first === undefined) throw new Error(`FFmpeg reads no JPEG from ${path}`);
  const jpegs = [Buffer.from(first)];
  for (;;) {
    const mat = capture.read();
    if (mat.empty) break;
    jpegs.push(Buffer.from(mat.getData()));
  }
  capture.release();
  return { jpegs, fps };
}

async function readerJpegs(path: string): Promise<{ jpegs: Buffer[]; reader: AviJpegReader }> {
  const reader = await AviJpegReader.open(path);
  if (reader === undefined) throw new Error(`the reader refused ${path}`);
  const jpegs: Buffer[] = [];
  for (let jpeg = await reader.next(); jpeg !== undefined; jpeg = await reader.next()) jpegs.push(Buffer.from(jpeg));
  await reader.close();
  return { jpegs, reader };
}

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: "pipe" });
}

const writers: [string, (path: string) => Promise<void> | void][] = [
  [
    "OpenCV's VideoWriter (MJPG)",
    (path) => {
      const writer = new cv.VideoWriter(path, cv.VideoWriter.fourcc("MJPG"), 25, new cv.Size(320, 240));
      for (let n = 0; n < FRAMES; n++) {
        const frame = renderPatternFrame(n, 320, 240);
        writer.write(new cv.Mat(Buffer.from(frame.bytes), 240, 320, cv.CV_8UC3));
      }
      writer.release();
    },
  ],
  [
    "ffmpeg (-c:v mjpeg, 30000/1001 fps)",
    (path) =>
      run("ffmpeg", [
        ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=352x288:rate=30000/1001"],
        ...["-frames:v", String(FRAMES), "-c:v", "mjpeg", "-q:v", "4", path],
      ]),
  ],
  [
    "GStreamer (jpegenc ! avimux)",
    (path) =>
      run("gst-launch-1.0", [
        ...["-q", "videotestsrc", `num-buffers=${FRAMES}`, "pattern=ball", "!"],
        ...["video/x-raw,width=320,height=240,framerate=15/1", "!", "jpegenc", "!", "avimux", "!"],
        ...["filesink", `location=${path}`],
      ]),
  ],
  [
    "udpcam's recorder (MJPG AVI)",
    async (path) => {
      const writer = await openMjpegAviWriter(path, { width: 640, height: 480, fps: 25 });
      for (let n = 0; n < FRAMES; n++) await writer.writeJpeg(encodeJpeg(renderPatternFrame(n, 640, 480), 80));
      await writer.close();
    },
  ],
];

describe("AviJpegReader: the same JPEG bytes as FFmpeg's raw mode", () => {
  it.each(writers)("a file written by %s: every frame, byte for byte, at the same fps", async (_name, write) => {
    const path = join(dir, `${_name.replace(/\W+/g, "-")}.avi`);
    await write(path);
    const expected = ffmpegPackets(path);
    const { jpegs, reader } = await readerJpegs(path);
    expect(expected.jpegs.length).toBeGreaterThanOrEqual(FRAMES);
    expect(jpegs.length).toBe(expected.jpegs.length);
    jpegs.forEach((jpeg, n) => expect(Buffer.compare(jpeg, expected.jpegs[n]!), `frame ${n}`).toBe(0));
    expect(reader.header.fps).toBeCloseTo(expected.fps, 6);
    const mat = cv.imdecode(jpegs[0]!);
    expect([reader.header.width, reader.header.height]).toEqual([mat.cols, mat.rows]);
  });

  it("a recording cut short mid-chunk (a crash): every whole frame, then the end", async () => {
    const path = join(dir, "cut.avi");
    const writer = await openMjpegAviWriter(path, { width: 640, height: 480, fps: 25 });
    const sent: Buffer[] = [];
    for (let n = 0; n < FRAMES; n++) {
      const jpeg = Buffer.from(encodeJpeg(renderPatternFrame(n, 640, 480), 80));
      sent.push(jpeg);
      await writer.writeJpeg(jpeg);
    }
    await writer.close();
    const bytes = readFileSync(path);
    // Cut in the middle of the last frame's chunk: the index (idx1) after it is gone too.
    const lastAt = bytes.lastIndexOf(sent.at(-1)!);
    truncateSync(path, lastAt + 100);
    const { jpegs } = await readerJpegs(path);
    expect(jpegs).toEqual(sent.slice(0, -1));
  });

  it("an OpenDML file: the frames of its RIFF AVIX part follow the first part's", async () => {
    // udpcam's writer makes the first part; a second part (as FFmpeg writes past 1 GB) is appended by hand.
    const path = join(dir, "opendml.avi");
    const writer = await openMjpegAviWriter(path, { width: 320, height: 240, fps: 25 });
    const jpegs = Array.from({ length: 4 }, (_, n) => Buffer.from(encodeJpeg(renderPatternFrame(n, 320, 240), 80)));
    for (const jpeg of jpegs.slice(0, 2)) await writer.writeJpeg(jpeg);
    await writer.close();
    const chunks = jpegs.slice(2).map((jpeg) => {
      const header = Buffer.alloc(8);
      header.write("00dc", 0, "latin1");
      header.writeUInt32LE(jpeg.length, 4);
      return Buffer.concat([header, jpeg, Buffer.alloc(jpeg.length & 1)]);
    });
    const movi = Buffer.concat([Buffer.from("movi", "latin1"), ...chunks]);
    const list = Buffer.concat([Buffer.from("LIST", "latin1"), u32(movi.length), movi]);
    const part = Buffer.concat([Buffer.from("RIFF", "latin1"), u32(list.length + 4), Buffer.from("AVIX"), list]);
    writeFileSync(path, Buffer.concat([readFileSync(path), part]));
    const read = await readerJpegs(path);
    expect(read.jpegs).toEqual(jpegs);
  });

  it("leaves other files to FFmpeg: another codec in AVI, MJPEG in Matroska, not a video", async () => {
    const mpeg4 = join(dir, "mpeg4.avi");
    run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-frames:v", "5", mpeg4]);
    const mkv = join(dir, "mjpeg.mkv");
    run("ffmpeg", [
      ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"],
      ...["-frames:v", "5", "-c:v", "mjpeg", mkv],
    ]);
    const text = join(dir, "notes.avi");
    writeFileSync(text, "not a video at all\n");
    expect(await AviJpegReader.open(mpeg4)).toBeUndefined();
    expect(await AviJpegReader.open(mkv)).toBeUndefined();
    expect(await AviJpegReader.open(text)).toBeUndefined();
    // The Matroska file is still passed through, by FFmpeg.
    const source = await openJpegSource({ kind: "file", path: mkv }, { pace: "asap" });
    expect(source?.width).toBe(320);
    const first = await source?.read();
    expect([...(first?.jpeg.subarray(0, 2) ?? [])]).toEqual([0xff, 0xd8]);
    await source?.close();
  });

  it("an AVI source passes the file's JPEG through without loading OpenCV", async () => {
    const path = join(dir, "pass-through.avi");
    await writers[3]![1](path);
    const script = `
      import { openJpegSource, opencvLoaded } from "@udpcam/video";
      const source = await openJpegSource({ kind: "file", path: ${JSON.stringify(path)} }, { pace: "asap" });
      let frames = 0;
      while (await source.read()) frames++;
      await source.close();
      const opencv = (await import("node:fs")).readFileSync("/proc/self/maps", "utf8").includes("libopencv");
      console.log(JSON.stringify({ frames, loaded: opencvLoaded(), opencv, size: [source.width, source.height] }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      encoding: "utf8",
    });
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({
      frames: FRAMES,
      loaded: false,
      opencv: false,
      size: [640, 480],
    });
  });
});

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value, 0);
  return b;
}
