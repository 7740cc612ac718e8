import { describe, expect, it } from "vitest";
import { MAX_HELD_FRAMES, MAX_HOLD_MS, RecordingRateProbe, recordingFps, STEPS_WANTED } from "./recording-rate.js";

/** Feeds `timestamps` one at a time, `everyMs` apart from t=0; returns the first decision and the frames it took. */
function probe(timestamps: readonly number[], everyMs = 1) {
  const rate = new RecordingRateProbe(0);
  for (const [i, timestamp] of timestamps.entries()) {
    rate.add(timestamp);
    const decision = rate.decide(i * everyMs);
    if (decision !== undefined) return { decision, frames: i + 1 };
  }
  return { decision: undefined, frames: timestamps.length, settled: rate.settle() };
}

const steps = (step: number, n: number, start = 0) => Array.from({ length: n }, (_, i) => (start + i * step) >>> 0);

describe("the rate an RTP stream is recorded at", () => {
  it("is known after 3 steps that agree (4 frames), not before; 30 and 15 fps read exactly, across the 32-bit wrap", () => {
    expect(STEPS_WANTED).toBe(3);
    expect(probe(steps(3000, 3))).toMatchObject({ decision: undefined });
    expect(probe(steps(3000, 10, 0xffff_ffff - 4_000))).toEqual({
      decision: { kind: "measured", fps: 30, steps: 3 },
      frames: 4,
    });
    expect(probe(steps(6000, 10))).toMatchObject({ decision: { fps: 15 }, frames: 4 });
  });

  it("keeps 29.97 as 30000/1001, 59.94 as 60000/1001, 12.5 and 7.5 as they are, from a 90 kHz clock", () => {
    expect(probe(steps(3003, 10)).decision?.fps).toBe(30_000 / 1001);
    expect(probe(steps(1501.5, 10)).decision?.fps).toBe(60_000 / 1001);
    expect(probe(steps(7200, 10)).decision?.fps).toBe(12.5);
    expect(probe(steps(12_000, 10)).decision?.fps).toBe(7.5);
  });

  it("reads 30 and 60 from timestamps made of capture times in ms (steps of 33 and 34 ms, 16 and 17 ms)", () => {
    const ms = (fps: number, n: number) => Array.from({ length: n }, (_, i) => Math.floor((i * 1000) / fps) * 90);
    for (let from = 0; from < 6; from++) {
      expect(probe(ms(30, 12).slice(from)).decision?.fps).toBe(30);
      expect(probe(ms(60, 12).slice(from)).decision?.fps).toBe(60);
    }
    expect(recordingFps([33 * 90, 34 * 90])).toBe(30); // 29.85 read from two steps
  });

  it("leaves a lost frame's double step out, and holds on while the steps disagree (a sender catching up)", () => {
    expect(probe([0, 3000, 9000, 12_000, 15_000])).toMatchObject({ decision: { fps: 30, steps: 3 }, frames: 5 });
    // 60, 10, 33 ms: no three agree until more steps come.
    const catchingUp = [0, 60, 70, 103, 136, 169].map((ms) => ms * 90);
    expect(probe(catchingUp)).toMatchObject({ decision: { fps: 30 }, frames: 6 });
  });

  it(`holds at most ${MAX_HOLD_MS} ms and ${MAX_HELD_FRAMES} frames, then takes what it knows`, () => {
    // One step in a second (a 1 fps stream): its rate.
    expect(probe([0, 90_000], MAX_HOLD_MS)).toEqual({ decision: { kind: "measured", fps: 1, steps: 1 }, frames: 2 });
    // Timestamps that never step: 25, said to be a fallback, at the frame bound (before the time bound).
    expect(probe(Array.from({ length: 40 }, () => 5))).toEqual({
      decision: { kind: "fallback", fps: 25, why: `${MAX_HELD_FRAMES} frames, their timestamps all equal` },
      frames: MAX_HELD_FRAMES,
    });
    // The time bound, with frames that step every 10 s or more (pauses, not frame intervals).
    expect(probe([0, 1_000_000, 2_000_000], 600)).toMatchObject({ decision: { kind: "fallback", fps: 25 }, frames: 3 });
  });

  it("settles a stream that ended early: one frame is 25 (fallback), two are their step", () => {
    expect(probe([77])).toMatchObject({ settled: { kind: "fallback", fps: 25, why: "one frame only" } });
    expect(probe([0, 6000])).toMatchObject({ settled: { kind: "measured", fps: 15, steps: 1 } });
  });
});
