import { createSocket } from "node:dgram";
import { createLogger } from "@udpcam/appkit";
import { createRtpJpegReassembler, type FrameEvent } from "@udpcam/protocol";
import { encodeJpeg, renderPatternFrame } from "@udpcam/video";
import { describe, expect, it } from "vitest";
import { deliveredFrame } from "../delivery/delivered-frame.js";
import { RtpRelaySink } from "./rtp-relay-sink.js";

const logger = createLogger({ name: "test", level: "silent", format: "json", colors: false });

function jpegEvent(streamId: number, frameNumber: number, payload: Uint8Array): FrameEvent {
  return {
    type: "frame",
    streamId,
    frameNumber,
    codec: "jpeg",
    width: 320,
    height: 240,
    fps: 25,
    timestampMs: 1000 + frameNumber * 40,
    payload,
    recovered: false,
    firstArrivalMs: 0,
  };
}

describe("RtpRelaySink", () => {
  it("sends each JPEG as RTP/JPEG, one SSRC per stream, that reassembles to the same scan; raw streams are not taken", async () => {
    const listener = createSocket("udp4");
    await new Promise<void>((done) => listener.bind(0, "127.0.0.1", () => done()));
    const r = createRtpJpegReassembler();
    const got: FrameEvent[] = [];
    listener.on("message", (packet) => got.push(...r.push(packet, 0).filter((e) => e.type === "frame")));
    const relay = await RtpRelaySink.open(
      { host: "127.0.0.1", port: listener.address().port, multicast: false, sdp: undefined },
      undefined,
      logger,
    );
    const jpegs = [0, 1, 2].map((n) => encodeJpeg(renderPatternFrame(n, 320, 240), 80));
    expect(relay.accepts({ ...jpegEvent(1, 0, jpegs[0]!), codec: "raw-bgr24" })).toBe(false);
    for (const [n, jpeg] of jpegs.entries()) {
      for (const stream of [1, 2]) await relay.deliver(deliveredFrame(jpegEvent(stream, n, jpeg), 1000 + n * 40));
    }
    // Not carried (4:4:4 would be; a truncated file is simpler): counted, nothing sent.
    await relay.deliver(deliveredFrame(jpegEvent(1, 3, jpegs[0]!.subarray(0, 100)), 2000));
    for (let i = 0; i < 100 && got.length < 6; i++) await new Promise((done) => setTimeout(done, 10));
    await relay.close();
    listener.close();
    expect(got).toHaveLength(6);
    expect(new Set(got.map((e) => e.streamId)).size).toBe(2);
    expect(relay.counters).toMatchObject({ framesRelayed: 6, framesNotCarried: 1, sendErrors: 0 });
    for (const e of got) expect(e.payload.length).toBeGreaterThan(jpegs[0]!.length / 2);
  });
});
