import { describe, expect, it } from "vitest";
import { parseRtpJpegSource } from "./jpeg-parse.js";
import { scaledQuantTables } from "./jpeg-tables.js";
import { encodeRtpJpeg, decodeRtpJpeg, type RtpJpegPacket } from "./rtp-jpeg-header.js";
import { MIN_RTP_DATAGRAM_BYTES, packetizeRtpJpeg, rtpTimestamp } from "./rtp-jpeg-packetize.js";
import { createRtpJpegReassembler, type RtpJpegEvent, type RtpJpegReassembler } from "./rtp-jpeg-reassembler.js";
import { JPEG_RESTARTS } from "./testing/jpeg-fixtures.js";
import { firstDifference, hex, prng, shuffle } from "./testing/random.js";
import { randomScan, syntheticJpeg } from "./testing/rtp-jpeg.js";

const random = prng(7);

function frame(
  options: { ssrc?: number; sequence?: number; timestamp?: number; scanBytes?: number; maxDatagramBytes?: number } = {},
) {
  const scan = randomScan(random, options.scanBytes ?? 5000);
  const packets = packetizeRtpJpeg(
    {
      ssrc: options.ssrc ?? 1,
      sequence: options.sequence ?? 100,
      timestamp: options.timestamp ?? 9000,
      jpeg: syntheticJpeg(scan),
    },
    { maxDatagramBytes: options.maxDatagramBytes ?? 600 },
  );
  return { scan, packets };
}

function pushAll(r: RtpJpegReassembler, packets: readonly Uint8Array[], now = 0): RtpJpegEvent[] {
  return packets.flatMap((p) => r.push(p, now));
}

const frames = (events: RtpJpegEvent[]) => events.filter((e) => e.type === "frame");

/** A packet of `packets` with some fields changed, re-encoded. */
function altered(packet: Uint8Array, change: Partial<RtpJpegPacket>): Uint8Array {
  return encodeRtpJpeg({ ...decodeRtpJpeg(packet), ...change });
}

describe("packetizeRtpJpeg", () => {
  it("keeps packets within the datagram size, tables in the first, the marker on the last, sequence numbers wrapping", () => {
    const { packets } = frame({ sequence: 0xfffe, scanBytes: 3000, maxDatagramBytes: 500 });
    expect(packets.length).toBeGreaterThan(6);
    const decoded = packets.map(decodeRtpJpeg);
    expect(Math.max(...packets.map((p) => p.length))).toBeLessThanOrEqual(500);
    expect(decoded.map((p) => p.sequence).slice(0, 4)).toEqual([0xfffe, 0xffff, 0, 1]);
    expect(decoded.map((p) => p.marker)).toEqual(decoded.map((_, i) => i === decoded.length - 1));
    expect(decoded[0]!.q).toBe(255);
    expect(decoded[0]!.tables).toHaveLength(128);
    expect(decoded.slice(1).every((p) => p.tables === undefined)).toBe(true);
    expect(new Set(decoded.map((p) => p.timestamp)).size).toBe(1);
  });

  it("refuses options out of range by name", () => {
    const jpeg = syntheticJpeg(randomScan(random, 10));
    expect(() =>
      packetizeRtpJpeg({ ssrc: 1, sequence: 0, timestamp: 0, jpeg }, { maxDatagramBytes: MIN_RTP_DATAGRAM_BYTES - 1 }),
    ).toThrow(/maxDatagramBytes/);
    expect(() => packetizeRtpJpeg({ ssrc: 1, sequence: 65_536, timestamp: 0, jpeg })).toThrow(/sequence/);
  });

  it("puts a capture time on the 90 kHz clock, wrapping", () => {
    expect(rtpTimestamp(1000, 0)).toBe(90_000);
    expect(rtpTimestamp(0, 0xffff_ffff)).toBe(0xffff_ffff);
    expect(rtpTimestamp(1 / 90, 0xffff_ffff)).toBe(0);
  });
});

