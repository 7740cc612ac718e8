import { createHmac, timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Authenticator } from "./auth.js";
import { decodeDatagram, encodeDatagram, HEADER_BYTES } from "./header.js";
import { packetizeLegacyFrame, LEGACY_FRAME_BYTES } from "./legacy.js";
import { packetizeFrame, type FrameToSend, type PacketizeOptions } from "./packetize.js";
import {
  createReassembler,
  type FrameEvent,
  type Reassembler,
  type ReassemblerCounters,
  type ReassemblyEvent,
} from "./reassembler.js";
import { fecLayout } from "./slots.js";
import { firstDifference, prng, randomBytes, shuffle } from "./testing/random.js";

const random = prng(42);

function jpegFrame(frameNumber: number, streamId = 0xabcd1234, size = 40_000): FrameToSend {
  return {
    streamId,
    frameNumber,
    codec: "jpeg",
    width: 640,
    height: 480,
    fps: 25,
    timestampMs: 1_700_000_000_000 + frameNumber * 40,
    payload: randomBytes(random, size),
  };
}

function rawFrame(frameNumber: number, streamId = 0x5eed): FrameToSend {
  return {
    streamId,
    frameNumber,
    codec: "raw-bgr24",
    width: 640,
    height: 480,
    fps: 30,
    timestampMs: 1_700_000_000_000,
    payload: randomBytes(random, 640 * 480 * 3),
  };
}

function pushAll(r: Reassembler, datagrams: readonly Uint8Array[], now = 0): ReassemblyEvent[] {
  return datagrams.flatMap((d) => r.push(d, now));
}

function frames(events: readonly ReassemblyEvent[]): FrameEvent[] {
  return events.filter((e): e is FrameEvent => e.type === "frame");
}

/** Every datagram pushed lands in exactly one datagram counter. */
function datagramTotal(c: ReassemblerCounters): number {
  return (
    c.datagramsAccepted +
    c.datagramsDuplicate +
    c.datagramsMalformed +
    c.datagramsLate +
    c.datagramsSurplus +
    c.datagramsUnauthenticated +
    c.datagramsUntagged +
    c.datagramsAuthRequired +
    c.datagramsStale +
    c.datagramsOverSourceCap +
    c.datagramsOverStreamCap
  );
}

function hmac(key: string): Authenticator {
  const sign = (bytes: Uint8Array) => createHmac("sha256", key).update(bytes).digest().subarray(0, 16);
  return { tagBytes: 16, sign, verify: (bytes, tag) => tag.length === 16 && timingSafeEqual(sign(bytes), tag) };
}

