import type { FrameEvent } from "@udpcam/protocol";
import { describe, expect, it } from "vitest";
import { StreamStats } from "./stream-stats.js";

function frame(streamId: number, frameNumber: number, bytes = 1000): FrameEvent {
  return {
    type: "frame",
    streamId,
    frameNumber,
    codec: "jpeg",
    width: 640,
    height: 480,
    fps: 25,
    timestampMs: 0,
    payload: new Uint8Array(bytes),
    recovered: false,
    firstArrivalMs: 0,
  };
}

describe("per-stream stats", () => {
  it("counts each stream's frames, bytes, rates and latency, and joins the ingest thread's totals", () => {
    const stats = new StreamStats();
    for (let i = 0; i < 50; i++) stats.add(frame(7, i), 10_000 + i * 40, 5 + (i % 10));
    stats.add(frame(9, 0), 11_000, undefined);
    const [a, b] = stats.snapshot(
      12_000,
      [{ streamId: 7, datagramsReceived: 260, framesComplete: 50, framesRecovered: 3, framesDropped: 2 }],
      new Map([[7, 48]]),
    );
    expect(a).toMatchObject({
      id: "00000007",
      width: 640,
      height: 480,
      codec: "jpeg",
      senderFps: 25,
      framesDelivered: 50,
      bytesDelivered: 50_000,
      framesRecorded: 48,
      datagramsReceived: 260,
      framesRecovered: 3,
      framesDropped: 2,
      lastFrameNumber: 49,
    });
    expect(a?.frameLossPercent).toBeCloseTo((100 * 2) / 52);
    // 50 frames 40 ms apart, all within the last 2 s: 25 fps, 25 * 8000 bits.
    expect(a?.fps).toBeCloseTo(25, 0);
    expect(a?.mbps).toBeCloseTo(0.2, 1);
    expect(a?.latencyMs).toEqual({ p50: 9, p99: 14 });
    expect(b).toMatchObject({
      id: "00000009",
      framesDelivered: 1,
      framesRecorded: 0,
      datagramsReceived: 0,
      framesComplete: 0,
      latencyMs: { p50: undefined, p99: undefined },
    });
  });

  it("forgets a stream silent for 3 s", () => {
    const stats = new StreamStats();
    stats.add(frame(1, 0), 1_000, 1);
    stats.add(frame(2, 0), 3_000, 1);
    expect(stats.snapshot(3_500).map((s) => s.streamId)).toEqual([1, 2]);
    expect(stats.snapshot(4_100).map((s) => s.streamId)).toEqual([2]);
    expect(stats.snapshot(10_000)).toEqual([]);
  });

  it("hands every latency to its listeners", () => {
    const stats = new StreamStats();
    const seen: number[] = [];
    stats.onLatency((ms) => seen.push(ms));
    stats.add(frame(1, 0), 0, 4);
    stats.add(frame(1, 1), 40, undefined);
    stats.add(frame(1, 2), 80, 6);
    expect(seen).toEqual([4, 6]);
  });
});
