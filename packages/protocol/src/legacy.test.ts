import { describe, expect, it } from "vitest";
import { ProtocolError, type ProtocolErrorCode } from "./errors.js";
import { looksLikeV1 } from "./header.js";
import { packetizeFrame } from "./packetize.js";
import {
  createLegacyReassembler,
  decodeLegacyDatagram,
  encodeLegacyDatagram,
  looksLikeLegacyDatagram,
  packetizeLegacyFrame,
  LEGACY_CHUNK_BYTES,
  LEGACY_DATAGRAM_BYTES,
  LEGACY_FRAME_BYTES,
  type LegacyEvent,
  type LegacyFrameEvent,
  type LegacyReassembler,
} from "./legacy.js";
import { firstDifference, prng, randomBytes, thrown } from "./testing/random.js";

const random = prng(7);

/** A frame whose chunk i is filled with the byte `tag * 20 + i`: tearing shows as a wrong fill. */
function tagged(tag: number): Uint8Array {
  const frame = new Uint8Array(LEGACY_FRAME_BYTES);
  for (let i = 0; i < 20; i++) frame.fill((tag * 20 + i) & 0xff, i * LEGACY_CHUNK_BYTES, (i + 1) * LEGACY_CHUNK_BYTES);
  return frame;
}

/** The fill byte of each of the 20 slots of an emitted frame (-1 when a slot is not uniform). */
function fills(payload: Uint8Array): number[] {
  return Array.from({ length: 20 }, (_, i) => {
    const slot = payload.subarray(i * LEGACY_CHUNK_BYTES, (i + 1) * LEGACY_CHUNK_BYTES);
    return slot.every((b) => b === slot[0]) ? slot[0]! : -1;
  });
}

function push(r: LegacyReassembler, datagrams: readonly Uint8Array[]): LegacyEvent[] {
  return datagrams.flatMap((d) => r.push(d));
}

function emitted(events: readonly LegacyEvent[]): LegacyFrameEvent[] {
  return events.filter((e): e is LegacyFrameEvent => e.type === "frame");
}

describe("legacy datagrams", () => {
  it("are the index byte then 46,080 bytes of the frame, both ways", () => {
    const chunk = randomBytes(random, LEGACY_CHUNK_BYTES);
    const bytes = encodeLegacyDatagram(3, chunk);
    expect(bytes.length).toBe(46_081);
    expect(bytes[0]).toBe(3);
    expect(firstDifference(bytes.subarray(1), chunk)).toBe(-1);
    const d = decodeLegacyDatagram(bytes);
    expect(d.index).toBe(3);
    expect(d.payload.buffer).toBe(bytes.buffer);
    expect(firstDifference(encodeLegacyDatagram(d.index, d.payload), bytes)).toBe(-1);
  });

  it("packetize a frame as the seed client does", () => {
    const frame = randomBytes(random, LEGACY_FRAME_BYTES);
    const datagrams = packetizeLegacyFrame(frame);
    expect(datagrams.map((d) => [d.length, d[0]])).toEqual(Array.from({ length: 20 }, (_, i) => [46_081, i]));
    datagrams.forEach((d, i) =>
      expect(firstDifference(d.subarray(1), frame.subarray(i * 46_080, (i + 1) * 46_080))).toBe(-1),
    );
    expect(() => packetizeLegacyFrame(new Uint8Array(100))).toThrow(RangeError);
    expect(() => encodeLegacyDatagram(20, new Uint8Array(LEGACY_CHUNK_BYTES))).toThrow("index");
  });

  it.each<[string, Uint8Array, ProtocolErrorCode, number]>([
    ["empty", new Uint8Array(0), "TRUNCATED", 0],
    ["one byte short", new Uint8Array(LEGACY_DATAGRAM_BYTES - 1), "TRUNCATED", 46_080],
    ["one byte long", new Uint8Array(LEGACY_DATAGRAM_BYTES + 1), "TRAILING_BYTES", 46_081],
    ["index 20", Uint8Array.from({ length: LEGACY_DATAGRAM_BYTES }, (_, i) => (i === 0 ? 20 : 0)), "OUT_OF_RANGE", 0],
    ["index 255", Uint8Array.from({ length: LEGACY_DATAGRAM_BYTES }, (_, i) => (i === 0 ? 255 : 0)), "OUT_OF_RANGE", 0],
  ])("%s is malformed", (_name, bytes, code, offset) => {
    const caught = thrown(() => decodeLegacyDatagram(bytes));
    expect(ProtocolError.isInstance(caught)).toBe(true);
    expect(caught).toMatchObject({ code, offset });
  });
});