describe("createRtpJpegReassembler", () => {
  it("rebuilds the JPEG from packets in any order: the scan byte for byte, behind headers that parse", () => {
    for (let run = 0; run < 20; run++) {
      const { scan, packets } = frame({ scanBytes: 1 + run * 997 });
      const r = createRtpJpegReassembler();
      const [out, ...more] = frames(pushAll(r, shuffle(random, [...packets])));
      expect(more).toEqual([]);
      expect(out).toMatchObject({
        streamId: 1,
        codec: "jpeg",
        width: 16,
        height: 16,
        rtpTimestamp: 9000,
        timestampMs: 100,
      });
      const parsed = parseRtpJpegSource(out!.payload);
      expect(firstDifference(parsed.scan, scan)).toBe(-1);
      expect(r.counters).toMatchObject({
        framesComplete: 1,
        datagramsAccepted: packets.length,
        framesInFlight: 0,
        bufferedBytes: 0,
      });
    }
  });

  it("emits nothing for a frame with a fragment missing, and counts it dropped once a newer frame is whole", () => {
    const r = createRtpJpegReassembler();
    const a = frame({ timestamp: 1000 });
    const b = frame({ timestamp: 4600, sequence: 200 });
    const events = pushAll(r, [...a.packets.filter((_, i) => i !== 3), ...b.packets]);
    expect(frames(events).map((e) => e.rtpTimestamp)).toEqual([4600]);
    expect(events.filter((e) => e.type === "dropped")).toEqual([
      {
        type: "dropped",
        streamId: 1,
        frameNumber: 0,
        reason: "superseded",
        chunksReceived: a.packets.length - 1,
        chunkCount: 0,
      },
    ]);
    // The missing packet, late: counted, not emitted.
    expect(frames(r.push(a.packets[3]!, 0))).toEqual([]);
    expect(r.counters).toMatchObject({ framesComplete: 1, framesDropped: 1, datagramsLate: 1 });
  });

  it("loses the frame whose marker packet is lost, whatever else arrives", () => {
    const r = createRtpJpegReassembler({ frameTimeoutMs: 100 });
    const a = frame();
    expect(frames(pushAll(r, a.packets.slice(0, -1)))).toEqual([]);
    expect([r.framesInFlight, r.streams]).toEqual([1, 1]);
    // Its timeout: not at 100 ms after its first packet (nothing goes, the gauge stays), just after.
    expect(r.nextExpiryMs).toBe(100);
    expect(r.expire(100)).toEqual([]);
    expect(r.nextExpiryMs).toBe(100);
    expect(r.expire(100.001).filter((e) => e.type === "dropped")).toHaveLength(1);
    // The stream's idle timeout is what is left.
    expect(r.nextExpiryMs).toBe(10_000);
    expect(r.counters.framesInFlight).toBe(0);
    expect(r.framesInFlight).toBe(0);
  });

  it("counts duplicates and emits a frame once", () => {
    const r = createRtpJpegReassembler();
    const a = frame();
    const events = pushAll(r, [...a.packets, ...a.packets, a.packets[0]!]);
    expect(frames(events)).toHaveLength(1);
    expect(r.counters.datagramsDuplicate).toBe(a.packets.length + 1);
  });

  it("keeps SSRCs apart, interleaved, with the same timestamps", () => {
    const r = createRtpJpegReassembler();
    const a = frame({ ssrc: 10 });
    const b = frame({ ssrc: 20 });
    const mixed = a.packets.flatMap((p, i) => [p, b.packets[i]!]).filter((p) => p !== undefined);
    const out = frames(pushAll(r, mixed));
    expect(out.map((e) => e.streamId).sort()).toEqual([10, 20]);
    for (const e of out)
      expect(firstDifference(parseRtpJpegSource(e.payload).scan, e.streamId === 10 ? a.scan : b.scan)).toBe(-1);
  });

  it("follows sequence numbers and timestamps across their wrap", () => {
    const r = createRtpJpegReassembler();
    const a = frame({ sequence: 0xfff0, timestamp: 0xffff_fff0, maxDatagramBytes: 200 });
    const b = frame({ sequence: (0xfff0 + a.packets.length) & 0xffff, timestamp: 0x0000_0e00, maxDatagramBytes: 200 });
    expect(frames(pushAll(r, [...a.packets, ...b.packets])).map((e) => e.rtpTimestamp)).toEqual([0xffff_fff0, 0x0e00]);
  });

  it("counts a frame older than the last emitted as late, and a packet outside the reorder window", () => {
    const r = createRtpJpegReassembler({ reorderWindow: 10 });
    const newer = frame({ timestamp: 9000, sequence: 500 });
    const older = frame({ timestamp: 5400, sequence: 495 });
    pushAll(r, newer.packets);
    expect(frames(pushAll(r, older.packets))).toEqual([]);
    expect(r.counters.framesLate).toBe(1);
    expect(r.counters.datagramsLate).toBe(older.packets.length);
  });

  it("refuses, by reason, what it cannot or must not rebuild, and still records the valid stream", () => {
    const r = createRtpJpegReassembler({ maxFrameBytes: 100_000 });
    const good = frame({ timestamp: 1000 });
    const [first, second] = good.packets as [Uint8Array, Uint8Array];
    const hostile = [
      Uint8Array.of(0x40, ...first.subarray(1)), // RTP version 1
      altered(first, { payloadType: 96 }),
      altered(first, { tables: new Uint8Array(0), ssrc: 4242 }), // Q 255 with no tables, none sent before on that SSRC
      altered(first, { tables: new Uint8Array(10), timestamp: 78 }), // tables cut short
      altered(second, { fragmentOffset: 0xfff000 }), // past maxFrameBytes
      altered(first, { type: 3, timestamp: 79 }),
      altered(second, { width: 32 }), // disagrees with the frame's first packet
    ];
    const events = pushAll(r, [first, ...hostile, ...good.packets.slice(1)]);
    expect(frames(events)).toHaveLength(1);
    expect(r.counters.malformedByCode).toMatchObject({
      UNSUPPORTED_VERSION: 1,
      PAYLOAD_TYPE: 1,
      TABLES_MISSING: 1,
      TRUNCATED: 1,
      TOO_LARGE: 1,
      UNSUPPORTED_TYPE: 1,
      INCONSISTENT: 1,
    });
    expect(r.counters.datagramsMalformed).toBe(hostile.length);
    expect(r.counters.framesInFlight).toBe(0);
  });

  it("refuses a fragment past the end the marker packet set", () => {
    const r = createRtpJpegReassembler();
    const { packets } = frame();
    const last = decodeRtpJpeg(packets[packets.length - 1]!);
    r.push(packets[packets.length - 1]!, 0);
    r.push(altered(packets[1]!, { fragmentOffset: last.fragmentOffset + last.payload.length }), 0);
    expect(r.counters.malformedByCode.OFFSET_PAST_END).toBe(1);
    expect(frames(pushAll(r, packets.slice(0, -1)))).toHaveLength(1);
  });

  it("uses tables sent before for Q 255 with none in-band, and the standard tables scaled for Q 1..99", () => {
    const r = createRtpJpegReassembler();
    pushAll(r, frame({ timestamp: 1000 }).packets);
    const later = frame({ timestamp: 4600 });
    const withoutTables = [altered(later.packets[0]!, { tables: new Uint8Array(0) }), ...later.packets.slice(1)];
    expect(frames(pushAll(r, withoutTables))).toHaveLength(1);

    const q50 = frame({ timestamp: 8200, sequence: 900 }).packets.map((p) => altered(p, { q: 50 }));
    const [out] = frames(pushAll(r, q50));
    expect(hex(parseRtpJpegSource(out!.payload).tables)).toBe(hex(scaledQuantTables(50)));
  });

  it("rebuilds restart-marker types (65) with their interval (DRI)", () => {
    const packets = packetizeRtpJpeg(
      { ssrc: 5, sequence: 0, timestamp: 0, jpeg: JPEG_RESTARTS },
      { maxDatagramBytes: 200 },
    );
    expect(decodeRtpJpeg(packets[0]!).type).toBe(65);
    const [out] = frames(pushAll(createRtpJpegReassembler(), packets));
    const parsed = parseRtpJpegSource(out!.payload);
    expect([parsed.type, parsed.restartInterval]).toEqual([65, 1]);
    expect(hex(parsed.scan)).toBe(hex(parseRtpJpegSource(JPEG_RESTARTS).scan));
  });

  it("holds bounded memory: frames in flight per SSRC, bytes, SSRCs", () => {
    const r = createRtpJpegReassembler({ maxFramesInFlight: 3, maxStreams: 2, maxBufferedBytes: 50_000 });
    const events: RtpJpegEvent[] = [];
    for (let i = 0; i < 30; i++) {
      // Ten frames of one SSRC (frames in flight, bytes), then SSRCs taking turns (evictions).
      const { packets } = frame({ ssrc: i < 10 ? 1 : i % 4, timestamp: 1000 + i * 3600, scanBytes: 20_000 });
      events.push(...pushAll(r, packets.slice(0, -1), i));
      expect(r.counters.framesInFlight).toBeLessThanOrEqual(6);
      expect(r.counters.bufferedBytes).toBeLessThanOrEqual(50_000);
      expect(r.counters.streams).toBeLessThanOrEqual(2);
    }
    expect(events.some((e) => e.type === "stream-ended" && e.reason === "evicted")).toBe(true);
    expect(events.some((e) => e.type === "dropped" && e.reason === "overflow")).toBe(true);
    const clean = frame({ ssrc: 42, timestamp: 5, scanBytes: 20_000 });
    expect(frames(pushAll(r, clean.packets, 100))).toHaveLength(1);
  });

  it("holds each source to maxStreamsPerSource: SSRCs invented by one address leave another's stream whole", () => {
    const r = createRtpJpegReassembler({ maxStreams: 4, maxStreamsPerSource: 2 });
    const real = Array.from({ length: 5 }, (_, i) => frame({ ssrc: 7, timestamp: 1000 + i * 3600, scanBytes: 3000 }));
    let emitted = 0;
    for (const [i, { packets }] of real.entries()) {
      for (const p of packets) {
        emitted += frames(r.push(p, i, "10.0.0.1")).length;
        for (let k = 0; k < 50; k++)
          r.push(frame({ ssrc: 100 + i * 1000 + k, scanBytes: 3000 }).packets[0]!, i, "10.0.0.66");
      }
    }
    expect(emitted).toBe(real.length);
    expect(r.counters.streams).toBeLessThanOrEqual(3);
  });

  it("forgets a silent SSRC", () => {
    const r = createRtpJpegReassembler({ streamTimeoutMs: 1000 });
    pushAll(r, frame().packets, 0);
    expect(r.expire(2000)).toEqual([{ type: "stream-ended", streamId: 1, reason: "idle" }]);
    expect(r.counters.streams).toBe(0);
    expect(r.streams).toBe(0);
  });
});
