// Its own file (a process of its own under vitest): `useNativeOpencvOnly` must run before anything loads OpenCV.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { decodeJpegAsync, encodeJpeg, encodeJpegAsync } from "./codec/jpeg.js";
import { resizeFrameAsync } from "./codec/resize.js";
import { cv, opencvLoaded, useNativeOpencvOnly } from "./opencv.js";
import { psnr } from "./testing/psnr.js";
import { renderPatternFrame } from "./source/pattern.js";

describe("OpenCV's compiled addon alone (useNativeOpencvOnly: the sender, the encoder process)", () => {
  it("gives the *Async functions and methods the sender uses as promises, and skips the package's build helper", async () => {
    useNativeOpencvOnly();
    const frame = renderPatternFrame(12, 640, 480);
    const jpeg = encodeJpeg(frame, 90); // OpenCV's imencode
    expect(opencvLoaded()).toBe(true);
    const decoded = await decodeJpegAsync(jpeg); // cv.imdecodeAsync
    expect(psnr(frame, decoded)).toBeGreaterThan(30);
    const small = await resizeFrameAsync(decoded, 320, 240); // Mat.resizeAsync
    expect(small).toMatchObject({ width: 320, height: 240 });
    expect(psnr(small, await resizeFrameAsync(frame, 320, 240))).toBeGreaterThan(30);
    // A Mat-held frame goes through cv.imencodeAsync.
    expect(Buffer.compare(await encodeJpegAsync(decoded, 80), encodeJpeg(decoded, 80))).toBe(0);
    expect(cv.imencodeAsync(".jpg", new cv.Mat(8, 8, cv.CV_8UC3))).toBeInstanceOf(Promise);
    const cvEntry = createRequire(import.meta.url).resolve("@u4/opencv4nodejs");
    expect(Object.keys(createRequire(cvEntry).cache).filter((path) => path.includes("opencv-build"))).toEqual([]);
    expect(() => useNativeOpencvOnly()).toThrow(/loaded already/);
  });
});
