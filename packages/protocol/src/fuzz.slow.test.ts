import { describe, expect, it } from "vitest";
import { fuzzReassembler } from "./testing/fuzz.js";
import { fuzzRtpJpegReassembler } from "./testing/rtp-jpeg.js";

describe("fuzz (big budget)", () => {
  it("1,000,000 real, mutated and random datagrams", () => {
    const started = performance.now();
    const { emitted, malformed } = fuzzReassembler(1_000_000, 2);
    expect(emitted).toBeGreaterThan(1000);
    expect(malformed).toBeGreaterThan(100_000);
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 120_000);
});

describe("RTP/JPEG fuzz (big budget)", () => {
  it("500,000 real, mutated and random RTP/JPEG packets", () => {
    const { emitted, malformed } = fuzzRtpJpegReassembler(500_000, 4);
    expect(emitted).toBeGreaterThan(1000);
    expect(malformed).toBeGreaterThan(50_000);
  }, 120_000);
});
