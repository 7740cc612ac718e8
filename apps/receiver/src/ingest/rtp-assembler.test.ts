import { packetizeRtpJpeg } from "@udpcam/protocol";
import { decodeJpeg, encodeJpeg, renderPatternFrame } from "@udpcam/video";
import { describe, expect, it } from "vitest";
import { createRtpAssembler } from "./frame-assembler.js";

describe("createRtpAssembler", () => {
  it("turns RTP/JPEG into frame events whose JPEG OpenCV decodes to the very pixels of the JPEG sent", () => {
    const assembler = createRtpAssembler({ maxFrameBytes: 1 << 24, frameTimeout: 1000 });
    let packetsSent = 0;
    const rates: number[] = [];
    for (const [quality, width, height] of [
      [20, 320, 240],
      [90, 640, 480],
    ] as const) {
      const jpeg = encodeJpeg(renderPatternFrame(7, width, height), quality);
      const packets = packetizeRtpJpeg({ ssrc: 0xabc, sequence: 65_530, timestamp: width * 10, jpeg });
      packetsSent += packets.length;
      const [frame, ...more] = packets.flatMap((p) => assembler.push(p, 0));
      expect(more).toEqual([]);
      expect(frame).toMatchObject({ streamId: 0xabc, codec: "jpeg", width, height, recovered: false });
      rates.push(frame!.fps);
      expect(Buffer.from(decodeJpeg(frame!.payload).bytes).equals(Buffer.from(decodeJpeg(jpeg).bytes))).toBe(true);
    }
    expect(assembler.senderClock).toBe(false);
    expect(assembler.counters()).toMatchObject({
      format: "rtp",
      framesComplete: 2,
      datagramsMalformed: 0,
      datagramsV1Like: 0,
    });
    expect(assembler.streamCounters()).toEqual([
      { streamId: 0xabc, datagramsReceived: packetsSent, framesComplete: 2, framesRecovered: 0, framesDropped: 0 },
    ]);
    // Unknown at the first frame; then the 90 kHz clock's step: 6400 - 3200 = 3200 ticks, 28.125 fps.
    expect(rates).toEqual([0, 28.13]);
  });

  it("counts v1 datagrams sent to an rtp receiver, to say so", () => {
    const assembler = createRtpAssembler({ maxFrameBytes: 1 << 24, frameTimeout: 1000 });
    assembler.push(Uint8Array.of(0x55, 0x43, 1, 0, ...new Uint8Array(60)), 0);
    expect(assembler.counters()).toMatchObject({
      datagramsV1Like: 1,
      datagramsMalformed: 1,
      malformedByCode: { UNSUPPORTED_VERSION: 1 },
    });
  });
});
