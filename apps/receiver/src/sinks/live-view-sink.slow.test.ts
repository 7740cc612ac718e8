import { createLogger } from "@udpcam/appkit";
import { Codec, type FrameEvent } from "@udpcam/protocol";
import { decodeJpeg, encodeJpeg, renderPatternFrame } from "@udpcam/video";
import { readPatternFrameNumber } from "@udpcam/video/testing";
import { describe, expect, it } from "vitest";
import { deliveredFrame } from "../delivery/delivered-frame.js";
import { LiveViewSink, type LiveFrame } from "./live-view-sink.js";

const logger = createLogger({ name: "test", level: "silent", format: "json", colors: false });

function patternEvent(n: number, codec: "jpeg" | "raw-bgr24", streamId = 1): FrameEvent {
  const frame = renderPatternFrame(n, 320, 240);
  const payload = codec === "jpeg" ? encodeJpeg(frame, 90) : frame.bytes;
  return {
    type: "frame",
    streamId,
    frameNumber: n,
    codec: codec === "jpeg" ? Codec.Jpeg : Codec.RawBgr24,
    width: 320,
    height: 240,
    fps: 25,
    timestampMs: 1000 + n,
    payload,
    recovered: false,
    firstArrivalMs: 0,
  };
}

const viewer = (seen: LiveFrame[]) => ({ offer: (frame: LiveFrame) => void seen.push(frame) });
const waitFor = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe("live-view sink", () => {
  it("keeps the newest JPEG of each stream as it arrived, and gives it to a new viewer at once", async () => {
    const sink = new LiveViewSink(80, logger);
    const first = patternEvent(1, "jpeg");
    const second = patternEvent(2, "jpeg");
    await sink.deliver(deliveredFrame(first, first.timestampMs));
    await sink.deliver(deliveredFrame(second, second.timestampMs));
    expect(sink.latest(1)?.jpeg).toBe(second.payload);
    const seen: LiveFrame[] = [];
    const unwatch = sink.watch(1, viewer(seen));
    expect(seen.map((f) => f.frameNumber)).toEqual([2]);
    const third = patternEvent(3, "jpeg");
    await sink.deliver(deliveredFrame(third, third.timestampMs));
    expect(seen.map((f) => [f.frameNumber, f.captureTime])).toEqual([
      [2, 1002],
      [3, 1003],
    ]);
    unwatch();
    await sink.close();
  });

  it("never asks a JPEG frame for pixels", async () => {
    const sink = new LiveViewSink(80, logger);
    const event = patternEvent(5, "jpeg");
    const frame = { ...deliveredFrame(event, 0), pixels: () => Promise.reject(new Error("decoded")) };
    sink.watch(1, viewer([]));
    await sink.deliver(frame);
    expect(sink.latest(1)?.frameNumber).toBe(5);
  });

  it("encodes a raw stream only while watched, at the set quality, and the JPEG shows the frame", async () => {
    const sink = new LiveViewSink(90, logger);
    const unwatchedEvent = patternEvent(10, "raw-bgr24");
    await sink.deliver(deliveredFrame(unwatchedEvent, 0));
    expect(sink.latest(1)).toBeUndefined();
    expect(sink.counters.framesEncoded).toBe(0);

    const seen: LiveFrame[] = [];
    const unwatch = sink.watch(1, viewer(seen));
    const event = patternEvent(11, "raw-bgr24");
    await sink.deliver(deliveredFrame(event, 0));
    await waitFor(() => seen.length > 0);
    expect(seen).toHaveLength(1);
    expect(readPatternFrameNumber(decodeJpeg(seen[0]?.jpeg ?? new Uint8Array()))).toBe(11);
    expect(sink.counters.framesEncoded).toBe(1);
    unwatch();
    expect(sink.latest(1)).toBeUndefined();
    await sink.close();
  });

  it("while an encode runs, only the newest raw frame waits; deliver never waits for it", async () => {
    const sink = new LiveViewSink(80, logger);
    const seen: LiveFrame[] = [];
    sink.watch(1, viewer(seen));
    const started = performance.now();
    for (let n = 0; n < 20; n++) await sink.deliver(deliveredFrame(patternEvent(n, "raw-bgr24"), 0));
    expect(performance.now() - started).toBeLessThan(200);
    await waitFor(() => seen.at(-1)?.frameNumber === 19);
    expect(seen.at(-1)?.frameNumber).toBe(19);
    expect(seen.length).toBeLessThan(20);
    // Every frame was either encoded or replaced by a newer one before its turn.
    expect(sink.counters.framesEncoded + sink.counters.framesEncodeSkipped).toBe(20);
    await sink.close();
  });
});