describe("packetizeFrame", () => {
  it("cuts a 40 KB JPEG into 1472-byte datagrams with 10% parity by default", () => {
    const frame = jpegFrame(1);
    const datagrams = packetizeFrame(frame);
    // P = 1472 - 44 = 1428: 29 data chunks, one group of 29 with ceil(2.9) = 3 parity.
    expect(datagrams).toHaveLength(32);
    expect(Math.max(...datagrams.map((d) => d.length))).toBe(1472);
    const decoded = datagrams.map((d) => decodeDatagram(d));
    expect(decoded.map((d) => d.chunkIndex)).toEqual([...Array(32).keys()]);
    expect(decoded[0]).toMatchObject({
      chunkCount: 29,
      chunkBytes: 1428,
      fecGroups: 1,
      fecParityPerGroup: 3,
      frameBytes: 40_000,
    });
    // Data chunks are the frame's bytes in order.
    const joined = new Uint8Array(40_000);
    for (const d of decoded.slice(0, 29)) joined.set(d.payload, d.chunkIndex * 1428);
    expect(firstDifference(joined, frame.payload)).toBe(-1);
  });

  it("honours maxDatagramBytes and fecOverhead 0", () => {
    const datagrams = packetizeFrame(jpegFrame(1), { maxDatagramBytes: 65_507, fecOverhead: 0 });
    expect(datagrams).toHaveLength(1);
    expect(datagrams[0]!.length).toBe(HEADER_BYTES + 40_000);
  });

  it.each<[string, Partial<FrameToSend>, PacketizeOptions, string]>([
    ["an empty payload", { payload: new Uint8Array(0) }, {}, "payload must not be empty"],
    ["a bad stream id", { streamId: -1 }, {}, "streamId"],
    [
      "raw bytes that do not match the size",
      { codec: "raw-bgr24", payload: new Uint8Array(100) },
      {},
      "raw-bgr24 frame of 640x480",
    ],
    ["a tiny datagram", {}, { maxDatagramBytes: 63 }, "maxDatagramBytes"],
    ["a huge datagram", {}, { maxDatagramBytes: 65_508 }, "maxDatagramBytes"],
    ["overhead above 1", {}, { fecOverhead: 1.5 }, "fecOverhead"],
    ["a group of 129", {}, { fecGroupSize: 129 }, "fecGroupSize"],
    [
      "a bad authenticator",
      {},
      { authenticator: { tagBytes: 0, sign: () => new Uint8Array(0), verify: () => true } },
      "authenticator.tagBytes",
    ],
  ])("rejects %s with a RangeError naming it", (_name, change, options, message) => {
    const frame = { ...jpegFrame(1), ...change };
    expect(() => packetizeFrame(frame, options)).toThrow(RangeError);
    expect(() => packetizeFrame(frame, options)).toThrow(message);
  });

  it("refuses a frame that needs more than 65,535 chunks", () => {
    const frame = { ...jpegFrame(1), payload: new Uint8Array(70_000 * 20) };
    expect(() => packetizeFrame(frame, { maxDatagramBytes: 64 })).toThrow("use larger datagrams");
  });
});

