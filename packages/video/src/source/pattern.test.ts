import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createFrame, type Frame } from "../frame.js";
import { psnr } from "../testing/psnr.js";
import { PATTERN_NUMBER_MODULUS, patternBandHeight, patternCodeBits } from "./pattern-code.js";
import { renderPatternFrame } from "./pattern.js";
import { inspectPatternFrame, readPatternFrameNumber } from "../testing/pattern-inspection.js";

const SIZES: [number, number][] = [
  [64, 48],
  [320, 240],
  [640, 480],
  [1280, 720],
  [333, 201],
];

function uniform(width: number, height: number, value: number): Frame {
  return createFrame(new Uint8Array(width * height * 3).fill(value), width, height);
}

/** Rows [0, splitRow) from a, the rest from b: what a torn legacy frame looks like. */
function splice(a: Frame, b: Frame, splitRow: number): Frame {
  const bytes = new Uint8Array(b.bytes);
  bytes.set(a.bytes.subarray(0, splitRow * a.width * 3));
  return createFrame(bytes, a.width, a.height);
}

describe("renderPatternFrame", () => {
  it("renders exactly the bytes it always has (recordings and tests regenerate frames from it)", () => {
    // Digests of frames 0, 1, 63 and 123456, taken from the first, byte-at-a-time renderer.
    const digests: Record<string, string> = {
      "640x480": "d1c89665e68290c069c5d73fb341bdaf99e95995c4b73524467c8e54d1396357",
      "1280x720": "abb77d923b1a758f6d4b9142e7bab1aed09825790d1a993c88ced15b7bb32ba3",
      "66x50": "3664d73300ebf7211112f3b32bd6d3ae78bf27de48ff792acb99731efd97f108",
    };
    for (const [size, digest] of Object.entries(digests)) {
      const [width, height] = size.split("x").map(Number) as [number, number];
      const hash = createHash("sha256");
      for (const n of [0, 1, 63, 123456]) hash.update(renderPatternFrame(n, width, height, 0).bytes);
      expect(hash.digest("hex"), size).toBe(digest);
    }
  });

  it("is deterministic: the same arguments give the same bytes", () => {
    const a = renderPatternFrame(77, 640, 480, 1);
    const b = renderPatternFrame(77, 640, 480, 2);
    expect(Buffer.compare(a.bytes, b.bytes)).toBe(0);
    expect(a).toMatchObject({ width: 640, height: 480, format: "bgr24", sequence: 77, captureTime: 1 });
    expect(a.bytes.byteLength).toBe(640 * 480 * 3);
  });

  it("moves: consecutive frames differ over most of the picture", () => {
    const a = renderPatternFrame(10, 640, 480);
    const b = renderPatternFrame(11, 640, 480);
    let changed = 0;
    for (let i = 0; i < a.bytes.length; i += 3) if (a.bytes[i] !== b.bytes[i]) changed++;
    expect(changed / (640 * 480)).toBeGreaterThan(0.5);
    expect(psnr(a, b)).toBeLessThan(30);
  });

  it("draws the code bands as pure black and white blocks matching the code bits", () => {
    const frame = renderPatternFrame(0xabcdef, 640, 480);
    const bits = patternCodeBits(0xabcdef);
    const band = patternBandHeight(480);
    for (let i = 0; i < 32; i++) {
      const x = i * 20 + 10;
      for (const y of [0, band - 1, 480 - band, 479]) {
        const p = (y * 640 + x) * 3;
        expect([...frame.bytes.subarray(p, p + 3)], `block ${i} row ${y}`).toEqual(
          bits[i] === 1 ? [255, 255, 255] : [0, 0, 0],
        );
      }
    }
    // The row under the top band is picture, not code.
    const p = (band * 640 + 5) * 3;
    expect([...frame.bytes.subarray(p, p + 3)]).not.toEqual([0, 0, 0]);
  });

  it("refuses sizes below 64x48 and bad frame numbers", () => {
    expect(() => renderPatternFrame(0, 63, 48)).toThrow(/at least 64x48/);
    expect(() => renderPatternFrame(0, 64, 47)).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
    expect(() => renderPatternFrame(-1, 64, 48)).toThrow(/integer >= 0/);
    expect(() => renderPatternFrame(1.5, 64, 48)).toThrow(/integer >= 0/);
  });
});

