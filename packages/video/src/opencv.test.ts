import { describe, expect, it } from "vitest";

describe("the OpenCV binding", () => {
  it("is loaded at its first use, not when the package is imported", async () => {
    const video = await import("./index.js");
    const { opencvLoaded } = await import("./opencv.js");
    expect(opencvLoaded()).toBe(false);
    const frame = video.renderPatternFrame(3, 64, 48);
    expect(opencvLoaded()).toBe(false);
    expect(video.decodeJpeg(video.encodeJpeg(frame, 90)).width).toBe(64);
    expect(opencvLoaded()).toBe(true);
    expect(video.opencvVersion()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