describe("createReassembler: delivery", () => {
  it("emits a frame's exact bytes and metadata once its chunks are in", () => {
    const r = createReassembler();
    const frame = jpegFrame(7);
    const events = pushAll(r, packetizeFrame(frame), 123);
    const [out] = frames(events);
    expect(out).toMatchObject({
      streamId: 0xabcd1234,
      frameNumber: 7,
      codec: "jpeg",
      width: 640,
      height: 480,
      fps: 25,
      timestampMs: frame.timestampMs,
      recovered: false,
      firstArrivalMs: 123,
    });
    expect(firstDifference(out!.payload, frame.payload)).toBe(-1);
    expect(events.map((e) => e.type)).toEqual(["stream-started", "frame"]);
    // The parity after the data is surplus, not an error.
    expect(r.counters).toMatchObject({
      framesComplete: 1,
      datagramsAccepted: 29,
      datagramsSurplus: 3,
      bytesEmitted: 40_000,
      framesInFlight: 0,
      bufferedBytes: 0,
    });
  });

  it("accepts chunks in any order and ignores duplicates", () => {
    const r = createReassembler();
    const frame = rawFrame(1);
    const datagrams = packetizeFrame(frame);
    const order = shuffle(random, [...datagrams, ...datagrams.slice(0, 50)]);
    const out = frames(pushAll(r, order));
    expect(out).toHaveLength(1);
    expect(firstDifference(out[0]!.payload, frame.payload)).toBe(-1);
    expect(r.counters.datagramsDuplicate + r.counters.datagramsSurplus).toBe(
      order.length - r.counters.datagramsAccepted,
    );
    expect(datagramTotal(r.counters)).toBe(order.length);
  });

  it("keeps nothing of a pushed datagram: the caller may reuse its buffer at once", () => {
    const r = createReassembler();
    const frame = jpegFrame(5);
    const datagrams = packetizeFrame(frame).filter((_, i) => i !== 4);
    const buffer = new Uint8Array(1472);
    const events = datagrams.flatMap((d) => {
      buffer.set(d);
      const out = r.push(buffer.subarray(0, d.length), 0);
      buffer.fill(0xaa);
      return out;
    });
    expect(firstDifference(frames(events)[0]!.payload, frame.payload)).toBe(-1);
  });

  it("reads datagrams that are Node Buffers inside a larger ArrayBuffer (at their offset, not the buffer's start)", () => {
    const r = createReassembler();
    const frame = jpegFrame(6);
    const datagrams = packetizeFrame(frame, { fecOverhead: 0 });
    // One ArrayBuffer for all, each datagram 3 bytes after the last one's end, the gaps filled with a header's bytes.
    const arena = new Uint8Array(datagrams.reduce((sum, d) => sum + d.length + 3, 3)).fill(0x55);
    let at = 3;
    const views = datagrams.map((d) => {
      arena.set(d, at);
      const view = Buffer.from(arena.buffer, at, d.length);
      at += d.length + 3;
      return view;
    });
    const emitted = frames(views.flatMap((d) => r.push(d, 0)));
    expect(emitted).toHaveLength(1);
    expect(firstDifference(emitted[0]!.payload, frame.payload)).toBe(-1);
    expect(r.counters.datagramsAccepted).toBe(datagrams.length);
  });

  it("rebuilds up to m lost chunks per group and says so", () => {
    const r = createReassembler();
    const frame = jpegFrame(3);
    const datagrams = packetizeFrame(frame);
    const kept = datagrams.filter((_, i) => i !== 0 && i !== 13 && i !== 28);
    const [out] = frames(pushAll(r, kept));
    expect(out!.recovered).toBe(true);
    expect(firstDifference(out!.payload, frame.payload)).toBe(-1);
    expect(r.counters).toMatchObject({ framesRecovered: 1, chunksRecovered: 3 });
  });

  it("writes frames into the buffers allocatePayload hands out, every byte, also what FEC rebuilds", () => {
    // One dirty buffer per size, handed out again and again, as a receiver's pool does.
    const spare = new Map<number, Uint8Array>();
    const allocatePayload = (n: number): Uint8Array => {
      const buffer = spare.get(n) ?? new Uint8Array(n);
      spare.set(n, buffer);
      return buffer.fill(0xee);
    };
    const r = createReassembler({ allocatePayload });
    for (const frame of [rawFrame(1), rawFrame(2)]) {
      const datagrams = packetizeFrame(frame);
      // Lose the first data chunk of every group (one each), so that part of every frame is rebuilt.
      const { fecGroups } = decodeDatagram(datagrams[0]!);
      const [out] = frames(pushAll(r, datagrams.slice(fecGroups)));
      expect(out!.recovered).toBe(true);
      expect(out!.payload).toBe(spare.get(frame.payload.length));
      expect(firstDifference(out!.payload, frame.payload)).toBe(-1);
    }
    expect(() =>
      pushAll(createReassembler({ allocatePayload: (n) => new Uint8Array(n + 1) }), packetizeFrame(jpegFrame(1))),
    ).toThrow(/allocatePayload gave/);
  });

  it("rebuilds a raw frame spread over many groups, with a burst of losses", () => {
    const r = createReassembler();
    const frame = rawFrame(9);
    const datagrams = packetizeFrame(frame);
    const { fecGroups, fecParityPerGroup, chunkCount } = decodeDatagram(datagrams[0]!);
    expect(fecGroups).toBe(14);
    // Interleaving: a burst of G * m consecutive data chunks costs each group m chunks.
    const burst = fecGroups * fecParityPerGroup;
    const kept = datagrams.filter((_, i) => i < 100 || i >= 100 + burst);
    const [out] = frames(pushAll(r, kept));
    expect(firstDifference(out!.payload, frame.payload)).toBe(-1);
    expect(r.counters.chunksRecovered).toBe(burst);
    expect(chunkCount).toBe(646);
  });

  it("never emits a frame that lost more than FEC can rebuild, and drops it on timeout", () => {
    const r = createReassembler({ frameTimeoutMs: 500 });
    const datagrams = packetizeFrame(jpegFrame(4));
    const kept = datagrams.filter((_, i) => i > 3);
    expect(frames(pushAll(r, kept, 1000))).toEqual([]);
    // The gauges without a snapshot: what tells a receiver that expire has work.
    expect([r.framesInFlight, r.streams]).toEqual([1, 1]);
    expect(r.nextExpiryMs).toBe(1500);
    expect(r.expire(1499)).toEqual([]);
    expect(r.expire(1500)).toEqual([
      { type: "dropped", streamId: 0xabcd1234, frameNumber: 4, reason: "timeout", chunksReceived: 28, chunkCount: 29 },
    ]);
    expect(r.counters).toMatchObject({ framesDropped: 1, framesInFlight: 0, bufferedBytes: 0 });
    expect([r.framesInFlight, r.streams]).toEqual([0, 1]);
    expect(r.nextExpiryMs).toBe(1000 + 10_000);
    // Its stragglers are late now.
    expect(pushAll(r, datagrams.slice(0, 4), 1600)).toEqual([]);
    expect(r.counters.datagramsLate).toBe(4);
  });

  it("drops an older frame as superseded when a newer one completes, and never emits it after", () => {
    const r = createReassembler();
    const a = packetizeFrame(jpegFrame(10), { fecOverhead: 0 });
    const b = packetizeFrame(jpegFrame(11), { fecOverhead: 0 });
    const events = [...pushAll(r, a.slice(0, 20)), ...pushAll(r, b)];
    expect(events.filter((e) => e.type !== "stream-started")).toMatchObject([
      { type: "frame", frameNumber: 11 },
      { type: "dropped", frameNumber: 10, reason: "superseded", chunksReceived: 20 },
    ]);
    expect(pushAll(r, a.slice(20))).toEqual([]);
    expect(r.counters).toMatchObject({ framesComplete: 1, framesDropped: 1, datagramsLate: 9 });
  });

  it("rejects replays: an emitted frame is not emitted again, an older one never", () => {
    const r = createReassembler();
    const old = packetizeFrame(jpegFrame(1));
    const current = packetizeFrame(jpegFrame(2));
    pushAll(r, current);
    expect(pushAll(r, current)).toEqual([]);
    expect(pushAll(r, old)).toEqual([]);
    expect(r.counters).toMatchObject({ framesComplete: 1, framesLate: 1, datagramsSurplus: 3 + 32, datagramsLate: 32 });
  });

  it("follows frame numbers across the u32 wrap", () => {
    const r = createReassembler();
    const numbers = [0xffff_fffe, 0xffff_ffff, 0, 1];
    const sent = numbers.map((n) => jpegFrame(n, 1, 3000));
    const out = frames(sent.flatMap((f) => pushAll(r, packetizeFrame(f))));
    expect(out.map((f) => f.frameNumber)).toEqual(numbers);
    out.forEach((f, i) => expect(firstDifference(f.payload, sent[i]!.payload)).toBe(-1));
    expect(pushAll(r, packetizeFrame(jpegFrame(0xffff_ffff, 1, 3000)))).toEqual([]);
    expect(r.counters.framesLate).toBe(0);
    expect(r.counters.datagramsSurplus).toBeGreaterThan(0);
  });

  it("takes a restarted sender (new stream id) from frame 0, and keeps two interleaved streams apart", () => {
    const r = createReassembler();
    pushAll(r, packetizeFrame(jpegFrame(500, 111, 5000)));
    const a = [jpegFrame(0, 222, 5000), jpegFrame(1, 222, 5000)];
    const b = [jpegFrame(0, 333, 5000), jpegFrame(1, 333, 5000)];
    const da = a.flatMap((f) => packetizeFrame(f));
    const db = b.flatMap((f) => packetizeFrame(f));
    const mixed = da.flatMap((d, i) => [d, db[i]!]);
    const events = pushAll(r, mixed);
    expect(events.filter((e) => e.type === "stream-started").map((e) => e.streamId)).toEqual([222, 333]);
    const out = frames(events);
    expect(out.map((f) => [f.streamId, f.frameNumber])).toEqual([
      [222, 0],
      [333, 0],
      [222, 1],
      [333, 1],
    ]);
    expect(firstDifference(out[0]!.payload, a[0]!.payload)).toBe(-1);
    expect(firstDifference(out[3]!.payload, b[1]!.payload)).toBe(-1);
  });
});

