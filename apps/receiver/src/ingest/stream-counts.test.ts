import type { FrameEvent } from "@udpcam/protocol";
import { describe, expect, it } from "vitest";
import { rtpSsrc, StreamCounts, v1StreamId } from "./stream-counts.js";

const frame = (streamId: number, recovered: boolean) => ({ type: "frame", streamId, recovered }) as FrameEvent;

describe("per-stream frame counts in the ingest thread", () => {
  it("counts complete, rebuilt and dropped frames per stream, and forgets an ended stream", () => {
    const counts = new StreamCounts();
    counts.datagram(1);
    counts.count({ type: "stream-started", streamId: 1 });
    counts.datagram(1);
    counts.datagram(1);
    counts.count(frame(1, false));
    counts.count(frame(1, true));
    counts.count({ type: "dropped", streamId: 1, frameNumber: 2, reason: "timeout", chunksReceived: 1, chunkCount: 3 });
    counts.count(frame(2, false));
    counts.datagram(2);
    counts.datagram(1);
    // A datagram of a stream the reassembler does not track (refused before it started one) is not counted.
    counts.datagram(3);
    expect(counts.list()).toEqual([
      { streamId: 1, datagramsReceived: 3, framesComplete: 2, framesRecovered: 1, framesDropped: 1 },
      { streamId: 2, datagramsReceived: 1, framesComplete: 1, framesRecovered: 0, framesDropped: 0 },
    ]);
    counts.count({ type: "stream-ended", streamId: 1, reason: "idle" });
    counts.datagram(1);
    expect(counts.list().map((s) => s.streamId)).toEqual([2]);
  });

  it("counts a format without events (legacy) by hand", () => {
    const counts = new StreamCounts();
    counts.track(0);
    counts.datagram(0);
    counts.complete(0);
    counts.dropped(0);
    expect(counts.list()).toEqual([
      { streamId: 0, datagramsReceived: 1, framesComplete: 1, framesRecovered: 0, framesDropped: 1 },
    ]);
  });

  it("reads the stream id of a v1 datagram or repair, and the SSRC of an RTP packet", () => {
    const v1 = Uint8Array.of(0x55, 0x43, 1, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0);
    expect(v1StreamId(v1)).toBe(0xdeadbeef);
    expect(v1StreamId(v1.subarray(0, 7))).toBeUndefined();
    expect(v1StreamId(Uint8Array.of(0x55, 0x43, 2, 0, 1, 2, 3, 4))).toBeUndefined();
    const rtp = Uint8Array.of(0x80, 26, 0, 1, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78);
    expect(rtpSsrc(rtp)).toBe(0x12345678);
    expect(rtpSsrc(Uint8Array.of(0x40, ...rtp.subarray(1)))).toBeUndefined();
    expect(rtpSsrc(rtp.subarray(0, 11))).toBeUndefined();
  });
});
