// The MJPEG AVI writer's bytes, read back with a small RIFF walker (no FFmpeg, no
// OpenCV): header fields, chunks, pads, idx1, the totals while recording, rollover
// at maxFileBytes, and the errors. The JPEGs here are synthetic (a frame header and
// filler), so lengths can be chosen; mjpeg-avi.slow.test.ts plays real ones.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VideoError } from "../errors.js";
import { AVIF_HASINDEX, AVIIF_KEYFRAME, HEADER_BYTES, frameRateFraction, jpegSize } from "./mjpeg-avi-layout.js";
import { openMjpegAviWriter, type MjpegAviOptions } from "./mjpeg-avi.js";
import { makeReadOnly } from "../testing/read-only-path.js";

const dir = mkdtempSync(join(tmpdir(), "udpcam-mjpeg-avi-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** SOI, a baseline frame header (SOF0) for width x height, filler bytes `fill`, EOI: `length` bytes. */
function fakeJpeg(width: number, height: number, length: number, fill = 0x55): Uint8Array {
  const head = [
    0xff,
    0xd8,
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ];
  const bytes = new Uint8Array(length).fill(fill);
  bytes.set(head);
  bytes.set([0xff, 0xd9], length - 2);
  return bytes;
}

interface Chunk {
  readonly fourcc: string;
  readonly at: number;
  readonly data: Buffer;
}

/** The chunks in `bytes[from, to)`, walking sizes and pads; throws on a size running past `to`. */
function chunks(bytes: Buffer, from: number, to: number): Chunk[] {
  const found: Chunk[] = [];
  for (let at = from; at < to;) {
    const size = bytes.readUInt32LE(at + 4);
    if (at + 8 + size > to) throw new Error(`chunk at ${at} of ${size} bytes runs past ${to}`);
    found.push({ fourcc: bytes.toString("latin1", at, at + 4), at, data: bytes.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size % 2);
  }
  return found;
}

interface ParsedAvi {
  readonly bytes: Buffer;
  readonly frames: readonly Chunk[];
  readonly idx1: Chunk | undefined;
}

/** Checks the RIFF and list nesting and returns the movi chunks and idx1. */
function parseAvi(path: string): ParsedAvi {
  const bytes = readFileSync(path);
  expect(bytes.toString("latin1", 0, 4)).toBe("RIFF");
  expect(bytes.readUInt32LE(4)).toBe(bytes.byteLength - 8);
  expect(bytes.toString("latin1", 8, 12)).toBe("AVI ");
  const top = chunks(bytes, 12, bytes.byteLength);
  expect(top.map((c) => (c.fourcc === "LIST" ? `LIST ${c.data.toString("latin1", 0, 4)}` : c.fourcc))).toEqual(
    top.length === 2 ? ["LIST hdrl", "LIST movi"] : ["LIST hdrl", "LIST movi", "idx1"],
  );
  const movi = top[1] as Chunk;
  const frames = chunks(bytes, movi.at + 12, movi.at + 8 + movi.data.byteLength);
  expect(new Set(frames.map((c) => c.fourcc))).toEqual(new Set(frames.length > 0 ? ["00dc"] : []));
  return { bytes, frames, idx1: top[2] };
}

type Field = readonly [name: string, at: number, type: "fourcc" | "u32" | "u16", value: string | number];

/** Every header field at its offset (layout in mjpeg-avi-layout.ts), for a recording of `frames` so far. */
function headerFields(
  width: number,
  height: number,
  rate: number,
  scale: number,
  frames: number,
  largest: number,
  indexed: boolean,
): Field[] {
  return [
    ["RIFF", 0, "fourcc", "RIFF"],
    ["AVI", 8, "fourcc", "AVI "],
    ["LIST", 12, "fourcc", "LIST"],
    ["hdrl size", 16, "u32", 192],
    ["hdrl", 20, "fourcc", "hdrl"],
    ["avih", 24, "fourcc", "avih"],
    ["avih size", 28, "u32", 56],
    ["dwMicroSecPerFrame", 32, "u32", Math.round((1e6 * scale) / rate)],
    ["dwMaxBytesPerSec", 36, "u32", 0],
    ["dwPaddingGranularity", 40, "u32", 0],
    ["dwFlags", 44, "u32", indexed ? AVIF_HASINDEX : 0],
    ["dwTotalFrames", 48, "u32", frames],
    ["dwInitialFrames", 52, "u32", 0],
    ["dwStreams", 56, "u32", 1],
    ["avih dwSuggestedBufferSize", 60, "u32", largest],
    ["dwWidth", 64, "u32", width],
    ["dwHeight", 68, "u32", height],
    ["dwReserved", 72, "u32", 0],
    ["LIST", 88, "fourcc", "LIST"],
    ["strl size", 92, "u32", 116],
    ["strl", 96, "fourcc", "strl"],
    ["strh", 100, "fourcc", "strh"],
    ["strh size", 104, "u32", 56],
    ["fccType", 108, "fourcc", "vids"],
    ["fccHandler", 112, "fourcc", "MJPG"],
    ["strh dwFlags", 116, "u32", 0],
    ["dwScale", 128, "u32", scale],
    ["dwRate", 132, "u32", rate],
    ["dwStart", 136, "u32", 0],
    ["dwLength", 140, "u32", frames],
    ["strh dwSuggestedBufferSize", 144, "u32", largest],
    ["dwQuality", 148, "u32", 0xffffffff],
    ["dwSampleSize", 152, "u32", 0],
    ["rcFrame left", 156, "u16", 0],
    ["rcFrame top", 158, "u16", 0],
    ["rcFrame right", 160, "u16", width],
    ["rcFrame bottom", 162, "u16", height],
    ["strf", 164, "fourcc", "strf"],
    ["strf size", 168, "u32", 40],
    ["biSize", 172, "u32", 40],
    ["biWidth", 176, "u32", width],
    ["biHeight", 180, "u32", height],
    ["biPlanes", 184, "u16", 1],
    ["biBitCount", 186, "u16", 24],
    ["biCompression", 188, "fourcc", "MJPG"],
    ["biSizeImage", 192, "u32", width * height * 3],
    ["biClrImportant", 208, "u32", 0],
    ["LIST", 212, "fourcc", "LIST"],
    ["movi", 220, "fourcc", "movi"],
  ];
}

function readField(bytes: Buffer, [, at, type]: Field): string | number {
  if (type === "fourcc") return bytes.toString("latin1", at, at + 4);
  return type === "u32" ? bytes.readUInt32LE(at) : bytes.readUInt16LE(at);
}

function expectHeader(bytes: Buffer, fields: readonly Field[]): void {
  expect(Object.fromEntries(fields.map((field) => [`${field[0]}@${field[1]}`, readField(bytes, field)]))).toEqual(
    Object.fromEntries(fields.map(([name, at, , value]) => [`${name}@${at}`, value])),
  );
}

const options: MjpegAviOptions = { width: 320, height: 240, fps: 25 };

describe("frameRateFraction", () => {
  it.each([
    [25, 25, 1],
    [60, 60, 1],
    [1000, 1000, 1],
    [12.5, 25, 2],
    [29.97, 2997, 100],
    [59.94, 2997, 50],
    [30000 / 1001, 30000, 1001],
    [24000 / 1001, 24000, 1001],
    [0.5, 1, 2],
    [0.01, 1, 100],
  ])("%d fps is %i/%i", (fps, rate, scale) => {
    expect(frameRateFraction(fps)).toEqual({ rate, scale });
  });

  it("keeps an irrational rate within a millionth, with a scale up to 10000", () => {
    const { rate, scale } = frameRateFraction(Math.PI * 10);
    expect(scale).toBeLessThanOrEqual(10000);
    expect(Math.abs(rate / scale - Math.PI * 10)).toBeLessThan(1e-6);
  });
});

describe("jpegSize", () => {
  it("reads width and height from the frame header, after other segments and fill bytes", () => {
    expect(jpegSize(fakeJpeg(1280, 720, 100))).toEqual({ width: 1280, height: 720 });
    const app0 = [0xff, 0xe0, 0x00, 0x06, 0x4a, 0x46, 0x49, 0x46];
    const dht = [0xff, 0xc4, 0x00, 0x03, 0x00]; // C4 is in the SOF range but is not a frame header
    const sof2 = [0xff, 0xff, 0xc2, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x20, 0x01, 0x01, 0x11, 0x00];
    expect(jpegSize(new Uint8Array([0xff, 0xd8, ...app0, ...dht, ...sof2, 0xff, 0xd9]))).toEqual({
      width: 32,
      height: 16,
    });
  });

  it.each([
    ["empty", [], /not a JPEG: 0 bytes without the FF D8 start marker/],
    ["text", [...new TextEncoder().encode("hello, not a jpeg")], /not a JPEG: 17 bytes without the FF D8/],
    ["a PNG", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], /not a JPEG: 8 bytes/],
    ["just the start marker", [0xff, 0xd8, 0xff, 0xe0], /no frame header \(SOF marker\)/],
    ["start and end markers", [0xff, 0xd8, 0xff, 0xd9, 0, 0], /no frame header \(SOF marker\) .* \(offset 2\)/],
    ["scan data before any frame header", [0xff, 0xd8, 0xff, 0xda, 0x00, 0x02], /no frame header/],
    [
      "a byte where a marker should be",
      [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x02, 0x12, 0x34, 0, 0],
      /expected a marker at offset 6, found byte 0x12/,
    ],
    ["a segment length running past the end", [0xff, 0xd8, 0xff, 0xe0, 0x10, 0x00, 0, 0], /no frame header/],
    ["a cut-off frame header", [0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00], /no frame header/],
  ])("refuses %s with JPEG_INVALID", (_name, bytes, message) => {
    const error = (() => {
      try {
        jpegSize(new Uint8Array(bytes));
      } catch (e) {
        return e;
      }
    })();
    expect(VideoError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "JPEG_INVALID" });
    expect((error as Error).message).toMatch(message);
  });
});

describe("openMjpegAviWriter: layout", () => {
  it("writes the header, one 00dc chunk a JPEG (odd lengths padded) and idx1 at close", async () => {
    const path = join(dir, "layout.avi");
    const jpegs = [fakeJpeg(320, 240, 1001, 0x11), fakeJpeg(320, 240, 1000, 0x22), fakeJpeg(320, 240, 1501, 0x33)];
    const writer = await openMjpegAviWriter(path, options);
    for (const jpeg of jpegs) await writer.writeJpeg(jpeg);
    expect(await writer.close()).toEqual({ framesWritten: 3, files: [path] });

    const avi = parseAvi(path);
    expectHeader(avi.bytes, headerFields(320, 240, 25, 1, 3, 1501, true));
    expect(avi.frames.map((c) => c.at)).toEqual([224, 224 + 8 + 1002, 224 + 8 + 1002 + 8 + 1000]);
    avi.frames.forEach((chunk, i) => expect(Buffer.compare(chunk.data, jpegs[i] as Uint8Array), `frame ${i}`).toBe(0));
    expect([avi.bytes[224 + 8 + 1001], avi.bytes[avi.bytes.byteLength - 8 - 48 - 1]]).toEqual([0, 0]); // the pads
    const idx1 = avi.idx1 as Chunk;
    expect(idx1.data.byteLength).toBe(48);
    const entries = [0, 1, 2].map((i) => [
      idx1.data.toString("latin1", i * 16, i * 16 + 4),
      idx1.data.readUInt32LE(i * 16 + 4),
      idx1.data.readUInt32LE(i * 16 + 8),
      idx1.data.readUInt32LE(i * 16 + 12),
    ]);
    // Offsets count from the 'movi' fourcc (at 220) to the chunk's fourcc.
    expect(entries).toEqual(avi.frames.map((c, i) => ["00dc", AVIIF_KEYFRAME, c.at - 220, jpegs[i]?.byteLength]));
    expect(avi.bytes.byteLength).toBe(HEADER_BYTES + 1010 + 1008 + 1510 + 8 + 48);
  });

  it("while recording, claims every chunk written and at most a second more, rewriting the header about once a second; exact at close", async () => {
    const path = join(dir, "running.avi");
    const writer = await openMjpegAviWriter(path, options);
    expectHeader(parseAvi(path).bytes, headerFields(320, 240, 25, 1, 0, 0, false));
    // 2.4 s of video at 25 fps; one JPEG twice the size of the others.
    const lengths = Array.from({ length: 60 }, (_, i) => (i === 40 ? 6000 : 3000 + (i % 2)));
    let header = readFileSync(path).subarray(0, HEADER_BYTES);
    let rewrites = 0;
    for (const [i, length] of lengths.entries()) {
      await writer.writeJpeg(fakeJpeg(320, 240, length));
      const bytes = readFileSync(path);
      if (!bytes.subarray(0, HEADER_BYTES).equals(header)) rewrites++;
      header = Buffer.from(bytes.subarray(0, HEADER_BYTES));
      // What a reader scanning a killed file finds: every chunk written, whole, up to the end of the file.
      expect(chunks(bytes, HEADER_BYTES, bytes.byteLength).map((c) => c.data.byteLength)).toEqual(
        lengths.slice(0, i + 1),
      );
      // And what the header claims: never less (OpenCV reads dwLength + 1 frames), at most a second more.
      const dwLength = bytes.readUInt32LE(140);
      expect(bytes.readUInt32LE(48)).toBe(dwLength); // dwTotalFrames
      expect(dwLength).toBeGreaterThanOrEqual(i + 1);
      expect(dwLength).toBeLessThanOrEqual(i + 1 + 25);
      expect(bytes.readUInt32LE(4) + 8).toBeGreaterThanOrEqual(bytes.byteLength); // RIFF size
      expect(bytes.readUInt32LE(216) + 220).toBeGreaterThanOrEqual(bytes.byteLength); // movi size, from 'movi'
      for (const at of [60, 144])
        expect(bytes.readUInt32LE(at)).toBeGreaterThanOrEqual(Math.max(...lengths.slice(0, i + 1)));
      expect(bytes.readUInt32LE(44) & AVIF_HASINDEX).toBe(0);
      expect(writer.framesWritten).toBe(i + 1);
    }
    // Once a second of video, and once for the JPEG larger than the header allowed for: not after every chunk.
    expect(rewrites).toBeLessThanOrEqual(Math.ceil(lengths.length / 25) + 1);
    await writer.close();
    const closed = parseAvi(path); // RIFF = file size - 8, movi ending where idx1 starts
    expectHeader(closed.bytes, headerFields(320, 240, 25, 1, lengths.length, 6000, true));
    expect(closed.idx1?.data.byteLength).toBe(16 * lengths.length);
  });

  it("an empty recording is a valid AVI with no frames", async () => {
    const path = join(dir, "empty.avi");
    const writer = await openMjpegAviWriter(path, options);
    expect(await writer.close()).toEqual({ framesWritten: 0, files: [path] });
    const avi = parseAvi(path);
    expect(avi.frames).toEqual([]);
    expect(avi.idx1?.data.byteLength).toBe(0);
  });

  it("lands un-awaited writes in call order", async () => {
    const path = join(dir, "burst.avi");
    const writer = await openMjpegAviWriter(path, options);
    const writes = Array.from({ length: 50 }, (_, i) => writer.writeJpeg(fakeJpeg(320, 240, 100 + i, i)));
    await Promise.all(writes);
    await writer.close();
    expect(parseAvi(path).frames.map((c) => [c.data.byteLength, c.data[40]])).toEqual(
      Array.from({ length: 50 }, (_, i) => [100 + i, i]),
    );
  });
});

describe("openMjpegAviWriter: rollover", () => {
  it("finishes a file before it passes maxFileBytes and goes on in name-001.avi, name-002.avi, ...", async () => {
    mkdirSync(join(dir, "roll"));
    const path = join(dir, "roll", "rec.avi");
    const maxFileBytes = 65536;
    // A file of frames n1, n2, ... is 224 + (8 + n1 + pad) + (8 + n2 + pad) + ... + 8 + 16 per frame bytes.
    // Files 0, 1 and 3 come out exactly maxFileBytes long; the 55,258 bytes after 10,000 would pass it by 2.
    const lengths = [65280, 10000, 55256, 10000, 55258, 9997];
    const writer = await openMjpegAviWriter(path, { ...options, maxFileBytes });
    for (const [i, length] of lengths.entries()) await writer.writeJpeg(fakeJpeg(320, 240, length, i));
    const stats = await writer.close();
    const names = ["rec.avi", "rec-001.avi", "rec-002.avi", "rec-003.avi"];
    expect(stats).toEqual({ framesWritten: lengths.length, files: names.map((name) => join(dir, "roll", name)) });

    const perFile = stats.files.map((file) => parseAvi(file));
    expect(perFile.map((avi) => avi.frames.map((c) => c.data.byteLength))).toEqual([
      [65280],
      [10000, 55256],
      [10000],
      [55258, 9997],
    ]);
    expect(perFile.map((avi) => avi.bytes.byteLength)).toEqual([
      maxFileBytes,
      maxFileBytes,
      224 + 10008 + 8 + 16,
      maxFileBytes,
    ]);
    for (const avi of perFile) {
      expect(avi.idx1?.data.byteLength).toBe(16 * avi.frames.length);
      expectHeader(
        avi.bytes,
        headerFields(320, 240, 25, 1, avi.frames.length, Math.max(...avi.frames.map((c) => c.data.byteLength)), true),
      );
    }
    expect(perFile.flatMap((avi) => avi.frames.map((c) => c.data[40]))).toEqual(lengths.map((_, i) => i));
  });

  it("a failed write (the next file on a full disk) fails that write, every later one and close; the finished file stays whole", async () => {
    mkdirSync(join(dir, "full"));
    const path = join(dir, "full", "rec.avi");
    symlinkSync("/dev/full", join(dir, "full", "rec-001.avi"));
    const writer = await openMjpegAviWriter(path, { ...options, maxFileBytes: 65536 });
    for (let i = 0; i < 6; i++) await writer.writeJpeg(fakeJpeg(320, 240, 10000, i));
    const failed = {
      code: "WRITE_FAILED",
      message: expect.stringMatching(/writing frame 6 to .*rec\.avi failed: .*ENOSPC/) as unknown,
    };
    await expect(writer.writeJpeg(fakeJpeg(320, 240, 10000))).rejects.toMatchObject(failed);
    await expect(writer.writeJpeg(fakeJpeg(320, 240, 100))).rejects.toMatchObject(failed);
    await expect(writer.close()).rejects.toMatchObject(failed);
    expect(writer.framesWritten).toBe(6);
    const avi = parseAvi(path);
    expect(avi.frames).toHaveLength(6);
    expect(avi.idx1?.data.byteLength).toBe(96);
  });
});

describe("openMjpegAviWriter: refusals", () => {
  it("refuses a write that is not a JPEG of the recording's size, and goes on recording", async () => {
    const path = join(dir, "refusals.avi");
    const writer = await openMjpegAviWriter(path, { ...options, maxFileBytes: 65536 });
    await writer.writeJpeg(fakeJpeg(320, 240, 500));
    await expect(writer.writeJpeg(new TextEncoder().encode("not a jpeg"))).rejects.toMatchObject({
      code: "JPEG_INVALID",
      message: "not a JPEG: 10 bytes without the FF D8 start marker",
    });
    await expect(writer.writeJpeg(new Uint8Array(0))).rejects.toMatchObject({ code: "JPEG_INVALID" });
    await expect(writer.writeJpeg(fakeJpeg(640, 480, 500))).rejects.toMatchObject({
      code: "FRAME_SIZE_MISMATCH",
      message: expect.stringMatching(/refusals\.avi is 320x240; refused a 640x480 JPEG$/) as unknown,
    });
    await expect(writer.writeJpeg(fakeJpeg(320, 240, 65281))).rejects.toMatchObject({
      code: "INVALID_FRAME",
      message: "a JPEG of 65281 bytes does not fit in a file of maxFileBytes 65536",
    });
    await writer.writeJpeg(fakeJpeg(320, 240, 600));
    const stats = await writer.close();
    expect(stats).toEqual({ framesWritten: 2, files: [path] });
    expect(await writer.close()).toEqual(stats);
    await expect(writer.writeJpeg(fakeJpeg(320, 240, 500))).rejects.toMatchObject({ code: "CLOSED" });
    expect(parseAvi(path).frames.map((c) => c.data.byteLength)).toEqual([500, 600]);
  });

  it.each([
    [
      "another extension",
      "x.mjpeg",
      {},
      "CODEC_UNSUPPORTED",
      /cannot record MJPEG to .*x\.mjpeg: use a file ending in \.avi/,
    ],
    ["no extension", "x", {}, "CODEC_UNSUPPORTED", /use a file ending in \.avi/],
    [
      "a missing folder",
      "missing/x.avi",
      {},
      "OUTPUT_NOT_WRITABLE",
      /folder .*missing does not exist or is not writable/,
    ],
    [
      "a file as the folder",
      "file.txt/x.avi",
      {},
      "OUTPUT_NOT_WRITABLE",
      /folder .*file\.txt does not exist or is not writable/,
    ],
    ["a folder as the path", "folder.avi", {}, "OUTPUT_NOT_WRITABLE", /folder\.avi: it is a folder/],
    [
      "width 0",
      "x.avi",
      { width: 0 },
      "INVALID_OPTION",
      /width must be an integer from 1 to 65535 \(the JPEG limit\), got 0/,
    ],
    ["a fractional height", "x.avi", { height: 240.5 }, "INVALID_OPTION", /height .* got 240\.5/],
    ["height 65536", "x.avi", { height: 65536 }, "INVALID_OPTION", /height .* got 65536/],
    ["fps 0", "x.avi", { fps: 0 }, "INVALID_OPTION", /fps must be from 0\.01 to 1000, got 0/],
    ["fps NaN", "x.avi", { fps: Number.NaN }, "INVALID_OPTION", /fps .* got NaN/],
    ["fps 1001", "x.avi", { fps: 1001 }, "INVALID_OPTION", /fps .* got 1001/],
    [
      "a tiny maxFileBytes",
      "x.avi",
      { maxFileBytes: 1000 },
      "INVALID_OPTION",
      /maxFileBytes must be an integer from 65536 to 2147483647 .* got 1000/,
    ],
    ["maxFileBytes 4 GiB", "x.avi", { maxFileBytes: 2 ** 32 }, "INVALID_OPTION", /maxFileBytes .* got 4294967296/],
  ])("refuses %s at open time", async (_name, file, extra, code, message) => {
    mkdirSync(join(dir, "folder.avi"), { recursive: true });
    writeFileSync(join(dir, "file.txt"), "");
    const error = await openMjpegAviWriter(join(dir, file), { ...options, ...extra }).catch((e: unknown) => e);
    expect(VideoError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
    expect(() => statSync(join(dir, "x.avi"))).toThrow();
  });

  // Runs as root too (CI does): there makeReadOnly uses chattr +i or a read-only bind mount, as chmod does not stop root.
  it("refuses a read-only folder and a read-only file at open time, leaving them as they were", async () => {
    const ro = join(dir, "ro");
    mkdirSync(ro);
    const file = join(dir, "ro-file.avi");
    copyFileSync(join(dir, "layout.avi"), file);
    const before = readFileSync(file);
    const undo = [makeReadOnly(ro), makeReadOnly(file)];
    try {
      await expect(openMjpegAviWriter(join(ro, "x.avi"), options)).rejects.toMatchObject({
        code: "OUTPUT_NOT_WRITABLE",
        message: expect.stringContaining(`folder ${ro} does not exist or is not writable`) as unknown,
      });
      await expect(openMjpegAviWriter(file, options)).rejects.toMatchObject({
        code: "OUTPUT_NOT_WRITABLE",
        message: expect.stringMatching(/ro-file\.avi: the existing file is not writable/) as unknown,
      });
    } finally {
      for (const done of undo) done();
    }
    expect(Buffer.compare(readFileSync(file), before)).toBe(0);
    expect(readdirSync(ro)).toEqual([]);
  });
});