describe("createReassembler: bad input and limits", () => {
  it("counts a datagram that contradicts its frame as INCONSISTENT", () => {
    const r = createReassembler();
    const a = packetizeFrame(jpegFrame(1, 9, 10_000));
    const other = packetizeFrame({ ...jpegFrame(1, 9, 10_000), width: 320 });
    r.push(a[0]!, 0);
    r.push(other[1]!, 0);
    expect(r.counters.malformedByCode.INCONSISTENT).toBe(1);
    expect(frames(pushAll(r, a.slice(1)))).toHaveLength(1);
  });

  it("refuses frames above maxFrameBytes before allocating", () => {
    const r = createReassembler({ maxFrameBytes: 1024 });
    expect(pushAll(r, packetizeFrame(jpegFrame(1, 9, 2000)))).toEqual([]);
    expect(r.counters).toMatchObject({ datagramsMalformed: 3, streams: 0, bufferedBytes: 0 });
    expect(r.counters.malformedByCode.TOO_LARGE).toBe(3);
  });

  it("keeps at most maxFramesInFlight incomplete frames per stream", () => {
    const r = createReassembler({ maxFramesInFlight: 4 });
    const events = Array.from({ length: 20 }, (_, n) => r.push(packetizeFrame(jpegFrame(n, 9, 5000))[0]!, 0)).flat();
    expect(r.counters.framesInFlight).toBe(4);
    expect(
      events.filter((e) => e.type === "dropped").map((e) => [e.frameNumber, e.type === "dropped" && e.reason]),
    ).toEqual(Array.from({ length: 16 }, (_, n) => [n, "overflow"]));
    // An older frame than all in flight is refused rather than evicting a newer one.
    const stale = createReassembler({ maxFramesInFlight: 1 });
    stale.push(packetizeFrame(jpegFrame(5, 9, 5000))[0]!, 0);
    expect(stale.push(packetizeFrame(jpegFrame(4, 9, 5000))[0]!, 0)).toMatchObject([
      { type: "dropped", frameNumber: 4, reason: "overflow" },
    ]);
    expect(stale.counters.framesInFlight).toBe(1);
  });

  it("keeps at most maxBufferedBytes in incomplete frames, shedding the oldest frame of the stream that holds the most", () => {
    const r = createReassembler({ maxBufferedBytes: 100_000 });
    // Each frame gets all but its last chunk: about 40 KB held, so two fit.
    for (let n = 0; n < 10; n++)
      pushAll(r, packetizeFrame(jpegFrame(n, 9, 40_000), { fecOverhead: 0 }).slice(0, -1), n);
    expect(r.counters.bufferedBytes).toBeLessThanOrEqual(100_000);
    expect(r.counters.bufferedBytes).toBeGreaterThan(2 * 38_000);
    expect(r.counters.framesInFlight).toBe(2);
    // Another stream is not locked out by the first one's incomplete frames.
    const other = jpegFrame(0, 10, 40_000);
    const events = pushAll(r, packetizeFrame(other), 20);
    expect(events.filter((e) => e.type === "dropped").map((e) => [e.streamId, e.frameNumber])).toEqual([[9, 8]]);
    expect(firstDifference(frames(events)[0]!.payload, other.payload)).toBe(-1);
    // A frame larger than the whole budget is refused.
    expect(r.push(packetizeFrame(jpegFrame(1, 10, 120_000))[0]!, 30)).toMatchObject([
      { type: "dropped", reason: "overflow" },
    ]);
  });

  it("tracks at most maxStreams: a newcomer replaces a stream that completed no frame, never one that did", () => {
    const r = createReassembler({ maxStreams: 2 });
    const one = packetizeFrame(jpegFrame(0, 1, 5000));
    pushAll(r, one, 1);
    r.push(packetizeFrame(jpegFrame(0, 2, 5000))[0]!, 2);
    const events = r.push(packetizeFrame(jpegFrame(0, 3, 5000))[0]!, 4);
    expect(events).toMatchObject([
      { type: "dropped", streamId: 2, frameNumber: 0, reason: "evicted" },
      { type: "stream-ended", streamId: 2, reason: "evicted" },
      { type: "stream-started", streamId: 3 },
    ]);
    const three = packetizeFrame(jpegFrame(1, 3, 5000));
    pushAll(r, three, 5);
    // Both streams have completed a frame: a third is refused, and counted.
    expect(r.push(packetizeFrame(jpegFrame(0, 4, 5000))[0]!, 6)).toEqual([]);
    expect(r.counters).toMatchObject({ streams: 2, datagramsOverStreamCap: 1, datagramsOverSourceCap: 0 });
    expect(datagramTotal(r.counters)).toBe(one.length + 2 + three.length + 1);
  });

  it("holds each source to maxStreamsPerSource: a flood of stream ids from one address leaves the others' streams whole", () => {
    const r = createReassembler({ maxStreams: 8, maxStreamsPerSource: 4 });
    const real = Array.from({ length: 20 }, (_, n) => packetizeFrame(jpegFrame(n, 7, 5000)));
    const emitted: number[] = [];
    let forged = 0;
    for (const [n, datagrams] of real.entries()) {
      for (const d of datagrams) {
        emitted.push(...frames(r.push(d, n, "127.0.0.1")).map((f) => f.frameNumber));
        // 500 new stream ids from the forger between each two datagrams of the real stream.
        for (let i = 0; i < 500; i++) r.push(packetizeFrame(jpegFrame(0, 1000 + forged++, 5000))[1]!, n, "127.0.0.2");
      }
    }
    expect(emitted).toEqual(real.map((_, n) => n));
    expect(r.counters.streams).toBeLessThanOrEqual(5);
    expect(r.counters.datagramsOverSourceCap).toBe(0); // the forger only ever replaced its own
    // Its starts never completed, so each newcomer replaced one of its own: nothing was refused, nothing of the real stream dropped.
    expect(r.counters.framesDropped).toBe(forged - 4);
  });

  it("forgets idle streams but remembers where they were, so a replay cannot re-emit", () => {
    const r = createReassembler({ streamTimeoutMs: 1000 });
    const first = packetizeFrame(jpegFrame(1, 77, 5000));
    pushAll(r, first, 0);
    expect(r.expire(1000)).toEqual([{ type: "stream-ended", streamId: 77, reason: "idle" }]);
    expect(r.counters.streams).toBe(0);
    expect(r.streams).toBe(0);
    expect(frames(pushAll(r, first, 2000))).toEqual([]);
    expect(r.counters.framesLate).toBe(1);
    expect(frames(pushAll(r, packetizeFrame(jpegFrame(2, 77, 5000)), 2000))).toHaveLength(1);
  });

  it("counts seed datagrams as malformed (BAD_MAGIC); telling them apart is looksLikeLegacyDatagram's job", () => {
    const r = createReassembler();
    pushAll(r, packetizeLegacyFrame(new Uint8Array(LEGACY_FRAME_BYTES)));
    expect(r.counters).toMatchObject({ datagramsMalformed: 20 });
    expect(r.counters.malformedByCode.BAD_MAGIC).toBe(20);
    expect(r.counters).not.toHaveProperty("datagramsLegacyLike");
  });

  it("validates its options", () => {
    expect(() => createReassembler({ maxFrameBytes: 0 })).toThrow("maxFrameBytes");
    expect(() => createReassembler({ frameTimeoutMs: 1.5 })).toThrow("frameTimeoutMs");
  });
});

