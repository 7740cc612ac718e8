import { describe, expect, it } from "vitest";
import { RtpFrameRate } from "./rtp-frame-rate.js";

describe("an RTP/JPEG stream's rate from its 90 kHz timestamps", () => {
  it("is unknown at the first frame, then the clock's step; a lost frame or a wrap does not move it", () => {
    const rate = new RtpFrameRate();
    // 30 fps: 3000 ticks a frame, starting just before the 32-bit wrap.
    const start = 0xffff_ffff - 5_000;
    const fps = [0, 1, 2, 3, 5, 6, 7].map((n) => rate.frame(7, (start + n * 3000) >>> 0));
    expect(fps).toEqual([0, 30, 30, 30, 30, 30, 30]);
    // Another stream has its own: 29.97 fps (3003 ticks).
    expect([0, 1].map((n) => rate.frame(8, n * 3003))).toEqual([0, 29.97]);
  });

  it("reads 30 fps from timestamps that are capture times in ms (steps of 33 and 34 ms), a lost frame among them", () => {
    const rate = new RtpFrameRate();
    let fps = 0;
    for (let n = 0; n < 40; n++) if (n !== 20) fps = rate.frame(3, Math.floor((n * 1000) / 30) * 90);
    expect(fps).toBeCloseTo(30, 1);
  });

  it("starts again for a stream forgotten, and ignores a pause longer than 10 s", () => {
    const rate = new RtpFrameRate();
    rate.frame(1, 0);
    expect(rate.frame(1, 3600)).toBe(25);
    expect(rate.frame(1, 3600 + 20 * 90_000)).toBe(25);
    rate.forget(1);
    expect(rate.frame(1, 0)).toBe(0);
  });
});
