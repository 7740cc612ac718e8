import { describe, expect, it } from "vitest";
import { decodeJpeg, decodeJpegAsync, encodeJpeg, encodeJpegAsync } from "./jpeg.js";
import { resizeFrame, resizeFrameAsync } from "./resize.js";
import { VideoError } from "../errors.js";
import { createFrame } from "../frame.js";
import { psnr } from "../testing/psnr.js";
import { renderPatternFrame } from "../source/pattern.js";
import { inspectPatternFrame, readPatternFrameNumber } from "../testing/pattern-inspection.js";

// Measured on the test pattern at 640x480 (OpenCV 4.6, libjpeg-turbo): 35.5, 37.4,
// 38.6, 38.9 dB (4:2:0 chroma subsampling caps q=100). Bounds leave ~1.5 dB.
const JPEG_PSNR_AT_LEAST: [number, number][] = [
  [50, 34],
  [75, 36],
  [90, 37],
  [100, 37.5],
];

describe("JPEG", () => {
  const frame = renderPatternFrame(4321, 640, 480);

  it.each(JPEG_PSNR_AT_LEAST)(
    "round trip at quality %i keeps PSNR above %i dB and the frame number",
    (quality, bound) => {
      const jpeg = encodeJpeg(frame, quality);
      expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
      const back = decodeJpeg(jpeg, { sequence: 9, captureTime: 5 });
      expect(back).toMatchObject({ width: 640, height: 480, format: "bgr24", sequence: 9, captureTime: 5 });
      const db = psnr(frame, back);
      console.log(`JPEG q=${quality}: ${jpeg.byteLength} bytes, PSNR ${db.toFixed(1)} dB`);
      expect(db).toBeGreaterThan(bound);
      expect(inspectPatternFrame(back)).toEqual({ top: 4321, bottom: 4321, torn: false });
    },
  );

  it("gets smaller as quality drops (q=50 < q=75 < q=90) and far smaller than raw", () => {
    const sizes = [50, 75, 90].map((q) => encodeJpeg(frame, q).byteLength);
    expect(sizes[0]).toBeLessThan(sizes[1] ?? 0);
    expect(sizes[1]).toBeLessThan(sizes[2] ?? 0);
    expect(sizes[2]).toBeLessThan(frame.bytes.byteLength / 5);
  });

  it("compares pixels, so a different frame fails the bound", () => {
    const other = decodeJpeg(encodeJpeg(renderPatternFrame(4400, 640, 480), 90));
    expect(psnr(frame, other)).toBeLessThan(25);
  });

  it("async variants give the same bytes", async () => {
    const jpeg = await encodeJpegAsync(frame, 80);
    expect(Buffer.compare(jpeg, encodeJpeg(frame, 80))).toBe(0);
    const back = await decodeJpegAsync(jpeg);
    expect(Buffer.compare(back.bytes, decodeJpeg(jpeg).bytes)).toBe(0);
  });

  // encodeJpegAsync encodes a frame in JavaScript memory with the package's libjpeg addon, not OpenCV.
  it.each([
    [640, 480, 1],
    [640, 480, 50],
    [640, 480, 95],
    [640, 480, 100],
    [1280, 720, 80],
    [97, 61, 80],
  ])("async, %ix%i at quality %i: byte for byte OpenCV's JPEG", async (width, height, quality) => {
    const pattern = renderPatternFrame(77, width, height);
    expect(Buffer.compare(await encodeJpegAsync(pattern, quality), encodeJpeg(pattern, quality))).toBe(0);
  });

  it("async, a frame over a plain Uint8Array and a frame still in OpenCV's Mat: the same bytes as OpenCV", async () => {
    const plain = createFrame(new Uint8Array(frame.bytes), 640, 480);
    expect(Buffer.compare(await encodeJpegAsync(plain, 80), encodeJpeg(frame, 80))).toBe(0);
    const decoded = decodeJpeg(encodeJpeg(frame, 90));
    expect(Buffer.compare(await encodeJpegAsync(decoded, 80), encodeJpeg(decoded, 80))).toBe(0);
  });

  it("async refuses quality outside 1-100 and a frame whose bytes do not match its size", async () => {
    for (const q of [0, 101, 50.5, Number.NaN]) {
      await expect(encodeJpegAsync(frame, q)).rejects.toSatisfy(
        (e) => VideoError.isInstance(e) && e.code === "INVALID_OPTION",
      );
    }
    const short = { ...frame, bytes: frame.bytes.subarray(0, 1000) };
    await expect(encodeJpegAsync(short, 80)).rejects.toSatisfy(
      (e) => VideoError.isInstance(e) && e.code === "INVALID_FRAME",
    );
  });

  it("refuses quality outside 1-100", () => {
    for (const q of [0, 101, 50.5, Number.NaN]) {
      expect(() => encodeJpeg(frame, q)).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
    }
  });

  it.each([
    ["empty", new Uint8Array(0)],
    ["text", new TextEncoder().encode("hello, not a jpeg")],
    ["just the start marker", new Uint8Array([0xff, 0xd8, 0xff, 0xe0])],
  ])("decoding %s gives JPEG_INVALID (not an abort)", async (_name, bytes) => {
    expect(() => decodeJpeg(bytes)).toThrow(expect.objectContaining({ code: "JPEG_INVALID" }));
    await expect(decodeJpegAsync(bytes)).rejects.toSatisfy(
      (e) => VideoError.isInstance(e) && e.code === "JPEG_INVALID",
    );
  });

  it("decoding a truncated JPEG gives JPEG_INVALID", () => {
    const jpeg = encodeJpeg(frame, 80);
    expect(() => decodeJpeg(jpeg.subarray(0, 300))).toThrow(/does not decode/);
  });
});