/** A well-formed first datagram (chunk 0, 1428 bytes) of a frame announcing `frameBytes`, as a forger without a key can send. */
function forgedStart(streamId: number, frameBytes: number): Uint8Array {
  const chunkBytes = 1428;
  const chunkCount = Math.ceil(frameBytes / chunkBytes);
  const layout = fecLayout(chunkCount, 0.1);
  return encodeDatagram(
    {
      streamId,
      frameNumber: 1,
      frameBytes,
      chunkIndex: 0,
      chunkCount,
      chunkBytes,
      fecGroups: layout.groups,
      fecParityPerGroup: layout.parityPerGroup,
      codec: "jpeg",
      width: 640,
      height: 480,
      fps: 25,
      timestampMs: 1,
      tagBytes: 0,
    },
    new Uint8Array(chunkBytes),
  );
}

describe("createReassembler: memory follows what arrives, not what is announced", () => {
  const MIB64 = 64 << 20;

  it("holds a datagram announcing a 64 MiB frame in about its own size plus a few KB of bookkeeping", () => {
    const r = createReassembler({ maxFrameBytes: MIB64 });
    const datagram = forgedStart(0x1234, MIB64);
    expect(r.push(datagram, 0)).toEqual([{ type: "stream-started", streamId: 0x1234 }]);
    // 1428 bytes of chunk, 1 bit per announced chunk (47,000 + parity), 2 bytes per FEC group (980).
    expect(r.counters).toMatchObject({ framesInFlight: 1, datagramsAccepted: 1 });
    expect(r.counters.bufferedBytes).toBeGreaterThan(datagram.length);
    expect(r.counters.bufferedBytes).toBeLessThan(12 * 1024);
  });

  it("keeps a real frame in flight through four forged starts announcing 64 MiB each", () => {
    const r = createReassembler({ maxFrameBytes: MIB64 });
    const real = jpegFrame(0, 7, 30_000);
    const datagrams = packetizeFrame(real, { fecOverhead: 0 });
    const half = datagrams.length >> 1;
    pushAll(r, datagrams.slice(0, half), 0);
    const forged = [0, 1, 2, 3].flatMap((i) => r.push(forgedStart(0x1000 + i, MIB64), 1));
    expect(forged.filter((e) => e.type === "dropped")).toEqual([]);
    expect(r.counters.bufferedBytes).toBeLessThan(100_000);
    const out = frames(pushAll(r, datagrams.slice(half), 2));
    expect(out.map((f) => f.streamId)).toEqual([7]);
    expect(firstDifference(out[0]!.payload, real.payload)).toBe(-1);
  });

  it("grows a frame with its chunks, in any order, and frees it all once emitted", () => {
    const r = createReassembler();
    const frame = rawFrame(3);
    const datagrams = packetizeFrame(frame);
    // Data and parity mixed, the last (short) data chunk and a burst of others lost.
    const k = decodeDatagram(datagrams[0]!).chunkCount;
    const kept = shuffle(
      random,
      datagrams.filter((_, i) => i !== k - 1 && (i < 200 || i >= 210)),
    );
    let peak = 0;
    const events = kept.flatMap((d, i) => {
      const out = r.push(d, 0);
      if (i === 9) expect(r.counters.bufferedBytes).toBeLessThan(64 * 1024);
      peak = Math.max(peak, r.counters.bufferedBytes);
      return out;
    });
    const [out] = frames(events);
    expect(out!.recovered).toBe(true);
    expect(out!.payload.length).toBe(frame.payload.length);
    expect(firstDifference(out!.payload, frame.payload)).toBe(-1);
    // Shuffled, the frame completes with more chunks still to come than the 11 lost.
    expect(r.counters.chunksRecovered).toBeGreaterThanOrEqual(11);
    expect(r.counters).toMatchObject({ framesInFlight: 0, bufferedBytes: 0 });
    // What the frame held at its peak: about its chunks on the wire, never twice that.
    const wire = datagrams.reduce((sum, d) => sum + d.length - HEADER_BYTES, 0);
    expect(peak).toBeLessThan(1.1 * wire);
  });
});