describe("looksLikeLegacyDatagram", () => {
  it("is true for every seed datagram", () => {
    expect(packetizeLegacyFrame(tagged(1)).every((d) => looksLikeLegacyDatagram(d))).toBe(true);
  });

  it.each([
    ["one byte short", new Uint8Array(LEGACY_DATAGRAM_BYTES - 1)],
    ["one byte long", new Uint8Array(LEGACY_DATAGRAM_BYTES + 1)],
    ["index 20", new Uint8Array(LEGACY_DATAGRAM_BYTES).fill(20, 0, 1)],
    ["index 255", new Uint8Array(LEGACY_DATAGRAM_BYTES).fill(255, 0, 1)],
    ["empty", new Uint8Array(0)],
  ])("is false when %s", (_name, bytes) => {
    expect(looksLikeLegacyDatagram(bytes)).toBe(false);
  });

  it("is false for v1 datagrams, whose first byte is 0x55, and looksLikeV1 tells v1 of that length apart", () => {
    const v1 = packetizeFrame(
      {
        streamId: 1,
        frameNumber: 0,
        codec: "jpeg",
        width: 1,
        height: 1,
        fps: 25,
        timestampMs: 0,
        payload: new Uint8Array(LEGACY_DATAGRAM_BYTES - 44),
      },
      { maxDatagramBytes: 65_507, fecOverhead: 0 },
    );
    expect(v1.map((d) => [d.length, looksLikeLegacyDatagram(d), looksLikeV1(d)])).toEqual([
      [LEGACY_DATAGRAM_BYTES, false, true],
    ]);
  });

  it("reads only the length and the first byte (a view into a larger buffer)", () => {
    const buffer = new Uint8Array(LEGACY_DATAGRAM_BYTES + 10).fill(200);
    buffer[5] = 19;
    expect(looksLikeLegacyDatagram(buffer.subarray(5, 5 + LEGACY_DATAGRAM_BYTES))).toBe(true);
  });
});

