import { describe, expect, it } from "vitest";
import { renderPatternFrame } from "../source/pattern.js";
import { inspectPatternFrame } from "../testing/pattern-inspection.js";
import { psnr } from "../testing/psnr.js";
import { decodeJpeg, encodeJpeg } from "./jpeg.js";
import { transcodeJpegAsync } from "./transcode.js";

/** Start-of-frame (baseline) segment: height, width, and each component's sampling factors. */
function frameHeader(jpeg: Uint8Array): { width: number; height: number; sampling: number[] } {
  for (let i = 2; i + 4 < jpeg.length;) {
    const marker = jpeg[i + 1] ?? 0;
    const length = ((jpeg[i + 2] ?? 0) << 8) | (jpeg[i + 3] ?? 0);
    if (marker === 0xc0) {
      const height = ((jpeg[i + 5] ?? 0) << 8) | (jpeg[i + 6] ?? 0);
      const width = ((jpeg[i + 7] ?? 0) << 8) | (jpeg[i + 8] ?? 0);
      const count = jpeg[i + 9] ?? 0;
      const sampling = Array.from({ length: count }, (_, c) => jpeg[i + 11 + 3 * c] ?? 0);
      return { width, height, sampling };
    }
    i += 2 + length;
  }
  throw new Error("no SOF0 segment");
}

describe("transcodeJpegAsync (libjpeg, YCbCr in and out)", () => {
  it.each([
    [640, 480],
    [1280, 720],
    // Sides that are not whole MCUs (16x16 at 4:2:0): the edge blocks carry the decoder's padding through.
    [100, 60],
  ])("%ix%i: same size and sampling, the same picture as OpenCV's decode + encode", async (width, height) => {
    const frame = renderPatternFrame(777, Math.max(width, 64), Math.max(height, 48));
    const source = encodeJpeg(frame, 95);
    const again = await transcodeJpegAsync(source, 80);
    expect([...again.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(frameHeader(again)).toEqual(frameHeader(source));
    const viaBgr = decodeJpeg(encodeJpeg(decodeJpeg(source), 80));
    const viaYcc = decodeJpeg(again);
    // Within a few tenths of a dB of what the BGR round trip gives, against the original pixels.
    expect(psnr(frame, viaYcc)).toBeGreaterThan(psnr(frame, viaBgr) - 1);
    expect(inspectPatternFrame(viaYcc)).toMatchObject({ top: 777, bottom: 777, torn: false });
  });

  it("quality is what it says: lower quality, fewer bytes", async () => {
    const source = encodeJpeg(renderPatternFrame(5, 640, 480), 95);
    const sizes = await Promise.all([30, 60, 90].map(async (q) => (await transcodeJpegAsync(source, q)).byteLength));
    expect(sizes[0]).toBeLessThan(sizes[1] ?? 0);
    expect(sizes[1]).toBeLessThan(sizes[2] ?? 0);
  });

  it("rejects what is not a JPEG, or is cut short, with JPEG_INVALID, and a bad quality with INVALID_OPTION", async () => {
    const source = encodeJpeg(renderPatternFrame(5, 640, 480), 80);
    await expect(transcodeJpegAsync(new Uint8Array([1, 2, 3, 4]), 80)).rejects.toMatchObject({ code: "JPEG_INVALID" });
    await expect(transcodeJpegAsync(source.subarray(0, 200), 80)).rejects.toMatchObject({ code: "JPEG_INVALID" });
    await expect(transcodeJpegAsync(source, 0)).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });
});