describe("patternCodeBits", () => {
  it.each([
    [0, "00000000000000000000000001011010"],
    [1, "00000000000000000000000101011101"],
    [0xffffff, "11111111111111111111111101010101"],
  ])("frame %i -> %s", (n, bits) => {
    expect(patternCodeBits(n).join("")).toBe(bits);
  });

  it("wraps at 2^24", () => {
    expect(patternCodeBits(PATTERN_NUMBER_MODULUS + 5)).toEqual(patternCodeBits(5));
  });
});

describe("inspectPatternFrame", () => {
  it.each(SIZES)("reads the frame number back at %ix%i", (width, height) => {
    for (const n of [0, 1, 2, 255, 256, 65535, 1234567, PATTERN_NUMBER_MODULUS - 1]) {
      const frame = renderPatternFrame(n, width, height);
      expect(inspectPatternFrame(frame)).toEqual({ top: n, bottom: n, torn: false });
      expect(readPatternFrameNumber(frame)).toBe(n);
    }
  });

  it("reports numbers modulo 2^24", () => {
    expect(readPatternFrameNumber(renderPatternFrame(PATTERN_NUMBER_MODULUS + 9, 320, 240))).toBe(9);
  });

  it("tells a torn frame: top rows of one frame, bottom rows of another", () => {
    const a = renderPatternFrame(100, 640, 480);
    const b = renderPatternFrame(101, 640, 480);
    for (const split of [24, 240, 456]) {
      expect(inspectPatternFrame(splice(a, b, split)), `split at row ${split}`).toEqual({
        top: 100,
        bottom: 101,
        torn: true,
      });
      expect(readPatternFrameNumber(splice(a, b, split))).toBeUndefined();
    }
  });

  it("tells a frame torn inside a band: that band fails its check", () => {
    const a = renderPatternFrame(0x00ff00, 640, 480);
    const b = renderPatternFrame(0xff00ff, 640, 480);
    // Columns: left half of the top band from a, right half from b.
    const bytes = new Uint8Array(a.bytes);
    for (let y = 0; y < patternBandHeight(480); y++) {
      const start = (y * 640 + 320) * 3;
      bytes.set(b.bytes.subarray(start, start + 320 * 3), start);
    }
    expect(inspectPatternFrame(createFrame(bytes, 640, 480))).toEqual({ bottom: 0x00ff00, torn: true });
  });

  it.each([
    ["black", 0],
    ["white", 255],
    ["gray", 128],
  ])("finds no frame number in a %s frame (not torn either)", (_name, value) => {
    expect(inspectPatternFrame(uniform(640, 480, value))).toEqual({ torn: false });
  });

  it("finds nothing in frames too small to hold the code", () => {
    expect(inspectPatternFrame(uniform(16, 2, 0))).toEqual({ torn: false });
  });

  it("rejects a single flipped block (the check catches it)", () => {
    const frame = renderPatternFrame(4242, 640, 480);
    const bytes = new Uint8Array(frame.bytes);
    const band = patternBandHeight(480);
    // Invert block 20 of the top band.
    for (let y = 0; y < band; y++)
      for (let x = 400; x < 420; x++)
        for (let c = 0; c < 3; c++) {
          const p = (y * 640 + x) * 3 + c;
          bytes[p] = 255 - (bytes[p] ?? 0);
        }
    expect(inspectPatternFrame(createFrame(bytes, 640, 480))).toEqual({ bottom: 4242, torn: true });
  });
});
