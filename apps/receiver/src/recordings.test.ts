import { describe, expect, it } from "vitest";
import { recorderQueueFrames } from "./recordings.js";

describe("recorderQueueFrames", () => {
  it("holds half a second of the stream, at least 32 frames, at most 128 MB", () => {
    expect(recorderQueueFrames(25, 921_600)).toBe(32);
    expect(recorderQueueFrames(248, 921_600)).toBe(124);
    expect(recorderQueueFrames(1000, 921_600)).toBe(145); // 128 MB of 640x480 frames
    expect(recorderQueueFrames(60, 3840 * 2160 * 3)).toBe(5); // 4K: the byte cap wins over 32 frames
    expect(recorderQueueFrames(30, 512 << 20)).toBe(1);
  });
});
