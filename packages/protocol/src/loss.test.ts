import { describe, expect, it } from "vitest";
import { runLoss } from "./testing/loss.js";

/**
 * The targets for JPEG 640x480 (~40 KB) at 25 fps with 10% FEC: >= 98% of frames through
 * 1% random datagram loss (aim > 99.9%), >= 99.5% through 0.2%. 5,000 frames is 200 s of video.
 */
describe("FEC through random datagram loss (seeded, 5,000 frames of 40 KB, 1472-byte datagrams)", () => {
  it("1% loss, 10% Reed-Solomon: > 99.8% of frames complete, byte-identical", () => {
    const run = runLoss({ frames: 5000, loss: 0.01, seed: 1, packetize: { fecOverhead: 0.1 } });
    expect(run.datagramsLost / run.datagramsSent).toBeCloseTo(0.01, 2);
    expect(run.complete / run.frames).toBeGreaterThan(0.998);
    // Roughly 1 - 0.99^29 = 25% of frames lose a data chunk and are rebuilt.
    expect(run.recovered / run.frames).toBeGreaterThan(0.2);
  });

  it("1% loss, 10% Reed-Solomon, 23 KB frames (the q=80 test pattern's size: 17 + 2 chunks): > 99.7% complete", () => {
    const run = runLoss({ frames: 5000, loss: 0.01, seed: 4, frameBytes: 23_000, packetize: { fecOverhead: 0.1 } });
    expect(run.complete / run.frames).toBeGreaterThan(0.997);
  });

  it("0.2% loss, 10% Reed-Solomon: > 99.95% complete", () => {
    const run = runLoss({ frames: 5000, loss: 0.002, seed: 2, packetize: { fecOverhead: 0.1 } });
    expect(run.complete / run.frames).toBeGreaterThan(0.9995);
  });

  it("why Reed-Solomon: the same 10% as XOR parity (groups of 10, one parity each) loses far more frames at 1%", () => {
    const rs = runLoss({ frames: 3000, loss: 0.01, seed: 3, packetize: { fecOverhead: 0.1 } });
    const xor = runLoss({ frames: 3000, loss: 0.01, seed: 3, packetize: { fecOverhead: 0.1, fecGroupSize: 10 } });
    const none = runLoss({ frames: 3000, loss: 0.01, seed: 3, packetize: { fecOverhead: 0 } });
    // Expected: none ~75%, XOR ~98.5%, RS ~99.96%.
    expect(none.complete / none.frames).toBeLessThan(0.8);
    expect(xor.complete / xor.frames).toBeLessThan(0.995);
    expect(rs.frames - rs.complete).toBeLessThan((xor.frames - xor.complete) / 5);
  });
});