describe("createReassembler: authentication", () => {
  const frame = jpegFrame(1, 5, 8000);
  const key = hmac("correct horse");

  it("accepts tagged datagrams with the right key, and the tag sits at the end", () => {
    const datagrams = packetizeFrame(frame, { authenticator: key });
    expect(datagrams.every((d) => d.length <= 1472)).toBe(true);
    const d = decodeDatagram(datagrams[0]!);
    expect(d.tagBytes).toBe(16);
    expect(key.verify(datagrams[0]!.subarray(0, datagrams[0]!.length - 16), d.tag!)).toBe(true);
    const r = createReassembler({ authenticator: key });
    expect(firstDifference(frames(pushAll(r, datagrams))[0]!.payload, frame.payload)).toBe(-1);
  });

  it("refuses datagrams captured before notBeforeMs once authenticated, keeping nothing for them", () => {
    // jpegFrame(n) is captured at 1_700_000_000_000 + 40 n: frames 0-9 before the mark, 10 on after it.
    const notBeforeMs = 1_700_000_000_400;
    const r = createReassembler({ authenticator: key, notBeforeMs });
    const old = Array.from({ length: 10 }, (_, n) => packetizeFrame(jpegFrame(n), { authenticator: key })).flat();
    expect(pushAll(r, old)).toEqual([]);
    expect(r.counters).toMatchObject({ datagramsStale: old.length, streams: 0, framesInFlight: 0 });
    // A forgery with an old capture time is a forgery first.
    const forged = packetizeFrame(jpegFrame(3), { authenticator: hmac("wrong") });
    pushAll(r, forged);
    expect(r.counters).toMatchObject({ datagramsStale: old.length, datagramsUnauthenticated: forged.length });
    const fresh = packetizeFrame(jpegFrame(10), { authenticator: key });
    expect(frames(pushAll(r, fresh)).map((f) => f.frameNumber)).toEqual([10]);
    expect(datagramTotal(r.counters)).toBe(old.length + forged.length + fresh.length);
    expect(() => createReassembler({ notBeforeMs: Number.NaN })).toThrow(/notBeforeMs/);
  });

  it("tells apart: wrong key, tampered bytes, untagged datagrams, and a receiver without a key", () => {
    const tagged = packetizeFrame(frame, { authenticator: key });
    const wrongKey = createReassembler({ authenticator: hmac("wrong") });
    expect(pushAll(wrongKey, tagged)).toEqual([]);
    expect(wrongKey.counters.datagramsUnauthenticated).toBe(tagged.length);

    const tampered = tagged.map((d) => d.slice());
    for (const d of tampered) d[HEADER_BYTES + 5]! ^= 1;
    const keyed = createReassembler({ authenticator: key });
    expect(pushAll(keyed, tampered)).toEqual([]);
    expect(keyed.counters.datagramsUnauthenticated).toBe(tagged.length);

    expect(pushAll(keyed, packetizeFrame(frame))).toEqual([]);
    expect(keyed.counters.datagramsUntagged).toBe(tagged.length);

    const keyless = createReassembler();
    expect(pushAll(keyless, tagged)).toEqual([]);
    expect(keyless.counters).toMatchObject({ datagramsAuthRequired: tagged.length, datagramsMalformed: 0, streams: 0 });
    expect(datagramTotal(keyless.counters)).toBe(tagged.length);
  });

  it("rejects a tag of another length as unauthenticated", () => {
    const short: Authenticator = { tagBytes: 8, sign: (b) => key.sign(b).subarray(0, 8), verify: () => true };
    const r = createReassembler({ authenticator: key });
    expect(pushAll(r, packetizeFrame(frame, { authenticator: short }))).toEqual([]);
    expect(r.counters.datagramsUnauthenticated).toBeGreaterThan(0);
  });
});