describe("legacy reassembly, strict", () => {
  it("emits whole frames in order", () => {
    const r = createLegacyReassembler();
    const frames = [tagged(1), tagged(2)];
    const out = emitted(push(r, frames.flatMap(packetizeLegacyFrame)));
    expect(out.map((f) => [f.frameNumber, f.torn])).toEqual([
      [0, false],
      [1, false],
    ]);
    out.forEach((f, i) => expect(firstDifference(f.payload, frames[i]!)).toBe(-1));
    expect(r.counters).toMatchObject({
      datagramsAccepted: 40,
      framesComplete: 2,
      framesDropped: 0,
      bytesEmitted: 2 * LEGACY_FRAME_BYTES,
    });
  });

  it("drops a frame with a lost chunk instead of showing it torn", () => {
    const r = createLegacyReassembler({ mode: "strict" });
    const a = packetizeLegacyFrame(tagged(1)).filter((d) => d[0] !== 7);
    const b = packetizeLegacyFrame(tagged(2));
    const events = push(r, [...a, ...b]);
    expect(events.map((e) => [e.type, e.frameNumber])).toEqual([
      ["dropped", 0],
      ["frame", 1],
    ]);
    expect(fills(emitted(events)[0]!.payload)).toEqual(fills(tagged(2)));
  });

  it("drops a frame whose index 19 was lost when the next frame starts", () => {
    const r = createLegacyReassembler();
    const a = packetizeLegacyFrame(tagged(1)).slice(0, 19);
    const events = push(r, [...a, ...packetizeLegacyFrame(tagged(2))]);
    expect(events).toMatchObject([
      { type: "dropped", frameNumber: 0, chunksReceived: 19 },
      { type: "frame", frameNumber: 1 },
    ]);
  });

  it("does not mix a late chunk of one frame into the next (reorder plus loss)", () => {
    const r = createLegacyReassembler();
    const a = packetizeLegacyFrame(tagged(1));
    const b = packetizeLegacyFrame(tagged(2));
    // Frame 1's chunk 18 arrives after its 19; frame 2 loses its own 18.
    const order = [...a.slice(0, 18), a[19]!, a[18]!, ...b.slice(0, 18), b[19]!];
    const out = emitted(push(r, order));
    expect(out).toEqual([]);
    expect(r.counters.framesDropped).toBeGreaterThanOrEqual(2);
  });

  it("ignores the same index twice in a row", () => {
    const r = createLegacyReassembler();
    const a = packetizeLegacyFrame(tagged(3));
    const out = emitted(
      push(
        r,
        a.flatMap((d) => [d, d]),
      ),
    );
    expect(out).toHaveLength(1);
    expect(r.counters.datagramsDuplicate).toBe(20);
  });

  it("counts malformed datagrams by code, and v1 datagrams apart", () => {
    const r = createLegacyReassembler();
    r.push(new Uint8Array(10));
    const v1 = packetizeFrame({
      streamId: 1,
      frameNumber: 0,
      codec: "jpeg",
      width: 1,
      height: 1,
      fps: 25,
      timestampMs: 0,
      payload: new Uint8Array(100),
    });
    for (const d of v1) r.push(d);
    expect(r.counters).toMatchObject({ datagramsMalformed: 1 + v1.length, datagramsV1Like: v1.length });
    expect(r.counters.malformedByCode.TRUNCATED).toBe(1 + v1.length);
  });
});

describe("legacy reassembly, seed mode", () => {
  it("shows what the seed server shows: 0xFF slots first, then the previous frame's chunk", () => {
    const r = createLegacyReassembler({ mode: "seed" });
    const a = packetizeLegacyFrame(tagged(1)).filter((d) => d[0] !== 7);
    const b = packetizeLegacyFrame(tagged(2)).filter((d) => d[0] !== 3);
    const out = emitted(push(r, [...a, ...b]));
    expect(out.map((f) => f.torn)).toEqual([true, true]);
    const first = fills(tagged(1));
    first[7] = 0xff;
    expect(fills(out[0]!.payload)).toEqual(first);
    const second = fills(tagged(2));
    second[3] = fills(tagged(1))[3]!;
    expect(fills(out[1]!.payload)).toEqual(second);
    expect(r.counters).toMatchObject({ framesComplete: 2, framesTorn: 2, framesDropped: 0 });
  });

  it("emits at every index 19, whole or not, each frame a buffer of its own", () => {
    const r = createLegacyReassembler({ mode: "seed" });
    const out = emitted(push(r, [...packetizeLegacyFrame(tagged(4)), packetizeLegacyFrame(tagged(5))[19]!]));
    expect(out.map((f) => f.torn)).toEqual([false, true]);
    expect(fills(out[0]!.payload)).toEqual(fills(tagged(4)));
    expect(out[0]!.payload.buffer).not.toBe(out[1]!.payload.buffer);
  });

  it("rejects an unknown mode", () => {
    expect(() => createLegacyReassembler({ mode: "loose" as "seed" })).toThrow('mode must be "strict" or "seed"');
  });
});