describe("resizeFrame", () => {
  it("scales 1280x720 to 640x480 keeping the frame number readable and the picture close", () => {
    const big = renderPatternFrame(777, 1280, 720, 3);
    const small = resizeFrame(big, 640, 480);
    expect(small).toMatchObject({ width: 640, height: 480, sequence: 777, captureTime: 3 });
    expect(small.bytes.byteLength).toBe(640 * 480 * 3);
    expect(readPatternFrameNumber(small)).toBe(777);
    // Scaled back up it stays close to the original (it is the same picture).
    expect(psnr(big, resizeFrame(small, 1280, 720))).toBeGreaterThan(25);
  });

  it("keeps the frame number through scaling and JPEG q=50 together", () => {
    const out = decodeJpeg(encodeJpeg(resizeFrame(renderPatternFrame(98765, 1280, 720), 640, 480), 50));
    expect(inspectPatternFrame(out)).toEqual({ top: 98765, bottom: 98765, torn: false });
  });

  it("returns the same frame when the size already matches", async () => {
    const frame = renderPatternFrame(1, 320, 240);
    expect(resizeFrame(frame, 320, 240)).toBe(frame);
    expect(await resizeFrameAsync(frame, 320, 240)).toBe(frame);
  });

  it("async gives the same pixels as sync", async () => {
    const frame = renderPatternFrame(5, 640, 480);
    expect(Buffer.compare((await resizeFrameAsync(frame, 320, 240)).bytes, resizeFrame(frame, 320, 240).bytes)).toBe(0);
  });

  it("refuses bad sizes", () => {
    expect(() => resizeFrame(renderPatternFrame(1, 64, 48), 0, 10)).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
  });
});

describe("raw frames", () => {
  it("createFrame wraps bytes without copying and checks the length", () => {
    const bytes = new Uint8Array(4 * 2 * 3);
    expect(createFrame(bytes, 4, 2).bytes).toBe(bytes);
    expect(() => createFrame(bytes, 4, 3)).toThrow(/a 4x3 bgr24 frame has 36 bytes, got 24/);
  });

  it("frames over a subarray (non-zero offset) encode correctly", () => {
    const frame = renderPatternFrame(31, 320, 240);
    const padded = new Uint8Array(frame.bytes.byteLength + 7);
    padded.set(frame.bytes, 7);
    const view = createFrame(padded.subarray(7), 320, 240);
    expect(Buffer.compare(encodeJpeg(view, 80), encodeJpeg(frame, 80))).toBe(0);
  });
});
